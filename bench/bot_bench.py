"""Survey answers through the bot, end to end, against a python-telegram-bot echo handler.

Participants answer the survey in Telegram: each update goes in through
:func:`bot.handlers.process_update` (what the webhook calls), the step runs in one database
transaction (update id, state and answer stored), and the replies go out through PTB's real HTTP
stack to the Bot API test server (:class:`tests.fakes.telegram_api.FakeBotApi`). 40 chats at a
time, as Telegram's 40 webhook connections; within a chat, one update after the other. Before
the clock starts every participant has opened the invitation and chosen Swedish; what is timed
are the seven updates that answer the six questions (tick, Klar, text, button, button, text,
button). The baseline is a PTB echo handler, one reply per text update, driven the same way by
the same code in the same run. Both run without PTB's rate limiter, to measure what the stack can
do; a last pair runs with it, as the service is configured, where Telegram's 30 messages a second
is the ceiling. Afterwards the database must hold six answers per participant.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import Goal, NotReady, Report, Table, percentile
from bench.services import add_participants, bench_database

CHATS_AT_ONCE = 40
PARTICIPANTS, QUICK_PARTICIPANTS, LIMITED_PARTICIPANTS = 400, 80, 40
FIRST_CHAT = 5_000_000


def survey_steps() -> list[tuple[str, str]]:
    """The seven updates that answer the survey: (press, button data prefix) or (write, text)."""
    from bot.questions import ANSWER, DONE, TICK
    from core.surveys import Q_ACTIVITIES, Q_CLOSER, Q_HEALTH, Q_QUOTE

    return [
        ("press", f"{TICK}:{Q_ACTIVITIES}:"), ("press", f"{DONE}:{Q_ACTIVITIES}"),
        ("write", "Samtalen med min coach och träningen på gymmet"),
        ("press", f"{ANSWER}:{Q_CLOSER}:"), ("press", f"{ANSWER}:{Q_HEALTH}:"),
        ("write", "Fler grupper på kvällen"), ("press", f"{ANSWER}:{Q_QUOTE}:"),
    ]  # fmt: skip


class Chat:
    """One participant's private chat: sends updates to the bot and finds its buttons."""

    def __init__(self, api: Any, application: Any, chat_id: int, latencies: list[float]) -> None:
        self.api, self.application, self.chat_id = api, application, chat_id
        self.latencies = latencies
        self.failed = 0
        self._seen = 0
        self._latest: dict[int, Any] = {}

    async def write(self, text: str) -> None:
        """The participant writes ``text``."""
        await self._deliver(self.api.user_text(self.chat_id, text, language_code="sv"))

    async def press(self, prefix: str) -> None:
        """The participant presses the newest button whose data starts with ``prefix``."""
        message_id, data = self._button(prefix)
        await self._deliver(self.api.user_presses(self.chat_id, message_id, data))

    async def _deliver(self, update: dict[str, Any]) -> None:
        """Hand the update to the bot as the webhook does; time it until the replies are sent."""
        from bot.handlers import process_update

        began = time.perf_counter()
        processed = await process_update(self.application, update)
        if not processed.ok:
            self.failed += 1
        elif processed.reply is not None:  # what Telegram does with the webhook's HTTP reply
            await self.api.apply_webhook_reply(processed.reply)
        self.latencies.append(time.perf_counter() - began)

    def _button(self, prefix: str) -> tuple[int, str]:
        """The message id and data of the newest button starting with ``prefix``."""
        sent = self.api.sent
        for message in sent[self._seen :]:
            if message.chat_id == self.chat_id:
                self._latest[message.message_id] = message
        self._seen = len(sent)
        for message_id in sorted(self._latest, reverse=True):
            for data in self._latest[message_id].button_data:
                if data.startswith(prefix):
                    return message_id, data
        raise LookupError(f"chat {self.chat_id}: no button {prefix!r}")


async def in_chats(
    chats: list[Chat], play: Callable[[Chat], Awaitable[None]]
) -> tuple[float, float]:
    """Run ``play`` in every chat, ``CHATS_AT_ONCE`` at a time; the seconds and CPU seconds."""
    gate = asyncio.Semaphore(CHATS_AT_ONCE)

    async def one(chat: Chat) -> None:
        async with gate:
            await play(chat)

    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(chat) for chat in chats))
    return time.perf_counter() - began, time.process_time() - cpu


def build_bot(api: Any, db: Any, *, rate_limited: bool) -> Any:
    """The service's PTB application, as ``app.telegram`` builds it, with the survey handlers.

    Without ``rate_limited`` the same application minus PTB's AIORateLimiter.
    """
    from telegram.ext import Application

    from app.telegram import build_application
    from bench.reminder_bench import bench_settings
    from bot.http import AiohttpRequest

    settings = bench_settings(api, str(db.engine.url) if db else "sqlite+aiosqlite:///unused")
    if rate_limited:
        return build_application(settings)
    return (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .request(AiohttpRequest())
        .updater(None)
        .job_queue(None)
        .build()
    )


async def echo(update: Any, context: Any) -> None:
    """Reply with the text received."""
    await update.effective_message.reply_text(update.effective_message.text)


