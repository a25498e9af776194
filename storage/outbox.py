"""Queries of the outbox (e-mail and SMS): queue, claim what is due, record how a delivery went.

An SMS is stored like an e-mail: its one recipient (the phone number, E.164) in ``recipients``,
its text in ``body``, an empty ``subject``, and ``channel`` ``sms``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, SyncExecutor
from storage.models import OutboxMessage


@dataclass(frozen=True)
class Mail:
    """One message to send: who to, subject and plain-text body."""

    recipients: tuple[str, ...]
    subject: str
    body: str


@dataclass(frozen=True)
class ClaimedMail:
    """A message this process has claimed for sending (an SMS: one recipient, no subject)."""

    id: int
    kind: str
    attempts: int
    mail: Mail
    channel: str = "email"


EMAIL, SMS = "email", "sms"


OUTBOX = cast(Table, OutboxMessage.__table__)


def _row(kind: str, mail: Mail, now: datetime, about: dict[str, Any]) -> dict[str, Any]:
    """The stored columns of a new message, due at once (or at ``due_at`` in ``about``)."""
    recipients = json.dumps(list(mail.recipients))
    return {"kind": kind, "recipients": recipients, "subject": mail.subject, "body": mail.body,
            "created_at": now, "due_at": now, "attempts": 0, **about}  # fmt: skip


async def add(session: AsyncSession, kind: str, mail: Mail, *, now: datetime, **about: Any) -> int:
    """Queue ``mail`` in the caller's transaction; its id.

    ``about``: team_id, object_type/id; ``channel`` (``sms``: one recipient, the phone number)
    and ``due_at`` (not before then; default ``now``).
    """
    statement = insert(OUTBOX).returning(OUTBOX.c.id)
    result = await session.execute(statement, [_row(kind, mail, now, about)])
    return int(result.scalar_one())


def add_sync(session: SyncExecutor, kind: str, mail: Mail, *, now: datetime, **about: Any) -> None:
    """:func:`add` for synchronous code (``Database.run_transaction``), as a plain insert."""
    session.execute(_INSERT, _row(kind, mail, now, about))


_INSERT = insert(OUTBOX)  # built once


async def claim_due(
    db: Database,
    holder: str,
    *,
    now: datetime,
    lease: timedelta,
    limit: int = 20,
    channel: str = EMAIL,
) -> list[ClaimedMail]:
    """Claim up to ``limit`` due messages of ``channel`` for ``holder`` until ``now + lease``.

    A message claimed by another process (and not yet released or expired) is passed over,
    so each message is handed to one sender at a time, on SQLite (the write lock) and on
    PostgreSQL (``FOR UPDATE SKIP LOCKED`` and the claim re-checked in the UPDATE).
    """
    free = (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now)
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.due_at <= now,
            OutboxMessage.channel == channel,
            free,
        )
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    async with db.transaction() as session:
        if db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list((await session.scalars(due)).all())
        if not ids:
            return []
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), free)
            .values(claimed_by=holder, claimed_until=now + lease)
        )
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == holder)
            .order_by(OutboxMessage.id)
        )
        return [_claimed(row) for row in rows]


def _claimed(row: OutboxMessage) -> ClaimedMail:
    mail = Mail(tuple(json.loads(row.recipients)), row.subject, row.body)
    return ClaimedMail(row.id, row.kind, row.attempts, mail, row.channel)


async def mark_sent(
    db: Database,
    message_id: int,
    holder: str,
    *,
    now: datetime,
    provider_id: str | None = None,
    delivery_status: str | None = None,
) -> None:
    """Record a delivery: the message is done (an SMS: with the provider's id and status)."""
    async with db.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == holder)
            .values(
                sent_at=now,
                attempts=OutboxMessage.attempts + 1,
                claimed_until=None,
                last_error=None,
                provider_id=provider_id,
                delivery_status=delivery_status,
            )
        )


async def record_delivery_report(
    db: Database, message_id: int, provider_id: str, *, status: str, delivered_at: datetime | None
) -> bool:
    """Store what the SMS provider reported for a sent message; False when there is none."""
    async with db.transaction() as session:
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.channel == SMS,
                OutboxMessage.sent_at.is_not(None),
                OutboxMessage.provider_id == provider_id,
            )
            .values(delivery_status=status, delivered_at=delivered_at)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_failed(
    db: Database,
    message_id: int,
    holder: str,
    *,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> None:
    """Record a failed attempt: due again at ``retry_at``, or given up when that is None."""
    values: dict[str, Any] = {
        "attempts": OutboxMessage.attempts + 1,
        "last_error": error[:200],
        "claimed_until": None,
    }
    if retry_at is None:
        values["failed_at"] = now
    else:
        values["due_at"] = retry_at
    async with db.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == holder)
            .values(**values)
        )


async def forget_done(db: Database, *, before: datetime) -> int:
    """Delete messages sent or given up before ``before`` (their addresses go with them)."""
    done = (OutboxMessage.sent_at < before) | (OutboxMessage.failed_at < before)
    async with db.transaction() as session:
        result = await session.execute(delete(OutboxMessage).where(done))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MailStatus:
    """How one queued message stands, as a record's page shows it."""

    kind: str
    created_at: datetime
    attempts: int
    sent_at: datetime | None
    failed_at: datetime | None
    last_error: str | None
    channel: str = EMAIL
    due_at: datetime | None = None
    delivery_status: str | None = None
    delivered_at: datetime | None = None


async def for_object(
    session: AsyncSession, object_type: str, object_id: int, *, kinds: Sequence[str] = ()
) -> list[MailStatus]:
    """The messages queued about one record (only of ``kinds`` if given), oldest first."""
    statement = select(
        OutboxMessage.kind,
        OutboxMessage.created_at,
        OutboxMessage.attempts,
        OutboxMessage.sent_at,
        OutboxMessage.failed_at,
        OutboxMessage.last_error,
        OutboxMessage.channel,
        OutboxMessage.due_at,
        OutboxMessage.delivery_status,
        OutboxMessage.delivered_at,
    ).where(OutboxMessage.object_type == object_type, OutboxMessage.object_id == object_id)
    if kinds:
        statement = statement.where(OutboxMessage.kind.in_(kinds))
    rows = await session.execute(statement.order_by(OutboxMessage.id))
    return [MailStatus(**row._asdict()) for row in rows.all()]


async def counts(db: Database, channel: str = EMAIL) -> dict[str, int]:
    """Messages of ``channel`` by state: ``pending``, ``sent`` and ``failed`` (for /metrics)."""
    of_channel = OutboxMessage.channel == channel
    async with db.sessions() as session:
        pending = await session.scalar(
            select(func.count()).where(
                of_channel, OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
            )
        )
        sent = await session.scalar(
            select(func.count()).where(of_channel, OutboxMessage.sent_at.is_not(None))
        )
        failed = await session.scalar(
            select(func.count()).where(of_channel, OutboxMessage.failed_at.is_not(None))
        )
    return {"pending": int(pending or 0), "sent": int(sent or 0), "failed": int(failed or 0)}


def recipients_of(rows: Sequence[ClaimedMail]) -> int:
    """How many recipients the messages have in all (logged, never the addresses)."""
    return sum(len(row.mail.recipients) for row in rows)
