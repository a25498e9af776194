"""The registerutdrag routes: coordinators of the person's team download it, nobody else."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.main import create_app
from storage.models import AuditEntry
from tests.common.people import make_person_with_history
from tests.common.teams import make_team, make_user
from tests.common.web import csrf_from, log_in


async def test_a_coordinator_downloads_the_extract_with_the_button(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    person = await make_person_with_history(db)
    await make_user(db, "boss@example.se", role="coordinator")
    client = await aiohttp_client(create_app(settings, database=db))
    await log_in(client, "boss@example.se")
    path = f"/team/deltagare/{person.participant_id}/registerutdrag"

    page = await client.get(path)
    response = await client.post(path, data={"_csrf": csrf_from(await page.text())})

    assert page.status == 200 and response.status == 200
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="registerutdrag-'
    )
    assert response.headers["Cache-Control"] == "no-store"
    extract = json.loads(await response.read())
    assert extract["person"]["name"] == person.name
    async with db.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert actions.count("participant.exported") == 1


async def test_the_download_needs_the_csrf_token(aiohttp_client, settings, db) -> None:
    await make_team(db)
    person = await make_person_with_history(db)
    await make_user(db, "boss@example.se", role="coordinator")
    client = await aiohttp_client(create_app(settings, database=db))
    await log_in(client, "boss@example.se")

    response = await client.post(f"/team/deltagare/{person.participant_id}/registerutdrag")

    assert response.status == 403


async def test_staff_and_other_teams_get_no_extract(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_team(db, "syd", "Samverkansteam Syd")
    person = await make_person_with_history(db)
    await make_user(db, "coach@example.se", role="staff")
    await make_user(db, "south@example.se", role="coordinator", team="syd")
    path = f"/team/deltagare/{person.participant_id}/registerutdrag"
    statuses = {}
    for email in ("coach@example.se", "south@example.se"):
        client = await aiohttp_client(create_app(settings, database=db))
        token = await log_in(client, email)
        statuses[email] = (
            (await client.get(path)).status,
            (await client.post(path, data={"_csrf": token})).status,
        )

    assert statuses == {"coach@example.se": (403, 403), "south@example.se": (404, 404)}
