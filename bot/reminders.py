"""Reminders to participants who began the survey in Telegram but have not finished it.

A reminder goes out after ``reminder_after_days`` without an answer, at most twice per
invitation, never between 20:00 and 08:00 Swedish time, and never after ``/stopp``. Sending is
paced under Telegram's limits (about 30 messages a second overall, one a second per chat) and a
429 answer is waited out (``retry_after``) and tried again. Each reminder is counted in the
database *before* it is sent, with an atomic update, so two runs never send the same one; one
that cannot be sent is given back for a later run.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, RetryAfter, TelegramError

from bot import texts
from bot.questions import RESUME, STOP
from core.clock import SWEDEN, utcnow
from storage import invitations
from storage.db import Database

log = logging.getLogger("samverkan.reminders")
QUIET_FROM, QUIET_UNTIL = clock_time(20, 0), clock_time(8, 0)
MESSAGES_PER_SECOND = 30.0
SECONDS_PER_CHAT = 1.0
MAX_ATTEMPTS = 4


def in_quiet_hours(moment: datetime) -> bool:
    """Whether ``moment`` is between 20:00 and 08:00 in Europe/Stockholm."""
    local = moment.astimezone(SWEDEN).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


class Pacer:
    """Keeps sends within ``rate`` a second overall and one per ``per_chat`` seconds per chat.

    Sends are spaced evenly, and a send waits until a second has passed since the one ``rate``
    sends before it *finished*: however long requests take on the way, Telegram never sees more
    than ``rate`` of them within a second.
    """

    def __init__(self, rate: float = MESSAGES_PER_SECOND, per_chat: float = SECONDS_PER_CHAT):
        self.interval, self.per_chat = 1.0 / rate, per_chat
        self._next = 0.0
        self._finished: deque[float] = deque(maxlen=max(1, int(rate)))
        self._chats: dict[int, float] = {}

    @asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        """Wait until a message to ``chat_id`` is within the limits; send it inside the block."""
        now = time.monotonic()
        ready = max(now, self._next, self._chats.get(chat_id, -math.inf) + self.per_chat)
        if len(self._finished) == self._finished.maxlen:
            ready = max(ready, self._finished[0] + 1.0)
        self._next = ready + self.interval
        await asyncio.sleep(ready - now)
        try:
            yield
        finally:
            self._finished.append(time.monotonic())
            self._chats[chat_id] = time.monotonic()


@dataclass
class ReminderRun:
    """What one run did: invitation ids reminded, given back, and whether quiet hours stopped it."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    quiet: bool = False


async def send_reminders(
    db: Database,
    bot: Bot,
    *,
    after_days: int,
    pacer: Pacer | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> ReminderRun:
    """Remind every participant who is due, within Telegram's limits and outside quiet hours."""
    pacer, run = pacer or Pacer(), ReminderRun()
    async with db.sessions() as session:
        due = await invitations.due_reminders(session, now=clock(), after_days=after_days)
    for reminder in due:
        if in_quiet_hours(clock()):
            run.quiet = True
            break
        async with db.transaction() as session:
            if not await invitations.mark_reminder_sent(
                session, reminder.invitation_id, now=clock()
            ):
                continue
        delivered = await _deliver(db, bot, pacer, reminder)
        (run.sent if delivered else run.failed).append(reminder.invitation_id)
    log.info(
        "reminders.run",
        extra={"sent": len(run.sent), "failed": len(run.failed), "quiet": run.quiet},
    )
    return run


def reminder_message(language: str) -> tuple[str, InlineKeyboardMarkup]:
    """The reminder's text and its buttons (Fortsätt, Inga fler påminnelser)."""
    buttons = [
        [InlineKeyboardButton(texts.translate(language, texts.CONTINUE), callback_data=RESUME)],
        [InlineKeyboardButton(texts.translate(language, texts.STOP_REMINDERS), callback_data=STOP)],
    ]
    return texts.translate(language, texts.REMINDER), InlineKeyboardMarkup(buttons)


async def _deliver(db: Database, bot: Bot, pacer: Pacer, reminder: invitations.DueReminder) -> bool:
    """Send one reminder, waiting out 429s; stop reminders for a chat that blocked the bot."""
    text, keyboard = reminder_message(reminder.language)
    for _attempt in range(MAX_ATTEMPTS):
        try:
            async with pacer.slot(reminder.chat_id):
                await bot.send_message(reminder.chat_id, text, reply_markup=keyboard)
            return True
        except RetryAfter as error:
            delay = error.retry_after
            await asyncio.sleep(delay.total_seconds() if isinstance(delay, timedelta) else delay)
        except Forbidden:
            async with db.transaction() as session:
                await invitations.stop_reminders_for(session, reminder.invitation_id)
            return False
        except TelegramError:
            log.warning("reminders.send_failed", extra={"invitation": reminder.invitation_id})
            break
    async with db.transaction() as session:
        await invitations.unmark_reminder(session, reminder.invitation_id)
    return False
