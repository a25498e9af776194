"""The catalogues: every word a participant meets, in every survey language, and language names.

What a participant meets is the bot's words (``bot/texts.py``), the answer checks and link errors
of ``core``, the web survey's templates and the shared page strings; the Arabic catalogue, the
first translation, holds exactly those. Somali and Tigrinya must have every one of them: a
missing entry would fall back to Swedish in the middle of the survey.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2.ext
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from core.i18n import PAGE_LANGUAGES, SURVEY_LANGUAGES, text_direction
from core.survey_answers import parse_answer, yes_no_labels
from core.surveys import Q_QUOTE, load_default_survey
from core.translations import LOCALES, language_name

ROOT = Path(__file__).resolve().parents[2]
PARTICIPANT_CODE = ("bot/texts.py", "core/invitations.py", "core/survey_answers.py")
PARTICIPANT_TEMPLATES = (
    "intake/templates/base.html",
    *sorted(ROOT.glob("intake/templates/survey/*.html")),
)
TRANSLATED = [language for language in SURVEY_LANGUAGES if language != "sv"]
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def catalogues(language: str) -> list[Catalog]:
    found = []
    for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            found.append(read_po(handle, locale=language))
    return found


def participant_messages() -> set[str]:
    """Every msgid a participant can meet (see the module docstring)."""
    found = {m.id for catalog in catalogues("ar") for m in catalog if m.id}
    for name in PARTICIPANT_CODE:
        found |= {m[1] for m in extract_from_file("python", ROOT / name, keywords={"N_": None})}
    for template in PARTICIPANT_TEMPLATES:
        with (ROOT / template).open("rb") as handle:
            found |= {m[2] for m in jinja2.ext.babel_extract(handle, ("_",), [], {})}
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_a_participant_meets_is_translated(language: str) -> None:
    translated = {
        m.id: m.string for catalog in catalogues(language) for m in catalog if m.id and m.string
    }
    fuzzy = [m.id for catalog in catalogues(language) for m in catalog if m.id and m.fuzzy]

    missing = sorted(participant_messages() - set(translated))
    assert missing == [], f"{language}: {len(missing)} messages without a translation"
    assert fuzzy == []  # gettext ignores fuzzy entries
    wrong = [
        message
        for message in participant_messages()
        if set(PLACEHOLDER.findall(message)) != set(PLACEHOLDER.findall(translated[message]))
    ]
    assert wrong == []


@pytest.mark.parametrize("language", ["so", "ti"])
def test_machine_drafted_catalogues_say_they_await_a_native_speakers_review(language: str) -> None:
    for path in (LOCALES / language / "LC_MESSAGES").glob("*.po"):
        head = path.read_text(encoding="utf-8").split("msgid", 1)[0]
        assert "REVIEW NEEDED" in head and "native speaker" in head, path


@pytest.mark.parametrize("language", SURVEY_LANGUAGES)
def test_yes_and_no_have_words_in_every_survey_language_and_are_understood(language: str) -> None:
    yes, no = yes_no_labels(language)
    quote = load_default_survey().question(Q_QUOTE)

    assert (yes, no) != yes_no_labels("sv") or language == "sv"
    assert (parse_answer(quote, yes), parse_answer(quote, no)) == (True, False)


def test_languages_are_named_in_their_own_language_for_the_menus() -> None:
    names = [language_name(code) for code in SURVEY_LANGUAGES]

    assert names == ["Svenska", "English", "العربية", "Soomaali", "ትግርኛ"]
    assert [text_direction(code) for code in ("ar", "so", "ti")] == ["rtl", "ltr", "ltr"]


def test_the_other_web_pages_keep_their_languages() -> None:
    assert PAGE_LANGUAGES == ("sv", "en", "ar")
