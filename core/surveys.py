"""The participant survey (*enkät*) as data: definitions, answer checks and navigation.

A survey is a YAML file under ``surveys/`` (``surveys/default.yaml`` is the default of DOMAIN.md);
:func:`load_survey` checks it and :meth:`Survey.to_dict` gives the canonical definition stored with
every response, so old answers keep the version they were given to. The Telegram bot and the web
page call :func:`parse_answer` for what a participant typed or chose, and decide where to go from
the stored answers alone (:func:`next_question`), so nothing about a participant lives in memory.

Stored answer values (:data:`AnswerValue`): ``single`` an option code, ``multiple`` a list of codes
in option order, ``scale`` an int, ``text`` a str, ``yesno`` a bool.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn, TypeAlias, TypeGuard

import yaml

from core.errors import DomainError, NotAllowed, NotFound
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_

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

_YES_NO_LABELS = {"sv": ("Ja", "Nej"), "en": ("Yes", "No"), "ar": ("نعم", "لا")}


class SurveyFileError(DomainError):
    """A survey definition is broken; the message names the file, the question and the reason."""

    def __init__(
        self, reason: str, *, path: Path | str | None = None, question_id: str | None = None
    ) -> None:
        self.path = path
        self.question_id = question_id
        self.reason = reason
        where = [str(path)] if path is not None else []
        where += [f'fråga "{question_id}"'] if question_id else []
        super().__init__(": ".join([*where, reason]), field=question_id)


class AnswerError(DomainError):
    """An answer that does not fit its question; ``field`` is the question id."""


def _no_texts() -> Texts:
    """An empty, read-only text mapping."""
    return MappingProxyType({})


def _text_in(texts: Texts, language: str) -> str:
    """The text in ``language``, else the Swedish text, else empty."""
    return texts.get(language) or texts.get(DEFAULT_LANGUAGE, "")


@dataclass(frozen=True)
class Option:
    """One answer option: a stable ``code`` (stored, never renamed) and its text per language."""

    code: str
    text: Texts

    def text_in(self, language: str) -> str:
        """The text in ``language``, or the Swedish text when there is none."""
        return _text_in(self.text, language)


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
    hint: Texts = field(default_factory=_no_texts)
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int = DEFAULT_MAX_LENGTH
    min_label: Texts = field(default_factory=_no_texts)
    max_label: Texts = field(default_factory=_no_texts)

    def text_in(self, language: str) -> str:
        """The question in ``language``, or in Swedish when there is no translation."""
        return _text_in(self.text, language)

    def hint_in(self, language: str) -> str:
        """The hint in ``language`` (Swedish as fallback); empty when the question has none."""
        return _text_in(self.hint, language)

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
    """

    code: str
    version: str
    title: Texts
    intro: Texts
    thanks: Texts
    questions: tuple[Question, ...]

    def title_in(self, language: str) -> str:
        """The title in ``language`` (Swedish as fallback)."""
        return _text_in(self.title, language)

    def intro_in(self, language: str) -> str:
        """The introduction in ``language`` (Swedish as fallback)."""
        return _text_in(self.intro, language)

    def thanks_in(self, language: str) -> str:
        """The thank-you text in ``language`` (Swedish as fallback)."""
        return _text_in(self.thanks, language)

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
        known = [language for language in LANGUAGES if language in common]
        return (*known, *sorted(common - set(known)))

    def to_dict(self) -> dict[str, Any]:
        """The canonical, JSON-serialisable definition (what :func:`survey_from_dict` reads)."""
        return {
            "code": self.code,
            "version": self.version,
            "title": dict(self.title),
            "intro": dict(self.intro),
            "thanks": dict(self.thanks),
            "questions": [question.to_dict() for question in self.questions],
        }

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of :meth:`to_dict`: equal content, equal hash."""
        canonical = json.dumps(
            self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- Reading a definition -------------------------------------------------------------------

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_MAX_SCALE_STEPS = 10
_MAX_TEXT_LENGTH = 10_000
_SURVEY_KEYS = ("code", "version", "title", "intro", "thanks", "questions")
_QUESTION_KEYS = frozenset({"id", "kind", "required", "text", "hint"})
_KIND_KEYS = {
    SINGLE: frozenset({"options"}),
    MULTIPLE: frozenset({"options"}),
    SCALE: frozenset({"min", "max", "min_label", "max_label"}),
    TEXT: frozenset({"max_length"}),
    YESNO: frozenset(),
}
_ANY_KIND_KEYS = frozenset().union(*_KIND_KEYS.values())


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Construct the mapping after checking that no plain key repeats."""
        seen: set[str] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nyckeln {key_node.value!r} finns två gånger", key_node.start_mark
                )
            seen.add(key_node.value)
        return super().construct_mapping(node, deep)


