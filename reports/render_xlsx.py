"""The drafted report's tables as an Excel workbook (.xlsx), for teams that make their own charts.

The first sheet, "Om rapporten", says what the workbook covers (period, team, when it was made,
how small numbers are hidden) and lists the other sheets with their captions. Then one sheet per
table of the draft: a bold header row that stays in view, figures stored as numbers (shares in a
percent format), and a hidden count as the text ``<5``.
"""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from core.spreadsheet import safe_cell
from reports.draft import draft_sections
from reports.format import Summary, about, document_title
from reports.model import Cell, Table

ABOUT_SHEET = "Om rapporten"
#: Excel number formats; Excel shows them with the reader's decimal comma.
NUMBER_FORMATS = {"count": "0", "share": "0 %", "decimal": "0.0"}
_MAX_SHEET_NAME = 31  # Excel's limit
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)


def render_xlsx(summary: Summary) -> bytes:
    """The tables drafted from ``summary`` as an .xlsx workbook, one sheet per table."""
    tables = [b for s in draft_sections(summary) for b in s.blocks if isinstance(b, Table)]
    workbook = Workbook()
    about_sheet = workbook.active
    assert about_sheet is not None  # a new workbook always has one sheet
    names: list[str] = []
    for table in tables:
        name = _sheet_name(table.name, names)
        names.append(name)
        _write_table(workbook.create_sheet(name), table)
    _write_about(about_sheet, summary, list(zip(names, tables, strict=True)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_name(name: str, taken: list[str]) -> str:
    """A valid sheet name from ``name`` that is not taken yet (compared without case)."""
    base = _NOT_IN_SHEET_NAMES.sub("-", name)[:_MAX_SHEET_NAME] or "Tabell"
    candidate, n = base, 1
    while candidate.casefold() in (t.casefold() for t in [ABOUT_SHEET, *taken]):
        n += 1
        suffix = f" ({n})"
        candidate = base[: _MAX_SHEET_NAME - len(suffix)] + suffix
    return candidate


def _write_about(sheet: Worksheet, summary: Summary, tables: list[tuple[str, Table]]) -> None:
    """The first sheet: what the workbook covers, then a list of its sheets."""
    sheet.title = ABOUT_SHEET
    sheet.append([document_title(summary)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    for label, text in about(summary):
        sheet.append([label, text])
    sheet.append([])
    sheet.append(["Flik", "Innehåll"])
    header_row = sheet.max_row
    for name, table in tables:
        sheet.append([name, table.caption])
    for row in sheet.iter_rows(min_row=3):
        row[0].font = _BOLD
        if len(row) > 1:
            row[1].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.cell(header_row, 2).font = _BOLD
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 90


def _write_table(sheet: Worksheet, table: Table) -> None:
    """A table with a frozen bold header row and typed figures."""
    sheet.append(list(table.header))
    for cell in sheet[1]:
        cell.font = _BOLD
    for row in table.rows:
        sheet.append([_value(cell) for cell in row])
        for target, cell in zip(sheet[sheet.max_row], row, strict=True):
            if cell.kind != "text":
                target.alignment = Alignment(horizontal="right")
                if cell.number is not None:
                    target.number_format = NUMBER_FORMATS[cell.kind]
    sheet.freeze_panes = "A2"
    for column, header in enumerate(table.header, start=1):
        texts = [header, *(row[column - 1].text for row in table.rows)]
        width = min(max(len(text) for text in texts) + 2, 60)
        sheet.column_dimensions[get_column_letter(column)].width = width


def _value(cell: Cell) -> str | int | float:
    """What the spreadsheet cell holds: the number when there is one, else the text."""
    if cell.number is None or cell.kind == "text":
        return safe_cell(cell.text)
    if cell.kind == "count":
        return int(cell.number)
    return cell.number
