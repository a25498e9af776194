"""Telegram down does not take the service down: the bot starts in the background and retries.

The service serves the referral form and ``/healthz`` (``bot: degraded``) while the Bot API is
unreachable or a start-up call fails; once the Bot API answers, the bot starts and handles
``/start``. Shutdown during a pending start leaves no task behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from app import telegram
from app.settings import Secret, Settings
from storage.db import Database
from tests.bot.conftest import (
    WEBHOOK_SECRET,
    Person,
    bot_ready,
    bot_settings,
    new_token,
    serving,
    webhook_url,
)
from tests.common.servers import free_port
from tests.fakes.telegram_api import FakeBotApi


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry after 50 ms (doubling to 200 ms) instead of 2 s (to 5 min)."""
    monkeypatch.setattr(telegram, "RETRY_FIRST_SECONDS", 0.05, raising=False)
    monkeypatch.setattr(telegram, "RETRY_MAX_SECONDS", 0.2, raising=False)


async def get(server: TestServer, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(server.make_url(path)) as response:
        return response.status, await response.text()


async def health(server: TestServer) -> tuple[int, dict[str, str]]:
    status, body = await get(server, "/healthz")
    return status, json.loads(body)


def start_tasks() -> list[asyncio.Task[object]]:
    return [
        t for t in asyncio.all_tasks() if t.get_name() == "samverkan.bot.start" and not t.done()
    ]


async def test_with_the_bot_api_unreachable_the_form_serves_and_the_bot_starts_when_it_answers(
    settings: Settings, db: Database
) -> None:
    port = free_port()  # nothing listens here yet
    unreachable = dataclasses.replace(
        settings,
        telegram_token=Secret("123456:TEST-token"),
        telegram_api_url=f"http://127.0.0.1:{port}/bot",
        telegram_mode="polling",
    )
    async with serving(unreachable, db, wait_for_bot=False) as server:
        await asyncio.sleep(0.3)  # a few start-up attempts fail meanwhile
        assert (await get(server, "/remiss"))[0] == 200
        assert await health(server) == (200, {"status": "ok", "database": "ok", "bot": "degraded"})
        status, metrics = await get(server, "/metrics")
        assert status == 200 and "samverkan_bot_up 0.0" in metrics

        api = FakeBotApi()
        await api.start(port=port)  # Telegram is back
        try:
            await bot_ready(server.app)
            assert await health(server) == (200, {"status": "ok", "database": "ok", "bot": "ok"})
            assert "samverkan_bot_up 1.0" in (await get(server, "/metrics"))[1]
            replies = await Person(api).write(f"/start {await new_token(db)}")
            assert replies[0].text  # the survey's greeting: the bot handles /start
        finally:
            await server.close()  # the bot stops polling before the Bot API goes away
            await api.close()


async def test_failing_start_up_calls_are_retried_and_the_webhook_answers_503_meanwhile(
    api: FakeBotApi, settings: Settings, db: Database
) -> None:
    for _ in range(1000):
        api.fail_next("getMe", 500)
    webhook = bot_settings(settings, api, mode="webhook")
    async with serving(webhook, db, wait_for_bot=False) as server:
        await asyncio.sleep(0.3)
        assert (await get(server, "/remiss"))[0] == 200
        assert await health(server) == (200, {"status": "ok", "database": "ok", "bot": "degraded"})
        update = api.user_text(501, "/start whatever")
        assert await api.deliver_webhook(update, webhook_url(server), WEBHOOK_SECRET) == 503

        api.clear_failures()
        api.fail_next("setMyCommands", 500)  # getMe works now; the next step fails once more
        await bot_ready(server.app)

        assert await health(server) == (200, {"status": "ok", "database": "ok", "bot": "ok"})
        person = Person(api, webhooks=[webhook_url(server)])
        [greeting, *_] = await person.write(f"/start {await new_token(db)}")
        assert greeting.text


async def test_a_wrong_token_keeps_the_bot_degraded_and_the_form_serving(
    api: FakeBotApi, settings: Settings, db: Database
) -> None:
    wrong = dataclasses.replace(bot_settings(settings, api), telegram_token=Secret("1:wrong"))
    async with serving(wrong, db, wait_for_bot=False) as server:
        await asyncio.sleep(0.2)
        assert (await get(server, "/remiss"))[0] == 200
        assert (await health(server))[1]["bot"] == "degraded"


async def test_stopping_during_a_pending_start_leaves_no_task_running(
    settings: Settings, db: Database
) -> None:
    unreachable = dataclasses.replace(
        settings,
        telegram_token=Secret("123456:TEST-token"),
        telegram_api_url=f"http://127.0.0.1:{free_port()}/bot",
    )
    async with serving(unreachable, db, wait_for_bot=False):
        await asyncio.sleep(0.1)
        assert start_tasks()

    assert start_tasks() == []


async def test_without_a_token_healthz_says_the_bot_is_off(
    settings: Settings, db: Database
) -> None:
    async with serving(settings, db, wait_for_bot=False) as server:
        assert await health(server) == (200, {"status": "ok", "database": "ok", "bot": "off"})
