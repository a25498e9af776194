"""Invitation letters: one A4 page per person with name, text, link and a QR code of the link."""

from __future__ import annotations

import io
from datetime import date

import pytest
import segno
from pdfminer.high_level import extract_pages, extract_text
from pdfminer.layout import LTRect
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfparser import PDFParser
from pdfminer.utils import decode_text

from reports.letters import QR_SIZE_MM, Letter, letter_languages, render_letters, survey_language

LINK = "https://samverkan.example.se/enkat/AbCdEfGhIjKlMnOpQrStUvWxYz012345"
TELEGRAM = "https://t.me/samverkan_bot?start=AbCdEfGhIjKlMnOpQrStUvWxYz012345"


def letter(name: str | None = "Åsa Öberg-Łukasik", language: str = "sv", **changes) -> Letter:  # type: ignore[no-untyped-def]
    fields = {
        "name": name,
        "reference": "R1260924158",
        "team_name": "Samverkansteam Norr",
        "language": language,
        "web_link": LINK,
        "telegram_link": None,
        "valid_until": date(2026, 12, 1),
    } | changes
    return Letter(**fields)


def pages(pdf: bytes) -> list[str]:
    return [page for page in extract_text(io.BytesIO(pdf)).split("\f") if page.strip()]


def test_each_letter_is_one_a4_page_with_name_text_link_and_last_day() -> None:
    pdf = render_letters(
        [
            letter(),
            letter("John Smith", "en", web_link=LINK + "x", telegram_link=TELEGRAM),
            letter(None, reference="R3"),
        ]
    )

    layouts = list(extract_pages(io.BytesIO(pdf)))
    first, second, third = pages(pdf)
    assert len(layouts) == 3
    assert [(round(p.width), round(p.height)) for p in layouts] == [(595, 842)] * 3  # A4 in pt
    assert "Samverkansteam Norr" in first and "Hej Åsa Öberg-Łukasik!" in first
    assert "Hur har det varit för dig hos oss?" in first and LINK in first
    assert "Länken gäller till och med 2026-12-01." in first and "R1260924158" in first
    assert "Hello John Smith," in second and TELEGRAM in second and LINK + "x" in second
    assert second.index("The link is valid until") < second.index("Länken gäller till")
    assert "Hej" not in third and "Hello" not in third and "R3" in third


def test_no_personal_data_in_the_pdf_metadata() -> None:
    parser = PDFParser(io.BytesIO(render_letters([letter()])))

    [info] = PDFDocument(parser).info
    values = " ".join(decode_text(value) for value in info.values())

    assert decode_text(info["Title"]) == "Inbjudan till enkät"
    assert "Åsa" not in values and "Asa" not in values and "R1260924158" not in values


def qr_modules_drawn(pdf: bytes) -> list[list[bool]]:
    """The QR code read back from the filled squares drawn on the (one) page."""
    [page] = list(extract_pages(io.BytesIO(pdf)))
    rects = [item for item in page if isinstance(item, LTRect) and item.fill]
    left, top = min(r.x0 for r in rects), max(r.y1 for r in rects)
    size = QR_SIZE_MM * 72 / 25.4
    width = round((max(r.x1 for r in rects) - left) / size * 1000)  # sanity: square of QR_SIZE
    assert width == 1000
    count = len(segno.make(LINK, error="m").matrix)
    module = size / count
    grid = [[False] * count for _ in range(count)]
    for r in rects:
        row = round((top - r.y1) / module)
        for col in range(round((r.x0 - left) / module), round((r.x1 - left) / module)):
            grid[row][col] = True
    return grid


def test_the_qr_code_drawn_is_the_link_s_code() -> None:
    """No pure-Python QR decoder is at hand, so the drawn modules are compared with segno's."""
    expected = [[bool(m) for m in row] for row in segno.make(LINK, error="m").matrix]
    other = [[bool(m) for m in row] for row in segno.make(LINK + "x", error="m").matrix]

    drawn = qr_modules_drawn(render_letters([letter()]))

    assert drawn == expected and drawn != other


@pytest.mark.parametrize(
    ("stated", "code"),
    [
        ("arabiska", "ar"),
        ("Arabiska (tolk)", "ar"),
        ("Engelska", "en"),
        ("English", "en"),
        ("svenska", "sv"),
        ("Somaliska", "so"),
        ("tigrinja", "ti"),
        ("", "sv"),
        (None, "sv"),
        ("polska", "sv"),
    ],
)
def test_the_referral_s_free_text_language_gives_the_survey_language(stated, code) -> None:  # type: ignore[no-untyped-def]
    assert survey_language(stated) == code


def test_arabic_comes_first_and_languages_without_a_letter_text_get_swedish_then_english() -> None:
    assert letter_languages("sv") == ("sv",)
    assert letter_languages("en") == ("en", "sv")
    assert letter_languages("ar") == ("ar", "sv")
    assert letter_languages("so") == letter_languages("ti") == ("sv", "en")


def test_an_arabic_letter_prints_its_text_shaped_right_to_left_then_swedish() -> None:
    pdf = render_letters([letter("Amal Haddad", "ar", telegram_link=TELEGRAM)])

    [page] = pages(pdf)
    arabic = [c for c in page if "\u0600" <= c <= "\u06ff"]
    # Laid out right to left: the text reads back in visual order, the title reversed.
    assert "كيف كانت تجربتك معنا؟"[::-1] in page, page[:300]
    assert len(arabic) > 100 and "Amal Haddad" in page and LINK in page and TELEGRAM in page
    # The Arabic text sits right-aligned, ahead of the Swedish one.
    assert page.index("Amal Haddad") < page.index("Hur har det varit för dig hos oss?")
    words = [
        box for layout in extract_pages(io.BytesIO(pdf)) for box in layout
        if hasattr(box, "get_text") and any("\u0600" <= c <= "\ufeff" for c in box.get_text())
    ]  # fmt: skip
    assert words and min(box.x1 for box in words) > 595 - 57 - 5  # right margin 20 mm
