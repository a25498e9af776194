"""Answering the survey through its operations: each action one transaction, decided by the flow."""

import pytest
from sqlalchemy import select

from core import survey_flow as flow
from core import surveys as core
from core.survey_answers import AnswerError
from services import surveys as services
from storage.db import Database
from storage.models import Answer, AnswerTheme, AuditEntry, Invitation, Participant, Response
from tests.common.surveys import answer, answer_rows, started
from tests.common.teams import make_team

PHONE_TEXT = "Min coach var bra. Ring 070-123 45 67"


@pytest.fixture
async def token(db: Database) -> str:
    await make_team(db)
    return await started(db)


async def current_id(db: Database, token: str) -> str | None:
    view = await services.show_survey(db, token)
    assert view.screen is not None
    return view.screen.question.id if view.screen.question else None


async def test_an_answer_is_stored_and_the_next_question_shown(db: Database, token: str) -> None:
    view = await services.toggle_choice(db, token, core.Q_ACTIVITIES, "gruppcoachning")
    assert view.screen is not None and view.screen.question.id == core.Q_ACTIVITIES

    view = await services.act_on_survey(db, token, flow.Action(flow.DONE, core.Q_ACTIVITIES))

    assert view.screen is not None and view.screen.question.id == core.Q_USEFUL
    assert await answer_rows(db) == [(core.Q_ACTIVITIES, ["gruppcoachning"], None, False, False)]


async def test_going_back_shows_the_question_before_with_its_answer(
    db: Database, token: str
) -> None:
    await services.answer_question(db, token, core.Q_ACTIVITIES, ["social_samvaro"])

    view = await services.go_back(db, token, core.Q_USEFUL)

    assert view.screen is not None
    assert (view.screen.question.id, view.screen.answer) == (core.Q_ACTIVITIES, ["social_samvaro"])
    assert view.screen.can_go_back is False


async def test_free_text_with_a_phone_number_is_stored_redacted_and_shown_again_to_confirm(
    db: Database, token: str
) -> None:
    await services.answer_question(db, token, core.Q_ACTIVITIES, ["social_samvaro"])

    view = await services.answer_question(db, token, core.Q_USEFUL, PHONE_TEXT)
    confirmed = await services.answer_question(
        db, token, core.Q_USEFUL, view.outcome.notice.text if view.outcome.notice else ""
    )

    assert view.outcome.notice is not None and view.outcome.notice.removed == {"phone"}
    assert view.screen.question.id == core.Q_USEFUL and view.screen.answer_redacted
    [_, useful] = await answer_rows(db)
    assert useful[2] == view.outcome.notice.text and "070" not in useful[2] and useful[3]
    assert confirmed.screen.question.id == core.Q_CLOSER


async def test_a_wrong_answer_is_refused_and_nothing_changes(db: Database, token: str) -> None:
    with pytest.raises(AnswerError):
        await services.answer_question(db, token, core.Q_ACTIVITIES, ["no_such_option"])

    assert await answer_rows(db) == [] and await current_id(db, token) == core.Q_ACTIVITIES


async def test_an_action_for_another_question_changes_nothing(db: Database, token: str) -> None:
    view = await services.answer_question(db, token, core.Q_HEALTH, ["bra"])

    assert view.outcome.stale and await answer_rows(db) == []


async def test_finishing_later_keeps_the_place(db: Database, token: str) -> None:
    await services.answer_question(db, token, core.Q_ACTIVITIES, ["social_samvaro"])

    view = await services.finish_later(db, token, core.Q_USEFUL)

    assert view.outcome.later and await current_id(db, token) == core.Q_USEFUL


async def test_skipping_an_optional_question_passes_over_it(db: Database, token: str) -> None:
    await services.answer_question(db, token, core.Q_ACTIVITIES, ["social_samvaro"])
    await services.answer_question(db, token, core.Q_USEFUL, "Bra")
    await services.answer_question(db, token, core.Q_CLOSER, ["ja_lite"])
    await services.answer_question(db, token, core.Q_HEALTH, ["bra"])

    view = await services.skip_question(db, token, core.Q_BETTER)

    assert view.screen.question.id == core.Q_QUOTE
    better = next(row for row in await answer_rows(db) if row[0] == core.Q_BETTER)
    assert better == (core.Q_BETTER, None, None, False, True)


async def test_deleting_removes_response_answers_and_themes_and_stops_reminders(
    db: Database, token: str
) -> None:
    await answer(db, token, core.Q_USEFUL, "Gruppen och gymmet")
    deleted = await services.delete_answers(db, token)

    async with db.sessions() as session:
        left = [
            len((await session.scalars(select(model))).all())
            for model in (Response, Answer, AnswerTheme)
        ]
        invitation = await session.scalar(select(Invitation))
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action.like("survey.%")))
    assert deleted and left == [0, 0, 0]
    assert invitation.reminders_stopped and invitation.language is None
    assert (audit.action, audit.actor, audit.object_id) == (
        "survey.answers_deleted",
        "participant",
        invitation.id,
    )


async def test_the_participants_own_name_is_removed_from_free_text(
    db: Database, token: str
) -> None:
    async with db.transaction() as session:
        invitation = await session.scalar(select(Invitation))
        assert invitation is not None
        person = await session.get_one(Participant, invitation.participant_id)
        person.name = "Katarina Blom"
    await services.answer_question(db, token, core.Q_ACTIVITIES, ["social_samvaro"])

    view = await services.answer_question(
        db, token, core.Q_USEFUL, "Att Katarina fick prata i gruppen, sa coachen till blom"
    )

    [_, useful] = await answer_rows(db)
    assert "Katarina" not in useful[2] and "blom" not in useful[2].lower()
    assert view.outcome.notice is not None and "name" in view.outcome.notice.removed
