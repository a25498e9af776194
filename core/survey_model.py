"""The survey model: questions, options and survey definitions, and the codes the reports rely on.

A :class:`Survey` is plain, immutable data; :mod:`core.survey_files` reads and checks one from a
YAML file, :mod:`core.survey_answers` checks what a participant answers, and :mod:`core.surveys`
is the front door that also works out where a participant is in the survey.

Stored answer values (:data:`AnswerValue`): ``single`` an option code, ``multiple`` a list of codes
in option order, ``scale`` an int, ``text`` a str, ``yesno`` a bool.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeAlias, TypeGuard

from core.errors import NotFound
from core.i18n import DEFAULT_LANGUAGE, N_, SURVEY_LANGUAGES

SINGLE, MULTIPLE, SCALE, TEXT, YESNO = "single", "multiple", "scale", "text", "yesno"
KINDS = (SINGLE, MULTIPLE, SCALE, TEXT, YESNO)
DEFAULT_MAX_LENGTH = 2000

Q_ACTIVITIES = "aktiviteter"
Q_USEFUL = "nytta"
Q_CLOSER = "narmare_arbete"
Q_HEALTH = "halsa"
Q_BETTER = "battre"
Q_QUOTE = "citat"
#: Option codes of ``narmare_arbete``; the first two count as *closer* (a self-rated step forward).
CLOSER_OPTIONS = ("ja_mycket", "ja_lite", "nej_ingen_skillnad", "nej_langre_ifran", "vet_inte")
CLOSER_TO_WORK = ("ja_mycket", "ja_lite")
#: Option codes of ``halsa`` (the national public-health item); the first two count as good.
HEALTH_OPTIONS = ("mycket_bra", "bra", "nagorlunda", "daligt", "mycket_daligt")
GOOD_HEALTH = ("mycket_bra", "bra")
#: Free-text questions: coded into themes and, with permission (``citat``), quoted.
FREE_TEXT_QUESTIONS = (Q_USEFUL, Q_BETTER)

AnswerValue: TypeAlias = str | list[str] | int | bool
Texts: TypeAlias = Mapping[str, str]
"""A text per language code (``sv`` always present)."""


def no_texts() -> Texts:
    """An empty, read-only text mapping."""
    return MappingProxyType({})


def text_for(texts: Texts, language: str) -> str:
    """The text in ``language``, else the Swedish text, else empty."""
    return texts.get(language) or texts.get(DEFAULT_LANGUAGE, "")


def is_whole_number(value: object) -> TypeGuard[int]:
    """Whether ``value`` is an int (YAML's true and false are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Option:
    """One answer option: a stable ``code`` (stored, never renamed) and its text per language."""

    code: str
    text: Texts

    def text_in(self, language: str) -> str:
        """The text in ``language``, or the Swedish text when there is none."""
        return text_for(self.text, language)


@dataclass(frozen=True)
class Question:
    """One survey question.

    ``kind`` is one of :data:`KINDS`. ``options`` belong to ``single`` and ``multiple``; ``min``,
    ``max``, ``min_label`` and ``max_label`` to ``scale``; ``max_length`` to ``text``. ``hint`` is
    an optional help text (empty mapping when there is none). Only optional questions (``required``
    false) can be skipped.
    """

    id: str
    kind: str
    required: bool
    text: Texts
    hint: Texts = field(default_factory=no_texts)
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int = DEFAULT_MAX_LENGTH
    min_label: Texts = field(default_factory=no_texts)
    max_label: Texts = field(default_factory=no_texts)

    def text_in(self, language: str) -> str:
        """The question in ``language``, or in Swedish when there is no translation."""
        return text_for(self.text, language)

    def hint_in(self, language: str) -> str:
        """The hint in ``language`` (Swedish as fallback); empty when the question has none."""
        return text_for(self.hint, language)

    def option(self, code: str) -> Option | None:
        """The option with ``code``, or None."""
        return next((option for option in self.options if option.code == code), None)

    def texts(self) -> Iterator[Texts]:
        """Every text of the question: question, hint, options and scale end labels."""
        yield self.text
        yield from (texts for texts in (self.hint, self.min_label, self.max_label) if texts)
        yield from (option.text for option in self.options)

    def to_dict(self) -> dict[str, Any]:
        """The canonical definition, with only the fields that belong to the kind."""
        data: dict[str, Any] = {"id": self.id, "kind": self.kind, "required": self.required}
        data["text"] = dict(self.text)
        if self.hint:
            data["hint"] = dict(self.hint)
        if self.kind in (SINGLE, MULTIPLE):
            data["options"] = [{"code": o.code, "text": dict(o.text)} for o in self.options]
        elif self.kind == SCALE:
            data.update(min=self.min, max=self.max)
            data.update(min_label=dict(self.min_label), max_label=dict(self.max_label))
        elif self.kind == TEXT:
            data["max_length"] = self.max_length
        return data


@dataclass(frozen=True)
class Survey:
    """A survey definition: ``code`` names it, ``version`` changes whenever its content does.

    ``title``, ``intro`` (why we ask, that answering is voluntary, how answers are used) and
    ``thanks`` are texts per language; ``questions`` are in the order they are asked.
    ``review_needed`` lists the languages whose texts are drafted (by machine or by someone who
    is not a native speaker) and await review by a native speaker; they are shown all the same.
    """

    code: str
    version: str
    title: Texts
    intro: Texts
    thanks: Texts
    questions: tuple[Question, ...]
    review_needed: tuple[str, ...] = ()

    def title_in(self, language: str) -> str:
        """The title in ``language`` (Swedish as fallback)."""
        return text_for(self.title, language)

    def intro_in(self, language: str) -> str:
        """The introduction in ``language`` (Swedish as fallback)."""
        return text_for(self.intro, language)

    def thanks_in(self, language: str) -> str:
        """The thank-you text in ``language`` (Swedish as fallback)."""
        return text_for(self.thanks, language)

    def question(self, qid: str) -> Question:
        """The question with id ``qid``; :class:`NotFound` when the survey has none."""
        return self.questions[self.index(qid)]

    def index(self, qid: str) -> int:
        """The 0-based position of question ``qid``; :class:`NotFound` when the survey has none."""
        for position, question in enumerate(self.questions):
            if question.id == qid:
                return position
        raise NotFound(N_("Frågan finns inte i enkäten."), field=qid)

    def languages(self) -> tuple[str, ...]:
        """The languages every text of the survey is written in, Swedish first."""
        texts = [self.title, self.intro, self.thanks]
        texts += [t for question in self.questions for t in question.texts()]
        common = set.intersection(*(set(t) for t in texts))
        known = [language for language in SURVEY_LANGUAGES if language in common]
        return (*known, *sorted(common - set(known)))

    def text_languages(self) -> frozenset[str]:
        """Every language any text of the survey is written in."""
        texts = [self.title, self.intro, self.thanks]
        texts += [t for question in self.questions for t in question.texts()]
        return frozenset(language for t in texts for language in t)

    def to_dict(self) -> dict[str, Any]:
        """The canonical, JSON-serialisable definition (what :func:`survey_from_dict` reads)."""
        return {
            "code": self.code,
            "version": self.version,
            "title": dict(self.title),
            "intro": dict(self.intro),
            "thanks": dict(self.thanks),
            "questions": [question.to_dict() for question in self.questions],
            **({"review_needed": list(self.review_needed)} if self.review_needed else {}),
        }

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of :meth:`to_dict`: equal content, equal hash."""
        canonical = json.dumps(
            self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
