"""The drafted report: a summary as Swedish sections of headings, text, tables and charts.

The draft follows the teams' report structure (DOMAIN.md, "Report structure"): Deltagare,
Personal and Organisation, each with Beskrivning, Analys and Reflektion. The service knows the
participants, so Deltagare/Beskrivning gets the figures (here) and Deltagare/Reflektion the
material (what participants say, what changed, the goals; :mod:`reports.reflection`); the rest
are prompts (``Paragraph.prompt``) for the team to replace with its own text. Markdown, Word and
Excel are all rendered from this one model (:mod:`reports.model`, whose types are re-exported
here), so they show the same figures.
"""

from __future__ import annotations

from core.codes import END_REASONS, GENDERS, REPORTED_END_REASONS
from reports.draft_after import after_sections
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
    count_at,
    date_at,
    document_title,
    format_percent,
    mapping_at,
    number_at,
    period_label,
    text_at,
    with_median,
)
from reports.model import (
    Block,
    BulletList,
    Cell,
    CellKind,
    Chart,
    Column,
    DraftContext,
    FigureRow,
    Paragraph,
    Section,
    Table,
    numbered,
)
from reports.reflection import reflection_sections

__all__ = [
    "Block",
    "BulletList",
    "Cell",
    "CellKind",
    "Chart",
    "Paragraph",
    "Section",
    "Table",
    "draft_sections",
]

_ANALYSIS = (
    "Skriv här varför siffrorna ser ut som de gör. Ta gärna upp förutsättningarna (inflödet av "
    "remisser och vilka som kommer till er), genomförandet (insatser, arbetssätt, samverkan "
    "kring deltagarna) och resultaten (avslut, genomströmningstid och deltagarnas egna bedömningar)."
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

_FLOW: tuple[FigureRow, ...] = (
    ("Aktiva vid periodens början", "participants.active_at_start", "count"),
    ("Nya under perioden", "participants.new", "count"),
    ("Avslutade under perioden", "participants.ended", "count"),
    ("Aktiva vid periodens slut", "participants.active_at_end", "count"),
)
_AGE: tuple[FigureRow, ...] = (
    ("Medelålder (år)", "participants.mean_age_at_end", "decimal"),
    ("Andel 16–29 år", "participants.share_young_at_end", "share"),
)
_OUTCOMES: tuple[FigureRow, ...] = (
    ("Avslutade", "outcomes.ended", "count"),
    ("Varav avbrott under prövotiden", "outcomes.dropouts", "count"),
    ("I mål", "outcomes.result", "count"),
    ("Andel i mål av dem som avslutades efter prövotiden", "outcomes.share_result", "share"),
)
_QUEUE: tuple[FigureRow, ...] = (
    ("Inkomna remisser", "referrals.received", "count"),
    ("I kö vid periodens slut", "referrals.queue_at_end", "count"),
    ("Väntetid till start, medelvärde (dagar)", "referrals.wait_days_mean", "decimal"),
    ("Väntetid till start, median (dagar)", "referrals.wait_days_median", "decimal"),
)
_SURVEY: tuple[FigureRow, ...] = (
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


def _new_and_active(key: str) -> list[Column]:
    """Columns for new and active-at-end participants by ``participants.*_by_<key>``."""
    return [
        ("Nya under perioden", f"participants.new_by_{key}.{{code}}"),
        ("Aktiva vid periodens slut", f"participants.active_at_end_by_{key}.{{code}}"),
    ]


def draft_sections(summary: Summary) -> list[Section]:
    """The report drafted from ``summary``, in reading order, tables and figures numbered."""
    draft = _Description.of(summary)
    sections = [
        Section(document_title(summary), 0),
        Section(
            "Om underlaget",
            1,
            (*(Paragraph(f"{k}: {v}") for k, v in about(summary)), Paragraph(_GUIDE)),
        ),
        Section("Deltagare", 1),
        Section("Beskrivning", 2),
        *draft.sections(),
        Section("Analys", 2, (Paragraph(_ANALYSIS, prompt=True),)),
        *reflection_sections(draft),
    ]
    for title, (subject, *prompts) in _TEAM_SECTIONS.items():
        intro = f"Tjänsten har inga uppgifter om {subject}, så det här avsnittet skriver teamet."
        sections.append(Section(title, 1, (Paragraph(intro),)))
        for heading, prompt in zip(("Beskrivning", "Analys", "Reflektion"), prompts, strict=True):
            sections.append(Section(heading, 2, (Paragraph(prompt, prompt=True),)))
    return numbered(sections)


class _Description(DraftContext):
    """Deltagare/Beskrivning: the period's figures as text, tables and charts."""

    def sections(self) -> list[Section]:
        """The figures of the period under topic headings."""
        return [
            Section("Deltagare under perioden", 3, self._flow()),
            Section("Remitterande aktörer och försörjning", 3, self._origins()),
            Section("Kön och ålder", 3, self._gender_and_age()),
            Section("Avslut och resultat", 3, self._outcomes()),
            Section("Genomströmningstid", 3, self._throughput()),
            Section("Kö och väntetid", 3, self._queue()),
            Section("Deltagarenkäten", 3, self._survey()),
            *after_sections(self),
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
