"""Specification of core.surveys: survey files, answer checks and navigation."""

from __future__ import annotations

import copy
import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import NotAllowed, NotFound
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
    AnswerError,
    AnswerValue,
    Question,
    SurveyFileError,
    answer_label,
    can_skip,
    check_can_skip,
    default_survey_path,
    is_complete,
    load_default_survey,
    load_survey,
    load_team_survey,
    next_question,
    parse_answer,
    previous_question,
    progress,
    survey_from_dict,
    validate_team_survey,
    yes_no_labels,
)

DATA = Path(__file__).parent / "data"
DEFAULT = load_default_survey()
TEAM = load_survey(DATA / "survey_team_scale.yaml")
SCALE_QUESTION = TEAM.question("trivsel")
SHORT_TEXT = TEAM.question("berattelse")
ALL_QUESTIONS = [*DEFAULT.questions, SCALE_QUESTION, SHORT_TEXT]
CHOICE_QUESTIONS = [q for q in DEFAULT.questions if q.options]
ALL_REQUIRED = {
    "aktiviteter": ["annat"],
    "nytta": "Gruppen",
    "narmare_arbete": "ja_lite",
    "halsa": "bra",
}


def with_change(change: Any) -> dict[str, Any]:
    """The default definition as a dict, after ``change`` has edited it in place."""
    data = copy.deepcopy(DEFAULT.to_dict())
    change(data)
    return data


def question_data(data: dict[str, Any], qid: str) -> dict[str, Any]:
    return next(q for q in data["questions"] if q["id"] == qid)


def turn_into_yes_no(question: dict[str, Any]) -> None:
    question.update(kind="yesno", required=False)
    del question["max_length"]


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

    assert (DEFAULT.code, DEFAULT.version) == ("default", "2026-1")
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


def test_every_default_text_and_option_is_in_swedish_english_and_arabic() -> None:
    mappings = text_mappings(DEFAULT.to_dict())

    assert len(mappings) == 3 + 6 + 4 + 8 + 5 + 5  # survey, questions, hints, options
    assert [m for m in mappings if set(m) != {"sv", "en", "ar"}] == []
    assert DEFAULT.languages() == ("sv", "en", "ar")


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


def test_default_survey_is_read_once() -> None:
    assert load_default_survey() is DEFAULT


def test_definition_survives_a_round_trip_through_json() -> None:
    stored = json.loads(json.dumps(TEAM.to_dict()))

    assert survey_from_dict(stored) == TEAM
    assert survey_from_dict(stored).content_hash == TEAM.content_hash


def test_content_hash_is_sha256_of_the_canonical_json() -> None:
    canonical = json.dumps(
        DEFAULT.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )

    assert DEFAULT.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_content_hash_changes_when_a_text_changes() -> None:
    reworded = with_change(lambda d: question_data(d, "halsa")["text"].update(sv="Hur mår du?"))

    assert survey_from_dict(reworded).content_hash != DEFAULT.content_hash


def test_question_and_index_find_questions_by_id() -> None:
    assert DEFAULT.question(Q_HEALTH).id == Q_HEALTH
    assert DEFAULT.index(Q_QUOTE) == 5
    with pytest.raises(NotFound) as raised:
        DEFAULT.question("finns_inte")
    assert raised.value.field == "finns_inte"


# --- Broken survey files --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "question_id", "reason"),
    [
        ("survey_bad_yaml", None, "ogiltig YAML på rad 11: "),
        ("survey_duplicate_key", None, "ogiltig YAML på rad 12: nyckeln 'sv' finns två gånger"),
        (
            "survey_unknown_kind",
            "trivsel",
            "okänd typ 'slider'; välj en av single, multiple, scale, text, yesno",
        ),
        ("survey_duplicate_id", "halsa", "id används av mer än en fråga"),
        ("survey_duplicate_option", "halsa", "svarsalternativet bra finns mer än en gång"),
        ("survey_missing_swedish", "halsa", "options.daligt.text saknar svensk text (sv)"),
        ("survey_options_on_text", "nytta", "options passar inte för en fråga av typen text"),
        ("survey_required_yesno", "citat", "en ja/nej-fråga kan inte vara obligatorisk"),
        ("survey_unknown_key", "nytta", "okänd nyckel 'requried'"),
        ("survey_does_not_exist", None, "filen finns inte"),
    ],
)
def test_broken_survey_file_is_refused_naming_file_question_and_reason(
    name: str, question_id: str | None, reason: str
) -> None:
    path = DATA / f"{name}.yaml"

    with pytest.raises(SurveyFileError) as raised:
        load_survey(path)

    where = f'{path}: fråga "{question_id}": ' if question_id else f"{path}: "
    assert (raised.value.path, raised.value.question_id) == (path, question_id)
    assert str(raised.value).startswith(where + reason)
    assert raised.value.field == question_id


