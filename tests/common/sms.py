"""SMS and e-mail invitations: a participant with contact details, moments in and out of quiet
hours, and the outbox rows of SMS as they are stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import OutboxMessage, Participant
from tests.common.surveys import make_enrolled_participant

#: 12:00 in Stockholm (CET, UTC+1): outside quiet hours.
NOON = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
#: 21:30 in Stockholm: inside quiet hours, which end at 08:00 (07:00 UTC) the next morning.
EVENING = datetime(2026, 3, 10, 20, 30, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)


async def participant_with_contact(
    db: Database,
    person_ref: str = "N-001",
    *,
    phone: str | None = "070-123 45 67",
    email: str | None = None,
    name: str | None = "Sara Exempel",
    language: str | None = None,
    team: str = "norr",
) -> Participant:
    """An enrolled participant of ``team`` with the contact details given (encrypted at rest)."""
    participant = await make_enrolled_participant(db, person_ref, team=team)
    async with db.transaction() as session:
        stored = await session.get_one(Participant, participant.id)
        stored.phone, stored.email, stored.name, stored.language = phone, email, name, language
    return stored


async def outbox_rows(db: Database, channel: str = "sms") -> list[Any]:
    """The outbox rows of ``channel``, oldest first, decrypted."""
    async with db.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == channel).order_by(OutboxMessage.id)
        )
        return [
            SimpleNamespace(id=r.id, kind=r.kind, to=json.loads(r.recipients), body=r.body,
                            subject=r.subject, due_at=r.due_at, attempts=r.attempts,
                            last_error=r.last_error, sent_at=r.sent_at, failed_at=r.failed_at,
                            provider_id=r.provider_id, delivery_status=r.delivery_status,
                            delivered_at=r.delivered_at, object_id=r.object_id)
            for r in rows
        ]  # fmt: skip
