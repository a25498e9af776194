"""Inviting participants and choosing the team's survey: for the teams one may act for, audited."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core import surveys as core
from core.access import Staff
from core.clock import utcnow
from core.errors import NotFound
from services.invitations import (
    CoordinatorsOnly,
    TeamNotAllowed,
    invitation_letters,
    invite_active_participants,
    invite_participant,
    invite_person,
    invite_team,
    participant_survey_status,
    plan_team_invitations,
    select_team_survey,
)
from storage.db import Database
from storage.models import AuditEntry, Invitation, Team
from tests.common.surveys import (
    make_enrolled_participant,
    make_survey_response,
    started,
    state_for,
)
from tests.common.teams import make_team, make_user, staff_for


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


# --- Inviting the whole team, letters, survey status -----------------------------------------


async def test_invite_team_leaves_out_who_answered_or_was_invited_within_the_days(
    db: Database,
) -> None:
    await make_team(db)
    now = utcnow()
    answered = await make_enrolled_participant(db, "N-1", name="Ali")
    invited = await make_enrolled_participant(db, "N-2", name="Bo")
    long_ago = await make_enrolled_participant(db, "N-3", name="Cia")
    never = await make_enrolled_participant(db, "N-4", name="Dan")
    await make_survey_response(db, answered.id, completed=now - timedelta(days=29))
    await make_survey_response(db, invited.id, completed=None, invited=now - timedelta(days=29))
    await make_survey_response(db, long_ago.id, completed=None, invited=now - timedelta(days=31))
    coordinator = await staff_for(db, "samordnare@example.se", role="coordinator")

    done = await invite_team(
        db, coordinator, "norr", channel="any", days=30, reinvite_after_days=30, now=now
    )

    assert [(new.name, new.reference) for new in done.created] == [
        ("Cia", "R-norr-N-3"),
        ("Dan", "R-norr-N-4"),
    ]
    assert [(row.name, reason) for row, reason in done.skipped] == [
        ("Ali", "answered"),
        ("Bo", "invited"),
    ]
    assert {new.participant_id for new in done.created} == {long_ago.id, never.id}


async def test_with_no_days_set_invite_team_leaves_out_nobody(db: Database) -> None:
    team = await make_team(db)
    answered = await make_enrolled_participant(db, "N-1", name="Ali")
    await make_survey_response(db, answered.id, completed=utcnow())
    coordinator = await staff_for(db, "admin@example.se", role="admin")

    done = await invite_team(
        db, coordinator, team.code, channel="any", days=30, reinvite_after_days=0
    )

    assert [new.name for new in done.created] == ["Ali"] and done.skipped == []


async def test_a_coach_may_not_invite_the_whole_team(db: Database) -> None:
    team = await make_team(db)
    await make_enrolled_participant(db, "N-1")
    coach = Staff(user_id=1, role="staff", team_ids=frozenset({team.id}))

    with pytest.raises(CoordinatorsOnly):
        await invite_team(db, coach, "norr", channel="any", days=30, reinvite_after_days=30)
    with pytest.raises(CoordinatorsOnly):
        await plan_team_invitations(db, coach, "norr", reinvite_after_days=30)

    async with db.sessions() as session:
        assert (await session.scalars(select(Invitation))).all() == []


async def test_letters_only_for_usable_invitations_of_teams_one_sees(db: Database) -> None:
    norr = await make_team(db)
    syd = await make_team(db, "syd", "Samverkansteam Syd")
    mine = await make_enrolled_participant(db, "N-1", name="Ali", language="English")
    theirs = await make_enrolled_participant(db, "S-1", team="syd", name="Sia")
    admin = await staff_for(db, "admin@example.se", role="admin")
    coach = await staff_for(db, "coach@example.se")
    own = await invite_person(db, admin, mine.id, channel="any", days=30)
    other = await invite_person(db, admin, theirs.id, channel="any", days=30)

    letters = await invitation_letters(db, coach, [own.token, other.token, "bad token"])

    assert [(x.name, x.reference, x.language, x.team_name) for x in letters] == [
        ("Ali", "R-norr-N-1", "en", "Samverkansteam Norr")
    ]
    assert syd.id != norr.id
    after_expiry = utcnow() + timedelta(days=31)
    assert await invitation_letters(db, coach, [own.token], now=after_expiry) == []


async def test_the_survey_status_follows_the_newest_invitation(db: Database) -> None:
    team = await make_team(db)
    person = await make_enrolled_participant(db, "N-1")
    staff = await staff_for(db, "coach@example.se")
    earlier = utcnow() - timedelta(days=200)

    before = await participant_survey_status(db, staff, person.id)
    await make_survey_response(db, person.id, completed=earlier, invited=earlier)
    answered = await participant_survey_status(db, staff, person.id)
    await invite_person(db, staff, person.id, channel="any", days=30)
    again = await participant_survey_status(db, staff, person.id)

    assert before.status == "not_invited"
    assert (answered.status, answered.completed_at) == ("answered", earlier)
    assert (again.status, again.last_answered_at) == ("invited", earlier)
    outsider = Staff(user_id=3, role="staff", team_ids=frozenset({team.id + 1}))
    with pytest.raises(NotFound):
        await participant_survey_status(db, outsider, person.id)
