"""Specification of core.surveys: the survey model and navigation, through the public module."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from core.errors import NotAllowed, NotFound
from core.i18n import SURVEY_LANGUAGES
from core.surveys import (
    CLOSER_OPTIONS,
    GOOD_HEALTH,
    HEALTH_OPTIONS,
    Q_ACTIVITIES,
    Q_BETTER,
    Q_CLOSER,
    Q_HEALTH,
    Q_QUOTE,
    Q_USEFUL,
    AnswerValue,
    Question,
    can_skip,
    check_can_skip,
    is_complete,
    load_default_survey,
    load_survey,
    next_question,
    parse_answer,
    previous_question,
    progress,
    survey_from_dict,
)

DATA = Path(__file__).parent / "data"
DEFAULT = load_default_survey()
TEAM = load_survey(DATA / "survey_team_scale.yaml")
SCALE_QUESTION = TEAM.question("trivsel")
SHORT_TEXT = TEAM.question("berattelse")
CHOICE_QUESTIONS = [q for q in DEFAULT.questions if q.options]
ALL_REQUIRED = {
    "aktiviteter": ["annat"],
    "nytta": "Gruppen",
    "narmare_arbete": "ja_lite",
    "halsa": "bra",
}


def text_mappings(value: Any) -> list[dict[str, str]]:
    """Every mapping with a Swedish text anywhere in a definition."""
    if isinstance(value, list):
        return [m for item in value for m in text_mappings(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if "sv" in value else []
    return own + [m for item in value.values() for m in text_mappings(item)]


# --- The default survey ---------------------------------------------------------------------


def test_default_survey_has_the_questions_of_the_domain_in_order() -> None:
    kinds = [(q.id, q.kind, q.required) for q in DEFAULT.questions]

    assert (DEFAULT.code, DEFAULT.version) == ("default", "2026-2")
    assert kinds == [
        ("aktiviteter", "multiple", True),
        ("nytta", "text", True),
        ("narmare_arbete", "single", True),
        ("halsa", "single", True),
        ("battre", "text", False),
        ("citat", "yesno", False),
    ]


def test_default_survey_option_codes_are_the_stored_codes() -> None:
    codes = {q.id: tuple(o.code for o in q.options) for q in CHOICE_QUESTIONS}

    assert codes == {
        Q_ACTIVITIES: (
            "gruppcoachning",
            "enskilda_samtal",
            "traning",
            "studiebesok",
            "arbetstraning",
            "social_samvaro",
            "myndighetsstod",
            "annat",
        ),
        Q_CLOSER: CLOSER_OPTIONS,
        Q_HEALTH: HEALTH_OPTIONS,
    }
    assert set(GOOD_HEALTH) <= set(HEALTH_OPTIONS)


def test_every_default_text_and_option_is_in_every_survey_language() -> None:
    mappings = text_mappings(DEFAULT.to_dict())

    assert len(mappings) == 3 + 6 + 4 + 8 + 5 + 5  # survey, questions, hints, options
    assert [m for m in mappings if set(m) != set(SURVEY_LANGUAGES)] == []
    assert DEFAULT.languages() == ("sv", "en", "ar", "so", "ti")


def test_somali_and_tigrinya_are_marked_as_awaiting_a_native_speakers_review() -> None:
    assert DEFAULT.review_needed == ("so", "ti")
    assert DEFAULT.to_dict()["review_needed"] == ["so", "ti"]


def test_somali_is_latin_and_tigrinya_geez_script() -> None:
    texts = [m for m in text_mappings(DEFAULT.to_dict())]

    assert all(m["so"].isascii() for m in texts)
    assert all(any("\u1200" <= c <= "\u137f" for c in m["ti"]) for m in texts)


def test_default_intro_says_answering_is_voluntary_and_quotes_need_permission() -> None:
    intro = DEFAULT.intro_in("sv")

    for promise in (
        "frivilligt",
        "sluta",
        "fortsätta senare",
        "ta bort",
        "utan ditt namn",
        "citerar",
    ):
        assert promise in intro


def test_texts_fall_back_to_swedish_when_a_language_is_missing() -> None:
    assert TEAM.question("halsa").text_in("ar") == "Hur mår du i allmänhet?"
    assert SCALE_QUESTION.text_in("en") == "How do you like it here?"
    assert SHORT_TEXT.hint_in("en") == ""
    assert TEAM.languages() == ("sv",)


def test_content_hash_is_sha256_of_the_canonical_json() -> None:
    canonical = json.dumps(
        DEFAULT.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )

    assert DEFAULT.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_content_hash_changes_when_a_text_changes() -> None:
    reworded = DEFAULT.to_dict()
    reworded["questions"][DEFAULT.index(Q_HEALTH)]["text"].update(sv="Hur mår du?")

    assert survey_from_dict(reworded).content_hash != DEFAULT.content_hash


def test_question_and_index_find_questions_by_id() -> None:
    assert DEFAULT.question(Q_HEALTH).id == Q_HEALTH
    assert DEFAULT.index(Q_QUOTE) == 5
    with pytest.raises(NotFound) as raised:
        DEFAULT.question("finns_inte")
    assert raised.value.field == "finns_inte"


# --- Navigation -----------------------------------------------------------------------------


def ids(*questions: Question | None) -> list[str | None]:
    return [q.id if q else None for q in questions]


def test_a_new_participant_starts_at_the_first_question() -> None:
    assert ids(next_question(DEFAULT, {})) == [Q_ACTIVITIES]
    assert progress(DEFAULT, {}) == (0, 6)


def test_resuming_continues_at_the_first_unanswered_question() -> None:
    partial = {Q_ACTIVITIES: ["traning"], Q_USEFUL: "Gymmet", Q_HEALTH: "bra"}

    assert ids(next_question(DEFAULT, partial)) == [Q_CLOSER]
    assert progress(DEFAULT, partial) == (3, 6)


def test_an_answer_stored_as_none_counts_as_unanswered() -> None:
    assert ids(next_question(DEFAULT, {Q_ACTIVITIES: None})) == [Q_ACTIVITIES]


def test_skipped_optional_questions_are_passed_over_until_the_end() -> None:
    assert ids(next_question(DEFAULT, ALL_REQUIRED)) == [Q_BETTER]
    assert ids(next_question(DEFAULT, ALL_REQUIRED, skipped={Q_BETTER})) == [Q_QUOTE]
    assert next_question(DEFAULT, ALL_REQUIRED, skipped={Q_BETTER, Q_QUOTE}) is None
    assert progress(DEFAULT, ALL_REQUIRED, skipped={Q_BETTER}) == (5, 6)


def test_a_required_question_is_asked_even_if_marked_skipped() -> None:
    assert ids(next_question(DEFAULT, {}, skipped={Q_ACTIVITIES})) == [Q_ACTIVITIES]
    assert progress(DEFAULT, {}, skipped={Q_ACTIVITIES}) == (0, 6)


def test_only_optional_questions_can_be_skipped() -> None:
    assert [can_skip(q) for q in DEFAULT.questions] == [False, False, False, False, True, True]
    check_can_skip(DEFAULT.question(Q_QUOTE))
    with pytest.raises(NotAllowed, match="Den här frågan behöver ett svar") as raised:
        check_can_skip(DEFAULT.question(Q_HEALTH))
    assert raised.value.field == Q_HEALTH


def test_going_back_leads_to_the_question_before() -> None:
    assert ids(previous_question(DEFAULT, Q_HEALTH)) == [Q_CLOSER]
    assert previous_question(DEFAULT, Q_ACTIVITIES) is None
    with pytest.raises(NotFound):
        previous_question(DEFAULT, "finns_inte")


def test_answering_again_after_going_back_keeps_the_place() -> None:
    answered: dict[str, AnswerValue] = {
        Q_ACTIVITIES: ["traning"],
        Q_USEFUL: "Gymmet",
        Q_CLOSER: "ja_lite",
    }
    back = previous_question(DEFAULT, Q_HEALTH)
    assert back is not None
    answered[back.id] = parse_answer(back, "Ja, mycket")

    assert answered[Q_CLOSER] == "ja_mycket"
    assert ids(next_question(DEFAULT, answered)) == [Q_HEALTH]


def test_survey_is_complete_when_every_required_question_is_answered() -> None:
    assert is_complete(DEFAULT, ALL_REQUIRED)
    assert not is_complete(DEFAULT, {**ALL_REQUIRED, Q_HEALTH: None})
    assert not is_complete(DEFAULT, {Q_BETTER: "Mer fika", Q_QUOTE: True})
