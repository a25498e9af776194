"""Queries of the referral form's drafts: the form between its steps, and the receipt's copy.

A draft is found by the SHA-256 of its token (:func:`storage.sessions.token_hash`), so a copy
of the table opens none; the payload is JSON in an encrypted column. A draft past its
``expires_at`` is never returned, and :func:`delete_expired` removes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import ReferralFormDraft
from storage.sessions import token_hash

DRAFTS = cast(Table, ReferralFormDraft.__table__)
REVIEW, SENT = "review", "sent"


@dataclass(frozen=True)
class StoredDraft:
    """A draft as read: ``stage`` (``review`` or ``sent``), its payload and, once sent, the
    referral's reference."""

    stage: str
    payload: dict[str, Any]
    reference: str | None


def insert_draft(
    session: Session, token: str, payload: dict[str, Any], now: datetime, expires_at: datetime
) -> None:
    """A new draft at the review stage."""
    session.execute(
        insert(DRAFTS).values(
            token_hash=token_hash(token),
            stage=REVIEW,
            payload=json.dumps(payload, ensure_ascii=False),
            created_at=now,
            expires_at=expires_at,
        )
    )


def replace_draft(
    session: Session, token: str, payload: dict[str, Any], now: datetime, expires_at: datetime
) -> bool:
    """Replace the payload of a draft still at the review stage; False when there is none."""
    result = session.execute(
        update(DRAFTS)
        .where(
            DRAFTS.c.token_hash == token_hash(token),
            DRAFTS.c.stage == REVIEW,
            DRAFTS.c.expires_at > now,
        )
        .values(payload=json.dumps(payload, ensure_ascii=False), expires_at=expires_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(
    session: Session,
    token: str,
    reference: str,
    payload: dict[str, Any],
    expires_at: datetime,
) -> None:
    """The draft becomes the receipt's copy: the form's values replaced by ``payload``."""
    session.execute(
        update(DRAFTS)
        .where(DRAFTS.c.token_hash == token_hash(token))
        .values(
            stage=SENT,
            reference=reference,
            payload=json.dumps(payload, ensure_ascii=False),
            expires_at=expires_at,
        )
    )


async def find_draft(db: Database, token: str, now: datetime) -> StoredDraft | None:
    """The draft of ``token`` unless it has expired (one read, one thread hop on SQLite)."""
    hashed = token_hash(token)

    def read(session: Session) -> StoredDraft | None:
        row = session.execute(_FIND, {"token_hash": hashed, "now": now}).first()
        if row is None:
            return None
        return StoredDraft(row.stage, json.loads(row.payload), row.reference)

    return await db.run_read(read)


#: Built once: a statement object keeps its cache key, so each read skips building it.
_FIND = select(DRAFTS.c.stage, DRAFTS.c.payload, DRAFTS.c.reference).where(
    DRAFTS.c.token_hash == bindparam("token_hash"), DRAFTS.c.expires_at > bindparam("now")
)


def delete_expired(session: Session, now: datetime) -> int:
    """Delete every draft and copy past its time; how many."""
    result = session.execute(delete(DRAFTS).where(DRAFTS.c.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
