"""Reminders to participants who began the survey in Telegram but have not finished it.

A reminder goes out after ``reminder_after_days`` without an answer, at most twice per
invitation, never between 20:00 and 08:00 Swedish time, and never after ``/stopp``. Sending is
paced by the bot's own rate limiter, python-telegram-bot's ``AIORateLimiter``
(:func:`app.telegram.build_application`): about 30 messages a second overall, and a 429 answer
holds every request for its ``retry_after`` and is tried again. Each reminder is counted before
it is sent (:mod:`services.reminders`), so two runs never send the same one; one that cannot be
sent is given back, and the next run sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError

from bot import texts
from bot.questions import RESUME, STOP
from core.clock import SWEDEN, utcnow
from services import reminders
from services.reminders import DueReminder
from storage.db import Database

log = logging.getLogger("samverkan.reminders")
QUIET_FROM, QUIET_UNTIL = clock_time(20, 0), clock_time(8, 0)


def in_quiet_hours(moment: datetime) -> bool:
    """Whether ``moment`` is between 20:00 and 08:00 in Europe/Stockholm."""
    local = moment.astimezone(SWEDEN).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


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
    clock: Callable[[], datetime] = utcnow,
) -> ReminderRun:
    """Remind every participant who is due, outside quiet hours; the bot's limiter paces them."""
    run = ReminderRun()
    for reminder in await reminders.due_reminders(db, now=clock(), after_days=after_days):
        if in_quiet_hours(clock()):
            run.quiet = True
            break
        if not await reminders.claim_reminder(db, reminder, now=clock()):
            continue
        delivered = await _deliver(db, bot, reminder)
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


async def _deliver(db: Database, bot: Bot, reminder: DueReminder) -> bool:
    """Send one reminder; give it back if it fails, stop reminders if the bot was blocked."""
    text, keyboard = reminder_message(reminder.language)
    try:
        await bot.send_message(reminder.chat_id, text, reply_markup=keyboard)
        return True
    except Forbidden:
        await reminders.stop_reminders_for(db, reminder)
        return False
    except TelegramError:  # the limiter's retries used up, a network error, a bad request
        log.warning("reminders.send_failed", extra={"invitation": reminder.invitation_id})
    await reminders.give_back_reminder(db, reminder)
    return False
