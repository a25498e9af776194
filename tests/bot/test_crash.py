"""The bot under SIGKILL: no acknowledged answer is lost, and no update is applied twice.

``samverkan serve`` runs as a real process in webhook mode against the Bot API test server and
the test database (SQLite file, or PostgreSQL with ``SAMVERKAN_TEST_DATABASE_URL``). Many
participants answer the survey at once, each update posted to the webhook the way Telegram does:
one at a time per chat, and again, unchanged, until the webhook answers 200. Meanwhile the server
is killed with SIGKILL and started again, several times. Updates are grouped into shared
transactions (``Database.run_transaction``), so a kill lands in the middle of groups. Afterwards
every participant has completed the survey with exactly the answers given: a tick applied twice
would have unticked the option, an acknowledged answer lost would leave the response unfinished.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import surveys as core
from storage import invitations
from storage.db import Database
from storage.models import Answer, ProcessedUpdate, Response
from tests.common.servers import RETRYABLE, Server, free_port
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team
from tests.fakes.telegram_api import FakeBotApi

PARTICIPANTS = 16
KILLS = 3
SECONDS_BETWEEN_KILLS = 2.0
GIVE_UP_AFTER = 90.0
WEBHOOK_SECRET = "crash-test-webhook-secret"
#: The answers, as in the bot benchmark: (press, button data prefix) or (write, text).
STEPS = [
    ("press", f"t:{core.Q_ACTIVITIES}:3"),  # Träning/gym
    ("press", f"d:{core.Q_ACTIVITIES}"),
    ("write", "Samtalen med min coach"),
    ("press", f"a:{core.Q_CLOSER}:"),
    ("press", f"a:{core.Q_HEALTH}:"),
    ("write", "Fler grupper på kvällen"),
    ("press", f"a:{core.Q_QUOTE}:ja"),
]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def server(
    api: FakeBotApi, settings_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Server]:
    port = free_port()
    env = settings_env | {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "SAMVERKAN_LOG_LEVEL": "warning",
        "SAMVERKAN_PUBLIC_URL": f"http://127.0.0.1:{port}", "PTB_TIMEDELTA": "1",
        "SAMVERKAN_TELEGRAM_TOKEN": api.token, "SAMVERKAN_TELEGRAM_API_URL": api.base_url,
        "SAMVERKAN_TELEGRAM_MODE": "webhook", "SAMVERKAN_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }  # fmt: skip
    running = Server(env, port, tmp_path / "server.log")
    await running.start()
    yield running
    await running.stop()


class Participant:
    """Answers the survey in one chat; every update is posted again until it is acknowledged."""

    def __init__(self, api: FakeBotApi, chat_id: int, token: str, url: str, deadline: float):
        self.api, self.chat_id, self.token = api, chat_id, token
        self.url, self.deadline = url, deadline
        self.retries = self.restarts = 0

    async def run(self) -> None:
        await self.deliver(self.api.user_text(self.chat_id, f"/start {self.token}"))
        await self.press_or_restart("lang:sv")
        for action, argument in STEPS:
            if action == "write":
                await self.deliver(self.api.user_text(self.chat_id, argument))
            else:
                await self.press_or_restart(argument)

    async def press_or_restart(self, prefix: str) -> None:
        """Press the newest button starting with ``prefix``.

        When the server died after storing an update but before its replies went out, the
        redelivered update is dropped as applied, so the next question never came: the
        participant writes /start (the bot's own advice) and is shown where they are.
        """
        while (button := self.newest_button(prefix)) is None:
            assert time.monotonic() < self.deadline, f"chat {self.chat_id}: no {prefix!r}"
            self.restarts += 1
            await self.deliver(self.api.user_text(self.chat_id, "/start"))
        await self.deliver(self.api.user_presses(self.chat_id, *button))

    def newest_button(self, prefix: str) -> tuple[int, str] | None:
        latest = {m.message_id: m for m in self.api.messages_to(self.chat_id)}
        for message_id in sorted(latest, reverse=True):
            for data in latest[message_id].button_data:
                if data.startswith(prefix):
                    return message_id, data
            if latest[message_id].button_data:
                return None  # the newest question is another one
        return None

    async def deliver(self, update: dict[str, object]) -> None:
        """Post the update until the webhook answers 200, as Telegram does."""
        while time.monotonic() < self.deadline:
            try:
                if (
                    await self.api.deliver_webhook(update, url=self.url, secret=WEBHOOK_SECRET)
                    == 200
                ):
                    return
            except RETRYABLE:
                pass
            self.retries += 1
            await asyncio.sleep(0.1)
        raise AssertionError(
            f"chat {self.chat_id}: update {update['update_id']} never acknowledged"
        )


async def test_every_acknowledged_answer_survives_sigkill_exactly_once(
    api: FakeBotApi, server: Server, db: Database
) -> None:
    await make_team(db)
    people = [await make_enrolled_participant(db, f"K-{n:03d}") for n in range(PARTICIPANTS)]
    async with db.transaction() as session:
        new = await invitations.create_invitations(session, people, channel="telegram", days=30)
    deadline = time.monotonic() + GIVE_UP_AFTER
    url = server.url + "/telegram/webhook"
    chats = [Participant(api, 9000 + n, i.token, url, deadline) for n, i in enumerate(new)]
    answering = asyncio.gather(*(chat.run() for chat in chats))
    answers_before_kill = []
    for _ in range(KILLS):
        await asyncio.sleep(SECONDS_BETWEEN_KILLS)
        answers_before_kill.append(await count(db, Answer.id))
        await server.kill()
        await server.start()
    await answering

    async with db.sessions() as session:
        answers = (await session.execute(select(Answer.question_id, Answer.value))).all()
        completed = await session.scalar(
            select(func.count(Response.id)).where(Response.completed_at.is_not(None))
        )
    retries = sum(chat.retries for chat in chats)
    print(f"retries {retries}, restarts {sum(c.restarts for c in chats)}, kills {KILLS}")
    assert completed == PARTICIPANTS and len(answers) == 6 * PARTICIPANTS
    activities = [value for qid, value in answers if qid == core.Q_ACTIVITIES]
    assert activities == [["traning"]] * PARTICIPANTS  # a tick applied twice would untick it
    assert any(n > 0 for n in answers_before_kill), "the kills should land while answers arrive"
    assert retries > 0, "the kills should have cut off some updates"
    assert await count(db, ProcessedUpdate.update_id) >= PARTICIPANTS * (2 + len(STEPS))


async def count(db: Database, column: object) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count(column))) or 0)  # type: ignore[arg-type]
