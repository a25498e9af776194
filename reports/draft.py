"""The drafted report: a summary as Swedish sections of headings, text, tables and charts.

The draft follows the teams' report structure (DOMAIN.md, "Report structure"): Deltagare,
Personal and Organisation, each with Beskrivning, Analys and Reflektion. The service knows the
participants, so Deltagare/Beskrivning gets the figures and Deltagare/Reflektion the material
(what participants say, what changed, the goals); the rest are prompts (``Paragraph.prompt``)
for the team to replace with its own text. Markdown, Word and Excel are all rendered from this
one model, so they show the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from core.codes import END_REASONS, GENDERS, REPORTED_END_REASONS
from reports.charts import CHART_TITLES, chart_alt_texts
from reports.format import (
    ACTIVITIES_QUESTION,
    CLOSER_QUESTION,
    CLOSER_TO_WORK_ANSWERS,
    DEFAULT_ACTIVITY_LABELS,
    HEALTH_ANSWERS,
    HEALTH_QUESTION,
    INCOME_GROUP_LABELS,
    REFERRER_GROUP_LABELS,
    Summary,
    about,
    changes_since_previous,
    count_at,
    date_at,
    document_title,
    format_count,
    format_decimal,
    format_percent,
    goal_sentence,
    lookup,
    mapping_at,
    number_at,
    period_label,
    text_at,
    threshold_of,
    with_median,
)

CellKind = Literal["text", "count", "share", "decimal"]


@dataclass(frozen=True)
class Cell:
    """A table cell: ``text`` as shown; ``number`` for spreadsheets (None for text or hidden)."""

    text: str
    number: float | None = None
    kind: CellKind = "text"


@dataclass(frozen=True)
class Paragraph:
    """A paragraph; a ``prompt`` suggests what the team writes there, to be replaced."""

    text: str
    prompt: bool = False


@dataclass(frozen=True)
class BulletList:
    """A list of short items."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table under a numbered ``caption``; ``name`` is short enough for a spreadsheet tab."""

    name: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Chart:
    """A chart of :func:`reports.charts.render_charts` by ``name``, with its text alternative."""

    name: str
    caption: str
    alt: str


Block = Paragraph | BulletList | Table | Chart


@dataclass(frozen=True)
class Section:
    """A heading and the blocks under it; level 0 is the document's title, 1 to 3 headings."""

    title: str
    level: int
    blocks: tuple[Block, ...] = ()


_ANALYSIS = (
    "Skriv här varför siffrorna ser ut som de gör. Ta gärna upp förutsättningarna (inflödet av "
    "remisser och vilka som kommer till er), genomförandet (insatser, arbetssätt, samverkan "
    "kring deltagarna) och resultaten (avslut, genomströmningstid och deltagarnas egna bedömningar)."
)
_REFLECTION = (
    "Skriv här vad ni har lärt er under perioden och vad ni vill ändra eller fortsätta med. "
    "Underlaget nedan visar vad deltagarna själva säger, vilka siffror som har förändrats mest "
    "och hur det har gått med målen."
)
#: Personal and Organisation: the service has no data there, so the team writes them.
_TEAM_SECTIONS = {
    "Personal": (
        "personalen",
        "Skriv här hur bemanningen har sett ut: antal medarbetare och tjänstgöringsgrad, "
        "yrkesroller och vilka parter de kommer från, personalomsättning och kompetensutveckling.",
        "Skriv här hur personalsituationen har påverkat arbetet med deltagarna, och varför.",
        "Skriv här vad ni har lärt er om arbetssätt och arbetsmiljö, och vad ni vill ändra.",
    ),
    "Organisation": (
        "organisationen",
        "Skriv här hur styrning och samverkan har fungerat: styrgruppens arbete, samverkan med "
        "Arbetsförmedlingen, Försäkringskassan, regionen och kommunen, lokaler och förändringar "
        "i uppdrag eller finansiering.",
        "Skriv här vad som har underlättat eller försvårat samverkan, och varför.",
        "Skriv här vad som behöver förändras i organisation eller samverkan inför nästa period.",
    ),
}
_GUIDE = (
    "Avsnitten Beskrivning bygger på tjänstens uppgifter. Analys och Reflektion skriver teamet: "
    "text i kursiv stil föreslår vad avsnittet kan ta upp och ersätts med er egen text."
)
_THEMES_INTRO = (
    "Svaren på frågan ”Vad har varit till störst nytta, och på vilket sätt?” är kodade i teman; "
    "ett svar kan ha flera teman. Citaten kommer från deltagare som har sagt ja till att bli "
    "citerade, utan namn och andra uppgifter som kan peka ut dem."
)
_QUOTES_PER_THEME = 3


