"""Markdown, Word and Excel renderings of the draft: read back with their own libraries."""

from __future__ import annotations

import io

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from reports.charts import render_charts
from reports.draft import Table, draft_sections
from reports.render_docx import TABLE_STYLE, render_docx
from reports.render_md import render_markdown
from reports.render_xlsx import ABOUT_SHEET, render_xlsx
from reports.suppression import suppress
from tests.reports.conftest import sample_summary


@pytest.fixture(scope="module")
def charts():
    """The real charts of the sample summary, rendered once for this module."""
    return render_charts(suppress(sample_summary()))


def draft_tables(summary) -> list[Table]:
    return [b for s in draft_sections(summary) for b in s.blocks if isinstance(b, Table)]


# Markdown


def test_markdown_headings_follow_the_report_structure(summary):
    lines = render_markdown(summary).splitlines()

    headings = [line for line in lines if line.startswith("#")]
    assert headings[:5] == [
        "# Underlag till verksamhetsrapport – Samverkansteam Öst",
        "## Om underlaget",
        "## Deltagare",
        "### Beskrivning",
        "#### Deltagare under perioden",
    ]
    assert "## Personal" in headings
    assert "## Organisation" in headings


def test_markdown_table_rows(summary):
    lines = render_markdown(summary).splitlines()

    start = lines.index("**Tabell 2. Deltagare per remitterande aktör**")
    assert lines[start + 2 : start + 10] == [
        "| Remitterande aktör | Nya under perioden | Aktiva vid periodens slut |",
        "| :-- | --: | --: |",
        "| Kommun | 9 | 24 |",
        "| Arbetsförmedlingen | 6 | 15 |",
        "| Försäkringskassan | <5 | .. |",
        "| Region | .. | 14 |",
        "| Övriga (egenanmälan, annan) | 0 | <5 |",
        "| Totalt | 23 | 66 |",
    ]


def test_markdown_prompts_are_italic_and_changes_are_a_list(summary):
    lines = render_markdown(summary).splitlines()

    assert lines[lines.index("### Analys") + 2].startswith("*Skriv här varför siffrorna")
    assert "- Genomströmningstiden har ökat från 17,4 till 20,4 månader." in lines


def test_markdown_escapes_text_from_participants(summary):
    summary["survey"]["quotes"] = [
        {"themes": ["samtal"], "text": "Det *bästa* var <b>samtalen</b>"}
    ]

    lines = render_markdown(summary).splitlines()

    assert r"- ”Det \*bästa\* var \<b>samtalen\</b>”" in lines


def test_markdown_shows_charts_only_with_an_address(summary):
    without = render_markdown(summary)
    with_charts = render_markdown(summary, chart_urls={"health": "halsa.png"})

    assert "![" not in without
    image = next(line for line in with_charts.splitlines() if line.startswith("!["))
    assert image.startswith("![Stapeldiagram för 1 januari – 30 juni 2025. Självskattat")
    assert image.endswith("](halsa.png)")


# Word


@pytest.fixture
def document(summary, charts):
    return docx.Document(io.BytesIO(render_docx(summary, charts)))


def test_docx_uses_real_headings(document):
    headings = [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style.name.startswith(("Heading", "Title"))
    ]

    assert headings[:5] == [
        ("Title", "Underlag till verksamhetsrapport – Samverkansteam Öst"),
        ("Heading 1", "Om underlaget"),
        ("Heading 1", "Deltagare"),
        ("Heading 2", "Beskrivning"),
        ("Heading 3", "Deltagare under perioden"),
    ]


def test_docx_tables_hold_the_drafted_figures(summary, document):
    expected = draft_tables(summary)

    assert len(document.tables) == len(expected)
    for word_table, table in zip(document.tables, expected, strict=True):
        cells = [[cell.text for cell in row.cells] for row in word_table.rows]
        assert cells == [list(table.header), *([c.text for c in row] for row in table.rows)]


def test_docx_participant_table(document):
    cells = [[cell.text for cell in row.cells] for row in document.tables[0].rows]

    assert cells == [
        ["Uppgift", "Perioden", "Föregående period"],
        ["Aktiva vid periodens början", "62", "60"],
        ["Nya under perioden", "23", "21"],
        ["Avslutade under perioden", "19", "19"],
        ["Aktiva vid periodens slut", "66", "62"],
    ]


