"""Deltagare/Reflektion in the drafted report: the material the team reflects on.

Under a prompt for the team's own text come what participants say has been most useful (themes
and a few consented quotes), the figures that changed most since the previous period, and how the
team's goals went.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reports.format import (
    Summary,
    changes_since_previous,
    count_at,
    goal_sentence,
    lookup,
    mapping_at,
)
from reports.model import Block, BulletList, Cell, DraftContext, Paragraph, Section, items_or

_REFLECTION = (
    "Skriv här vad ni har lärt er under perioden och vad ni vill ändra eller fortsätta med. "
    "Underlaget nedan visar vad deltagarna själva säger, vilka siffror som har förändrats mest "
    "och hur det har gått med målen."
)
_THEMES_INTRO = (
    "Svaren på frågan ”Vad har varit till störst nytta, och på vilket sätt?” är kodade i teman; "
    "ett svar kan ha flera teman. Citaten kommer från deltagare som har sagt ja till att bli "
    "citerade, utan namn och andra uppgifter som kan peka ut dem."
)
_QUOTES_PER_THEME = 3
#: Languages of quotes, in Swedish, as they are written after a quote ("på engelska").
LANGUAGE_NAMES = {
    "en": "engelska",
    "ar": "arabiska",
    "so": "somaliska",
    "ti": "tigrinska",
    "fa": "persiska",
    "uk": "ukrainska",
}


def reflection_sections(draft: DraftContext) -> list[Section]:
    """Deltagare/Reflektion: the prompt, what participants say, what changed and the goals."""
    goals = draft.summary.get("goals")
    goals = (
        [goal_sentence(g) for g in goals if isinstance(g, Mapping)]
        if isinstance(goals, list)
        else []
    )
    return [
        Section("Reflektion", 2, (Paragraph(_REFLECTION, prompt=True),)),
        Section("Vad deltagarna säger har varit till störst nytta", 3, _themes(draft)),
        Section(
            "Förändringar sedan föregående period",
            3,
            items_or(
                changes_since_previous(draft.summary),
                "Det finns ingen föregående period att jämföra med.",
            ),
        ),
        Section("Mål", 3, items_or(goals, "Teamet har inte lagt in några mål i tjänsten.")),
    ]


def _themes(draft: DraftContext) -> tuple[Block, ...]:
    """Themes in what participants found most useful, with a few quotes each."""
    labels = _themes_by_count(draft.summary)
    table = draft.compared(
        ("Teman", "Teman i svaren om vad som varit till störst nytta", "Tema"),
        labels,
        "survey.themes",
    )
    unthemed = (
        Cell("Svar utan tema"),
        *(draft.cell(f"{p}survey.unthemed") for p in draft.periods),
    )
    blocks: list[Block] = [
        Paragraph(_THEMES_INTRO),
        replace(table, rows=(*table.rows, unthemed)),
    ]
    for code, quotes in _quotes_by_theme(draft.summary, labels):
        blocks.append(Paragraph(f"{labels[code]} ({draft.shown(f'survey.themes.{code}')} svar):"))
        blocks.append(BulletList(tuple(quotes)))
    if len(blocks) == 2:
        blocks.append(Paragraph("Det finns inga citat att visa från perioden."))
    return tuple(blocks)


def _themes_by_count(summary: Summary) -> dict[str, str]:
    """Theme labels, the most common theme first (a hidden count between 0 and 5)."""
    names = mapping_at(summary, "survey.themes_labels")
    counts = mapping_at(summary, "survey.themes")

    def order(code: str) -> tuple[float, str]:
        """Larger counts first, then by label."""
        count = count_at(counts, code)
        return (-(0.5 if count is None else count), str(names.get(code, code)))

    return {code: str(names.get(code, code)) for code in sorted(counts, key=order)}


def _quotes_by_theme(summary: Summary, labels: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """Up to three quotes per theme, in the themes' order, each text shown once."""
    found = lookup(summary, "survey.quotes")
    quotes = [q for q in found if isinstance(q, Mapping)] if isinstance(found, list) else []
    used: set[str] = set()
    chosen = []
    for code in labels:
        picked: list[Mapping[str, object]] = []
        for quote in quotes:
            same = "".join(c for c in str(quote.get("text", "")).casefold() if c.isalnum())
            themes = quote.get("themes")
            if same in used or not isinstance(themes, list) or code not in themes:
                continue
            if len(picked) < _QUOTES_PER_THEME:
                used.add(same)
                picked.append(quote)
        if picked:
            chosen.append((code, [quote_line(q) for q in picked]))
    return chosen


def quote_line(quote: Mapping[str, object]) -> str:
    """``”text”``; for another language ``”text” (på engelska; på svenska: ”gloss”)``."""
    line = f"”{quote.get('text', '')}”"
    language = quote.get("language")
    if not isinstance(language, str) or language == "sv":
        return line
    name = LANGUAGE_NAMES.get(language, language)
    gloss = quote.get("gloss")
    if isinstance(gloss, str) and gloss:
        return f"{line} (på {name}; på svenska: ”{gloss}”)"
    return f"{line} (på {name}; svensk översättning saknas)"