_Figure = tuple[str, str, CellKind]  # row label, dotted path, kind
_Column = tuple[str, str]  # header, dotted path with {code} where the row's code goes

_FLOW: tuple[_Figure, ...] = (
    ("Aktiva vid periodens början", "participants.active_at_start", "count"),
    ("Nya under perioden", "participants.new", "count"),
    ("Avslutade under perioden", "participants.ended", "count"),
    ("Aktiva vid periodens slut", "participants.active_at_end", "count"),
)
_AGE: tuple[_Figure, ...] = (
    ("Medelålder (år)", "participants.mean_age_at_end", "decimal"),
    ("Andel 16–29 år", "participants.share_young_at_end", "share"),
)
_OUTCOMES: tuple[_Figure, ...] = (
    ("Avslutade", "outcomes.ended", "count"),
    ("Varav avbrott under prövotiden", "outcomes.dropouts", "count"),
    ("I mål", "outcomes.result", "count"),
    ("Andel i mål av dem som avslutades efter prövotiden", "outcomes.share_result", "share"),
)
_QUEUE: tuple[_Figure, ...] = (
    ("Inkomna remisser", "referrals.received", "count"),
    ("I kö vid periodens slut", "referrals.queue_at_end", "count"),
    ("Väntetid till start, medelvärde (dagar)", "referrals.wait_days_mean", "decimal"),
    ("Väntetid till start, median (dagar)", "referrals.wait_days_median", "decimal"),
)
_SURVEY: tuple[_Figure, ...] = (
    ("Inbjudna", "survey.invited", "count"),
    ("Svar", "survey.responses", "count"),
    ("Svarsfrekvens", "survey.response_rate", "share"),
    ("Har kommit närmare arbete eller studier", "survey.closer_to_work.share", "share"),
    ("Skattar sin hälsa som bra eller mycket bra", "survey.health.share_good", "share"),
)
_TREND_HEADER = (
    "Period",
    "Nya",
    "Avslutade",
    "Aktiva vid slutet",
    "Medelvärde (mån.)",
    "Median (mån.)",
)
_GENDERS = {code: c.sv for code, c in GENDERS.items()}
_END_REASONS = {code: END_REASONS[code].sv for code in REPORTED_END_REASONS}


def _new_and_active(key: str) -> list[_Column]:
    """Columns for new and active-at-end participants by ``participants.*_by_<key>``."""
    return [
        ("Nya under perioden", f"participants.new_by_{key}.{{code}}"),
        ("Aktiva vid periodens slut", f"participants.active_at_end_by_{key}.{{code}}"),
    ]


