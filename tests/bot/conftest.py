"""The bot against the Bot API test server, through python-telegram-bot's real HTTP stack.

``serving(settings, db)`` runs the whole service (``create_app``) on 127.0.0.1 with the bot on;
:class:`Person` plays a participant in Telegram: writes, presses buttons by their label and
waits for the bot's replies. In webhook mode the update is posted to the app's webhook, which
answers only after handling it, so replies have arrived when ``write`` or ``press`` returns.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from app.main import create_app
from app.settings import Secret, Settings
from app.telegram import WEBHOOK_PATH
from intake.context import BOT
from storage import invitations
from storage.db import Database
from storage.models import Team
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team
from tests.fakes.telegram_api import FakeBotApi, SentMessage

WEBHOOK_SECRET = "webhook-secret-for-tests"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The Bot API test server, without flood limits."""
    async with FakeBotApi() as server:
        yield server


def bot_settings(settings: Settings, api: FakeBotApi, *, mode: str = "polling") -> Settings:
    """The test settings with the bot on, talking to the test server."""
    return dataclasses.replace(
        settings,
        telegram_token=Secret(api.token),
        telegram_api_url=api.base_url,
        telegram_mode=mode,
        telegram_webhook_secret=Secret(WEBHOOK_SECRET if mode == "webhook" else ""),
    )


async def bot_ready(app: web.Application, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until the bot's background start-up has finished (``/healthz`` says ``bot: ok``)."""
    deadline = time.monotonic() + timeout
    while app[BOT].status != "ok":
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bot did not start in {timeout:g} s: {app[BOT].status}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def serving(
    settings: Settings, db: Database, *, wait_for_bot: bool = True
) -> AsyncIterator[TestServer]:
    """The whole service on a free port until the block ends (then stopped like a process).

    The bot starts in the background; unless ``wait_for_bot`` is False this waits until it has.
    """
    server = TestServer(create_app(settings, database=db))
    await server.start_server()
    try:
        if wait_for_bot:
            await bot_ready(server.app)
        yield server
    finally:
        await server.close()


def webhook_url(server: TestServer) -> str:
    return str(server.make_url(WEBHOOK_PATH))


async def new_token(db: Database, person_ref: str = "N-001") -> str:
    """A team, an enrolled participant and a fresh invitation; the token."""
    async with db.sessions() as session:
        has_team = await session.scalar(select(Team.id))
    if not has_team:
        await make_team(db)
    participant = await make_enrolled_participant(db, person_ref)
    async with db.transaction() as session:
        [new] = await invitations.create_invitations(
            session, [participant], channel="telegram", days=30
        )
    return new.token


def buttons(message: SentMessage) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button of a message, row by row."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


class Person:
    """A participant chatting with the bot; in webhook mode updates go to ``webhooks`` in turn."""

    def __init__(
        self,
        api: FakeBotApi,
        chat_id: int = 501,
        *,
        language_code: str = "sv",
        webhooks: Sequence[str] = (),
    ) -> None:
        self.api, self.chat_id, self.language_code = api, chat_id, language_code
        self._webhooks = itertools.cycle(webhooks) if webhooks else None

    @property
    def messages(self) -> list[SentMessage]:
        """Everything the bot sent or edited in this chat, in order."""
        return self.api.messages_to(self.chat_id)

    async def write(self, text: str, expect: int = 1) -> list[SentMessage]:
        """Send ``text``; return the ``expect`` messages and edits the bot answers with."""
        update = self.api.user_text(self.chat_id, text, language_code=self.language_code)
        return await self._deliver(update, expect)

    async def press(self, label: str, expect: int = 1) -> list[SentMessage]:
        """Press the newest button labelled ``label``; return the bot's ``expect`` replies."""
        message_id, data = self.find_button(label)
        update = self.api.user_presses(self.chat_id, message_id, data)
        return await self._deliver(update, expect)

    def find_button(self, label: str) -> tuple[int, str]:
        """The message id and callback data of the newest button showing ``label``."""
        latest: dict[int, SentMessage] = {}
        for message in self.messages:
            latest[message.message_id] = message
        for message_id in sorted(latest, reverse=True):
            for text, data in buttons(latest[message_id]):
                if text == label:
                    return message_id, data
        shown = [text for m in latest.values() for text, _ in buttons(m)]
        raise LookupError(f"no button {label!r}; buttons shown: {shown}")

    async def _deliver(self, update: dict[str, Any], expect: int) -> list[SentMessage]:
        before = len(self.messages)
        if self._webhooks is not None:
            status = await self.api.deliver_webhook(update, url=next(self._webhooks))
            assert status == 200, f"webhook answered {status}"
            replies = self.messages[before:]  # handled before the webhook answered
            assert len(replies) == expect, [(m.method, m.text) for m in replies]
            return replies
        messages = await self.api.wait_for_messages(self.chat_id, before + expect)
        return messages[before:]