@dataclass(frozen=True)
class _Place:
    """Where in a definition a check is made, to name it in the error."""

    path: Path | str | None
    question_id: str | None = None

    def fail(self, reason: str, **params: object) -> NoReturn:
        """Raise :class:`SurveyFileError` with ``reason`` filled in with ``params``."""
        raise SurveyFileError(reason.format(**params), path=self.path, question_id=self.question_id)


def load_survey(path: Path) -> Survey:
    """Read the survey definition in ``path``; :class:`SurveyFileError` says what is wrong where."""
    place = _Place(path)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        place.fail(N_("filen finns inte"))
    except UnicodeDecodeError:
        place.fail(N_("filen är inte sparad som UTF-8"))
    except OSError as exc:
        place.fail(N_("filen kan inte läsas ({error})"), error=exc.strerror)
    return survey_from_dict(_yaml_data(source, place), path=path)


def _yaml_data(source: str, place: _Place) -> object:
    """The data in the YAML text ``source``; a syntax error is reported with its line."""
    try:
        loader = _StrictLoader(source)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        place.fail(N_("ogiltig YAML på rad {line}: {problem}"), line=line, problem=exc.problem)
    except yaml.reader.ReaderError as exc:
        line = source.count("\n", 0, exc.position) + 1
        place.fail(N_("ogiltig YAML på rad {line}: otillåtet tecken"), line=line)
    except yaml.YAMLError as exc:
        place.fail(N_("ogiltig YAML: {problem}"), problem=exc)


def survey_from_dict(data: object, *, path: Path | str | None = None) -> Survey:
    """Check a definition (as in the YAML file or from :meth:`Survey.to_dict`) and build it."""
    place = _Place(path)
    top = _mapping(data, place, N_("enkäten"))
    _check_keys(top, frozenset(_SURVEY_KEYS), place)
    missing = [key for key in _SURVEY_KEYS if key not in top]
    if missing:
        place.fail(N_("enkäten saknar {keys}"), keys=", ".join(missing))
    version = top["version"]
    if (
        isinstance(version, bool)
        or not isinstance(version, str | int)
        or not 0 < len(str(version)) <= 40
    ):
        place.fail(N_('version ska vara en kort text, till exempel "2026-1"'))
    return Survey(
        code=_name(top["code"], place, "code"),
        version=str(version),
        title=_texts(top["title"], place, "title"),
        intro=_texts(top["intro"], place, "intro"),
        thanks=_texts(top["thanks"], place, "thanks"),
        questions=_questions(top["questions"], place),
    )


def _mapping(value: object, place: _Place, what: str) -> dict[Any, Any]:
    """``value`` if it is a mapping; else name ``what`` in the error."""
    if not isinstance(value, dict):
        place.fail(N_("{what} ska bestå av nycklar med värden (nyckel: värde)"), what=what)
    return value


def _check_keys(
    data: Mapping[Any, Any], allowed: frozenset[str], place: _Place, kind: str = ""
) -> None:
    """Refuse keys not in ``allowed``, saying so when a key belongs to another kind."""
    for key in data:
        if key in allowed:
            continue
        if kind and key in _ANY_KIND_KEYS:
            place.fail(N_("{key} passar inte för en fråga av typen {kind}"), key=key, kind=kind)
        place.fail(
            N_("okänd nyckel {key!r}; tillåtna är {allowed}"),
            key=key,
            allowed=", ".join(sorted(allowed)),
        )