def draft_sections(summary: Summary) -> list[Section]:
    """The report drafted from ``summary``, in reading order, tables and figures numbered."""
    draft = _Draft.of(summary)
    sections = [
        Section(document_title(summary), 0),
        Section(
            "Om underlaget",
            1,
            (*(Paragraph(f"{k}: {v}") for k, v in about(summary)), Paragraph(_GUIDE)),
        ),
        Section("Deltagare", 1),
        Section("Beskrivning", 2),
        *draft.description(),
        Section("Analys", 2, (Paragraph(_ANALYSIS, prompt=True),)),
        Section("Reflektion", 2, (Paragraph(_REFLECTION, prompt=True),)),
        *draft.reflection(),
    ]
    for title, (subject, *prompts) in _TEAM_SECTIONS.items():
        intro = f"Tjänsten har inga uppgifter om {subject}, så det här avsnittet skriver teamet."
        sections.append(Section(title, 1, (Paragraph(intro),)))
        for heading, prompt in zip(("Beskrivning", "Analys", "Reflektion"), prompts, strict=True):
            sections.append(Section(heading, 2, (Paragraph(prompt, prompt=True),)))
    return _numbered(sections)


def _numbered(sections: list[Section]) -> list[Section]:
    """The sections with ``Tabell n.`` and ``Figur n.`` before each caption."""
    counts = {"Tabell": 0, "Figur": 0}
    numbered = []
    for section in sections:
        blocks: list[Block] = []
        for block in section.blocks:
            if isinstance(block, Table | Chart):
                word = "Tabell" if isinstance(block, Table) else "Figur"
                counts[word] += 1
                block = replace(block, caption=f"{word} {counts[word]}. {block.caption}")
            blocks.append(block)
        numbered.append(replace(section, blocks=tuple(blocks)))
    return numbered


