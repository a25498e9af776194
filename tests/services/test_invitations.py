"""Inviting participants and choosing the team's survey: for the teams one may act for, audited."""

from pathlib import Path

import pytest
from sqlalchemy import select

from core import surveys as core
from core.access import Staff
from services.invitations import (
    TeamNotAllowed,
    invite_active_participants,
    invite_participant,
    select_team_survey,
)
from storage.db import Database
from storage.models import AuditEntry, Invitation, Team
from tests.common.surveys import make_enrolled_participant, started, state_for
from tests.common.teams import make_team, make_user


async def test_an_invitation_is_audited_with_who_made_it(db: Database) -> None:
    team = await make_team(db)
    participant = await make_enrolled_participant(db)
    user = await make_user(db)
    staff = Staff(user_id=user.id, role="staff", team_ids=frozenset({team.id}))

    await invite_participant(db, staff, participant_id=participant.id, channel="web", days=30)

    async with db.sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "invitation.created")
        )
        invitation = await session.scalar(select(Invitation))
    assert (entry.action, entry.actor, entry.object_id, entry.detail) == (
        "invitation.created",
        f"user:{user.id}",
        participant.id,
        {"invitation": invitation.id, "channel": "web"},
    )


async def test_a_team_one_may_not_act_for_is_refused_not_swapped(db: Database) -> None:
    norr = await make_team(db)
    await make_team(db, "syd", "Samverkansteam Syd")
    await make_enrolled_participant(db, "N-001", team="norr")
    await make_enrolled_participant(db, "S-001", team="syd")
    coordinator = Staff(user_id=7, role="coordinator", team_ids=frozenset({norr.id}))

    with pytest.raises(TeamNotAllowed):
        await invite_active_participants(db, coordinator, "syd", channel="any", days=30)

    async with db.sessions() as session:
        assert (await session.scalars(select(Invitation))).all() == []


# --- The team's own survey -------------------------------------------------------------------


async def test_a_team_can_switch_to_its_own_survey_file(db: Database, survey_dir: Path) -> None:
    team = await make_team(db)
    _, chosen = await select_team_survey(db, None, team.code, "norr.yaml", surveys_dir=survey_dir)
    token = await started(db, surveys_dir=survey_dir)

    state = await state_for(db, token)
    assert chosen == core.load_team_survey(survey_dir / "norr.yaml")
    assert state.survey == chosen and state.survey != core.load_default_survey()


async def test_an_invalid_survey_file_is_refused_with_file_question_and_reason(
    db: Database, survey_dir: Path
) -> None:
    team = await make_team(db)
    with pytest.raises(core.SurveyFileError) as refused:
        await select_team_survey(db, None, team.code, "trasig.yaml", surveys_dir=survey_dir)

    error = refused.value
    assert (Path(str(error.path)).name, error.question_id) == ("trasig.yaml", core.Q_HEALTH)
    assert "mycket_daligt" in error.reason
    async with db.sessions() as session:
        assert (await session.get(Team, team.id)).survey_file is None


async def test_a_file_outside_the_survey_folder_is_refused(db: Database, survey_dir: Path) -> None:
    team = await make_team(db)
    with pytest.raises(core.SurveyFileError):
        await select_team_survey(db, None, team.code, "../../etc/passwd", surveys_dir=survey_dir)


async def test_a_team_file_named_like_the_built_in_survey_is_the_one_chosen(
    db: Database, survey_dir: Path
) -> None:
    (survey_dir / "default.yaml").write_bytes((survey_dir / "norr.yaml").read_bytes())
    team = await make_team(db)

    _, chosen = await select_team_survey(
        db, None, team.code, "default.yaml", surveys_dir=survey_dir
    )

    assert chosen.version == "norr-1" and chosen != core.load_default_survey()