def _name(value: object, place: _Place, key: str) -> str:
    """``value`` if it is a valid id or code (a–z, 0–9, _; at most 32 characters)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        place.fail(
            N_("{key} ska vara 1–32 tecken a–z, 0–9 och _, och börja med en bokstav"), key=key
        )
    return value


def _texts(value: object, place: _Place, key: str) -> Texts:
    """A text per language, with Swedish required and no empty text."""
    if not isinstance(value, dict) or not value:
        place.fail(N_("{key} ska ha en text per språk, till exempel sv: ..."), key=key)
    texts: dict[str, str] = {}
    for language, text in value.items():
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
            place.fail(N_("{key}: okänd språkkod {language!r}"), key=key, language=language)
        if not isinstance(text, str) or not text.strip():
            place.fail(
                N_("{key}.{language} ska vara en text som inte är tom"), key=key, language=language
            )
        texts[language] = text.strip()
    if DEFAULT_LANGUAGE not in texts:
        place.fail(N_("{key} saknar svensk text (sv)"), key=key)
    return MappingProxyType(texts)


def _questions(value: object, place: _Place) -> tuple[Question, ...]:
    """The questions in order, each id used once."""
    if not isinstance(value, list) or not value:
        place.fail(N_("questions ska vara en lista med minst en fråga"))
    questions: dict[str, Question] = {}
    for number, item in enumerate(value, start=1):
        question = _question(item, number, place)
        if question.id in questions:
            _Place(place.path, question.id).fail(N_("id används av mer än en fråga"))
        questions[question.id] = question
    return tuple(questions.values())


def _question(item: object, number: int, place: _Place) -> Question:
    """Question number ``number`` (from 1), checked for its kind."""
    data = _mapping(item, place, N_("fråga nr {number}").format(number=number))
    qid = data.get("id")
    if not isinstance(qid, str) or not _NAME.fullmatch(qid):
        place.fail(
            N_("fråga nr {number} saknar ett giltigt id (1–32 tecken a–z, 0–9 och _)"),
            number=number,
        )
    here = _Place(place.path, qid)
    kind = data.get("kind")
    if kind not in KINDS:
        here.fail(N_("okänd typ {kind!r}; välj en av {kinds}"), kind=kind, kinds=", ".join(KINDS))
    _check_keys(data, _QUESTION_KEYS | _KIND_KEYS[kind], here, kind)
    required = data.get("required", False)
    if not isinstance(required, bool):
        here.fail(N_("required ska vara true eller false"))
    if kind == YESNO and required:
        here.fail(
            N_(
                "en ja/nej-fråga kan inte vara obligatorisk: "
                "den som inte vill svara ska kunna hoppa över den"
            )
        )
    text = _texts(data.get("text"), here, "text")
    hint = _texts(data["hint"], here, "hint") if "hint" in data else _no_texts()
    return Question(qid, kind, required, text, hint, **_kind_fields(kind, data, here))


def _kind_fields(kind: str, data: Mapping[str, Any], here: _Place) -> dict[str, Any]:
    """The fields that belong to ``kind``: options, scale ends or the text length."""
    if kind in (SINGLE, MULTIPLE):
        return {"options": _options(data.get("options"), here)}
    if kind == SCALE:
        low, high = data.get("min"), data.get("max")
        if not (_is_int(low) and _is_int(high) and 0 < high - low <= _MAX_SCALE_STEPS):
            here.fail(
                N_("min och max ska vara heltal, max större än min och högst {steps} steg ifrån"),
                steps=_MAX_SCALE_STEPS,
            )
        labels = {key: _texts(data.get(key), here, key) for key in ("min_label", "max_label")}
        return {"min": low, "max": high, **labels}
    if kind == TEXT:
        length = data.get("max_length", DEFAULT_MAX_LENGTH)
        if not (_is_int(length) and 0 < length <= _MAX_TEXT_LENGTH):
            here.fail(
                N_("max_length ska vara ett heltal från 1 till {limit}"), limit=_MAX_TEXT_LENGTH
            )
        return {"max_length": length}
    return {}


def _is_int(value: object) -> TypeGuard[int]:
    """Whether ``value`` is an int (YAML's true and false are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _options(value: object, here: _Place) -> tuple[Option, ...]:
    """At least two options, each code used once."""
    if not isinstance(value, list) or len(value) < 2:
        here.fail(N_("options ska vara en lista med minst två svarsalternativ"))
    options: dict[str, Option] = {}
    for number, item in enumerate(value, start=1):
        data = _mapping(item, here, N_("svarsalternativ nr {number}").format(number=number))
        _check_keys(data, frozenset({"code", "text"}), here)
        code = _name(
            data.get("code"), here, N_("code i svarsalternativ nr {number}").format(number=number)
        )
        if code in options:
            here.fail(N_("svarsalternativet {code} finns mer än en gång"), code=code)
        options[code] = Option(code, _texts(data.get("text"), here, f"options.{code}.text"))
    _check_distinct_texts(tuple(options.values()), here)
    return tuple(options.values())


def _check_distinct_texts(options: tuple[Option, ...], here: _Place) -> None:
    """Refuse two options with the same text in a language: typed answers would be ambiguous."""
    seen: dict[tuple[str, str], str] = {}
    for option in options:
        for language, text in option.text.items():
            other = seen.setdefault((language, _normal(text)), option.code)
            if other != option.code:
                here.fail(
                    N_("svarsalternativen {first} och {second} har samma text ({language})"),
                    first=other,
                    second=option.code,
                    language=language,
                )


@cache
def default_survey_path() -> Path:
    """Where the default survey lives: ``surveys/default.yaml`` at the top of the project."""
    return Path(__file__).resolve().parent.parent / "surveys" / "default.yaml"


@cache
def load_default_survey() -> Survey:
    """The default survey, read and checked once per process."""
    return load_team_survey(default_survey_path())


def load_team_survey(path: Path) -> Survey:
    """Read a team's survey file and check that it keeps what the reports count on."""
    survey = load_survey(path)
    validate_team_survey(survey, path=path)
    return survey


#: What the reports rely on: question id, its kind, its exact option codes, whether it must exist.
_REPORTED_QUESTIONS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    (Q_CLOSER, SINGLE, CLOSER_OPTIONS, True),
    (Q_HEALTH, SINGLE, HEALTH_OPTIONS, True),
    (Q_QUOTE, YESNO, (), True),
    (Q_USEFUL, TEXT, (), False),
    (Q_BETTER, TEXT, (), False),
)


