"""Translations for the web pages: Babel catalogues in ``locales/<lang>/LC_MESSAGES/*.po``.

Every ``.po`` file of a language is merged, so each part of the interface can keep its own
catalogue (``intake.po``, ``survey.po``, ``team.po``). Catalogues are compiled in memory at
start-up: there is no build step. The language of the current request lives in a context
variable, which the Jinja2 ``_()``/``ngettext()`` callables read.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, text_direction

LOCALES = Path(__file__).resolve().parents[1] / "locales"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


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


def set_language(language: str) -> None:
    """Make ``language`` the current request's language."""
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    """``message`` translated into the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def translate_to(language: str, message: str) -> str:
    """``message`` translated into ``language`` (for e-mails and bot messages)."""
    return translations(language).gettext(message)


def direction() -> str:
    return text_direction(_current.get())
