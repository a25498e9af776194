"""Reminders: after the set days, at most twice, never at night, paced under Telegram's limits."""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from telegram import Bot

from app.telegram import build_application
from bot.reminders import in_quiet_hours, reminder_message, send_reminders
from storage import invitations, surveys
from storage.db import Database
from storage.models import Invitation
from tests.bot.conftest import bot_settings
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team
from tests.fakes.telegram_api import FakeBotApi, SentMessage

MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm (CET)
STARTED = MORNING - timedelta(days=4)
FIRST_CHAT = 9000


async def started_in_telegram(db: Database, count: int, *, language: str = "sv") -> list[int]:
    """``count`` participants who began the survey in Telegram four days ago; their chat ids."""
    await make_team(db)
    chats = []
    for number in range(count):
        participant = await make_enrolled_participant(db, f"N-{number:03}")
        async with db.transaction() as session:
            [new] = await invitations.create_invitations(
                session, [participant], channel="telegram", days=30, now=STARTED
            )
            chat = FIRST_CHAT + number
            state = await invitations.claim_invitation(
                session, new.token, chat_id=chat, now=STARTED
            )
            await surveys.start_response(session, state, language, surveys_dir=None, now=STARTED)
        chats.append(chat)
    return chats


@asynccontextmanager
async def telegram_bot(api: FakeBotApi, settings) -> AsyncIterator[Bot]:  # type: ignore[no-untyped-def]
    """The bot as the service builds it (rate limiter and all), talking to the test server."""
    async with build_application(bot_settings(settings, api, mode="webhook")) as application:
        yield application.bot


def at(moment: datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


def busiest_second(messages: Sequence[SentMessage]) -> int:
    """The most messages accepted within any one-second window."""
    times = sorted(message.at for message in messages)
    return max((bisect.bisect_left(times, t + 1) - i for i, t in enumerate(times)), default=0)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (datetime(2026, 6, 15, 17, 59, tzinfo=UTC), False),  # 19:59 summer time
        (datetime(2026, 6, 15, 18, 0, tzinfo=UTC), True),  # 20:00
        (datetime(2026, 6, 15, 5, 59, tzinfo=UTC), True),  # 07:59
        (datetime(2026, 6, 15, 6, 0, tzinfo=UTC), False),  # 08:00
        (datetime(2026, 1, 15, 18, 59, tzinfo=UTC), False),  # 19:59 winter time
        (datetime(2026, 1, 15, 19, 0, tzinfo=UTC), True),  # 20:00
        (datetime(2026, 1, 15, 7, 0, tzinfo=UTC), False),  # 08:00
        (datetime(2026, 3, 29, 6, 30, tzinfo=UTC), False),  # 08:30 on the day clocks go forward
    ],
)
def test_quiet_hours_are_from_20_to_08_in_stockholm(moment: datetime, quiet: bool) -> None:
    assert in_quiet_hours(moment) is quiet


async def test_a_participant_who_has_not_finished_is_reminded_in_their_language(
    api: FakeBotApi, settings, db: Database
) -> None:
    [chat] = await started_in_telegram(db, 1, language="ar")

    async with telegram_bot(api, settings) as bot:
        run = await send_reminders(db, bot, after_days=3, clock=at(MORNING))

    [sent] = api.messages_to(chat)
    text, keyboard = reminder_message("ar")
    assert sent.text == text and sent.button_data == ["resume", "stop"]
    assert len(run.sent) == 1 and not run.quiet


async def test_no_reminders_are_sent_in_the_evening_or_at_night(
    api: FakeBotApi, settings, db: Database
) -> None:
    await started_in_telegram(db, 2)
    evening = MORNING.replace(hour=19, minute=30)  # 20:30 in Stockholm

    async with telegram_bot(api, settings) as bot:
        run = await send_reminders(db, bot, after_days=3, clock=at(evening))

    assert run.quiet and run.sent == [] and api.sent == []
    async with db.sessions() as session:
        assert {i.reminders_sent for i in await session.scalars(select(Invitation))} == {0}


async def test_at_most_two_reminders_with_the_set_days_between(
    api: FakeBotApi, settings, db: Database
) -> None:
    [chat] = await started_in_telegram(db, 1)

    async with telegram_bot(api, settings) as bot:
        for days in (0, 0, 1, 3, 6, 9, 30):
            await send_reminders(db, bot, after_days=3, clock=at(MORNING + timedelta(days=days)))

    assert len(api.messages_to(chat)) == 2


async def test_reminders_are_paced_under_the_flood_limits_none_lost_none_twice(
    settings, db: Database
) -> None:
    chats = await started_in_telegram(db, 45)

    async with (
        FakeBotApi(global_rate=30, per_chat_rate=1) as api,  # Telegram's limits
        telegram_bot(api, settings) as bot,
    ):
        run = await send_reminders(db, bot, after_days=3, clock=at(MORNING))  # the default pacing

    assert Counter(message.chat_id for message in api.sent) == Counter(chats)
    assert api.rejected_429 == 0 and busiest_second(api.sent) <= 30
    assert len(run.sent) == 45 and run.failed == []


async def test_a_429_is_waited_out_and_the_reminder_sent_once(settings, db: Database) -> None:
    chats = await started_in_telegram(db, 8)

    async with FakeBotApi(global_rate=3, retry_after=1) as api, telegram_bot(api, settings) as bot:
        started = time.monotonic()
        run = await send_reminders(db, bot, after_days=3, clock=at(MORNING))
        seconds = time.monotonic() - started

    assert api.rejected_429 > 0 and seconds >= 1  # told to wait a second, and it did
    assert Counter(message.chat_id for message in api.sent) == Counter(chats)
    assert len(run.sent) == 8


async def test_a_participant_who_blocked_the_bot_is_not_reminded_again(
    api: FakeBotApi, settings, db: Database
) -> None:
    [chat] = await started_in_telegram(db, 1)
    api.blocked.add(chat)

    async with telegram_bot(api, settings) as bot:
        run = await send_reminders(db, bot, after_days=3, clock=at(MORNING))

    async with db.sessions() as session:
        invitation = await session.scalar(select(Invitation))
    assert run.failed == [invitation.id] and invitation.reminders_stopped


async def test_a_reminder_that_failed_is_sent_at_the_next_run(
    api: FakeBotApi, settings, db: Database
) -> None:
    [chat] = await started_in_telegram(db, 1)
    api.fail_next("sendMessage")

    async with telegram_bot(api, settings) as bot:
        first = await send_reminders(db, bot, after_days=3, clock=at(MORNING))
        next_run = await send_reminders(
            db, bot, after_days=3, clock=at(MORNING + timedelta(minutes=15))
        )

    assert (len(first.failed), len(first.sent)) == (1, 0)
    assert len(next_run.sent) == 1 and len(api.messages_to(chat)) == 1