def test_docx_tables_have_a_style_and_a_repeated_bold_header_row(document):
    for table in document.tables:
        header = table.rows[0]
        assert table.style.name == TABLE_STYLE
        assert header._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(run.bold for cell in header.cells for run in cell.paragraphs[0].runs)


def test_docx_captions_precede_tables(document):
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]

    assert captions[:3] == [
        "Tabell 1. Deltagare under perioden",
        "Tabell 2. Deltagare per remitterande aktör",
        "Figur 1. Nya deltagare per remitterande aktör",
    ]


def test_docx_embeds_charts_with_their_text_alternative(document):
    pictures = document.inline_shapes
    descriptions = [p._inline.docPr.get("descr") for p in pictures]

    assert len(pictures) == 5
    assert descriptions[0].startswith("Stapeldiagram för 1 januari – 30 juni 2025.")
    assert "Försäkringskassan: <5" in descriptions[0]


def test_docx_without_charts_has_no_pictures(summary):
    document = docx.Document(io.BytesIO(render_docx(summary)))

    assert len(document.inline_shapes) == 0
    assert not [p for p in document.paragraphs if p.text.startswith("Figur ")]


def test_docx_is_in_swedish(document):
    language = document.styles["Normal"].element.rPr.find(qn("w:lang"))

    assert language.get(qn("w:val")) == "sv-SE"
    assert document.core_properties.language == "sv-SE"


def test_docx_prompts_are_italic(document):
    prompts = [p for p in document.paragraphs if p.text.startswith("Skriv här")]

    assert prompts
    assert all(run.italic for p in prompts for run in p.runs)


# Excel


@pytest.fixture
def workbook(summary):
    return openpyxl.load_workbook(io.BytesIO(render_xlsx(summary)))


def test_xlsx_has_an_about_sheet_then_one_sheet_per_table(summary, workbook):
    assert workbook.sheetnames == [ABOUT_SHEET, *(t.name for t in draft_tables(summary))]


def test_xlsx_about_sheet_states_period_team_time_and_suppression(workbook):
    rows = list(workbook[ABOUT_SHEET].iter_rows(values_only=True))

    assert rows[0][0] == "Underlag till verksamhetsrapport – Samverkansteam Öst"
    assert ("Period", "1 januari – 30 juni 2025") in rows
    assert ("Team", "Samverkansteam Öst") in rows
    assert ("Sammanställt", "2025-07-03 09:15") in rows
    note = next(text for label, text in rows if label == "Små tal")
    assert note.startswith("Antal från 1 till 4 visas som ”<5”")
    assert ("Remittenter", "Tabell 2. Deltagare per remitterande aktör") in rows


def test_xlsx_header_is_bold_and_frozen(workbook):
    for sheet in workbook.worksheets[1:]:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])


def test_xlsx_figures_are_numbers_and_hidden_counts_are_text(workbook):
    rows = list(workbook["Remittenter"].iter_rows(min_row=2, values_only=True))

    assert rows[0] == ("Kommun", 9, 24)
    assert rows[2] == ("Försäkringskassan", "<5", "..")
    assert rows[-1] == ("Totalt", 23, 66)
    assert all(type(value) is int for value in rows[0][1:])


def test_xlsx_shares_are_fractions_in_percent_format(workbook):
    row = workbook["Enkät"][4]

    assert [cell.value for cell in row] == ["Svarsfrekvens", 0.725, 0.6]
    assert [cell.number_format for cell in row[1:]] == ["0 %", "0 %"]


def test_xlsx_means_keep_their_decimals(workbook):
    row = workbook["Genomströmning"][6]

    assert [cell.value for cell in row] == ["2025 H1", 23, 19, 66, 20.43, 18.9]
    assert row[4].number_format == "0.0"


def test_xlsx_sheet_names_stay_valid_and_unique():
    from reports.render_xlsx import _sheet_name

    assert _sheet_name("Kö/väntetid: [alla]", []) == "Kö-väntetid- -alla-"
    assert _sheet_name("Teman", ["teman"]) == "Teman (2)"
    assert len(_sheet_name("x" * 40, [])) == 31
