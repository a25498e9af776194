"""Answers to survey questions: what a participant typed or chose, checked and stored.

The Telegram bot and the web page call :func:`parse_answer` for every answer, and
:func:`answer_label` to show a stored answer back in the participant's language. Options can be
named by code, number or text in any survey language, folded by :func:`match_key`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from core.errors import DomainError
from core.i18n import DEFAULT_LANGUAGE, N_, list_separator
from core.survey_model import (
    MULTIPLE,
    SCALE,
    SINGLE,
    TEXT,
    YESNO,
    AnswerValue,
    Question,
    is_whole_number,
    text_for,
)


class AnswerError(DomainError):
    """An answer that does not fit its question; ``field`` is the question id."""


_ARABIC_FOLDS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ـ": None})
_ARABIC_MARKS = re.compile("[\u064b-\u0652]")
_CHOICE_SEPARATORS = re.compile("[,;\n\u060c\u061b\u1363\u1364]")
_INTEGER = re.compile(r"-?\d{1,4}")
#: Somali and Tigrinya await a native speaker's review, as the survey texts do.
_YES_NO_LABELS = {
    "sv": ("Ja", "Nej"),
    "en": ("Yes", "No"),
    "ar": ("نعم", "لا"),
    "so": ("Haa", "Maya"),
    "ti": ("እወ", "ኣይፋልን"),
}


def match_key(text: str) -> str:
    """``text`` folded for matching what people type: case, width, spacing, Arabic spelling."""
    folded = _ARABIC_MARKS.sub("", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.translate(_ARABIC_FOLDS).split()).strip(".!?؟")


_YES = frozenset(map(match_key, ["yes", "ja", "true", "1", "y", "j", "نعم", "أجل", "haa", "እወ"]))
_NO = frozenset(map(match_key, ["no", "nej", "false", "0", "n", "لا", "كلا", "maya", "ኣይፋልን"]))


def parse_answer(question: Question, raw: str | Sequence[str]) -> AnswerValue:
    """The value to store for what a participant chose or typed for ``question``.

    ``raw`` is a string (typed, or one form value) or several form values. ``single`` gives an
    option code, ``multiple`` the chosen codes in option order (at least one), ``scale`` an int
    from ``min`` to ``max``, ``text`` the text without surrounding space (not empty, at most
    ``max_length`` characters), ``yesno`` a bool. Options may be given by code, by their text in
    any language, or by their number (from 1). Raises :class:`AnswerError`, whose message tells
    the participant what to do.
    """
    if question.kind == MULTIPLE:
        return _parse_multiple(question, raw)
    if isinstance(raw, str):
        value = raw
    elif len(raw) <= 1:
        value = raw[0] if raw else ""
    else:
        raise _invalid(question)
    return _PARSERS[question.kind](question, value)


def _invalid(question: Question) -> AnswerError:
    """The error that tells the participant what kind of answer ``question`` takes."""
    count = len(question.options)
    messages = {
        SINGLE: N_("Välj ett av alternativen. Du kan också skriva numret, från 1 till {count}."),
        MULTIPLE: N_(
            "Välj ett eller flera av alternativen. Du kan också skriva deras nummer, "
            "från 1 till {count}, med komma emellan."
        ),
        SCALE: N_("Svara med en siffra från {min} till {max}."),
        TEXT: N_("Skriv ditt svar som en text."),
        YESNO: N_("Svara ja eller nej."),
    }
    message = messages[question.kind]
    return AnswerError(message, field=question.id, count=count, min=question.min, max=question.max)


def _match_option(question: Question, typed: str) -> str | None:
    """The code of the option ``typed`` names by code, number or text in any language."""
    key = match_key(typed)
    if key.isdecimal() and len(key) <= 3:
        number = int(key)
        return question.options[number - 1].code if 0 < number <= len(question.options) else None
    for option in question.options:
        if key == option.code or any(key == match_key(text) for text in option.text.values()):
            return option.code
    return None


def _parse_single(question: Question, raw: str) -> str:
    """The code of the one option chosen."""
    code = _match_option(question, raw)
    if code is None:
        raise _invalid(question)
    return code


def _parse_multiple(question: Question, raw: str | Sequence[str]) -> list[str]:
    """The codes chosen, in option order; at least one."""
    if isinstance(raw, str):
        whole = _match_option(question, raw)
        raw = [whole] if whole else _choice_words(raw)
    words = [word for word in raw if match_key(word)]
    if not words:
        raise AnswerError(N_("Välj minst ett alternativ."), field=question.id)
    codes = {_match_option(question, word) for word in words}
    if None in codes:
        raise _invalid(question)
    return [option.code for option in question.options if option.code in codes]


def _choice_words(typed: str) -> list[str]:
    """Split typed choices on commas, semicolons and lines; "1 3" is two numbers."""
    words: list[str] = []
    for part in _CHOICE_SEPARATORS.split(typed):
        numbers = part.split()
        many_numbers = len(numbers) > 1 and all(number.isdecimal() for number in numbers)
        words.extend(numbers if many_numbers else [part])
    return words


def _parse_scale(question: Question, raw: str) -> int:
    """A whole number from ``min`` to ``max``."""
    key = match_key(raw).replace("\u2212", "-")
    if not _INTEGER.fullmatch(key):
        raise _invalid(question)
    value = int(key)
    if question.min is None or question.max is None or not question.min <= value <= question.max:
        raise _invalid(question)
    return value


def _parse_text(question: Question, raw: str) -> str:
    """The text without control characters or surrounding space; not empty, not too long."""
    lines = raw.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(c for c in lines if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    text = unicodedata.normalize("NFC", kept).strip()
    if not any(c.isprintable() and not c.isspace() for c in text):
        message = (
            N_("Skriv ditt svar med några ord.")
            if question.required
            else N_("Skriv ditt svar med några ord, eller hoppa över frågan.")
        )
        raise AnswerError(message, field=question.id)
    if len(text) > question.max_length:
        message = N_(
            "Svaret är för långt ({length} tecken). Korta det till högst {max_length} tecken."
        )
        raise AnswerError(
            message, field=question.id, length=len(text), max_length=question.max_length
        )
    return text


def _parse_yesno(question: Question, raw: str) -> bool:
    """True for yes, False for no, in any of the survey languages."""
    key = match_key(raw)
    if key in _YES or key in _NO:
        return key in _YES
    raise _invalid(question)


_PARSERS: dict[str, Callable[[Question, str], AnswerValue]] = {
    SINGLE: _parse_single,
    SCALE: _parse_scale,
    TEXT: _parse_text,
    YESNO: _parse_yesno,
}


def yes_no_labels(language: str) -> tuple[str, str]:
    """The words for yes and no in ``language`` (Swedish when unknown), e.g. for buttons."""
    return _YES_NO_LABELS.get(language, _YES_NO_LABELS[DEFAULT_LANGUAGE])


def answer_label(question: Question, value: object, language: str = DEFAULT_LANGUAGE) -> str:
    """A stored answer as the participant would read it in ``language``; empty for no answer."""
    if value is None:
        return ""
    if question.kind in (SINGLE, MULTIPLE):
        codes = value if isinstance(value, list) else [value]
        option_texts = [_option_label(question, str(code), language) for code in codes]
        return list_separator(language).join(option_texts)
    if question.kind == YESNO and isinstance(value, bool):
        return yes_no_labels(language)[0 if value else 1]
    if question.kind == SCALE and value in (question.min, question.max) and is_whole_number(value):
        end = question.min_label if value == question.min else question.max_label
        return f"{value} ({text_for(end, language)})"
    return str(value)


def _option_label(question: Question, code: str, language: str) -> str:
    """The option's text, or the code itself when the option no longer exists."""
    option = question.option(code)
    return option.text_in(language) if option else code
