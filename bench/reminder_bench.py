"""Reminders to many participants against a Bot API test server that enforces Telegram's limits.

10 000 participants (1 000 with ``--quick``) began the survey in Telegram ten days ago and are
due a reminder. The reminder job's body, :func:`bot.reminders.send_reminders`, sends them
through the service's own python-telegram-bot application (``app.telegram.build_application``,
with its rate limiter) to ``FakeBotApi(global_rate=30, per_chat_rate=1, retry_after=1)``, which
answers 429 with ``retry_after`` to anything over 30 messages a second. The figure is the total
time over the theoretical minimum, count / 30 s; every chat must get exactly one reminder
(counted from what the server accepted) and the database must count exactly one per invitation.
The clock given to the job is Stockholm midday, so the run never meets the quiet hours.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import func, select, update

from bench import Goal, Report, Table
from bench.services import BENCH_SECRET, add_participants, bench_database

RATE = 30
REMINDERS, QUICK_REMINDERS = 10_000, 1_000
FIRST_CHAT = 1_000_000


def daytime_clock() -> Callable[[], datetime]:
    """Midday today in Stockholm, moving on in real time from now."""
    from core.clock import SWEDEN

    start = datetime.combine(date.today(), clock_time(12), SWEDEN)
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


async def add_due_reminders(db, count: int, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """``count`` participants whose Telegram survey has waited ten days, one chat each."""
    from storage import invitations
    from storage.models import Invitation

    people = await add_participants(db, count)
    async with db.transaction() as session:
        await invitations.create_invitations(session, people, channel="telegram", days=30, now=now)
        await session.execute(
            update(Invitation).values(
                claimed_at=now - timedelta(days=10),
                language="sv",
                telegram_chat_id=FIRST_CHAT + Invitation.id,
            )
        )


def bench_settings(api, database_url: str):  # type: ignore[no-untyped-def]
    """The service's settings with the bot on, talking to the test server (webhook mode)."""
    from app.settings import Secret, Settings

    return Settings(
        database_url=Secret(database_url),
        secret_key=Secret(BENCH_SECRET),
        telegram_token=Secret(api.token),
        telegram_api_url=api.base_url,
        telegram_mode="webhook",
        telegram_webhook_secret=Secret("bench-webhook-secret"),
    )


async def reminders_stored(db) -> Counter[int]:  # type: ignore[no-untyped-def]
    """How many invitations the database counts with each number of reminders sent."""
    from storage.models import Invitation

    async with db.sessions() as session:
        rows = await session.execute(
            select(Invitation.reminders_sent, func.count()).group_by(Invitation.reminders_sent)
        )
        return Counter({sent: n for sent, n in rows.all()})


async def run(quick: bool) -> Report:
    """Send every due reminder once; time it against count / 30 s."""
    from app.telegram import build_application
    from bot.reminders import send_reminders
    from tests.fakes.telegram_api import FakeBotApi

    count = QUICK_REMINDERS if quick else REMINDERS
    clock = daytime_clock()
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as tmp:
        async with (
            bench_database("sqlite", Path(tmp)) as db,
            FakeBotApi(global_rate=RATE, per_chat_rate=1, retry_after=1) as api,
        ):
            await add_due_reminders(db, count, clock())
            application = build_application(bench_settings(api, str(db.engine.url)))
            async with application:
                began = time.perf_counter()
                result = await send_reminders(db, application.bot, after_days=3, clock=clock)
                seconds = time.perf_counter() - began
            stored = await reminders_stored(db)
            per_chat = Counter(message.chat_id for message in api.sent)
            rejected = api.rejected_429
    return reminder_report(count, seconds, per_chat, stored, rejected, len(result.failed))


def reminder_report(
    count: int,
    seconds: float,
    per_chat: Counter[int],
    stored: Counter[int],
    rejected: int,
    failed: int,
) -> Report:
    """The table and goals of one reminder run."""
    minimum = count / RATE
    lost = count - len(per_chat)
    twice = sum(n - 1 for n in per_chat.values() if n > 1)
    table = Table(
        f"{count} reminders at {RATE} messages/s (429 with retry_after 1 s above that)",
        [
            "reminders",
            "seconds",
            "minimum s",
            "ratio",
            "sent/s",
            "429s",
            "lost",
            "sent twice",
            "DB: one each",
        ],
    )
    ratio = seconds / minimum
    table.rows.append(
        [
            count,
            seconds,
            minimum,
            ratio,
            sum(per_chat.values()) / seconds,
            rejected,
            lost,
            twice,
            stored.get(1, 0) == count,
        ]
    )
    report = Report("reminder", "Reminders to many participants", tables=[table])
    report.goals += [
        Goal("total time within 1.1 × the minimum", f"{ratio:.3f}", ratio <= 1.1),
        Goal("no reminder lost, none sent twice", f"{lost} lost, {twice} twice",
             lost == twice == 0),
    ]  # fmt: skip
    if failed:
        report.notes.append(f"{failed} reminders were given back for a later run.")
    report.raw = {
        "count": count,
        "seconds": seconds,
        "minimum_s": minimum,
        "rejected_429": rejected,
        "lost": lost,
        "sent_twice": twice,
        "failed": failed,
        "db_reminders_sent": dict(stored),
    }
    return report
