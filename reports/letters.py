"""Survey invitation letters as a PDF: one A4 page per participant, to print and hand over.

Each letter has the team's name, the participant's name (none with protected identity), a
short text about the survey in the participant's language, a QR code of the web link, the link
itself, the Telegram link when the bot is on, and the date the link stops working. Swedish and
English texts exist; a participant who reads English gets English first and Swedish after,
everyone else Swedish first and English after (Arabic, Somali and Tigrinya letters are
Swedish + English: right-to-left Arabic needs text shaping that a pure-Python PDF writer does
not do, and the Somali and Tigrinya texts await a native speaker's review).

The QR code is drawn as vector squares (segno's matrix), so it prints sharply at any size. The
font is DejaVu Sans, shipped with matplotlib (a dependency already), so names in any Latin,
Greek or Cyrillic script print. Nothing personal goes into the PDF's metadata.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import segno

if TYPE_CHECKING:
    from fpdf import FPDF

#: A PDF's worked-out line breaks: (text, font style, size) -> lines.
LineCache = dict[tuple[str, str, float], list[str]]
#: Letter texts by language; ``{date}`` is the last day the link works.
TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "greeting": "Hej {name}!",
        "title": "Hur har det varit för dig hos oss?",
        "body": (
            "Vi vill gärna veta vad som har varit till störst nytta för dig, och hur du tycker"
            " att det har gått. Enkäten tar ungefär fem minuter. Det är frivilligt att svara,"
            " och dina svar visas utan ditt namn när teamet sammanställer vad deltagarna tycker."
        ),
        "how": (
            "Skanna QR-koden med mobilens kamera, eller skriv in länken i webbläsaren."
            " Länken är personlig: dela den inte med någon annan."
        ),
        "valid": "Länken gäller till och med {date}.",
        "telegram": "Du kan också svara i Telegram:",
    },
    "en": {
        "greeting": "Hello {name},",
        "title": "How has it been for you with us?",
        "body": (
            "We would like to know what has helped you most, and how you feel it has gone."
            " The survey takes about five minutes. Answering is voluntary, and your answers are"
            " shown without your name when the team sums up what participants think."
        ),
        "how": (
            "Scan the QR code with your phone's camera, or type the link into your browser."
            " The link is personal: do not share it with anyone."
        ),
        "valid": "The link is valid until {date}.",
        "telegram": "You can also answer in Telegram:",
    },
    # Written by the developers, to be read through by a native speaker (as the survey's
    # Somali and Tigrinya drafts); printed right to left with text shaping (uharfbuzz).
    "ar": {
        "greeting": "مرحبًا {name}،",
        "title": "كيف كانت تجربتك معنا؟",
        "body": (
            "نود أن نعرف ما الذي أفادك أكثر، وكيف ترى أن الأمور سارت. يستغرق الاستبيان"
            " حوالي خمس دقائق. الإجابة طوعية، وتُعرض إجاباتك بدون اسمك عندما يلخّص الفريق"
            " آراء المشاركين."
        ),
        "how": (
            "امسح رمز QR بكاميرا هاتفك، أو اكتب الرابط في المتصفح. الرابط شخصي: لا تشاركه"
            " مع أي شخص آخر."
        ),
        "valid": "الرابط صالح حتى {date}.",
        "telegram": "يمكنك أيضًا الإجابة عبر تيليغرام:",
    },
}
#: Texts printed right to left.
RIGHT_TO_LEFT = frozenset({"ar"})
#: Words (lower case, accents removed) by which a referral names each survey language.
LANGUAGE_WORDS: dict[str, tuple[str, ...]] = {
    "sv": ("sv", "svenska", "swedish", "svensk"),
    "en": ("en", "engelska", "english", "engelsk"),
    "ar": ("ar", "arabiska", "arabic", "arabisk", "العربية"),
    "so": ("so", "somaliska", "somali"),
    "ti": ("ti", "tigrinja", "tigrinya", "tigrinska"),
}
FONT_DIR = Path("mpl-data") / "fonts" / "ttf"
QR_SIZE_MM = 55.0


@dataclass(frozen=True)
class Letter:
    """What one letter says: to whom (``name`` None: protected identity), links, last day."""

    name: str | None
    reference: str
    team_name: str
    language: str
    web_link: str
    telegram_link: str | None
    valid_until: date


def survey_language(stated: str | None) -> str:
    """The survey language code of a referral's free-text language ("arabiska"); ``sv`` if none."""
    text = unicodedata.normalize("NFKD", (stated or "").strip().casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    words = {word.strip(".,;()") for word in text.replace("/", " ").split()}
    for code, names in LANGUAGE_WORDS.items():
        if words & set(names):
            return code
    return "sv"


def letter_languages(language: str) -> tuple[str, ...]:
    """The texts a letter prints, in order: the participant's language (if written) first."""
    if language in ("en", "ar"):
        return (language, "sv")
    return ("sv", "en") if language != "sv" else ("sv",)


def _font_path(bold: bool = False) -> Path:
    """DejaVu Sans as matplotlib ships it."""
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()).parent / FONT_DIR / name


