"""The admin area: teams and their settings, staff accounts; who may do what."""

from __future__ import annotations

from sqlalchemy import select

from app.main import create_app
from storage.models import AuditEntry, StaffUser, Team
from tests.common.teams import make_team, make_user
from tests.common.web import csrf_from, log_in


async def client_as(aiohttp_client, settings, db, email: str):  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(settings, database=db))
    await log_in(client, email)
    return client


async def test_an_admin_creates_a_team_and_edits_its_settings_audited_old_and_new(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db, "admin@example.se", role="admin", team=None)
    client = await client_as(aiohttp_client, settings, db, "admin@example.se")
    page = await client.get("/team/admin/team")
    assert page.status == 200
    token = csrf_from(await page.text())

    bad = await client.post(
        "/team/admin/team",
        data={"_csrf": token, "code": "Söder!", "name": "X", "trial_months": "3"},
    )
    assert bad.status == 422 and "Teamkoden" in await bad.text()
    created = await client.post(
        "/team/admin/team",
        data={"_csrf": token, "code": "soder", "name": "Team Söder", "trial_months": "2"},
        allow_redirects=False,
    )
    assert created.status == 303
    edit = created.headers["Location"]
    form = {
        "_csrf": token, "name": "Team Söder", "trial_months": "3",
        "result_reasons": ["arbete", "studier", "arbetssokande"],
        "goals": "survey.closer_to_work.share >= 50% | minst 50 % närmare arbete\n"
                 "outcomes.share_result >= 20% | 20 % i arbete eller studier",
        "survey_file": "", "notify_emails": "chef@example.se", "places": "40",
    }  # fmt: skip
    saved = await client.post(edit, data=form, allow_redirects=False)
    assert saved.status == 303

    async with db.sessions() as session:
        team = await session.scalar(select(Team).where(Team.code == "soder"))
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "team.updated"))
    assert team is not None and entry is not None
    assert (team.trial_months, team.places, team.accepts_referrals) == (3, 40, False)
    assert team.goals[0] == {
        "text": "minst 50 % närmare arbete",
        "metric": "survey.closer_to_work.share",
        "op": ">=",
        "target": 0.5,
    }
    assert team.notify_emails == ["chef@example.se"]
    assert entry.detail["trial_months"] == {"old": 2, "new": 3}
    assert entry.detail["places"] == {"old": None, "new": 40}
    assert entry.detail["notify_emails"] == {"old": 0, "new": 1}  # no addresses in the log


async def test_a_coordinator_edits_only_their_own_team_and_cannot_create_one(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    other = await make_team(db, "syd", "Team Syd")
    await make_user(db, "samordnare@example.se", role="coordinator")
    client = await client_as(aiohttp_client, settings, db, "samordnare@example.se")
    page = await client.get("/team/admin/team")
    text = await page.text()
    assert page.status == 200 and "Samverkansteam Norr" in text and "Team Syd" not in text
    assert (await client.get(f"/team/admin/team/{other.id}")).status == 404
    created = await client.post(
        "/team/admin/team", data={"_csrf": csrf_from(text), "code": "ny", "name": "Ny"}
    )
    assert created.status == 403


async def test_staff_members_cannot_open_the_admin_pages(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await client_as(aiohttp_client, settings, db, "coach@example.se")
    for path in ("/team/admin/team", "/team/admin/personal"):
        assert (await client.get(path, allow_redirects=False)).status == 403


async def test_a_coordinator_invites_staff_to_their_team_but_no_admin(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_team(db, "syd", "Team Syd")
    await make_user(db, "samordnare@example.se", role="coordinator")
    await make_user(db, "annan@example.se", role="staff", team="syd")
    client = await client_as(aiohttp_client, settings, db, "samordnare@example.se")
    page = await client.get("/team/admin/personal")
    text = await page.text()
    assert "annan@example.se" not in text
    token = csrf_from(text)
    admin = await client.post(
        "/team/admin/personal",
        data={"_csrf": token, "email": "chef@example.se", "role": "admin", "team": "norr"},
    )
    other_team = await client.post(
        "/team/admin/personal",
        data={"_csrf": token, "email": "x@example.se", "role": "staff", "team": "syd"},
    )
    assert (admin.status, other_team.status) == (422, 422)
    ok = await client.post(
        "/team/admin/personal",
        data={"_csrf": token, "email": "ny@example.se", "role": "staff", "team": "norr"},
        allow_redirects=False,
    )
    assert ok.status == 303
    async with db.sessions() as session:
        emails = set(await session.scalars(select(StaffUser.email)))
    assert "ny@example.se" in emails and "chef@example.se" not in emails


async def test_an_admin_deactivates_an_account_from_the_page(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_user(db, "admin@example.se", role="admin", team=None)
    coach = await make_user(db, "coach@example.se")
    client = await client_as(aiohttp_client, settings, db, "admin@example.se")
    token = csrf_from(await (await client.get("/team/admin/personal")).text())
    response = await client.post(
        f"/team/admin/personal/{coach.id}",
        data={"_csrf": token, "action": "deactivate"},
        allow_redirects=False,
    )
    assert response.status == 303
    async with db.sessions() as session:
        assert (await session.get_one(StaffUser, coach.id)).active is False


async def test_a_coordinator_gives_the_team_a_phone_and_email_for_participants(
    aiohttp_client, settings, db
) -> None:
    team = await make_team(db)
    await make_user(db, "samordnare@example.se", role="coordinator")
    client = await client_as(aiohttp_client, settings, db, "samordnare@example.se")
    edit = f"/team/admin/team/{team.id}"
    token = csrf_from(await (await client.get(edit)).text())
    form = {
        "_csrf": token, "name": team.name, "trial_months": "3", "result_reasons": ["arbete"],
        "goals": "", "survey_file": "", "notify_emails": "", "places": "",
        "contact_phone": "ring oss", "contact_email": "norr@example.se",
    }  # fmt: skip

    bad = await client.post(edit, data=form)
    html = await bad.text()
    assert bad.status == 422
    assert "Ange teamets telefonnummer med siffror" in html and 'href="#f-contact_phone"' in html
    assert 'value="ring oss"' in html and 'value="norr@example.se"' in html  # nothing lost

    saved = await client.post(edit, data=form | {"contact_phone": "010-123 45 67"})
    assert saved.status == 200 and 'value="010-123 45 67"' in await saved.text()
    async with db.sessions() as session:
        stored = await session.get_one(Team, team.id)
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "team.updated"))
    assert (stored.contact_phone, stored.contact_email) == ("010-123 45 67", "norr@example.se")
    assert entry is not None
    assert entry.detail["contact_phone"] == {"old": False, "new": True}  # not the number
