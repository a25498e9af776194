"""Reminding participants who began the survey in Telegram: which are due, counting, giving back.

A reminder is counted in the database *before* it is sent, with an atomic update, so two runs
never send the same one; one that could not be sent is given back with the time of the
reminder before it, so the next run sends it.
"""

from __future__ import annotations

from datetime import datetime

from storage import invitations
from storage.db import Database
from storage.invitations import DueReminder

__all__ = ["DueReminder", "claim_reminder", "due_reminders", "give_back_reminder"]


async def due_reminders(db: Database, *, now: datetime, after_days: int) -> list[DueReminder]:
    """Unfinished Telegram invitations idle ``after_days`` since the last answer or reminder."""
    async with db.sessions() as session:
        return await invitations.due_reminders(session, now=now, after_days=after_days)


async def claim_reminder(db: Database, reminder: DueReminder, *, now: datetime) -> bool:
    """Count the reminder before sending it; False when it is no longer due."""
    async with db.transaction() as session:
        return await invitations.mark_reminder_sent(session, reminder.invitation_id, now=now)


async def give_back_reminder(db: Database, reminder: DueReminder) -> None:
    """A reminder that was not sent: due again at the next run."""
    async with db.transaction() as session:
        await invitations.unmark_reminder(
            session, reminder.invitation_id, reminder.last_reminder_at
        )


async def stop_reminders_for(db: Database, reminder: DueReminder) -> None:
    """No more reminders for this invitation (the participant blocked the bot)."""
    async with db.transaction() as session:
        await invitations.stop_reminders_for(session, reminder.invitation_id)
