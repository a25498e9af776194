"""The drafted report as Markdown, for the web page and for pasting into other tools.

Headings follow the draft's levels (``#`` for the title), tables are pipe tables with their
figures right-aligned, prompts for the team are in italics. Charts appear only when their
addresses are given, with the chart's text alternative as the image's alt text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from reports.draft import draft_sections
from reports.format import Summary
from reports.model import Block, BulletList, Chart, Paragraph, Table

_SPECIAL = re.compile(r"([\\`*_\[\]|])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def render_markdown(summary: Summary, *, chart_urls: Mapping[str, str] | None = None) -> str:
    """The report drafted from ``summary`` as Markdown.

    ``chart_urls`` maps chart names (see :mod:`reports.charts`) to image addresses; charts
    without one are left out, since the tables already hold their figures.
    """
    lines: list[str] = []
    for section in draft_sections(summary):
        lines += [f"{'#' * (section.level + 1)} {escape(section.title)}", ""]
        for block in section.blocks:
            rendered = _block(block, chart_urls or {})
            lines += [*rendered, ""] if rendered else []
    return "\n".join(lines).rstrip() + "\n"


def escape(text: str) -> str:
    """``text`` with Markdown's special characters escaped, so it shows as written."""
    return _TAG_START.sub(r"\\<", _SPECIAL.sub(r"\\\1", text))


def _block(block: Block, chart_urls: Mapping[str, str]) -> list[str]:
    """The Markdown lines of one block."""
    if isinstance(block, Paragraph):
        return [f"*{escape(block.text)}*" if block.prompt else escape(block.text)]
    if isinstance(block, BulletList):
        return [f"- {escape(item)}" for item in block.items]
    if isinstance(block, Table):
        return _table(block)
    return _chart(block, chart_urls)


def _table(table: Table) -> list[str]:
    """A caption and a pipe table, the first column left-aligned and figures right-aligned."""
    alignments = [":--", *("--:" for _ in table.header[1:])]
    rows = [[cell.text for cell in row] for row in table.rows]
    return [
        f"**{escape(table.caption)}**",
        "",
        _row(list(table.header)),
        f"| {' | '.join(alignments)} |",
        *(_row(row) for row in rows),
    ]


def _row(cells: list[str]) -> str:
    """One table row."""
    return f"| {' | '.join(escape(cell) for cell in cells)} |"


def _chart(chart: Chart, chart_urls: Mapping[str, str]) -> list[str]:
    """An image with its text alternative and caption, when the chart has an address."""
    url = chart_urls.get(chart.name)
    if url is None:
        return []
    return [f"![{escape(chart.alt)}]({url})", "", f"*{escape(chart.caption)}*"]
