"""Teams and their settings: creation rules, who may edit, audit of old and new values, and the
settings the referral form obeys (closed teams, who is told of a new referral)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import FormErrors, NotAllowed, NotFound
from services.teams import (
    TeamSettings,
    create_team,
    format_goals,
    parse_goals,
    update_team,
)
from storage.models import AuditEntry, Team
from storage.referrals import team_names
from tests.common.mail import queued_mail
from tests.common.referrals import make_referral
from tests.common.teams import make_team, make_user, staff_for


async def test_a_team_code_is_lower_case_letters_digits_and_dashes_and_unique(db) -> None:
    team = await create_team(db, None, "norr-2", name="Team Norr 2", trial_months=2)
    assert (team.code, team.trial_months) == ("norr-2", 2)
    for code in ("Norr", "norr 3", "", "-", "å"):
        with pytest.raises(FormErrors):
            await create_team(db, None, code, name="X")
    with pytest.raises(FormErrors):
        await create_team(db, None, "norr-2", name="Igen")
    with pytest.raises(FormErrors):
        await create_team(db, None, "syd", name="Syd", trial_months=4)


async def test_only_admins_create_teams(db) -> None:
    await make_team(db)
    coordinator = await staff_for(db, "samordnare@example.se", role="coordinator")
    with pytest.raises(NotAllowed):
        await create_team(db, coordinator, "syd", name="Syd")


async def test_a_coordinator_edits_their_own_team_only_and_changes_are_audited(db) -> None:
    own = await make_team(db)
    other = await make_team(db, "syd", "Team Syd")
    coordinator = await staff_for(db, "samordnare@example.se", role="coordinator")
    settings = TeamSettings(name="Norr", trial_months=2, places=35, accepts_referrals=False)
    with pytest.raises(NotFound):
        await update_team(db, coordinator, other.id, settings)
    changes = await update_team(db, coordinator, own.id, settings)
    assert changes["trial_months"] == {"old": 3, "new": 2}
    async with db.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "team.updated"))
    assert entry is not None and entry.actor == coordinator.actor and entry.object_id == own.id
    assert entry.detail["places"] == {"old": None, "new": 35}
    assert entry.detail["accepts_referrals"] == {"old": True, "new": False}


async def test_goals_are_read_one_a_line_in_the_summary_goal_format() -> None:
    text = "survey.closer_to_work.share >= 50% | minst 50 % närmare arbete\noutcomes.result > 3"
    goals = parse_goals(text)
    assert goals == [
        {"text": "minst 50 % närmare arbete", "metric": "survey.closer_to_work.share",
         "op": ">=", "target": 0.5},
        {"text": "", "metric": "outcomes.result", "op": ">", "target": 3.0},
    ]  # fmt: skip
    assert parse_goals(format_goals(goals)) == goals
    with pytest.raises(FormErrors):
        parse_goals("minst hälften")


async def test_a_closed_team_is_not_offered_and_takes_no_referral(db) -> None:
    team = await make_team(db)
    await make_team(db, "syd", "Team Syd")
    admin = await staff_for(db, "chef@example.se", role="admin")
    await update_team(db, admin, team.id, TeamSettings(name=team.name, accepts_referrals=False))
    assert list(await team_names(db)) == ["syd"]
    with pytest.raises(NotFound):
        await make_referral(db)


async def test_the_teams_list_is_told_of_a_new_referral_with_the_coordinators(db) -> None:
    team = await make_team(db)
    await make_user(db, "samordnare@example.se", role="coordinator")
    admin = await staff_for(db, "chef@example.se", role="admin")
    await update_team(
        db, admin, team.id, TeamSettings(name=team.name, notify_emails=["chef.norr@example.se"])
    )
    await make_referral(db)
    [mail] = [m for m in await queued_mail(db) if m.kind.startswith("referral")]
    assert set(mail.recipients) == {"samordnare@example.se", "chef.norr@example.se"}
    async with db.sessions() as session:
        assert (await session.get_one(Team, team.id)).notify_emails == ["chef.norr@example.se"]
