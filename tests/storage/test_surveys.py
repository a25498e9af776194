"""Answering a survey: versions, the team's survey, answers as upserts, redaction, themes."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core import surveys as core
from core.errors import NotAllowed
from storage import invitations, surveys
from storage.db import Database
from storage.models import (
    AnswerTheme,
    Response,
    SurveyVersion,
)
from storage.surveys import SurveyState
from tests.common.surveys import answer, answer_rows, started, state_for, statements_run
from tests.common.teams import make_team


@pytest.fixture
async def token(db: Database) -> str:
    await make_team(db)
    return await started(db)


async def test_a_started_response_records_the_survey_version_it_answers(
    db: Database, token: str
) -> None:
    async with db.sessions() as session:
        response = await session.scalar(select(Response))
        version = await session.get(SurveyVersion, response.survey_version_id)

    expected = core.load_default_survey()
    assert (version.code, version.version, version.content_hash) == (
        "default",
        expected.version,
        expected.content_hash,
    )
    assert core.survey_from_dict(version.definition) == expected
    assert (response.language, response.channel) == ("sv", "web")


async def test_the_same_definition_is_stored_once(db: Database, token: str) -> None:
    await started(db, "N-002")

    async with db.transaction() as session:
        again = await surveys.register_survey_version(session, core.load_default_survey())
        count = len((await session.scalars(select(SurveyVersion))).all())

    assert count == 1 and again.code == "default"


async def test_the_first_question_is_asked_first(db: Database, token: str) -> None:
    state = await state_for(db, token)

    assert state.current().id == core.Q_ACTIVITIES
    assert state.progress() == (1, 6)


async def test_answering_a_question_twice_keeps_one_row_with_the_last_answer(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_CLOSER, "ja_lite")
    await answer(db, token, core.Q_CLOSER, "ja_mycket")

    assert await answer_rows(db) == [(core.Q_CLOSER, "ja_mycket", None, False, False)]


async def test_concurrent_duplicate_answers_are_stored_once(db: Database, token: str) -> None:
    await asyncio.gather(*(answer(db, token, core.Q_HEALTH, "bra") for _ in range(8)))

    assert await answer_rows(db) == [(core.Q_HEALTH, "bra", None, False, False)]


async def test_free_text_is_stored_encrypted_and_coded_into_themes(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_USEFUL, "Gruppen och träningen på gymmet gav mig energi")

    async with db.sessions() as session:
        stored = (await session.execute(text("SELECT text FROM answers"))).scalar_one()
        themes = set((await session.scalars(select(AnswerTheme.theme))).all())
        sources = set((await session.scalars(select(AnswerTheme.source))).all())
    assert "Gruppen" not in stored and stored.startswith("enc1:")
    assert await answer_rows(db) == [
        (core.Q_USEFUL, None, "Gruppen och träningen på gymmet gav mig energi", False, False)
    ]
    assert {"grupp", "motion"} <= themes and sources == {"auto"}


async def test_personal_details_are_removed_from_free_text_before_it_is_stored(
    db: Database, token: str
) -> None:
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        question = state.survey.question(core.Q_BETTER)
        redaction = await surveys.record_answer(
            session, state, question, "Ring mig på 070-123 45 67 eller mejla a.b@example.se"
        )

    assert redaction is not None and redaction.removed == {"phone", "email"}
    [(qid, value, stored, redacted, skipped)] = await answer_rows(db)
    assert (qid, redacted) == (core.Q_BETTER, True)
    assert "070" not in stored and "example.se" not in stored and stored == redaction.text


async def test_changing_a_free_text_answer_replaces_its_automatic_themes(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_USEFUL, "Träningen på gymmet")
    await answer(db, token, core.Q_USEFUL, "Att jag fick praktik")

    async with db.sessions() as session:
        themes = (await session.scalars(select(AnswerTheme.theme))).all()
    assert themes == ["arbete"]


async def test_an_optional_question_can_be_skipped_and_its_answer_goes(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_BETTER, "Mer gym")
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        await surveys.skip_question(session, state, state.survey.question(core.Q_BETTER))

    assert await answer_rows(db) == [(core.Q_BETTER, None, None, False, True)]
    assert core.Q_BETTER in (await state_for(db, token)).skipped


async def test_a_required_question_cannot_be_skipped(db: Database, token: str) -> None:
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        with pytest.raises(NotAllowed):
            await surveys.skip_question(session, state, state.survey.question(core.Q_HEALTH))


async def test_ticking_and_unticking_choices_keeps_them_in_option_order(
    db: Database, token: str
) -> None:
    ticked = []
    for code in ("traning", "gruppcoachning", "traning", "annat"):
        async with db.transaction() as session:
            state = await invitations.load_token_state(session, token)
            question = state.survey.question(core.Q_ACTIVITIES)
            ticked.append(await surveys.toggle_choice(session, state, question, code))

    assert ticked == [
        ["traning"],
        ["gruppcoachning", "traning"],
        ["gruppcoachning"],
        ["gruppcoachning", "annat"],
    ]
    assert await answer_rows(db) == [
        (core.Q_ACTIVITIES, ["gruppcoachning", "annat"], None, False, False)
    ]


async def test_unticking_the_last_choice_leaves_the_question_unanswered(
    db: Database, token: str
) -> None:
    for _ in range(2):
        async with db.transaction() as session:
            state = await invitations.load_token_state(session, token)
            question = state.survey.question(core.Q_ACTIVITIES)
            await surveys.toggle_choice(session, state, question, "traning")

    assert await answer_rows(db) == []


async def test_the_cursor_brings_back_an_earlier_question_until_moved_on(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_ACTIVITIES, ["traning"])
    await answer(db, token, core.Q_USEFUL, "Gymmet")
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        await surveys.move_cursor(session, state, core.Q_ACTIVITIES)

    assert (await state_for(db, token)).current().id == core.Q_ACTIVITIES
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        await surveys.move_cursor(session, state, None)
    assert (await state_for(db, token)).current().id == core.Q_CLOSER


async def complete_all(db: Database, token: str, quote: str | None) -> SurveyState:
    for qid, raw in [
        (core.Q_ACTIVITIES, ["traning"]),
        (core.Q_USEFUL, "Gymmet"),
        (core.Q_CLOSER, "ja_lite"),
        (core.Q_HEALTH, "bra"),
    ]:
        await answer(db, token, qid, raw)
    if quote is not None:
        await answer(db, token, core.Q_QUOTE, quote)
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        await surveys.complete_response(session, state)
    return state


@pytest.mark.parametrize(("quote", "allowed"), [("ja", True), ("nej", False), (None, None)])
async def test_completing_takes_the_permission_to_quote_from_the_citat_answer(
    db: Database, token: str, quote: str | None, allowed: bool | None
) -> None:
    await complete_all(db, token, quote)

    async with db.sessions() as session:
        response = await session.scalar(select(Response))
    assert response.completed_at is not None and response.quote_allowed is allowed
    assert (await state_for(db, token)).current() is None


async def test_a_response_with_required_questions_left_cannot_be_completed(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_ACTIVITIES, ["traning"])
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        with pytest.raises(NotAllowed):
            await surveys.complete_response(session, state)


async def test_a_completed_response_takes_no_more_answers(db: Database, token: str) -> None:
    await complete_all(db, token, "ja")

    with pytest.raises(NotAllowed):
        await answer(db, token, core.Q_HEALTH, "daligt")


# --- The team's own survey file ---------------------------------------------------------------


@pytest.fixture
def survey_dir(tmp_path: Path) -> Path:
    """The förbund's own survey folder: a team's reworded default survey and a broken one."""
    default = core.default_survey_path().read_text(encoding="utf-8")
    reworded = default.replace('version: "2026-2"', 'version: "norr-1"')
    reworded = reworded.replace("Hur bedömer du ditt allmänna", "Hur mår du, i ditt allmänna")
    (tmp_path / "norr.yaml").write_text(reworded, encoding="utf-8")
    broken = default.replace("code: mycket_daligt", "code: uselt")
    (tmp_path / "trasig.yaml").write_text(broken, encoding="utf-8")
    return tmp_path


# --- What answering costs the database ---------------------------------------------------------


async def test_a_started_state_is_read_with_its_answers_in_one_query(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_ACTIVITIES, "3")
    await answer(db, token, core.Q_USEFUL, "Gymmet")

    with statements_run(db) as seen:
        state = await state_for(db, token)

    assert seen == ["SELECT invitations", "SELECT responses"]
    assert state.answers == {core.Q_ACTIVITIES: ["traning"], core.Q_USEFUL: "Gymmet"}
    assert state.survey == core.load_default_survey()


async def test_the_survey_read_is_that_of_the_stored_version_even_when_an_id_is_reused(
    db: Database, token: str, survey_dir: Path
) -> None:
    await state_for(db, token)  # the default survey is now known in this process
    other = core.load_team_survey(survey_dir / "norr.yaml")
    async with db.transaction() as session:  # as after emptying the database and starting again
        version = await session.scalar(select(SurveyVersion))
        version.content_hash, version.definition = other.content_hash, other.to_dict()

    state = await state_for(db, token)

    assert state.survey == other and state.survey != core.load_default_survey()


async def test_a_choice_answer_is_stored_with_two_statements_the_answer_and_the_response_time(
    db: Database, token: str
) -> None:
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        question = state.survey.question(core.Q_CLOSER)
        with statements_run(db) as seen:
            await surveys.record_answer(session, state, question, "ja_lite")

    assert seen == ["INSERT answers", "UPDATE responses"]


async def test_a_first_free_text_answer_is_stored_with_its_themes_in_three_statements(
    db: Database, token: str
) -> None:
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        question = state.survey.question(core.Q_USEFUL)
        with statements_run(db) as seen:
            await surveys.record_answer(session, state, question, "Samtalen och gymmet")

    assert seen == ["INSERT answers", "INSERT answer_themes", "UPDATE responses"]
    async with db.sessions() as session:
        assert set((await session.scalars(select(AnswerTheme.theme))).all()) == {"samtal", "motion"}


async def test_skipping_a_free_text_answer_removes_its_automatic_themes(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_BETTER, "Mer gym")
    async with db.sessions() as session:
        assert (await session.scalars(select(AnswerTheme.theme))).all() == ["motion"]
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        await surveys.skip_question(session, state, state.survey.question(core.Q_BETTER))

    async with db.sessions() as session:
        assert (await session.scalars(select(AnswerTheme))).all() == []


async def test_a_choice_answer_leaves_the_themes_of_free_text_answers(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_USEFUL, "Samtalen och gymmet")
    await answer(db, token, core.Q_CLOSER, "ja_lite")

    async with db.sessions() as session:
        assert set((await session.scalars(select(AnswerTheme.theme))).all()) == {"samtal", "motion"}
