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

import io
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from core.codes import END_REASONS, GENDERS, INCOME_SOURCES, REFERRERS
from core.errors import DomainError
from core.i18n import N_
from core.personnummer import EARLIEST_BIRTH_YEAR
from core.referrals import Status
from storage.csv_stream import CsvFileError, CsvRecords, column_name, shown

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
#: Problems kept for the message; more are only counted, so memory stays bounded.
MAX_PROBLEMS_KEPT = 1000


class ImportProblem(DomainError):
    """One problem in the file: ``file:line: kolumnen column: reason``."""

    def __init__(self, file: str, line: int, column: str, reason: str) -> None:
        super().__init__(
            N_("{file}:{line}: kolumnen {column}: {reason}"),
            field=column,
            file=shown(file, 200),
            line=line,
            column=shown(column, 60),
            reason=shown(reason, 500),
        )
        self.line = line

    def __str__(self) -> str:
        return self.render()


class ImportRejected(DomainError):
    """The file has problems and nothing was stored; ``problems`` lists every one, in order."""

    def __init__(self, problems: Sequence[ImportProblem], *, total: int | None = None) -> None:
        first = problems[0]
        more = (total or len(problems)) - 1
        message = N_("{first} (och {more} fel till)") if more else N_("{first}")
        super().__init__(message, first=first.render(), more=more)
        self.problems = list(problems)
        self.total = total or len(problems)

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
    problems = _Problems(keep=None)
    stream = io.BytesIO(text.encode("utf-8", errors="surrogateescape"))
    rows = list(_rows(stream, file, _Rules(frozenset(team_codes), default_team, today), problems))
    problems.raise_if_any()
    return rows


def check_file(
    stream: BinaryIO,
    *,
    file: str,
    team_codes: Collection[str],
    default_team: str | None,
    today: date,
) -> int:
    """Check every row of the file read from ``stream``; the number of rows.

    Only the keys of the rows are kept (to find a person twice), so memory stays bounded.
    ImportRejected lists the first :data:`MAX_PROBLEMS_KEPT` problems and counts the rest.
    """
    problems = _Problems(keep=MAX_PROBLEMS_KEPT)
    rules = _Rules(frozenset(team_codes), default_team, today)
    rows = sum(1 for _ in _rows(stream, file, rules, problems))
    problems.raise_if_any()
    return rows


def stream_records(
    stream: BinaryIO,
    *,
    file: str,
    team_codes: Collection[str],
    default_team: str | None,
    today: date,
) -> Iterator[RecordRow]:
    """The rows of a file checked before, read again one at a time.

    ImportRejected at the first problem (the file changed after it was checked).
    """
    problems = _Problems(keep=1, fail_fast=True)
    yield from _rows(stream, file, _Rules(frozenset(team_codes), default_team, today), problems)


@dataclass(frozen=True)
class _Rules:
    """What the rows are checked against."""

    team_codes: frozenset[str]
    default_team: str | None
    today: date


@dataclass
class _Problems:
    """The problems found, in line order: the first ``keep`` kept, every one counted."""

    keep: int | None
    fail_fast: bool = False
    kept: list[ImportProblem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: ImportProblem) -> None:
        self.total += 1
        if self.keep is None or len(self.kept) < self.keep:
            self.kept.append(problem)
        if self.fail_fast:
            self.raise_if_any()

    def raise_if_any(self) -> None:
        if self.kept:
            raise ImportRejected(self.kept, total=self.total)


def _rows(stream: BinaryIO, file: str, rules: _Rules, problems: _Problems) -> Iterator[RecordRow]:
    """The good rows of the file; the problems of the others go to ``problems``."""
    records = iter(CsvRecords(stream))
    names: list[str] = []
    try:
        first = next(records, None)
        header = first[1] if first else None
        for problem in _header_problems(header, file, rules.default_team):
            problems.add(problem)
        if header is None:
            problems.add(ImportProblem(file, 1, "–", N_("filen är tom")))
        if problems.total or header is None:
            problems.raise_if_any()
            return
        names = [h.strip() for h in header]
        checker = _RowChecker(file, rules.team_codes, rules.default_team, rules.today, problems)
        seen: dict[tuple[str, str], int] = {}
        for line, values in records:
            if not any(v.strip() for v in values):
                continue
            row = checker.check(line, _by_column(names, values, line, file))
            if row is not None and (row.team, row.person_ref) in seen:
                reason = N_("samma person_ref och team som på rad {line}").format(
                    line=seen[(row.team, row.person_ref)]
                )
                problems.add(ImportProblem(file, line, "person_ref", reason))
            elif row is not None:
                seen[(row.team, row.person_ref)] = line
                yield row
    except CsvFileError as failed:
        problems.add(
            ImportProblem(file, failed.line, column_name(names, failed.field), failed.reason)
        )
        problems.raise_if_any()


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
            yield ImportProblem(file, 1, shown(name) or "–", N_("okänd kolumn"))
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


class _RowChecker:
    """Checks rows one by one, collecting every problem."""

    def __init__(
        self,
        file: str,
        team_codes: frozenset[str],
        default_team: str | None,
        today: date,
        problems: _Problems,
    ) -> None:
        self.file = file
        self.team_codes = team_codes
        self.default_team = default_team
        self.today = today
        self.problems = problems

    def check(self, line: int, values: dict[str, str] | ImportProblem) -> RecordRow | None:
        """The checked row; None (and its problems recorded) when something is wrong."""
        if isinstance(values, ImportProblem):
            self.problems.add(values)
            return None
        found = self.problems.total
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
        return row if self.problems.total == found else None

    def problem(self, line: int, column: str, reason: str, **params: object) -> None:
        """Record one problem."""
        shown_params = {k: shown(str(v)) if k == "value" else v for k, v in params.items()}
        self.problems.add(ImportProblem(self.file, line, column, reason.format(**shown_params)))


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
            self.problem(column, N_("{value} är inte ett datum på formen ÅÅÅÅ-MM-DD"), value=value)
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
            self.problem("birth_year", N_("{value} är inte ett födelseår (ÅÅÅÅ)"), value=value)
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