async def measure_echo(participants: int, *, rate_limited: bool) -> dict[str, Any]:
    """The echo handler: seven text updates per chat, one reply each."""
    from telegram.ext import MessageHandler, filters

    from tests.fakes.telegram_api import FakeBotApi

    async with FakeBotApi() as api:
        application = build_bot(api, None, rate_limited=rate_limited)
        application.add_handler(MessageHandler(filters.TEXT, echo))
        latencies: list[float] = []
        chats = [Chat(api, application, FIRST_CHAT + n, latencies) for n in range(participants)]
        steps = len(survey_steps())
        async with application:

            async def chatter(chat: Chat) -> None:
                for n in range(steps):
                    await chat.write(f"hej {n}")

            seconds, cpu = await in_chats(chats, chatter)
        replies = len(api.sent)
    return {
        "updates": participants * steps,
        "seconds": seconds,
        "cpu_s": cpu,
        "latencies": latencies,
        "failed": sum(c.failed for c in chats),
        "replies": replies,
    }


async def invite(db: Any, people: list[Any]) -> list[str]:
    """A Telegram invitation for each participant; their tokens, in order."""
    from storage import invitations

    async with db.transaction() as session:
        new = await invitations.create_invitations(session, people, channel="telegram", days=30)
    return [invitation.token for invitation in new]


async def measure_survey(kind: str, participants: int, *, rate_limited: bool) -> dict[str, Any]:
    """The survey bot on a ``kind`` database: start and language untimed, then the answers."""
    from bot.handlers import register
    from storage.models import Answer
    from tests.fakes.telegram_api import FakeBotApi

    steps = survey_steps()
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as tmp:
        async with bench_database(kind, Path(tmp)) as db, FakeBotApi() as api:
            people = await add_participants(db, participants)
            tokens = await invite(db, people)
            application = build_bot(api, db, rate_limited=rate_limited)
            register(application, db)
            latencies: list[float] = []
            chats = [Chat(api, application, FIRST_CHAT + n, latencies) for n in range(participants)]
            async with application:

                async def opens(chat: Chat) -> None:
                    await chat.write(f"/start {tokens[chat.chat_id - FIRST_CHAT]}")
                    await chat.press("lang:sv")

                async def answers(chat: Chat) -> None:
                    for action, argument in steps:
                        await (chat.press if action == "press" else chat.write)(argument)

                await in_chats(chats, opens)
                latencies.clear()
                replies_before = len(api.sent)
                seconds, cpu = await in_chats(chats, answers)
            async with db.sessions() as session:
                stored = int(await session.scalar(select(func.count()).select_from(Answer)) or 0)
            replies = len(api.sent) - replies_before
    return {
        "updates": participants * len(steps),
        "seconds": seconds,
        "cpu_s": cpu,
        "latencies": latencies,
        "failed": sum(c.failed for c in chats),
        "replies": replies,
        "answers_stored": stored,
        "answers_expected": participants * 6,
    }


async def run(quick: bool) -> Report:
    """Echo, then the survey on SQLite and PostgreSQL, unlimited; then both rate-limited."""
    participants = QUICK_PARTICIPANTS if quick else PARTICIPANTS
    results = {"PTB echo (baseline)": await measure_echo(participants, rate_limited=False)}
    results["survey bot, SQLite"] = await measure_survey("sqlite", participants, rate_limited=False)
    notes = []
    try:
        results["survey bot, PostgreSQL"] = await measure_survey(
            "postgresql", participants, rate_limited=False
        )
    except NotReady as missing:
        notes.append(f"PostgreSQL not measured: {missing}")
    limited = {
        "PTB echo, rate limiter on": await measure_echo(LIMITED_PARTICIPANTS, rate_limited=True),
        "survey bot, SQLite, rate limiter on": await measure_survey(
            "sqlite", LIMITED_PARTICIPANTS, rate_limited=True
        ),
    }
    return bot_report(results, limited, notes)


def figures(result: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float]:
    """Updates per second, the ratio to the baseline's, and the median and p99 latency in ms."""
    rate = result["updates"] / result["seconds"]
    return {
        "updates_per_s": rate,
        "ratio_to_echo": rate / (baseline["updates"] / baseline["seconds"]),
        "p50_ms": percentile(result["latencies"], 50) * 1000,
        "p99_ms": percentile(result["latencies"], 99) * 1000,
    }


def bot_report(
    results: dict[str, dict[str, Any]], limited: dict[str, dict[str, Any]], notes: list[str]
) -> Report:
    """Tables and goals: updates per second and the ratio to the echo handler."""
    columns = [
        "handler",
        "updates",
        "seconds",
        "updates/s",
        "ratio to echo",
        "p50 ms",
        "p99 ms",
        "messages sent",
        "answers stored",
        "failed",
    ]
    report = Report("bot", "Survey answers through the bot", notes=notes)
    for title, group in (
        (f"Without PTB's rate limiter ({CHATS_AT_ONCE} chats at a time)", results),
        ("As configured, with AIORateLimiter (Telegram's 30 messages/s)", limited),
    ):
        table = Table(title, columns)
        baseline = next(iter(group.values()))
        for name, result in group.items():
            f = figures(result, baseline)
            stored = result.get("answers_stored")
            table.rows.append(
                [
                    name,
                    result["updates"],
                    result["seconds"],
                    f["updates_per_s"],
                    f["ratio_to_echo"],
                    f["p50_ms"],
                    f["p99_ms"],
                    result["replies"],
                    "—" if stored is None else f"{stored} / {result['answers_expected']}",
                    result["failed"],
                ]
            )
            report.raw[name] = {k: v for k, v in result.items() if k != "latencies"} | f
            if group is results and stored is not None:
                ratio = f["ratio_to_echo"]
                report.goals.append(
                    Goal(f"{name}: answer updates/s ≥ 0.5 × echo", f"{ratio:.2f}", ratio >= 0.5)
                )
        report.tables.append(table)
    return report