def render_letters(letters: Sequence[Letter]) -> bytes:
    """The PDF: one A4 page per letter, in the order given."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creator("samverkan")
    pdf.set_title("Inbjudan till enkät")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(20, 18, 20)
    pdf.add_font("DejaVu", "", str(_font_path()))
    pdf.add_font("DejaVu", "B", str(_font_path(bold=True)))
    lines: LineCache = {}
    for letter in letters:
        _page(pdf, letter, lines)
    return bytes(pdf.output())


def _page(pdf: FPDF, letter: Letter, lines: LineCache) -> None:
    """One letter on a new page."""
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("DejaVu", "B", 10)
    pdf.set_text_color(80, 80, 80)
    pdf.cell(width, 5, letter.team_name, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_text_color(0, 0, 0)
    languages = letter_languages(letter.language)
    first = TEXTS[languages[0]]
    _shaping(pdf, languages[0])
    if letter.name:
        pdf.set_font("DejaVu", "", 12)
        pdf.cell(
            width, 7, first["greeting"].format(name=letter.name), new_x="LMARGIN", new_y="NEXT",
            align="R" if languages[0] in RIGHT_TO_LEFT else "L",
        )  # fmt: skip
        pdf.ln(2)
    _text_block(pdf, first, letter, lines, language=languages[0])
    _shaping(pdf, "sv")
    _qr_block(pdf, letter)
    for language in languages[1:]:
        pdf.ln(4)
        pdf.set_draw_color(180, 180, 180)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.ln(4)
        _text_block(pdf, TEXTS[language], letter, lines, small=True, language=language)
    pdf.set_y(-18)
    pdf.set_font("DejaVu", "", 8)
    pdf.set_text_color(110, 110, 110)
    pdf.cell(width, 4, letter.reference, align="R")


def _shaping(pdf: FPDF, language: str) -> None:
    """Right-to-left text shaping for Arabic; plain left-to-right text otherwise."""
    if language in RIGHT_TO_LEFT:
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab")
    else:
        pdf.set_text_shaping(False)


def _paragraph(pdf: FPDF, lines: LineCache, text: str, height: float, *, align: str = "L") -> None:
    """Text in lines across the page. The line breaks of a text are worked out once per PDF
    (``lines``): fpdf2's line breaking is the slow part, and every letter has the same texts."""
    key = (text, pdf.font_style, pdf.font_size_pt)
    if key not in lines:
        broken = pdf.multi_cell(pdf.epw, height, text, dry_run=True, output="LINES")
        assert isinstance(broken, list)
        lines[key] = broken
    for line in lines[key]:
        pdf.cell(pdf.epw, height, line, new_x="LMARGIN", new_y="NEXT", align=align)


def _text_block(
    pdf: FPDF,
    texts: dict[str, str],
    letter: Letter,
    lines: LineCache,
    *,
    small: bool = False,
    language: str = "sv",
) -> None:
    """The title, the text about the survey and how to open it, and the last day."""
    size = 10 if small else 11
    align = "R" if language in RIGHT_TO_LEFT else "L"
    _shaping(pdf, language)
    pdf.set_font("DejaVu", "B", size + 4 if not small else size + 1)
    _paragraph(pdf, lines, texts["title"], 8 if not small else 6, align=align)
    pdf.ln(1)
    pdf.set_font("DejaVu", "", size)
    for key in ("body", "how"):
        _paragraph(pdf, lines, texts[key], 5.2, align=align)
        pdf.ln(1.5)
    valid = texts["valid"].format(date=letter.valid_until.isoformat())
    _paragraph(pdf, lines, valid, 5.2, align=align)
    if letter.telegram_link:
        _paragraph(pdf, lines, texts["telegram"], 5.2, align=align)
        _shaping(pdf, "sv")  # the link itself reads left to right
        _paragraph(pdf, lines, letter.telegram_link, 5.2, align=align)
    _shaping(pdf, "sv")


def _qr_block(pdf: FPDF, letter: Letter) -> None:
    """The web link's QR code, centred, with the link under it."""
    pdf.ln(5)
    qr = segno.make(letter.web_link, error="m")
    rows = [list(row) for row in qr.matrix_iter(border=0)]
    module = QR_SIZE_MM / len(rows)
    left, top = (pdf.w - QR_SIZE_MM) / 2, pdf.get_y()
    pdf.set_fill_color(0, 0, 0)
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            run = x
            while run < len(row) and row[run]:
                run += 1
            pdf.rect(left + x * module, top + y * module, (run - x) * module, module, style="F")
            x = run
    pdf.set_y(top + QR_SIZE_MM + 4)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(pdf.epw, 5, letter.web_link, align="C", new_x="LMARGIN", new_y="NEXT")
