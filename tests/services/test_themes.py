"""Theme review operations: a correction and a Swedish gloss, each checked, written and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.access import Staff
from core.errors import DomainError, NotFound
from core.themes import default_codebook
from services.themes import correct_theme, set_quote_gloss
from storage.db import Database
from storage.models import Answer, AnswerTheme, AuditEntry, Team
from tests.common.surveys import make_enrolled_participant, make_survey_response
from tests.common.teams import make_team, make_user


@pytest.fixture
async def answer(db: Database) -> int:
    """An answer to "what has been most useful" of team norr, in English."""
    await make_team(db, "norr")
    await make_team(db, "syd", "Samverkansteam Syd")
    participant = await make_enrolled_participant(db)
    return await make_survey_response(
        db, participant.id, completed=None, useful="My coach listened.", auto_themes=["grupp"]
    )


async def staff_of(db: Database, team: str) -> Staff:
    user = await make_user(db, f"{team}@example.se", team=team)
    async with db.sessions() as session:
        team_id = await session.scalar(select(Team.id).where(Team.code == team))
    assert team_id is not None
    return Staff(user.id, "staff", frozenset({team_id}))


async def test_a_gloss_is_stored_redacted_and_audited_without_its_text(
    db: Database, answer: int
) -> None:
    staff = await staff_of(db, "norr")

    await set_quote_gloss(db, staff, answer, "Min coach  Anna Svensson lyssnade.")

    async with db.sessions() as session:
        stored = await session.get(Answer, answer)
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "answer.gloss_set")
        )
    assert stored is not None and stored.gloss_sv == "Min coach [namn] lyssnade."
    assert entry is not None and entry.object_id == answer and entry.detail == {"removed": False}


async def test_an_empty_gloss_removes_it(db: Database, answer: int) -> None:
    staff = await staff_of(db, "norr")
    await set_quote_gloss(db, staff, answer, "Min coach lyssnade.")

    await set_quote_gloss(db, staff, answer, "  ")

    async with db.sessions() as session:
        stored = await session.get(Answer, answer)
    assert stored is not None and stored.gloss_sv is None


async def test_another_teams_answer_is_not_found(db: Database, answer: int) -> None:
    staff = await staff_of(db, "syd")

    with pytest.raises(NotFound):
        await set_quote_gloss(db, staff, answer, "Min coach lyssnade.")
    with pytest.raises(NotFound):
        await correct_theme(db, staff, answer, ["samtal"], codebook=default_codebook())


async def test_a_correction_replaces_the_staff_themes_and_is_audited(
    db: Database, answer: int
) -> None:
    staff = await staff_of(db, "norr")

    await correct_theme(db, staff, answer, ["samtal", "grupp"], codebook=default_codebook())

    async with db.sessions() as session:
        themes = (
            await session.scalars(
                select(AnswerTheme.theme).where(
                    AnswerTheme.answer_id == answer, AnswerTheme.source == "staff"
                )
            )
        ).all()
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "answer.themes_corrected")
        )
    assert sorted(themes) == ["grupp", "samtal"]
    assert entry is not None and entry.detail == {"themes": ["grupp", "samtal"]}


async def test_an_unknown_theme_is_refused(db: Database, answer: int) -> None:
    staff = await staff_of(db, "norr")

    with pytest.raises(DomainError):
        await correct_theme(db, staff, answer, ["inget_sadant"], codebook=default_codebook())
