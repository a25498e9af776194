"""Survey answers through the bot, end to end, against a python-telegram-bot echo handler.

Participants answer the survey in Telegram: each update goes in through
:func:`bot.handlers.process_update` (what the webhook calls: webhook mode, as in production), the
step runs in one database transaction (update id, state and answer stored), the replies go out
through PTB's HTTP stack to the Bot API test server (:class:`tests.fakes.telegram_api.FakeBotApi`),
and a method call in the webhook's reply (answering the pressed button) is carried out by the test
server as Telegram would. 40 chats at a time, as Telegram's 40 webhook connections; within a chat,
one update after the other. Before the clock starts every participant has opened the invitation
and chosen Swedish; what is timed are the seven updates that answer the six questions (tick,
Klar, text, button, button, text, button). The baseline is a PTB echo handler, one reply per
text update, driven the same way, with the same request layer as the bot's (each tree's own:
PTB's default httpx layer before, :class:`bot.http.AiohttpRequest` now), in the same round.

Each round (echo, SQLite, PostgreSQL) runs in a process of its own, in this tree and, with
``SAMVERKAN_BENCH_BEFORE=/path/to/checkout``, in that tree too, alternating, so a change is
compared on the same machine at the same time; the report gives the median and range of the
rounds. Besides updates per second it counts, for the timed phase, Bot API calls over HTTP, SQL
statements, commits and thread hops per update. Both run without PTB's rate limiter, to measure
what the stack can do; a last pair runs with it, as the service is configured, where Telegram's
30 messages a second is the ceiling. Afterwards the database must hold six answers per
participant.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import Goal, Report, Table, median, percentile
from bench.services import ROOT, add_participants, bench_database

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


#: One round in a source tree, run as ``python -c ROUND_RUNNER KINDS PARTICIPANTS`` in that tree:
#: it uses only what every tree's bench has (``measure_echo``, ``measure_survey``, the test
#: server), and counts what the timed phase (the last ``in_chats``) did: Bot API calls over
#: HTTP, SQL statements (SELECT/INSERT/UPDATE/DELETE, and WITH: one statement with data-modifying
#: CTEs counts once), commits, and thread hops (callbacks
#: handed to the event loop from another thread, as aiosqlite and asyncio.to_thread do).
ROUND_RUNNER = r"""
import asyncio, collections, json, sys
from sqlalchemy import Engine, event
import bench.bot_bench as b
from bench import NotReady, percentile
from tests.fakes import telegram_api

counts = collections.Counter()
handle = telegram_api.FakeBotApi._handle
async def counted_handle(self, request):
    counts["api_calls"] += 1
    return await handle(self, request)
telegram_api.FakeBotApi._handle = counted_handle
def statement(conn, cursor, text, *args):
    if text.split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
        counts["sql"] += 1
event.listen(Engine, "before_cursor_execute", statement)
event.listen(Engine, "commit", lambda conn: counts.update(["commits"]))
threadsafe = asyncio.BaseEventLoop.call_soon_threadsafe
def counted_threadsafe(self, *args, **kwargs):
    counts["thread_hops"] += 1
    return threadsafe(self, *args, **kwargs)
asyncio.BaseEventLoop.call_soon_threadsafe = counted_threadsafe
phases = []
in_chats = b.in_chats
async def counted_in_chats(chats, play):
    counts.clear()
    result = await in_chats(chats, play)
    phases.append(dict(counts))
    return result
b.in_chats = counted_in_chats

