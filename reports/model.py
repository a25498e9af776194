"""The drafted report's document model: sections of paragraphs, lists, tables and charts.

Markdown, Word and Excel are all rendered from these types (:mod:`reports.render_md`,
:mod:`reports.render_docx`, :mod:`reports.render_xlsx`). :class:`DraftContext` builds cells,
tables and charts from the dotted paths of a summary, for :mod:`reports.draft` and
:mod:`reports.reflection`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Self

from reports.charts import CHART_TITLES, chart_alt_texts, chart_figures, chart_is_empty
from reports.format import (
    SECONDARY,
    SECONDARY_NOTE,
    Summary,
    count_at,
    format_count,
    format_decimal,
    format_percent,
    hidden_mark,
    mapping_at,
    number_at,
    threshold_of,
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
    #: The chart's numbers as a small table (header, rows), for pages that show them beside it.
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


Block = Paragraph | BulletList | Table | Chart


@dataclass(frozen=True)
class Section:
    """A heading and the blocks under it; level 0 is the document's title, 1 to 3 headings."""

    title: str
    level: int
    blocks: tuple[Block, ...] = ()


FigureRow = tuple[str, str, CellKind]  # row label, dotted path, kind
Column = tuple[str, str]  # header, dotted path with {code} where the row's code goes


def numbered(sections: list[Section]) -> list[Section]:
    """The sections with ``Tabell n.`` and ``Figur n.`` before each caption.

    A table with a cell hidden to protect another (``..``) gets the footnote that explains it.
    """
    counts = {"Tabell": 0, "Figur": 0}
    result = []
    for section in sections:
        blocks: list[Block] = []
        for block in section.blocks:
            if isinstance(block, Table | Chart):
                word = "Tabell" if isinstance(block, Table) else "Figur"
                counts[word] += 1
                block = replace(block, caption=f"{word} {counts[word]}. {block.caption}")
            blocks.append(block)
            if isinstance(block, Table) and any(c.text == SECONDARY for r in block.rows for c in r):
                blocks.append(Paragraph(SECONDARY_NOTE))
        result.append(replace(section, blocks=tuple(blocks)))
    return result


def items_or(items: Sequence[str], otherwise: str) -> tuple[Block, ...]:
    """A bullet list of ``items``, or a paragraph saying why there are none."""
    return (BulletList(tuple(items)),) if items else (Paragraph(otherwise),)


@dataclass(frozen=True)
class DraftContext:
    """The summary with what every table needs: the threshold and the previous period.

    Figures are named by dotted path into the summary (``participants.new``); a path prefixed
    with ``previous.`` is the same figure in the previous period.
    """

    summary: Summary
    threshold: int | None
    periods: tuple[str, ...]  # path prefixes: the period, and the previous one if any
    alt_texts: Mapping[str, str]

    @classmethod
    def of(cls, summary: Summary) -> Self:
        """The draft context of ``summary``."""
        periods = ("", "previous.") if isinstance(summary.get("previous"), Mapping) else ("",)
        return cls(summary, threshold_of(summary), periods, chart_alt_texts(summary))

    def cell(self, path: str, kind: CellKind = "count") -> Cell:
        """The figure at ``path`` as a cell of the right kind."""
        if kind == "count":
            count = count_at(self.summary, path)
            if count is None:
                return Cell(hidden_mark(self.summary, path), None, "count")
            return Cell(format_count(count), count, "count")
        value = number_at(self.summary, path)
        if value is None:
            return Cell(hidden_mark(self.summary, path), None, kind)
        return Cell(
            format_percent(value) if kind == "share" else format_decimal(value), value, kind
        )

    def shown(self, path: str) -> str:
        """The count at ``path`` as written in a sentence."""
        return self.cell(path).text

    def chart(self, name: str) -> Block:
        """The chart ``name``, captioned; one sentence instead when it has nothing to show."""
        if chart_is_empty(self.summary, name):
            return Paragraph(
                f"Figuren ”{CHART_TITLES[name]}” visas inte: det finns inga tal att visa, "
                "eller alla är dolda för att skydda enskilda deltagare."
            )
        header, rows = chart_figures(self.summary)[name]
        return Chart(name, CHART_TITLES[name], self.alt_texts[name], header, rows)

    def figures(self, name: str, caption: str, rows: Sequence[FigureRow]) -> Table:
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
        columns: Sequence[Column],
        totals: Sequence[str] = (),
    ) -> Table:
        """A count per code (row) and column; ``table`` is its name, caption and first header.

        Rows follow the order of ``labels``; codes in the data without a label come last.
        """
        name, caption, first = table
        present = {c for _, t in columns for c in mapping_at(self.summary, t.split(".{code}")[0])}
        codes = [c for c in labels if c in present] + sorted(present - set(labels))
        merged = self._merged([t.format(code=code) for _, t in columns for code in codes])
        rows = [
            (Cell(labels.get(code, code)), *(self.cell(t.format(code=code)) for _, t in columns))
            for code in codes
            if not any(t.format(code=code) in merged for _, t in columns)
        ]
        if merged and all(t.split(".{code}")[0].endswith("outcomes.by_reason") for _, t in columns):
            paths = [t.split("by_reason.{code}")[0] + "other_reasons" for _, t in columns]
            rows.append((Cell("Övriga avslut"), *(self.cell(p) for p in paths)))
        if totals:
            rows.append((Cell("Totalt"), *(self.cell(path) for path in totals)))
        return Table(name, caption, (first, *(h for h, _ in columns)), tuple(rows))

    def _merged(self, paths: list[str]) -> set[str]:
        """The ``paths`` that were pooled with other small categories before suppression."""
        listed = self.summary.get("suppression")
        merged = listed.get("merged") if isinstance(listed, Mapping) else None
        return {p for p in paths if isinstance(merged, list) and p in merged}

    def compared(
        self, table: tuple[str, str, str], labels: Mapping[str, str], path: str, total: str = ""
    ) -> Table:
        """Counts per code at ``path`` in the period and, when there is one, the previous one."""
        headers = ("Perioden", "Föregående period")
        columns = [(h, f"{p}{path}.{{code}}") for h, p in zip(headers, self.periods, strict=False)]
        totals = [p + total for p in self.periods] if total else []
        return self.breakdown(table, labels, columns, totals)