def test_survey_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("code: hälsa\n".encode("latin-1"))

    with pytest.raises(SurveyFileError, match="inte sparad som UTF-8"):
        load_survey(path)


def test_survey_file_with_a_forbidden_character_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.yaml"
    path.write_text("code: prov\nversion: '1'\ntitle: {sv: \x00}\n", encoding="utf-8")

    with pytest.raises(SurveyFileError) as raised:
        load_survey(path)

    assert str(raised.value) == f"{path}: ogiltig YAML på rad 3: otillåtet tecken"


@pytest.mark.parametrize(
    ("change", "question_id", "reason"),
    [
        (lambda d: d.pop("thanks"), None, "enkäten saknar thanks"),
        (lambda d: d.update(version=True), None, "version ska vara en kort text"),
        (lambda d: d.update(code="Min Enkät"), None, "code ska vara 1–32 tecken"),
        (lambda d: d.update(questions=[]), None, "questions ska vara en lista med minst en fråga"),
        (lambda d: d["title"].update(svenska="Hej"), None, "title: okänd språkkod 'svenska'"),
        (lambda d: d["intro"].update(en="  "), None, "intro.en ska vara en text som inte är tom"),
        (lambda d: d["questions"][0].pop("id"), None, "fråga nr 1 saknar ett giltigt id"),
        (lambda d: question_data(d, "halsa").pop("kind"), "halsa", "okänd typ None"),
        (
            lambda d: question_data(d, "halsa").update(required="ja"),
            "halsa",
            "required ska vara true eller false",
        ),
        (
            lambda d: question_data(d, "halsa").update(options=[]),
            "halsa",
            "options ska vara en lista med minst två",
        ),
        (
            lambda d: question_data(d, "halsa")["options"][0].update(code="1"),
            "halsa",
            "code i svarsalternativ nr 1 ska vara",
        ),
        (
            lambda d: question_data(d, "halsa")["options"][1]["text"].update(en="very GOOD"),
            "halsa",
            "svarsalternativen mycket_bra och bra har samma text (en)",
        ),
        (
            lambda d: question_data(d, "nytta").update(max_length=0),
            "nytta",
            "max_length ska vara ett heltal från 1 till 10000",
        ),
        (
            lambda d: question_data(d, "nytta").update(min=1),
            "nytta",
            "min passar inte för en fråga av typen text",
        ),
        (
            lambda d: question_data(d, "citat").update(options=[]),
            "citat",
            "options passar inte för en fråga av typen yesno",
        ),
    ],
)
def test_broken_definition_is_refused_with_its_reason(
    change: Any, question_id: str | None, reason: str
) -> None:
    with pytest.raises(SurveyFileError) as raised:
        survey_from_dict(with_change(change), path="team.yaml")

    assert raised.value.question_id == question_id
    assert reason in str(raised.value)
    assert str(raised.value).startswith("team.yaml: ")