async def main(kinds, participants):
    out = {}
    for kind in kinds:
        try:
            if kind == "echo":
                r = await b.measure_echo(participants, rate_limited=False)
            else:
                r = await b.measure_survey(kind, participants, rate_limited=False)
        except NotReady as missing:
            out[kind] = {"not_ready": str(missing)}
            continue
        latencies = r.pop("latencies")
        r |= {"p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000}
        out[kind] = r | {"counts": phases[-1]}
    print(json.dumps(out))

asyncio.run(main(sys.argv[1].split(","), int(sys.argv[2])))
"""
KINDS = {
    "echo": "PTB echo (baseline)",
    "sqlite": "survey bot, SQLite",
    "postgresql": "survey bot, PostgreSQL",
}
ROUNDS, QUICK_ROUNDS = 3, 2


def trees() -> list[tuple[str, Path]]:
    """The source trees to measure: this one, after the "before" tree when one is given."""
    before = os.environ.get("SAMVERKAN_BENCH_BEFORE")
    return ([("before", Path(before))] if before else []) + [("now", ROOT)]


async def measure_round(root: Path, participants: int) -> dict[str, dict[str, Any]]:
    """One round (echo, SQLite, PostgreSQL) in the tree at ``root``, in a process of its own."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        ROUND_RUNNER,
        ",".join(KINDS),
        str(participants),
        cwd=root,
        env=os.environ | {"PTB_TIMEDELTA": "1", "PYTHONPATH": str(root)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output, errors = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the round in {root} failed: {errors.decode()[-2000:]}")
    result: dict[str, dict[str, Any]] = json.loads(output.decode().splitlines()[-1])
    return result


async def run(quick: bool) -> Report:
    """Rounds of echo, SQLite and PostgreSQL in each tree, alternating; then rate-limited."""
    participants = QUICK_PARTICIPANTS if quick else PARTICIPANTS
    rounds: dict[str, list[dict[str, dict[str, Any]]]] = {tree: [] for tree, _ in trees()}
    for _ in range(QUICK_ROUNDS if quick else ROUNDS):
        for tree, root in trees():
            rounds[tree].append(await measure_round(root, participants))
    limited = {
        "PTB echo, rate limiter on": await measure_echo(LIMITED_PARTICIPANTS, rate_limited=True),
        "survey bot, SQLite, rate limiter on": await measure_survey(
            "sqlite", LIMITED_PARTICIPANTS, rate_limited=True
        ),
    }
    return bot_report(rounds, limited)


def spread(values: list[float]) -> str:
    """The median and, with more than one value, the range: ``0.45 (0.41–0.52)``."""
    middle = cell(median(values))
    return middle if len(values) < 2 else f"{middle} ({cell(min(values))}–{cell(max(values))})"


def cell(value: float) -> str:
    """A number to three significant figures."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def round_rows(rounds: dict[str, list[dict[str, dict[str, Any]]]]) -> tuple[Table, list[Goal]]:
    """Per tree and handler: medians (and ranges) over the rounds; the goals of "now"."""
    table = Table(
        f"Without PTB's rate limiter ({CHATS_AT_ONCE} chats at a time), webhook mode; "
        "median (range) of the rounds, trees alternating",
        [
            "tree", "handler", "updates/s", "ratio to echo", "CPU ms per update", "p50 ms",
            "p99 ms", "Bot API calls per update", "SQL statements per update",
            "commits per update", "thread hops per update", "answers stored", "failed",
        ],
    )  # fmt: skip
    goals = []
    for tree, results in rounds.items():
        for kind, name in KINDS.items():
            measured = [r for r in results if "updates" in r.get(kind, {})]
            if not measured:
                continue
            runs = [r[kind] for r in measured]
            rates = [run["updates"] / run["seconds"] for run in runs]
            ratios = [
                rate / (r["echo"]["updates"] / r["echo"]["seconds"])
                for rate, r in zip(rates, measured, strict=True)
            ]
            per = [run["counts"] for run in runs]
            updates = runs[0]["updates"]
            stored = sum(run.get("answers_stored", 0) for run in runs)
            expected = sum(run.get("answers_expected", 0) for run in runs)
            table.rows.append(
                [
                    tree, name, spread(rates), spread(ratios),
                    spread([run["cpu_s"] / run["updates"] * 1000 for run in runs]),
                    spread([run["p50_ms"] for run in runs]), spread([run["p99_ms"] for run in runs]),
                    *(
                        spread([c.get(key, 0) / updates for c in per])
                        for key in ("api_calls", "sql", "commits", "thread_hops")
                    ),
                    f"{stored} / {expected}" if expected else "—",
                    sum(run["failed"] for run in runs),
                ]
            )  # fmt: skip
            if tree == "now" and kind != "echo":
                ratio = median(ratios)
                goals.append(
                    Goal(f"{name}: answer updates/s ≥ 0.5 × echo", f"{ratio:.2f}", ratio >= 0.5)
                )
    return table, goals


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
    rounds: dict[str, list[dict[str, dict[str, Any]]]], limited: dict[str, dict[str, Any]]
) -> Report:
    """Tables and goals: updates per second and the ratio to the echo handler."""
    notes = [
        f"{kind}: not measured ({r[kind]['not_ready']})"
        for tree in rounds.values()
        for r in tree[:1]
        for kind in KINDS
        if "not_ready" in r.get(kind, {})
    ]
    if "before" in rounds:
        notes.append(
            f"before: the tree at {os.environ.get('SAMVERKAN_BENCH_BEFORE')} (its own bench code "
            "and request layer), run in alternation with this one."
        )
    notes.append(
        "Webhook mode, as in production: a pressed button is answered in the webhook's HTTP "
        "reply, so it costs no Bot API call; in polling mode that is a second call."
    )
    report = Report("bot", "Survey answers through the bot", notes=notes)
    table, report.goals = round_rows(rounds)
    report.tables.append(table)
    report.raw["rounds"] = rounds
    columns = ["handler", "updates", "seconds", "updates/s", "ratio to echo", "p50 ms", "p99 ms"]
    columns += ["messages sent", "answers stored", "failed"]
    table = Table("As configured, with AIORateLimiter (Telegram's 30 messages/s)", columns)
    baseline = next(iter(limited.values()))
    for name, result in limited.items():
        f = figures(result, baseline)
        stored = result.get("answers_stored")
        table.rows.append(
            [
                name, result["updates"], result["seconds"], f["updates_per_s"],
                f["ratio_to_echo"], f["p50_ms"], f["p99_ms"], result["replies"],
                "—" if stored is None else f"{stored} / {result['answers_expected']}",
                result["failed"],
            ]
        )  # fmt: skip
        report.raw[name] = {k: v for k, v in result.items() if k != "latencies"} | f
    report.tables.append(table)
    return report
