"""The import file of historical participant records (INTERFACES.md, "Import file").

CSV, UTF-8 (a byte-order mark is fine), comma-separated, with a header row naming the columns
of :data:`COLUMNS`; codes as in DOMAIN.md. :func:`read_records` checks every row before anything
is stored and reports every problem with the file, the line (the header is line 1, a quoted
value over several lines counts them all) and the column, in Swedish, e.g.
``remisser.csv:12: kolumnen gender: okänd kod kvina; använd en av: kvinna, man, annat``.

Rules beyond the column list: ``person_ref``, ``referrer`` and ``referral_date`` are required;
an empty ``gender`` is ``annat`` and an empty ``income_source`` ``okand``; a row without
``start_date`` is waiting in the queue; a row with ``end_date`` needs ``start_date`` and
``end_reason``; the dates are in order and none lies in the future; ``birth_year`` must agree
with ``birth_date`` when both are given; and a ``team`` and ``person_ref`` appear once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from core.codes import END_REASONS, GENDERS, INCOME_SOURCES, REFERRERS
from core.errors import DomainError
from core.i18n import N_
from core.personnummer import EARLIEST_BIRTH_YEAR
from core.referrals import Status

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

COLUMNS = (
    "person_ref",
    "gender",
    "birth_date",
    "birth_year",
    "referrer",
    "income_source",
    "referral_date",
    "start_date",
    "end_date",
    "end_reason",
    "team",
)
REQUIRED_COLUMNS = ("person_ref", "referrer", "referral_date")
PERSON_REF_MAX_LENGTH = 60


class ImportProblem(DomainError):
    """One problem in the file: ``file:line: kolumnen column: reason``."""

    def __init__(self, file: str, line: int, column: str, reason: str) -> None:
        super().__init__(
            N_("{file}:{line}: kolumnen {column}: {reason}"),
            field=column,
            file=file,
            line=line,
            column=column,
            reason=reason,
        )
        self.line = line

    def __str__(self) -> str:
        return self.render()


class ImportRejected(DomainError):
    """The file has problems and nothing was stored; ``problems`` lists every one, in order."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        first = problems[0]
        more = len(problems) - 1
        message = N_("{first} (och {more} fel till)") if more else N_("{first}")
        super().__init__(message, first=first.render(), more=more)
        self.problems = list(problems)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class RecordRow:
    """One checked row of the file."""

    line: int
    team: str
    person_ref: str
    gender: str
    birth_date: date | None
    birth_year: int | None
    referrer: str
    income_source: str
    referral_date: date
    start_date: date | None
    end_date: date | None
    end_reason: str | None

    @property
    def status(self) -> Status:
        """The status the dates give: ended, enrolled, or waiting in the queue."""
        if self.end_date is not None:
            return Status.ENDED
        return Status.ENROLLED if self.start_date is not None else Status.QUEUED


