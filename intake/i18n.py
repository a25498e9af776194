"""The language of the current web request, and translating into it.

The catalogues are :mod:`core.translations`; the language of the current request lives in a
context variable, which the Jinja2 ``_()``/``ngettext()`` callables read.
"""

from __future__ import annotations

from contextvars import ContextVar

from core.i18n import DEFAULT_LANGUAGE, SURVEY_LANGUAGES, text_direction
from core.translations import translations

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def set_language(language: str) -> None:
    """Make ``language`` the current request's language."""
    _current.set(language if language in SURVEY_LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    """``message`` translated into the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def direction() -> str:
    return text_direction(_current.get())
