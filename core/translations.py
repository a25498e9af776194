"""Translation catalogues: Babel ``.po`` files in ``core/data/locales/<lang>/LC_MESSAGES/*.po``.

Every ``.po`` file of a language is merged, so each part of the interface can keep its own
catalogue (``intake.po``, ``survey.po``, ``team.po``). Catalogues are compiled in memory the
first time a language is used: there is no build step. Web pages, the bot and the e-mails
that operations queue all translate through :func:`translate_to`.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from functools import cache

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.data import LOCALES


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    """All catalogues of ``language`` merged into one translations object."""
    merged: gettext_module.NullTranslations = gettext_module.NullTranslations()
    folder = LOCALES / language / "LC_MESSAGES"
    for po_file in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = gettext_module.GNUTranslations(buffer)
        part.add_fallback(merged)
        merged = part
    return merged


def translate_to(language: str, message: str) -> str:
    """``message`` translated into ``language`` (for e-mails and bot messages)."""
    return translations(language).gettext(message)


def language_name(code: str) -> str:
    """A language's name in that language, as on a button: "Svenska", "English", "العربية"."""
    name = Locale.parse(code).display_name or code
    return name[:1].upper() + name[1:]
