"""Exported cells never run as formulas in a spreadsheet."""

from __future__ import annotations

import pytest

from core.spreadsheet import safe_cell


@pytest.mark.parametrize("value", ["=1+1", "+46701234567", "-2", "@SUM(A1)", "\t=cmd", "\r=cmd"])
def test_a_cell_that_looks_like_a_formula_is_kept_as_text(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Anna", "12", "", " =not first", "2026-01-01"])
def test_other_cells_are_left_as_they_are(value: str) -> None:
    assert safe_cell(value) == value
