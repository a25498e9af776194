"""Specification of core.survey_files: reading, checking and the default survey file."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.survey_files import (
    SurveyFileError,
    default_survey_path,
    load_default_survey,
    load_survey,
    load_team_survey,
    survey_file_names,
    survey_file_path,
    survey_from_dict,
    validate_team_survey,
)
from core.survey_model import Q_BETTER, Q_CLOSER, Q_HEALTH, Q_QUOTE, Q_USEFUL

DATA = Path(__file__).parent / "data"
DEFAULT = load_default_survey()
TEAM = load_survey(DATA / "survey_team_scale.yaml")


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


# --- The default survey and the canonical definition -------------------------------------


def test_default_survey_is_read_once() -> None:
    assert load_default_survey() is DEFAULT


def test_definition_survives_a_round_trip_through_json() -> None:
    stored = json.loads(json.dumps(TEAM.to_dict()))

    assert survey_from_dict(stored) == TEAM
    assert survey_from_dict(stored).content_hash == TEAM.content_hash


def test_review_marker_is_read_and_kept_in_the_stored_definition() -> None:
    stored = json.loads(json.dumps(DEFAULT.to_dict()))

    assert DEFAULT.review_needed == ("so", "ti")
    assert survey_from_dict(stored).review_needed == ("so", "ti")


def test_a_survey_without_the_review_marker_awaits_no_review_and_stores_none() -> None:
    assert TEAM.review_needed == ()
    assert "review_needed" not in TEAM.to_dict()
    assert survey_from_dict(with_change(lambda d: d.update(review_needed=[]))).review_needed == ()


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
        (lambda d: d.update(review_needed="so"), None, "review_needed ska vara en lista"),
        (lambda d: d.update(review_needed=["so", 1]), None, "review_needed ska vara en lista"),
        (lambda d: d.update(review_needed=["sv"]), None, "svenskan är förlagan"),
        (lambda d: d.update(review_needed=["fi"]), None, "enkäten har ingen text på 'fi'"),
        (lambda d: d.update(review_needed=["ti", "ti"]), None, "ti står mer än en gång"),
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


# --- The survey files a team can choose ------------------------------------------------------


def test_the_built_in_surveys_are_offered_without_a_team_folder_and_the_codebook_is_not(
    tmp_path: Path,
) -> None:
    assert survey_file_names(None) == ["default.yaml"]
    assert survey_file_names(tmp_path / "not-there") == ["default.yaml"]
    assert survey_file_path("default.yaml", None) == default_survey_path()


def test_the_team_folders_files_are_offered_along_with_the_built_in_ones(tmp_path: Path) -> None:
    (tmp_path / "norr.yaml").write_text("code: norr", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a survey", encoding="utf-8")

    assert survey_file_names(tmp_path) == ["default.yaml", "norr.yaml"]
    assert survey_file_path("norr.yaml", tmp_path) == tmp_path / "norr.yaml"


def test_a_team_file_named_like_a_built_in_survey_wins(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text("code: own", encoding="utf-8")

    assert survey_file_names(tmp_path) == ["default.yaml"]
    assert survey_file_path("default.yaml", tmp_path) == tmp_path / "default.yaml"
