"""Going live from the command line: create-team, create-user --invite, deactivate-user, serve's checks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.commands import UserError
from app.main import create_app
from app.settings import load_settings
from app.startup import check_before_serving
from storage.models import Participant, StaffUser, Team
from tests.common.cli import samverkan
from tests.common.teams import PASSWORD, make_team, make_user
from tests.common.web import csrf_from

NEW_PASSWORD = "en lång mening om fjällen"


async def test_create_team_makes_a_team_and_refuses_a_taken_or_malformed_code(
    db, settings_env
) -> None:
    status, out, err = await samverkan(
        settings_env,
        "create-team",
        "norr",
        "--name",
        "Team Norr",
        "--trial-months",
        "2",
        "--forbund",
        "SF Exempel",
    )
    assert (status, err) == (0, "") and "norr" in out
    again = await samverkan(settings_env, "create-team", "norr", "--name", "Igen")
    bad = await samverkan(settings_env, "create-team", "Norr Två", "--name", "X")
    for status, _out, err in (again, bad):
        assert status == 1 and len(err.strip().splitlines()) == 1
    async with db.sessions() as session:
        teams = (await session.scalars(select(Team))).all()
    assert [(t.code, t.name, t.trial_months, t.forbund) for t in teams] == [
        ("norr", "Team Norr", 2, "SF Exempel")
    ]


async def test_on_an_empty_database_an_invited_staff_member_gets_to_the_board(
    aiohttp_client, db, settings_env, settings
) -> None:
    assert (await samverkan(settings_env, "create-team", "t1", "--name", "Team Ett"))[0] == 0
    status, out, err = await samverkan(
        settings_env,
        "create-user",
        "chef@example.se",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert (status, err) == (0, "")
    status, out, err = await samverkan(
        settings_env, "create-user", "ny@example.se", "--role", "staff", "--team", "t1", "--invite"
    )
    assert (status, err) == (0, "")
    link = out.splitlines()[-1]
    assert link.startswith(settings_env["SAMVERKAN_PUBLIC_URL"] + "/konto/losenord/")

    client = await aiohttp_client(create_app(settings, database=db))
    path = link.removeprefix(settings_env["SAMVERKAN_PUBLIC_URL"])
    token = csrf_from(await (await client.get(path)).text())
    saved = await client.post(
        path, data={"_csrf": token, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert saved.status == 200
    token = csrf_from(await (await client.get("/team/login")).text())
    await client.post(
        "/team/login", data={"_csrf": token, "email": "ny@example.se", "password": NEW_PASSWORD}
    )
    assert (await client.get("/team/remisser", allow_redirects=False)).status == 200


async def test_deactivate_user_ends_the_account(db, settings_env) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    status, _out, err = await samverkan(settings_env, "deactivate-user", "coach@example.se")
    assert (status, err) == (0, "")
    missing = await samverkan(settings_env, "deactivate-user", "ingen@example.se")
    assert missing[0] == 1
    async with db.sessions() as session:
        assert (await session.scalar(select(StaffUser.active))) is False


async def test_serve_without_an_admin_prints_the_command_to_create_one(db, settings) -> None:
    hint = await check_before_serving(settings)
    assert hint is not None and "samverkan create-user" in hint and "--role admin" in hint
    await make_team(db)
    await make_user(db, "chef@example.se", role="admin", team=None)
    assert await check_before_serving(settings) is None


async def test_serve_refuses_data_under_an_unknown_secret_key(db, settings_env, tmp_path) -> None:
    await make_team(db)
    async with db.transaction() as session:
        team_id = await session.scalar(select(Team.id))
        session.add(Participant(team_id=team_id, person_ref="N-1", name="Sara Exempel"))
    other = {
        **settings_env,
        "SAMVERKAN_SECRET_KEY": "another-secret-key-0123456789-abcdefghijklmnop",
    }
    with pytest.raises(UserError, match="neither SAMVERKAN_SECRET_KEY nor"):
        await check_before_serving(load_settings(other, dotenv_path=tmp_path / "no.env"))
    rotated = {**other, "SAMVERKAN_PREVIOUS_SECRET_KEYS": settings_env["SAMVERKAN_SECRET_KEY"]}
    await check_before_serving(load_settings(rotated, dotenv_path=tmp_path / "no.env"))