@dataclass(frozen=True)
class _Draft:
    """The summary with what every table needs: the threshold and the previous period."""

    summary: Summary
    threshold: int | None
    periods: tuple[str, ...]  # path prefixes: the period, and the previous one if any
    alt_texts: Mapping[str, str]

    @classmethod
    def of(cls, summary: Summary) -> _Draft:
        """The draft context of ``summary``."""
        periods = ("", "previous.") if isinstance(summary.get("previous"), Mapping) else ("",)
        return cls(summary, threshold_of(summary), periods, chart_alt_texts(summary))

    def cell(self, path: str, kind: CellKind = "count") -> Cell:
        """The figure at ``path`` as a cell of the right kind."""
        if kind == "count":
            count = count_at(self.summary, path)
            return Cell(format_count(count, self.threshold), count, "count")
        value = number_at(self.summary, path)
        return Cell(
            format_percent(value) if kind == "share" else format_decimal(value), value, kind
        )

    def shown(self, path: str) -> str:
        """The count at ``path`` as written in a sentence."""
        return self.cell(path).text

    def chart(self, name: str) -> Chart:
        """The chart ``name``, captioned with its title."""
        return Chart(name, CHART_TITLES[name], self.alt_texts[name])

    def figures(self, name: str, caption: str, rows: Sequence[_Figure]) -> Table:
        """A table of single figures, with the previous period beside them when there is one."""
        header = ("Uppgift", "Perioden", "Föregående period")[: len(self.periods) + 1]
        body = tuple(
            (Cell(label), *(self.cell(period + path, kind) for period in self.periods))
            for label, path, kind in rows
        )
        return Table(name, caption, header, body)

    def breakdown(
        self,
        table: tuple[str, str, str],
        labels: Mapping[str, str],
        columns: Sequence[_Column],
        totals: Sequence[str] = (),
    ) -> Table:
        """A count per code (row) and column; ``table`` is its name, caption and first header.

        Rows follow the order of ``labels``; codes in the data without a label come last.
        """
        name, caption, first = table
        present = {c for _, t in columns for c in mapping_at(self.summary, t.split(".{code}")[0])}
        codes = [c for c in labels if c in present] + sorted(present - set(labels))
        rows = [
            (Cell(labels.get(code, code)), *(self.cell(t.format(code=code)) for _, t in columns))
            for code in codes
        ]
        if totals:
            rows.append((Cell("Totalt"), *(self.cell(path) for path in totals)))
        return Table(name, caption, (first, *(h for h, _ in columns)), tuple(rows))

    def compared(
        self, table: tuple[str, str, str], labels: Mapping[str, str], path: str, total: str = ""
    ) -> Table:
        """Counts per code at ``path`` in the period and, when there is one, the previous one."""
        headers = ("Perioden", "Föregående period")
        columns = [(h, f"{p}{path}.{{code}}") for h, p in zip(headers, self.periods, strict=False)]
        totals = [p + total for p in self.periods] if total else []
        return self.breakdown(table, labels, columns, totals)

    def description(self) -> list[Section]:
        """Deltagare/Beskrivning: the figures of the period under topic headings."""
        return [
            Section("Deltagare under perioden", 3, self._flow()),
            Section("Remitterande aktörer och försörjning", 3, self._origins()),
            Section("Kön och ålder", 3, self._gender_and_age()),
            Section("Avslut och resultat", 3, self._outcomes()),
            Section("Genomströmningstid", 3, self._throughput()),
            Section("Kö och väntetid", 3, self._queue()),
            Section("Deltagarenkäten", 3, self._survey()),
        ]

    def _flow(self) -> tuple[Block, ...]:
        """Participants at the start, new, ended and at the end."""
        n = self.shown
        intro = (
            f"Under perioden skrevs {n('participants.new')} nya deltagare in och "
            f"{n('participants.ended')} avslutades. Vid periodens början var "
            f"{n('participants.active_at_start')} deltagare aktiva och vid periodens slut "
            f"{n('participants.active_at_end')}."
        )
        return Paragraph(intro), self.figures("Deltagare", "Deltagare under perioden", _FLOW)

    def _origins(self) -> tuple[Block, ...]:
        """New and active participants by referrer group and by income-source group."""
        totals = ("participants.new", "participants.active_at_end")
        referrers = ("Remittenter", "Deltagare per remitterande aktör", "Remitterande aktör")
        incomes = ("Försörjning", "Deltagare per försörjning vid start", "Försörjning vid start")
        return (
            self.breakdown(referrers, REFERRER_GROUP_LABELS, _new_and_active("referrer"), totals),
            self.chart("referrals_by_group"),
            self.breakdown(incomes, INCOME_GROUP_LABELS, _new_and_active("income_source"), totals),
        )

    def _gender_and_age(self) -> tuple[Block, ...]:
        """New and active participants by gender; age of those active at the end."""
        totals = ("participants.new", "participants.active_at_end")
        genders = self.breakdown(
            ("Kön", "Deltagare per kön", "Kön"), _GENDERS, _new_and_active("gender"), totals
        )
        return genders, self.figures("Ålder", "Ålder bland de aktiva vid periodens slut", _AGE)

    def _outcomes(self) -> tuple[Block, ...]:
        """Ended, dropouts and results; by end reason and by gender."""
        by_gender = [
            ("Avslutade", "outcomes.by_gender.{code}.ended"),
            ("I mål", "outcomes.by_gender.{code}.result"),
        ]
        reasons = ("Avslutsorsaker", "Avslut per avslutsorsak", "Avslutsorsak")
        genders = ("Resultat per kön", "Avslut och resultat per kön", "Kön")
        return (
            Paragraph(self._outcomes_text()),
            self.figures("Avslut", "Avslut och resultat", _OUTCOMES),
            self.compared(reasons, _END_REASONS, "outcomes.by_reason", "outcomes.ended"),
            self.chart("end_reasons"),
            self.breakdown(genders, _GENDERS, by_gender, ("outcomes.ended", "outcomes.result")),
        )

    def _outcomes_text(self) -> str:
        """A sentence on how many ended, dropped out and reached a result."""
        if count_at(self.summary, "outcomes.ended") == 0:
            return "Ingen deltagare avslutades under perioden."
        n = self.shown
        text = (
            f"Av de {n('outcomes.ended')} som avslutades under perioden avbröt "
            f"{n('outcomes.dropouts')} under prövotiden, och {n('outcomes.result')} avslutades i mål."
        )
        if (share := number_at(self.summary, "outcomes.share_result")) is not None:
            text += f" Andelen i mål bland dem som avslutades efter prövotiden var {format_percent(share)}."
        return text

    def _throughput(self) -> tuple[Block, ...]:
        """Throughput time per half-year, the period last."""
        trend = self.summary.get("trend")
        prefixes = [f"trend.{n}." for n in range(len(trend) if isinstance(trend, list) else 0)]
        rows = tuple(self._trend_row(prefix) for prefix in [*prefixes, ""])
        table = Table("Genomströmning", "Genomströmningstid per halvår", _TREND_HEADER, rows)
        return Paragraph(self._throughput_text()), table, self.chart("throughput_trend")

    def _trend_row(self, prefix: str) -> tuple[Cell, ...]:
        """One half-year: a trend row (``trend.n.``), or the period itself (no prefix)."""
        counts = ["new", "ended", "active_at_end"]
        means = ["throughput_months_mean", "throughput_months_median"]
        label = text_at(self.summary, f"{prefix}label") or ""
        if not prefix:
            counts = [f"participants.{c}" for c in counts]
            means = [f"outcomes.{m}" for m in means]
            start, end = date_at(self.summary, "period.from"), date_at(self.summary, "period.to")
            label = period_label(start, end) if start and end else "Perioden"
        figures = [self.cell(prefix + path) for path in counts]
        return (Cell(label), *figures, *(self.cell(prefix + path, "decimal") for path in means))

    def _throughput_text(self) -> str:
        """A sentence on the period's throughput time, or why there is none."""
        mean = number_at(self.summary, "outcomes.throughput_months_mean")
        if mean is None and count_at(self.summary, "outcomes.ended") == 0:
            return (
                "Ingen deltagare avslutades under perioden, så det finns ingen genomströmningstid."
            )
        if mean is None:
            return "Genomströmningstiden visas inte för perioden: för få deltagare avslutades."
        median = number_at(self.summary, "outcomes.throughput_months_median")
        return (
            "Genomströmningstiden, tiden från start till avslut, var i genomsnitt "
            f"{with_median(mean, median, 'månader')} för dem som avslutades under perioden."
        )

    def _queue(self) -> tuple[Block, ...]:
        """Referrals received, the queue at the end and the waiting time."""
        text = (
            f"Under perioden kom {self.shown('referrals.received')} remisser in, och vid periodens "
            f"slut väntade {self.shown('referrals.queue_at_end')} personer i kö."
        )
        if (mean := number_at(self.summary, "referrals.wait_days_mean")) is not None:
            median = number_at(self.summary, "referrals.wait_days_median")
            text += (
                " Väntetiden från remiss till start var i genomsnitt "
                f"{with_median(mean, median, 'dagar')} för dem som började under perioden."
            )
        return Paragraph(text), self.figures("Kö och väntetid", "Remisser, kö och väntetid", _QUEUE)

    def _survey(self) -> tuple[Block, ...]:
        """Response rate, the two scales and the activities found most useful."""
        closer = ("Närmare arbete", CLOSER_QUESTION, "Svar")
        health = ("Hälsa", HEALTH_QUESTION, "Svar")
        activities = ("Aktiviteter", f"{ACTIVITIES_QUESTION} (flera val)", "Verksamhet")
        labels = mapping_at(self.summary, "survey.activities_labels") or DEFAULT_ACTIVITY_LABELS
        return (
            Paragraph(self._survey_text()),
            self.figures("Enkät", "Deltagarenkäten", _SURVEY),
            self.compared(
                closer,
                CLOSER_TO_WORK_ANSWERS,
                "survey.closer_to_work.by_answer",
                "survey.closer_to_work.respondents",
            ),
            self.chart("closer_to_work"),
            self.compared(
                health, HEALTH_ANSWERS, "survey.health.by_answer", "survey.health.respondents"
            ),
            self.chart("health"),
            self.compared(activities, labels, "survey.activities"),
        )

    def _survey_text(self) -> str:
        """A sentence on how many of those invited answered."""
        if count_at(self.summary, "survey.invited") == 0:
            return "Ingen deltagare bjöds in att svara på enkäten under perioden."
        rate = number_at(self.summary, "survey.response_rate")
        return (
            f"Av {self.shown('survey.invited')} inbjudna deltagare svarade "
            f"{self.shown('survey.responses')} på enkäten"
            + (f" ({format_percent(rate)})." if rate is not None else ".")
        )

    def reflection(self) -> list[Section]:
        """Deltagare/Reflektion: what participants say, what changed and the goals."""
        goals = self.summary.get("goals")
        goals = (
            [goal_sentence(g) for g in goals if isinstance(g, Mapping)]
            if isinstance(goals, list)
            else []
        )
        return [
            Section("Vad deltagarna säger har varit till störst nytta", 3, self._themes()),
            Section(
                "Förändringar sedan föregående period",
                3,
                _items_or(
                    changes_since_previous(self.summary),
                    "Det finns ingen föregående period att jämföra med.",
                ),
            ),
            Section("Mål", 3, _items_or(goals, "Teamet har inte lagt in några mål i tjänsten.")),
        ]

    def _themes(self) -> tuple[Block, ...]:
        """Themes in what participants found most useful, with a few quotes each."""
        labels = self._themes_by_count()
        table = self.compared(
            ("Teman", "Teman i svaren om vad som varit till störst nytta", "Tema"),
            labels,
            "survey.themes",
        )
        unthemed = (
            Cell("Svar utan tema"),
            *(self.cell(f"{p}survey.unthemed") for p in self.periods),
        )
        blocks: list[Block] = [
            Paragraph(_THEMES_INTRO),
            replace(table, rows=(*table.rows, unthemed)),
        ]
        for code, quotes in self._quotes_by_theme(labels):
            blocks.append(
                Paragraph(f"{labels[code]} ({self.shown(f'survey.themes.{code}')} svar):")
            )
            blocks.append(BulletList(tuple(f"”{quote}”" for quote in quotes)))
        if len(blocks) == 2:
            blocks.append(Paragraph("Det finns inga citat att visa från perioden."))
        return tuple(blocks)

    def _themes_by_count(self) -> dict[str, str]:
        """Theme labels, the most common theme first (a hidden count between 0 and 5)."""
        names = mapping_at(self.summary, "survey.themes_labels")
        counts = mapping_at(self.summary, "survey.themes")

        def order(code: str) -> tuple[float, str]:
            """Larger counts first, then by label."""
            count = count_at(counts, code)
            return (-(0.5 if count is None else count), str(names.get(code, code)))

        return {code: str(names.get(code, code)) for code in sorted(counts, key=order)}

    def _quotes_by_theme(self, labels: Mapping[str, str]) -> list[tuple[str, list[str]]]:
        """Up to three quotes per theme, in the themes' order, each quote shown once."""
        found = lookup(self.summary, "survey.quotes")
        quotes = [q for q in found if isinstance(q, Mapping)] if isinstance(found, list) else []
        used: set[int] = set()
        chosen = []
        for code in labels:
            picked = [
                n for n, q in enumerate(quotes) if n not in used and code in (q.get("themes") or [])
            ]
            used.update(picked[:_QUOTES_PER_THEME])
            if picked:
                chosen.append(
                    (code, [str(quotes[n].get("text", "")) for n in picked[:_QUOTES_PER_THEME]])
                )
        return chosen


def _items_or(items: Sequence[str], otherwise: str) -> tuple[Block, ...]:
    """A bullet list of ``items``, or a paragraph saying why there are none."""
    return (BulletList(tuple(items)),) if items else (Paragraph(otherwise),)
