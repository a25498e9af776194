"""Marking strings for translation in plain-Python code.

``core`` never translates; it marks Swedish source strings with :func:`N_` so that
``pybabel extract`` finds them, and adapters translate with the catalogues in ``locales/``.
"""

LANGUAGES = ("sv", "en", "ar")
RTL_LANGUAGES = frozenset({"ar"})
DEFAULT_LANGUAGE = "sv"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for extraction; return it unchanged."""
    return message


def text_direction(language: str) -> str:
    """``rtl`` for right-to-left languages, else ``ltr``."""
    return "rtl" if language in RTL_LANGUAGES else "ltr"