def validate_team_survey(survey: Survey, *, path: Path | str | None = None) -> None:
    """Refuse a survey that changes the ids, kinds or option codes the reports count on.

    A team may reword texts, reorder options and add questions, but ``narmare_arbete`` and
    ``halsa`` must keep exactly their option codes and ``citat`` must stay a yes/no question;
    ``nytta`` and ``battre``, where present, must be free text. Raises :class:`SurveyFileError`.
    """
    questions = {question.id: question for question in survey.questions}
    for qid, kind, codes, needed in _REPORTED_QUESTIONS:
        here, question = _Place(path, qid), questions.get(qid)
        if question is None:
            if needed:
                here.fail(N_("frågan saknas, men rapporterna räknar på den"))
            continue
        if question.kind != kind:
            here.fail(N_("ska vara av typen {kind}, eftersom rapporterna räknar på den"), kind=kind)
        if codes and sorted(option.code for option in question.options) != sorted(codes):
            here.fail(
                N_("svarsalternativen ska ha koderna {codes} (texter och ordning får ändras)"),
                codes=", ".join(codes),
            )


# --- Answers ---------------------------------------------------------------------------------

_ARABIC_FOLDS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ـ": None})
_ARABIC_MARKS = re.compile("[\u064b-\u0652]")
_CHOICE_SEPARATORS = re.compile("[,;\n\u060c\u061b]")
_INTEGER = re.compile(r"-?\d{1,4}")


