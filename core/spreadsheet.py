"""Cells that a spreadsheet opens as text, never as a formula (CSV and Excel exports)."""

from __future__ import annotations

#: First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula
#: (tab and carriage return included: some programs strip them and read what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
