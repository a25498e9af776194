"""The drafted report as a Word document (.docx), for the team to write its report in.

Real headings (Title, Heading 1 to 3) so Word's navigation pane and table of contents work,
real tables with a header row that repeats on each page and a table style, column widths from
their content (the label column widest, no column narrower than its longest word, so Word does
not break words inside a cell), captions in Word's
Caption style (above tables, below figures), charts as pictures with their text alternative,
prompts for the team in grey italics, and the document's language set to Swedish.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Row
from docx.shared import Cm, Emu, RGBColor

from reports.draft import draft_sections
from reports.format import Summary, document_title
from reports.model import Block, BulletList, Chart, Paragraph, Table

TABLE_STYLE = "Light List Accent 1"
LANGUAGE = "sv-SE"
_PROMPT_COLOUR = RGBColor(0x59, 0x59, 0x59)
_CHART_WIDTH = Cm(16)
#: The width of one character of body text (11 pt), roughly, for sizing columns.
_CHAR_WIDTH = Cm(0.21)
_CELL_PADDING = Cm(0.4)


def render_docx(summary: Summary, charts: Mapping[str, bytes] | None = None) -> bytes:
    """The report drafted from ``summary`` as a .docx file.

    ``charts`` maps chart names to PNG images (see :func:`reports.charts.render_charts`);
    charts that are not given are left out, since the tables already hold their figures.
    """
    document = Document()
    _set_language(document)
    document.core_properties.title = document_title(summary)
    document.core_properties.language = LANGUAGE
    for section in draft_sections(summary):
        document.add_heading(section.title, level=section.level)
        for block in section.blocks:
            _add_block(document, block, charts or {})
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _set_language(document: DocumentObject) -> None:
    """Mark the text as Swedish, so Word checks spelling in Swedish."""
    properties = document.styles["Normal"].element.get_or_add_rPr()
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), LANGUAGE)
    properties.append(language)


def _add_block(document: DocumentObject, block: Block, charts: Mapping[str, bytes]) -> None:
    """Add one block of the draft to the document."""
    if isinstance(block, Paragraph):
        run = document.add_paragraph().add_run(block.text)
        if block.prompt:
            run.italic = True
            run.font.color.rgb = _PROMPT_COLOUR
    elif isinstance(block, BulletList):
        for item in block.items:
            document.add_paragraph(item, style="List Bullet")
    elif isinstance(block, Table):
        document.add_paragraph(block.caption, style="Caption")
        _add_table(document, block)
    elif isinstance(block, Chart) and block.name in charts:
        _add_chart(document, block, charts[block.name])


def _add_table(document: DocumentObject, table: Table) -> None:
    """A Word table with a bold header row repeated on each page, figures right-aligned."""
    word_table = document.add_table(rows=1 + len(table.rows), cols=len(table.header))
    word_table.style = document.styles[TABLE_STYLE]
    header = word_table.rows[0]
    _repeat_as_header(header._tr)
    for cell, text in zip(header.cells, table.header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row, cells in zip(word_table.rows[1:], table.rows, strict=True):
        for word_cell, cell in zip(row.cells, cells, strict=True):
            word_cell.text = cell.text
            if cell.kind != "text":
                word_cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for cell in header.cells[1:]:
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    word_table.autofit = False
    for column, width in zip(word_table.columns, _column_widths(document, table), strict=True):
        for cell in column.cells:
            cell.width = width
    document.add_paragraph()


def _column_widths(document: DocumentObject, table: Table) -> list[Emu]:
    """Widths from the content: the label column widest, none narrower than its longest word.

    Each column wants its longest text on one line; when they do not all fit the page, every
    column gives up the same share of what it wants above its longest word.
    """
    section = document.sections[-1]
    usable = int(section.page_width or 0) - int(section.left_margin or 0)
    usable -= int(section.right_margin or 0)
    texts = [
        [table.header[n], *(row[n].text for row in table.rows)] for n in range(len(table.header))
    ]
    wants = [max(len(t) for t in column) for column in texts]
    words = [max((len(w) for t in column for w in t.split()), default=1) for column in texts]
    wants[0] = max(wants)
    floor = [w * int(_CHAR_WIDTH) + int(_CELL_PADDING) for w in words]
    wanted = [w * int(_CHAR_WIDTH) + int(_CELL_PADDING) for w in wants]
    spare = usable - sum(floor)
    extra = sum(w - f for w, f in zip(wanted, floor, strict=True))
    ratio = 1.0 if extra <= max(spare, 0) else max(spare, 0) / extra
    return [Emu(int(f + (w - f) * ratio)) for w, f in zip(wanted, floor, strict=True)]


def _repeat_as_header(row: CT_Row) -> None:
    """Mark a table row as the header row (repeated on each page, read as such by screen readers)."""
    properties = row.get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    properties.append(marker)


def _add_chart(document: DocumentObject, chart: Chart, png: bytes) -> None:
    """The chart as a picture with its text alternative, and its caption below it."""
    picture = document.add_picture(io.BytesIO(png), width=_CHART_WIDTH)
    description = picture._inline.docPr  # python-docx has no API for a picture's alt text
    description.set("descr", chart.alt)
    description.set("title", chart.caption)
    document.add_paragraph(chart.caption, style="Caption")
