"""``samverkan invite`` as an operator runs it: one line with the link, the bot's name from getMe."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage import invitations
from storage.db import Database
from storage.models import Invitation
from tests.common.cli import samverkan
from tests.common.servers import free_port
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team
from tests.fakes.telegram_api import FakeBotApi

TOKEN = r"[A-Za-z0-9_-]{32}"


async def stored_token_hashes(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list(await session.scalars(select(Invitation.token_hash).order_by(Invitation.id)))


async def test_a_telegram_invitation_prints_the_deep_link_with_the_bots_name(
    db: Database, settings_env: dict[str, str]
) -> None:
    await make_team(db)
    await make_enrolled_participant(db, "N-001")

    async with FakeBotApi(username="teamets_enkat_bot") as api:
        env = {
            **settings_env,
            "SAMVERKAN_TELEGRAM_TOKEN": api.token,
            "SAMVERKAN_TELEGRAM_API_URL": api.base_url,
        }
        status, out, err = await samverkan(env, "invite", "N-001", "--team", "norr")

    assert (status, err) == (0, "")
    [line] = out.splitlines()
    match = re.fullmatch(rf"https://t\.me/teamets_enkat_bot\?start=({TOKEN})", line)
    assert match and await stored_token_hashes(db) == [invitations.hash_token(match.group(1))]


async def test_a_web_invitation_prints_the_public_address(
    db: Database, settings_env: dict[str, str]
) -> None:
    await make_team(db)
    await make_enrolled_participant(db, "N-001")
    env = {**settings_env, "SAMVERKAN_PUBLIC_URL": "https://enkat.example.se"}

    status, out, _ = await samverkan(env, "invite", "N-001", "--channel", "web")

    assert status == 0 and re.fullmatch(rf"https://enkat\.example\.se/enkat/{TOKEN}\n", out)


async def test_a_whole_team_gets_one_line_per_active_participant(
    db: Database, settings_env: dict[str, str]
) -> None:
    await make_team(db)
    for ref in ("N-002", "N-001"):
        await make_enrolled_participant(db, ref)
    await make_enrolled_participant(db, "N-009", ended=True)

    status, out, _ = await samverkan(settings_env, "invite", "--all-active", "--team", "norr")

    refs = [line.split("\t")[0] for line in out.splitlines()]
    assert status == 0 and refs == ["N-001", "N-002"]
    assert all(re.search(rf"/enkat/{TOKEN}$", line) for line in out.splitlines())


async def test_mistakes_are_reported_on_one_line(
    db: Database, settings_env: dict[str, str]
) -> None:
    await make_team(db)

    unknown = await samverkan(settings_env, "invite", "N-404", "--channel", "web")
    no_bot = await samverkan(settings_env, "invite", "N-404", "--channel", "telegram")
    both = await samverkan(settings_env, "invite", "N-404", "--all-active")

    assert unknown[0] == 1 and unknown[2] == "samverkan: Ingen deltagare har referensen N-404.\n"
    assert no_bot[0] == 1 and "SAMVERKAN_TELEGRAM_TOKEN" in no_bot[2]
    assert both[0] == 2
    assert await stored_token_hashes(db) == []


@pytest.mark.parametrize("failure", ["unreachable", "server error", "wrong token"])
async def test_when_getme_fails_invite_prints_one_line_and_creates_nothing(
    db: Database, settings_env: dict[str, str], failure: str
) -> None:
    await make_team(db)
    await make_enrolled_participant(db, "N-001")
    async with FakeBotApi() as api:
        env = {
            **settings_env,
            "SAMVERKAN_TELEGRAM_TOKEN": "1:wrong" if failure == "wrong token" else api.token,
            "SAMVERKAN_TELEGRAM_API_URL": api.base_url,
        }
        if failure == "unreachable":
            env["SAMVERKAN_TELEGRAM_API_URL"] = f"http://127.0.0.1:{free_port()}/bot"
        api.fail_next("getMe", 500)
        status, out, err = await samverkan(env, "invite", "N-001", "--team", "norr")

    assert (status, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("samverkan: Telegrams Bot API på http://127.0.0.1:")
    assert "ingen inbjudan skapades" in line and "wrong" not in line
    assert await stored_token_hashes(db) == []