def read_records(
    text: str, *, file: str, team_codes: Collection[str], default_team: str | None, today: date
) -> list[RecordRow]:
    """Every row of the CSV ``text``, checked; ImportRejected listing every problem otherwise.

    ``team_codes`` are the teams that exist; ``default_team`` is the team of rows without a
    ``team`` (``--team``), and a row naming another team is refused. Dates may not lie after
    ``today``.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = _next_record(reader, file)
    problems = list(_header_problems(header, file, default_team))
    if problems or header is None:
        raise ImportRejected(problems or [ImportProblem(file, 1, "–", N_("filen är tom"))])
    names = [h.strip() for h in header]
    checker = _RowChecker(file, frozenset(team_codes), default_team, today)
    rows: list[RecordRow] = []
    for line, values in _records(reader, file):
        row = checker.check(line, _by_column(names, values, line, file))
        if row is not None:
            rows.append(row)
    problems = checker.problems + list(_duplicates(rows, file))
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: p.line))
    return rows


def _records(reader: CsvReader, file: str) -> Iterator[tuple[int, list[str]]]:
    """The non-empty records after the header, each with the line it begins on."""
    line = 2
    while (values := _next_record(reader, file)) is not None:
        if any(v.strip() for v in values):
            yield line, values
        line = reader.line_num + 1


def _next_record(reader: CsvReader, file: str) -> list[str] | None:
    """The next record; None at the end; ImportRejected when the text is not CSV."""
    try:
        return next(reader, None)
    except csv.Error as failed:
        reason = N_("filen kan inte läsas som CSV ({error})").format(error=failed)
        raise ImportRejected([ImportProblem(file, reader.line_num, "–", reason)]) from None


def _header_problems(
    header: list[str] | None, file: str, default_team: str | None
) -> Iterator[ImportProblem]:
    """What is wrong with the header row: separators, unknown, repeated or missing columns."""
    if not header:
        return
    names = [h.strip() for h in header]
    if len(names) == 1 and ";" in names[0]:
        yield ImportProblem(
            file, 1, "–", N_("kolumnerna skiljs med semikolon; spara filen som CSV med komma")
        )
        return
    for position, name in enumerate(names):
        if name not in COLUMNS:
            yield ImportProblem(file, 1, name or "–", N_("okänd kolumn"))
        elif name in names[:position]:
            yield ImportProblem(file, 1, name, N_("kolumnen finns två gånger"))
    required = REQUIRED_COLUMNS if default_team else (*REQUIRED_COLUMNS, "team")
    for name in required:
        if name not in names:
            yield ImportProblem(file, 1, name, N_("kolumnen saknas"))


def _by_column(
    names: Sequence[str], values: Sequence[str], line: int, file: str
) -> dict[str, str] | ImportProblem:
    """The row's values by column name, or a problem when the row has more values."""
    if len(values) > len(names):
        return ImportProblem(
            file, line, "–", N_("raden har fler värden än rubrikraden har kolumner")
        )
    return {name: value.strip() for name, value in zip(names, values, strict=False)}


def _duplicates(rows: Iterable[RecordRow], file: str) -> Iterator[ImportProblem]:
    """Rows with the same team and person_ref as an earlier row."""
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.team, row.person_ref)
        if key in seen:
            reason = N_("samma person_ref och team som på rad {line}").format(line=seen[key])
            yield ImportProblem(file, row.line, "person_ref", reason)
        else:
            seen[key] = row.line


class _RowChecker:
    """Checks rows one by one, collecting every problem."""

    def __init__(
        self, file: str, team_codes: frozenset[str], default_team: str | None, today: date
    ) -> None:
        self.file = file
        self.team_codes = team_codes
        self.default_team = default_team
        self.today = today
        self.problems: list[ImportProblem] = []

    def check(self, line: int, values: dict[str, str] | ImportProblem) -> RecordRow | None:
        """The checked row; None (and its problems recorded) when something is wrong."""
        if isinstance(values, ImportProblem):
            self.problems.append(values)
            return None
        found = len(self.problems)
        field = _Fields(self, line, values)
        birth_date = field.day("birth_date", required=False)
        referral = field.day("referral_date", required=True)
        start = field.day("start_date", required=False)
        end = field.day("end_date", required=False)
        row = RecordRow(
            line=line,
            team=field.team(),
            person_ref=field.person_ref(),
            gender=field.code("gender", GENDERS, default="annat"),
            birth_date=birth_date,
            birth_year=field.birth_year(birth_date),
            referrer=field.code("referrer", REFERRERS, default=None),
            income_source=field.code("income_source", INCOME_SOURCES, default="okand"),
            referral_date=referral or self.today,
            start_date=start,
            end_date=end,
            end_reason=field.end_reason(end),
        )
        field.check_order(referral, start, end)
        return row if len(self.problems) == found else None

    def problem(self, line: int, column: str, reason: str, **params: object) -> None:
        """Record one problem."""
        self.problems.append(ImportProblem(self.file, line, column, reason.format(**params)))


