"""The team's survey page: invitations shown once with links and QR codes, the team's survey."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from app.main import create_app
from app.settings import Settings
from core.surveys import default_survey_path
from intake.context import BOT
from intake.invitations import telegram_link, web_link
from storage import invitations
from storage.db import Database
from storage.models import Invitation, Team
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team, make_user
from tests.common.web import csrf_from, log_in


async def logged_in(aiohttp_client, settings, db, *, role="staff", bot_username=None):  # type: ignore[no-untyped-def]
    """A client logged in as a member of team norr's staff."""
    await make_user(db, f"{role}@example.se", role=role)
    app = create_app(settings, database=db)
    app[BOT].username = bot_username
    client = await aiohttp_client(app)
    await log_in(client, f"{role}@example.se")
    return client


async def post(client, path: str, **fields: str):  # type: ignore[no-untyped-def]
    """Post a form from the survey page, with its CSRF token."""
    page = await (await client.get("/team/enkater")).text()
    return await client.post(path, data={"_csrf": csrf_from(page), **fields})


def links(html: str) -> list[str]:
    return [
        unescape(link)
        for link in re.findall(r'<a href="([^"]+/enkat/[^"]+|https://t\.me/[^"]+)"', html)
    ]


@pytest.fixture
async def team(db: Database) -> Team:
    team = await make_team(db)
    await make_enrolled_participant(db, "N-001")
    await make_enrolled_participant(db, "N-002")
    await make_enrolled_participant(db, "N-900", ended=True)
    return team


async def test_the_page_lists_the_active_participants(aiohttp_client, settings, db, team) -> None:
    client = await logged_in(aiohttp_client, settings, db)

    html = await (await client.get("/team/enkater")).text()

    assert "N-001" in html and "N-002" in html and "N-900" not in html
    assert "Inte inbjuden" in html


async def test_an_invitation_is_shown_once_as_links_and_qr_codes(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db, bot_username="samverkan_test_bot")
    async with db.sessions() as session:
        participant = await invitations.find_participant(session, "N-001", "norr")

    response = await post(client, f"/team/enkater/deltagare/{participant.id}")
    html = await response.text()

    telegram, web = links(html)
    token = web.rsplit("/", 1)[1]
    assert telegram == telegram_link("samverkan_test_bot", token)
    assert web == web_link(settings.public_url, token)
    assert html.count('src="data:image/svg+xml') == 2
    async with db.sessions() as session:
        stored = await session.scalar(select(Invitation))
    assert stored.token_hash == invitations.hash_token(token) and token not in str(stored.__dict__)
    again = await (await client.get("/team/enkater")).text()
    assert token not in again and "Skickad, gäller till" in again


async def test_without_the_bot_only_the_web_link_is_shown(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db)
    async with db.sessions() as session:
        participant = await invitations.find_participant(session, "N-002", "norr")

    html = await (await post(client, f"/team/enkater/deltagare/{participant.id}")).text()

    [web] = links(html)
    assert "/enkat/" in web and "t.me" not in html


async def test_all_active_participants_can_be_invited_at_once(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db)

    html = await (await post(client, "/team/enkater/alla", team="norr")).text()

    assert "2 nya inbjudningar" in html
    assert re.findall(r"<h2 id=\"invitation-\d\">([^<]+)</h2>", html) == ["N-001", "N-002"]
    assert len(set(links(html))) == 2


async def test_staff_cannot_invite_another_teams_participant(
    aiohttp_client, settings, db, team
) -> None:
    await make_team(db, "syd", "Resursteam Syd")
    other = await make_enrolled_participant(db, "S-1", team="syd")
    client = await logged_in(aiohttp_client, settings, db)

    response = await post(client, f"/team/enkater/deltagare/{other.id}")

    assert response.status == 404
    async with db.sessions() as session:
        assert (await session.scalars(select(Invitation))).all() == []


async def test_a_coordinator_naming_another_team_is_refused_not_given_their_own(
    aiohttp_client, settings, db, team
) -> None:
    await make_team(db, "syd", "Resursteam Syd")
    await make_enrolled_participant(db, "S-1", team="syd")
    client = await logged_in(aiohttp_client, settings, db, role="coordinator")

    invited = await post(client, "/team/enkater/alla", team="syd")
    shown = await client.get("/team/enkater?team=syd")
    chosen = await post(client, "/team/enkater/enkat", team="syd", survey_file="")

    assert (invited.status, shown.status, chosen.status) == (403, 403, 403)
    async with db.sessions() as session:
        assert (await session.scalars(select(Invitation))).all() == []


async def test_the_page_needs_a_login(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))

    response = await client.get("/team/enkater", allow_redirects=False)

    assert response.status == 303 and response.headers["Location"] == "/team/login"


@pytest.fixture
def survey_dir(settings: Settings) -> Path:
    """The förbund's own survey folder, where the settings say (in the test's data folder)."""
    folder = settings.surveys_dir
    folder.mkdir(parents=True)
    default = default_survey_path().read_text(encoding="utf-8")
    (folder / "norr.yaml").write_text(default.replace('"2026-2"', '"norr-2"'), encoding="utf-8")
    broken = default.replace("code: ja_lite", "code: lite")
    (folder / "trasig.yaml").write_text(broken, encoding="utf-8")
    return folder


async def test_a_coordinator_switches_the_team_to_its_own_survey(
    aiohttp_client, settings, db, team, survey_dir
) -> None:
    client = await logged_in(aiohttp_client, settings, db, role="coordinator")

    response = await post(client, "/team/enkater/enkat", team="norr", survey_file="norr.yaml")

    assert "Teamet använder nu enkäten default, version norr-2." in await response.text()
    async with db.sessions() as session:
        assert (await session.get(Team, team.id)).survey_file == "norr.yaml"


async def test_an_invalid_survey_file_is_refused_with_file_question_and_reason(
    aiohttp_client, settings, db, team, survey_dir
) -> None:
    client = await logged_in(aiohttp_client, settings, db, role="coordinator")

    response = await post(client, "/team/enkater/enkat", team="norr", survey_file="trasig.yaml")
    html = unescape(await response.text())

    assert response.status == 422
    assert "trasig.yaml" in html and "narmare_arbete" in html and "ja_mycket, ja_lite" in html
    async with db.sessions() as session:
        assert (await session.get(Team, team.id)).survey_file is None


async def test_staff_cannot_switch_the_survey(
    aiohttp_client, settings, db, team, survey_dir
) -> None:
    client = await logged_in(aiohttp_client, settings, db)

    response = await post(client, "/team/enkater/enkat", team="norr", survey_file="norr.yaml")

    assert response.status == 403