def definition_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path to every value inside a definition (dict keys and list indexes)."""
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    return [path] + [p for key, child in children for p in definition_paths(child, (*path, key))]


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(where=st.sampled_from(definition_paths(DEFAULT.to_dict())[1:]), junk=JUNK)
def test_any_edited_definition_gives_a_survey_or_a_survey_file_error(
    where: tuple[Any, ...], junk: object
) -> None:
    data = DEFAULT.to_dict()
    parent = data
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = junk

    try:
        survey_from_dict(data, path="team.yaml")
    except SurveyFileError as error:
        assert str(error).startswith("team.yaml: ")


YAML_PIECES = st.sampled_from([*":-[]{}?!&*|>'\"#\n\t %@`,", "!!python/object:os.system", "\x00"])


@given(cut=st.integers(0, 9000), inserted=st.lists(YAML_PIECES, max_size=6).map("".join))
def test_any_edited_yaml_file_gives_a_survey_or_a_survey_file_error(
    tmp_path_factory: pytest.TempPathFactory, cut: int, inserted: str
) -> None:
    source = default_survey_path().read_text(encoding="utf-8")
    path = tmp_path_factory.mktemp("edited") / "survey.yaml"
    path.write_text(source[:cut] + inserted + source[cut + 1 :], encoding="utf-8")

    try:
        load_survey(path)
    except SurveyFileError as error:
        assert error.path == path


@pytest.mark.parametrize(("low", "high"), [(5, 1), (3, 3), (0, 11), (1.0, 5), (None, 5)])
def test_scale_needs_whole_numbers_in_increasing_order_and_at_most_ten_steps(
    low: object, high: object
) -> None:
    data = TEAM.to_dict()
    data["questions"][0].update(min=low, max=high)

    with pytest.raises(SurveyFileError, match="min och max ska vara heltal") as raised:
        survey_from_dict(data, path="team.yaml")
    assert raised.value.question_id == "trivsel"


# --- Team surveys ---------------------------------------------------------------------------


def test_team_survey_may_reword_reorder_and_add_questions() -> None:
    assert load_team_survey(DATA / "survey_team_scale.yaml") == TEAM
    validate_team_survey(DEFAULT)


def test_team_survey_with_other_health_codes_is_refused() -> None:
    path = DATA / "survey_team_changed_codes.yaml"
    load_survey(path)  # a valid file as such

    with pytest.raises(SurveyFileError) as raised:
        load_team_survey(path)

    assert raised.value.question_id == Q_HEALTH
    assert "ska ha koderna mycket_bra, bra, nagorlunda, daligt, mycket_daligt" in str(raised.value)


@pytest.mark.parametrize(
    ("change", "question_id", "reason"),
    [
        (lambda d: d["questions"].pop(5), Q_QUOTE, "frågan saknas, men rapporterna räknar på den"),
        (
            lambda d: question_data(d, Q_CLOSER).update(kind="multiple"),
            Q_CLOSER,
            "ska vara av typen single",
        ),
        (
            lambda d: question_data(d, Q_CLOSER)["options"].pop(),
            Q_CLOSER,
            "svarsalternativen ska ha koderna ja_mycket",
        ),
        (
            lambda d: turn_into_yes_no(question_data(d, Q_BETTER)),
            Q_BETTER,
            "ska vara av typen text",
        ),
    ],
)
def test_team_survey_must_keep_what_the_reports_count_on(
    change: Any, question_id: str, reason: str
) -> None:
    with pytest.raises(SurveyFileError) as raised:
        validate_team_survey(survey_from_dict(with_change(change)), path="team.yaml")

    assert raised.value.question_id == question_id
    assert str(raised.value).startswith(f'team.yaml: fråga "{question_id}": {reason}')


def test_team_survey_may_leave_out_the_optional_free_text_questions() -> None:
    without_free_text = with_change(
        lambda d: d.update(
            questions=[q for q in d["questions"] if q["id"] not in (Q_USEFUL, Q_BETTER)]
        )
    )

    validate_team_survey(survey_from_dict(without_free_text))


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
    assert answer_label(DEFAULT.question(Q_HEALTH), "bra", "so") == "Bra"
    assert answer_label(DEFAULT.question(Q_HEALTH), "borttagen", "sv") == "borttagen"
    assert answer_label(DEFAULT.question(Q_QUOTE), False, "ar") == "لا"
    assert answer_label(SCALE_QUESTION, 1, "en") == "1 (Not at all)"
    assert answer_label(SCALE_QUESTION, 3, "en") == "3"
    assert answer_label(DEFAULT.question(Q_BETTER), None, "sv") == ""
    assert yes_no_labels("en") == ("Yes", "No")


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