class _Fields:
    """The values of one row, read and checked column by column."""

    def __init__(self, checker: _RowChecker, line: int, values: Mapping[str, str]) -> None:
        self.checker = checker
        self.line = line
        self.values = values

    def problem(self, column: str, reason: str, **params: object) -> None:
        """Record a problem in ``column`` of this row."""
        self.checker.problem(self.line, column, reason, **params)

    def person_ref(self) -> str:
        """The team's own id of the person: required, short, printable."""
        value = self.values.get("person_ref", "")
        if not value:
            self.problem("person_ref", N_("värde saknas"))
        elif len(value) > PERSON_REF_MAX_LENGTH:
            self.problem("person_ref", N_("högst {max} tecken"), max=PERSON_REF_MAX_LENGTH)
        elif not value.isprintable():
            self.problem("person_ref", N_("otillåtna tecken"))
        return value

    def team(self) -> str:
        """The row's team, or ``--team``; it must exist and agree with ``--team``."""
        value = self.values.get("team", "")
        default = self.checker.default_team
        if not value and default is None:
            self.problem("team", N_("värde saknas; fyll i kolumnen team eller ange --team"))
        elif value and default is not None and value != default:
            self.problem(
                "team", N_("raden gäller {value}, men --team är {team}"), value=value, team=default
            )
        elif (value or default) not in self.checker.team_codes:
            codes = ", ".join(sorted(self.checker.team_codes)) or "–"
            self.problem(
                "team",
                N_("okänt team {value}; finns: {codes}"),
                value=value or default,
                codes=codes,
            )
        return value or default or ""

    def code(self, column: str, codes: Mapping[str, object], *, default: str | None) -> str:
        """A code of ``codes``; ``default`` when empty (required when there is none)."""
        value = self.values.get(column, "")
        if not value and default is not None:
            return default
        if not value:
            self.problem(column, N_("värde saknas"))
        elif value not in codes:
            self.problem(
                column,
                N_("okänd kod {value}; använd en av: {codes}"),
                value=value,
                codes=", ".join(codes),
            )
        return value

    def day(self, column: str, *, required: bool) -> date | None:
        """A ``YYYY-MM-DD`` date, not in the future."""
        value = self.values.get(column, "")
        if not value:
            if required:
                self.problem(column, N_("värde saknas"))
            return None
        try:
            parsed = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            parsed = None
        if parsed is None:
            self.problem(
                column, N_("{value} är inte ett datum på formen ÅÅÅÅ-MM-DD"), value=value[:30]
            )
        elif parsed > self.checker.today:
            self.problem(column, N_("{value} ligger i framtiden"), value=value)
        elif parsed.year < EARLIEST_BIRTH_YEAR:
            self.problem(column, N_("{value} är för tidigt"), value=value)
        else:
            return parsed
        return None

    def birth_year(self, birth_date: date | None) -> int | None:
        """The birth year: given, or from the birth date; both must agree."""
        value = self.values.get("birth_year", "")
        if not value:
            return birth_date.year if birth_date else None
        year = int(value) if value.isascii() and value.isdigit() and len(value) == 4 else None
        if year is None or not EARLIEST_BIRTH_YEAR <= year <= self.checker.today.year:
            self.problem("birth_year", N_("{value} är inte ett födelseår (ÅÅÅÅ)"), value=value[:30])
        elif birth_date is not None and birth_date.year != year:
            self.problem("birth_year", N_("{value} stämmer inte med födelsedatumet"), value=value)
        return year

    def end_reason(self, end: date | None) -> str | None:
        """The end reason: required with an end date, not allowed without one."""
        value = self.values.get("end_reason", "")
        if value and not self.values.get("end_date"):
            self.problem("end_reason", N_("en avslutsanledning kräver ett slutdatum"))
        elif self.values.get("end_date") and not value:
            self.problem(
                "end_reason", N_("värde saknas; en rad med slutdatum behöver en avslutsanledning")
            )
        elif value:
            return self.code("end_reason", END_REASONS, default=None)
        return None

    def check_order(self, referral: date | None, start: date | None, end: date | None) -> None:
        """Referral date ≤ start date ≤ end date, and no end without a start."""
        if self.values.get("end_date") and not self.values.get("start_date"):
            self.problem(
                "start_date", N_("värde saknas; en rad med slutdatum behöver ett startdatum")
            )
        if referral and start and start < referral:
            self.problem(
                "start_date",
                N_("startdatumet ligger före remissdatumet {date}"),
                date=referral.isoformat(),
            )
        if start and end and end < start:
            self.problem(
                "end_date",
                N_("slutdatumet ligger före startdatumet {date}"),
                date=start.isoformat(),
            )
