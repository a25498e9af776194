"""The drafted sections on outcomes after ending and on the Uppföljning Finsam head count.

Since 2023 the national system keeps only head counts by gender (DOMAIN.md), so these tables
are where income after ending, occupation after ending, time in the service and steps on the
ladder are reported now. The Finsam section gives the numbers the national system asks for.
"""

from __future__ import annotations

from reports.format import INCOME_GROUP_LABELS, lookup, mapping_at
from reports.model import Block, Cell, DraftContext, FigureRow, Paragraph, Section, Table

OCCUPATION_LABELS = {
    "arbete": "Arbete (med eller utan stöd, hel- eller deltid)",
    "studier": "Studier",
    "arbetssokande": "Aktivt arbetssökande",
    "ovrigt": "Övrigt",
}
MONTH_BAND_LABELS = {
    "under_3": "Kortare än 3 månader",
    "3_6": "3–6 månader",
    "6_12": "6–12 månader",
    "12_24": "12–24 månader",
    "24_plus": "24 månader eller längre",
}
_AFTER_LABELS = {**INCOME_GROUP_LABELS, "saknas": "Uppgift saknas"}
_GENDER_HEADERS = (("Kvinnor", "kvinna"), ("Män", "man"), ("Annat/okänt", "annat"))
_STEPS: tuple[FigureRow, ...] = (
    ("Minst en stegförflyttning", "outcomes.after.steps.with_step_forward", "count"),
    ("Andel med stegförflyttning", "outcomes.after.steps.share", "share"),
)


def after_sections(draft: DraftContext) -> list[Section]:
    """``Efter avslut`` and ``Uppföljning Finsam``, when the summary has them."""
    sections = []
    if isinstance(lookup(draft.summary, "outcomes.after"), dict):
        sections.append(Section("Efter avslut", 3, _after(draft)))
    if isinstance(lookup(draft.summary, "finsam"), dict):
        sections.append(Section("Uppföljning Finsam", 3, _finsam(draft)))
    return sections


def _after(draft: DraftContext) -> tuple[Block, ...]:
    """Income before → after, occupation after, time in the service and steps."""
    intro = (
        "Sedan 2023 samlar Uppföljning Finsam bara in antal deltagare per kön. Försörjning och "
        "sysselsättning efter avslut och tid i insatsen redovisas därför här, för dem som "
        "avslutades under perioden."
    )
    columns = [
        (label, f"outcomes.after.income_transition.{{code}}.{after}")
        for after, label in _AFTER_LABELS.items()
    ]
    transition = draft.breakdown(
        ("Försörjning före-efter", "Försörjning före → efter", "Försörjning vid start"),
        INCOME_GROUP_LABELS,
        columns,
    )
    occupation = draft.compared(
        ("Sysselsättning efter", "Sysselsättning efter avslut", "Sysselsättning"),
        OCCUPATION_LABELS,
        "outcomes.after.occupation_after",
        "outcomes.ended",
    )
    months = draft.compared(
        ("Tid i insatsen", "Tid i insatsen för dem som avslutades", "Tid från start till avslut"),
        MONTH_BAND_LABELS,
        "outcomes.after.months_in_service",
        "outcomes.ended",
    )
    steps = draft.figures("Stegförflyttning", "Stegförflyttning på teamets trappa", _STEPS)
    return Paragraph(intro), transition, occupation, months, steps


def _finsam(draft: DraftContext) -> tuple[Block, ...]:
    """Participants per team (insats) and gender in the calendar year; without consent too."""
    year = lookup(draft.summary, "finsam.year")
    intro = (
        f"Antal deltagare i insatsen under {year} per kön, så som Uppföljning Finsam frågar "
        "efter dem. Alla räknas, även de som inte har samtyckt till uppföljning."
    )
    header = ("Insats", *(h for h, _ in _GENDER_HEADERS))
    rows = tuple(
        (Cell(code), *(draft.cell(f"finsam.by_team.{code}.{g}") for _, g in _GENDER_HEADERS))
        for code in mapping_at(draft.summary, "finsam.by_team")
    )
    table = Table("Finsam", f"Deltagare per insats och kön {year}", header, rows)
    without = tuple(
        (
            Cell(f"{code}, startår {start}"),
            *(draft.cell(f"finsam.without_consent.{code}.{start}.{g}") for _, g in _GENDER_HEADERS),
        )
        for code, years in mapping_at(draft.summary, "finsam.without_consent").items()
        for start in sorted(years)
    )
    caption = f"Varav utan samtycke till uppföljning, per startår och kön {year}"
    blocks: list[Block] = [Paragraph(intro), table]
    if without:
        blocks.append(Table("Finsam utan samtycke", caption, ("Insats", *header[1:]), without))
    return tuple(blocks)
