"""Survey definition files: reading a YAML file, checking it, and the default survey.

A survey is a YAML file: built in under ``core/data/surveys/`` (``default.yaml`` is the default of
DOMAIN.md), or the förbund's own in the folder ``SAMVERKAN_SURVEYS_DIR`` (:func:`survey_file_names`);
:func:`load_survey` checks it and :meth:`Survey.to_dict` gives the canonical definition stored with
every response, so old answers keep the version they were given to. A team's own survey must also
keep what the reports count on (:func:`validate_team_survey`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

from core.data import SURVEYS
from core.errors import DomainError
from core.i18n import DEFAULT_LANGUAGE, N_
from core.survey_answers import match_key
from core.survey_model import (
    CLOSER_OPTIONS,
    DEFAULT_MAX_LENGTH,
    HEALTH_OPTIONS,
    KINDS,
    MULTIPLE,
    Q_BETTER,
    Q_CLOSER,
    Q_HEALTH,
    Q_QUOTE,
    Q_USEFUL,
    SCALE,
    SINGLE,
    TEXT,
    YESNO,
    Option,
    Question,
    Survey,
    Texts,
    is_whole_number,
    no_texts,
)


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


#: The default survey and the theme codebook (not a survey) among the built-in files.
DEFAULT_FILE, CODEBOOK_FILE = "default.yaml", "codebook.yaml"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_MAX_SCALE_STEPS = 10
_MAX_TEXT_LENGTH = 10_000
_SURVEY_KEYS = ("code", "version", "title", "intro", "thanks", "questions")
_OPTIONAL_SURVEY_KEYS = ("review_needed",)
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
    _check_keys(top, frozenset(_SURVEY_KEYS + _OPTIONAL_SURVEY_KEYS), place)
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
    survey = Survey(
        code=_name(top["code"], place, "code"),
        version=str(version),
        title=_texts(top["title"], place, "title"),
        intro=_texts(top["intro"], place, "intro"),
        thanks=_texts(top["thanks"], place, "thanks"),
        questions=_questions(top["questions"], place),
    )
    if "review_needed" not in top:
        return survey
    review = _review_needed(top["review_needed"], survey.text_languages(), place)
    return replace(survey, review_needed=review)


def _review_needed(value: object, languages: frozenset[str], place: _Place) -> tuple[str, ...]:
    """The languages awaiting a native speaker's review: each once, each used, not Swedish."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        place.fail(N_("review_needed ska vara en lista med språkkoder, till exempel [so, ti]"))
    for code in value:
        if code == DEFAULT_LANGUAGE:
            place.fail(N_("review_needed: svenskan är förlagan och kan inte vänta på granskning"))
        if code not in languages:
            place.fail(N_("review_needed: enkäten har ingen text på {language!r}"), language=code)
        if value.count(code) > 1:
            place.fail(N_("review_needed: {language} står mer än en gång"), language=code)
    return tuple(value)


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
    hint = _texts(data["hint"], here, "hint") if "hint" in data else no_texts()
    return Question(qid, kind, required, text, hint, **_kind_fields(kind, data, here))


def _kind_fields(kind: str, data: Mapping[str, Any], here: _Place) -> dict[str, Any]:
    """The fields that belong to ``kind``: options, scale ends or the text length."""
    if kind in (SINGLE, MULTIPLE):
        return {"options": _options(data.get("options"), here)}
    if kind == SCALE:
        low, high = data.get("min"), data.get("max")
        if not (
            is_whole_number(low) and is_whole_number(high) and 0 < high - low <= _MAX_SCALE_STEPS
        ):
            here.fail(
                N_("min och max ska vara heltal, max större än min och högst {steps} steg ifrån"),
                steps=_MAX_SCALE_STEPS,
            )
        labels = {key: _texts(data.get(key), here, key) for key in ("min_label", "max_label")}
        return {"min": low, "max": high, **labels}
    if kind == TEXT:
        length = data.get("max_length", DEFAULT_MAX_LENGTH)
        if not (is_whole_number(length) and 0 < length <= _MAX_TEXT_LENGTH):
            here.fail(
                N_("max_length ska vara ett heltal från 1 till {limit}"), limit=_MAX_TEXT_LENGTH
            )
        return {"max_length": length}
    return {}


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
            other = seen.setdefault((language, match_key(text)), option.code)
            if other != option.code:
                here.fail(
                    N_("svarsalternativen {first} och {second} har samma text ({language})"),
                    first=other,
                    second=option.code,
                    language=language,
                )


@cache
def default_survey_path() -> Path:
    """Where the default survey lives: ``default.yaml`` among the built-in surveys."""
    return SURVEYS / DEFAULT_FILE


def survey_file_names(team_folder: Path | None) -> list[str]:
    """The survey files a team can choose: the built-in ones and the YAML files in ``team_folder``.

    ``team_folder`` is the förbund's own folder (``SAMVERKAN_SURVEYS_DIR``); None or a folder
    that does not exist offers the built-in surveys only.
    """
    folders = [SURVEYS] if team_folder is None else [SURVEYS, team_folder]
    names = {p.name for folder in folders for p in folder.glob("*.yaml")}
    return sorted(names - {CODEBOOK_FILE})


def survey_file_path(name: str, team_folder: Path | None) -> Path:
    """Where the survey file ``name`` is: in ``team_folder`` when it is there, else built in.

    A file in the team folder wins over a built-in one of the same name. ``name`` is a bare file
    name from :func:`survey_file_names`, never a path.
    """
    if team_folder is not None and (team_folder / name).is_file():
        return team_folder / name
    return SURVEYS / name


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
