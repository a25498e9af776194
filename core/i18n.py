"""Marking strings for translation in plain-Python code.

``core`` never translates; it marks Swedish source strings with :func:`N_` so that
``pybabel extract`` finds them, and adapters translate with the catalogues in ``core/data/locales/``.
"""

#: The languages participants meet: the survey (bot and web page), Swedish first. Somali (``so``,
#: Latin script) and Tigrinya (``ti``, Ge'ez script) are machine-drafted and await a native
#: speaker's review (``review_needed`` in ``core/data/surveys/default.yaml``, the note in their catalogues).
SURVEY_LANGUAGES = ("sv", "en", "ar", "so", "ti")
#: The languages of the other web pages (referral form, staff pages): ``?lang=`` offers only these.
PAGE_LANGUAGES = ("sv", "en", "ar")
RTL_LANGUAGES = frozenset({"ar"})
DEFAULT_LANGUAGE = "sv"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for extraction; return it unchanged."""
    return message


def list_separator(language: str) -> str:
    """What stands between the items of a list: the Arabic comma, the Ethiopic comma, or ", "."""
    return {"ar": "، ", "ti": "፣ "}.get(language, ", ")


def text_direction(language: str) -> str:
    """``rtl`` for right-to-left languages, else ``ltr``."""
    return "rtl" if language in RTL_LANGUAGES else "ltr"
