"""Text from people (quotes, team names) reaches the workbook as text, never as a formula."""

from __future__ import annotations

import pytest

from reports.model import Cell
from reports.render_xlsx import _value


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+46 70", "@SUM(A1)", "\t=1+1"])
def test_a_text_cell_that_looks_like_a_formula_is_written_as_text(text: str) -> None:
    assert _value(Cell(text)) == "'" + text


def test_numbers_stay_numbers() -> None:
    assert _value(Cell("12", 12, "count")) == 12