def _normal(text: str) -> str:
    """``text`` folded for matching what people type: case, width, spacing, Arabic spelling."""
    folded = _ARABIC_MARKS.sub("", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.translate(_ARABIC_FOLDS).split()).strip(".!?؟")


_YES = frozenset(map(_normal, ["yes", "ja", "true", "1", "y", "j", "نعم", "أجل"]))
_NO = frozenset(map(_normal, ["no", "nej", "false", "0", "n", "لا", "كلا"]))


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
    key = _normal(typed)
    if key.isdecimal() and len(key) <= 3:
        number = int(key)
        return question.options[number - 1].code if 0 < number <= len(question.options) else None
    for option in question.options:
        if key == option.code or any(key == _normal(text) for text in option.text.values()):
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
    words = [word for word in raw if _normal(word)]
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
    key = _normal(raw).replace("\u2212", "-")
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
    key = _normal(raw)
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
        return ("، " if language == "ar" else ", ").join(option_texts)
    if question.kind == YESNO and isinstance(value, bool):
        return yes_no_labels(language)[0 if value else 1]
    if question.kind == SCALE and value in (question.min, question.max) and _is_int(value):
        end = question.min_label if value == question.min else question.max_label
        return f"{value} ({_text_in(end, language)})"
    return str(value)


def _option_label(question: Question, code: str, language: str) -> str:
    """The option's text, or the code itself when the option no longer exists."""
    option = question.option(code)
    return option.text_in(language) if option else code


# --- Navigation: everything derived from the stored answers ----------------------------------


def _is_answered(answered: Mapping[str, object], qid: str) -> bool:
    """Whether ``qid`` has a stored value (None does not count)."""
    return answered.get(qid) is not None


def _is_done(question: Question, answered: Mapping[str, object], skipped: Collection[str]) -> bool:
    """Answered, or skipped when skipping is allowed."""
    passed_over = question.id in skipped and can_skip(question)
    return passed_over or _is_answered(answered, question.id)


def next_question(
    survey: Survey, answered: Mapping[str, object], skipped: Collection[str] = ()
) -> Question | None:
    """The first question neither answered nor skipped; None when there is nothing left to ask.

    ``answered`` maps question id to stored value (None counts as unanswered); ``skipped`` holds
    ids the participant passed over. A required question is asked even when listed as skipped.
    """
    return next((q for q in survey.questions if not _is_done(q, answered, skipped)), None)


def previous_question(survey: Survey, qid: str) -> Question | None:
    """The question before ``qid`` (to go back to), or None for the first question."""
    position = survey.index(qid)
    return survey.questions[position - 1] if position > 0 else None


def can_skip(question: Question) -> bool:
    """Whether the participant may pass over ``question``: only optional questions."""
    return not question.required


def check_can_skip(question: Question) -> None:
    """Raise :class:`NotAllowed` with a message for the participant if ``question`` is required."""
    if not can_skip(question):
        message = N_("Den här frågan behöver ett svar. Du kan också sluta nu och fortsätta senare.")
        raise NotAllowed(message, field=question.id)


def is_complete(survey: Survey, answered: Mapping[str, object]) -> bool:
    """Whether every required question has an answer."""
    return all(_is_answered(answered, q.id) for q in survey.questions if q.required)


def progress(
    survey: Survey, answered: Mapping[str, object], skipped: Collection[str] = ()
) -> tuple[int, int]:
    """(questions answered or skipped, questions in the survey), e.g. for "3 of 6"."""
    done = sum(1 for q in survey.questions if _is_done(q, answered, skipped))
    return done, len(survey.questions)
