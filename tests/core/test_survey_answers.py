"""Specification of core.survey_answers: parsing what participants answer, and showing it."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.survey_answers import AnswerError, answer_label, parse_answer, yes_no_labels
from core.survey_files import load_default_survey, load_survey
from core.survey_model import (
    Q_ACTIVITIES,
    Q_BETTER,
    Q_CLOSER,
    Q_HEALTH,
    Q_QUOTE,
    Q_USEFUL,
    Question,
)

DATA = Path(__file__).parent / "data"
DEFAULT = load_default_survey()
TEAM = load_survey(DATA / "survey_team_scale.yaml")
SCALE_QUESTION = TEAM.question("trivsel")
SHORT_TEXT = TEAM.question("berattelse")
ALL_QUESTIONS = [*DEFAULT.questions, SCALE_QUESTION, SHORT_TEXT]
CHOICE_QUESTIONS = [q for q in DEFAULT.questions if q.options]


# --- Answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qid", "raw", "expected"),
    [
        (Q_HEALTH, "bra", "bra"),
        (Q_HEALTH, "2", "bra"),
        (Q_HEALTH, " Mycket  BRA. ", "mycket_bra"),
        (Q_HEALTH, "Very poor", "mycket_daligt"),
        (Q_HEALTH, "جيده جدا", "mycket_bra"),  # typed without hamza, taa marbuta or tanween
        (Q_HEALTH, "٣", "nagorlunda"),  # Arabic-Indic digit
        (Q_HEALTH, ["daligt"], "daligt"),
        (Q_CLOSER, "Yes, a lot", "ja_mycket"),
        (Q_ACTIVITIES, "3, 1", ["gruppcoachning", "traning"]),
        (Q_ACTIVITIES, "1 3", ["gruppcoachning", "traning"]),
        (Q_ACTIVITIES, "Träning/gym", ["traning"]),
        (Q_ACTIVITIES, ["annat", "traning", "annat"], ["traning", "annat"]),
        (Q_ACTIVITIES, "شيء آخر، ١", ["gruppcoachning", "annat"]),
        (Q_USEFUL, "  Gruppen gav mig pepp.\r\n ", "Gruppen gav mig pepp."),
        (Q_QUOTE, "Ja", True),
        (Q_QUOTE, "no", False),
        (Q_QUOTE, "نعم", True),
        (Q_QUOTE, "0", False),
    ],
)
def test_answer_is_parsed_into_the_value_to_store(qid: str, raw: Any, expected: object) -> None:
    assert parse_answer(DEFAULT.question(qid), raw) == expected


def test_scale_answer_is_a_whole_number_within_the_scale() -> None:
    assert parse_answer(SCALE_QUESTION, " 4 ") == 4
    for outside in ("0", "6", "3.5", "fyra", ""):
        with pytest.raises(AnswerError) as raised:
            parse_answer(SCALE_QUESTION, outside)
        assert raised.value.render() == "Svara med en siffra från 1 till 5."


@pytest.mark.parametrize(
    ("question", "raw", "message"),
    [
        (
            DEFAULT.question(Q_HEALTH),
            "6",
            "Välj ett av alternativen. Du kan också skriva numret, från 1 till 5.",
        ),
        (DEFAULT.question(Q_HEALTH), ["bra", "daligt"], "Välj ett av alternativen."),
        (DEFAULT.question(Q_ACTIVITIES), [], "Välj minst ett alternativ."),
        (DEFAULT.question(Q_ACTIVITIES), " , ", "Välj minst ett alternativ."),
        (
            DEFAULT.question(Q_ACTIVITIES),
            "1, 9",
            "Välj ett eller flera av alternativen. Du kan också skriva deras nummer, från 1 till 8, med komma emellan.",
        ),
        (DEFAULT.question(Q_USEFUL), " \n\u200f ", "Skriv ditt svar med några ord."),
        (DEFAULT.question(Q_BETTER), "", "Skriv ditt svar med några ord, eller hoppa över frågan."),
        (SHORT_TEXT, "x" * 21, "Svaret är för långt (21 tecken). Korta det till högst 20 tecken."),
        (DEFAULT.question(Q_QUOTE), "kanske", "Svara ja eller nej."),
    ],
)
def test_wrong_answer_tells_the_participant_what_to_do(
    question: Question, raw: Any, message: str
) -> None:
    with pytest.raises(AnswerError) as raised:
        parse_answer(question, raw)

    assert raised.value.render().startswith(message)
    assert raised.value.field == question.id


def test_text_answer_may_be_exactly_max_length() -> None:
    assert parse_answer(SHORT_TEXT, "x" * 20) == "x" * 20


def test_text_answer_loses_control_characters_the_database_cannot_store() -> None:
    assert parse_answer(DEFAULT.question(Q_USEFUL), "pepp\x00 och\tstöd\x1b") == "pepp och\tstöd"


@given(question=st.sampled_from(ALL_QUESTIONS), raw=st.text() | st.lists(st.text(), max_size=4))
def test_any_input_gives_a_value_or_an_answer_error(question: Question, raw: Any) -> None:
    try:
        value = parse_answer(question, raw)
    except AnswerError as error:
        assert error.field == question.id
        assert error.render()
    else:
        json.dumps(value)  # storable as JSON


@given(data=st.data())
def test_single_choice_by_code_number_or_text_in_any_language(data: st.DataObject) -> None:
    question = data.draw(st.sampled_from([q for q in CHOICE_QUESTIONS if q.kind == "single"]))
    number, option = data.draw(st.sampled_from(list(enumerate(question.options, start=1))))
    language = data.draw(st.sampled_from(["sv", "en", "ar"]))

    for typed in (
        option.code,
        str(number),
        option.text_in(language),
        option.text_in(language).upper(),
    ):
        assert parse_answer(question, typed) == option.code


@given(chosen=st.lists(st.sampled_from(DEFAULT.question(Q_ACTIVITIES).options), min_size=1))
def test_multiple_choice_gives_codes_in_option_order(chosen: list[Any]) -> None:
    question = DEFAULT.question(Q_ACTIVITIES)
    expected = [o.code for o in question.options if o in chosen]
    numbers = ", ".join(str(question.options.index(o) + 1) for o in chosen)

    assert parse_answer(question, [o.code for o in chosen]) == expected
    assert parse_answer(question, numbers) == expected


@given(value=st.integers(1, 5))
def test_scale_value_round_trips(value: int) -> None:
    assert parse_answer(SCALE_QUESTION, str(value)) == value


VISIBLE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20
).filter(lambda s: s.strip() and unicodedata.is_normalized("NFC", s) and s.strip().isprintable())


@given(text=VISIBLE_TEXT)
def test_text_value_round_trips_without_surrounding_space(text: str) -> None:
    value = parse_answer(SHORT_TEXT, text)

    assert value == text.strip()
    assert parse_answer(SHORT_TEXT, value) == value


@given(question=st.sampled_from([*CHOICE_QUESTIONS, DEFAULT.question(Q_QUOTE)]), data=st.data())
def test_shown_answer_reads_back_as_the_same_value(question: Question, data: st.DataObject) -> None:
    language = data.draw(st.sampled_from(["sv", "en", "ar"]))
    codes = [o.code for o in question.options]
    if question.kind == "yesno":
        value: Any = data.draw(st.booleans())
    elif question.kind == "single":
        value = data.draw(st.sampled_from(codes))
    else:
        value = data.draw(st.lists(st.sampled_from(codes), min_size=1, unique=True))
        value = [c for c in codes if c in value]

    assert parse_answer(question, answer_label(question, value, language)) == value


def test_answer_label_shows_stored_answers_in_the_participants_language() -> None:
    activities = DEFAULT.question(Q_ACTIVITIES)

    assert answer_label(activities, ["traning", "annat"], "en") == "Exercise or gym, Something else"
    assert (
        answer_label(activities, ["traning", "annat"], "ar") == "الرياضة أو النادي الرياضي، شيء آخر"
    )
    assert answer_label(DEFAULT.question(Q_HEALTH), "bra", "fi") == "Bra"  # no Finnish: Swedish
    assert answer_label(activities, ["traning", "annat"], "ti") == "ስፖርት ወይ ጂም፣ ካልእ ነገር"
    assert answer_label(DEFAULT.question(Q_QUOTE), True, "so") == "Haa"
    assert answer_label(DEFAULT.question(Q_HEALTH), "borttagen", "sv") == "borttagen"
    assert answer_label(DEFAULT.question(Q_QUOTE), False, "ar") == "لا"
    assert answer_label(SCALE_QUESTION, 1, "en") == "1 (Not at all)"
    assert answer_label(SCALE_QUESTION, 3, "en") == "3"
    assert answer_label(DEFAULT.question(Q_BETTER), None, "sv") == ""
    assert yes_no_labels("en") == ("Yes", "No")
