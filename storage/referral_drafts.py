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

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

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


#: Statements built once: a statement object keeps its cache key, so each use skips that work.
_INSERT = insert(DRAFTS)
_REPLACE = (
    update(DRAFTS)
    .where(
        DRAFTS.c.token_hash == bindparam("hashed"),
        DRAFTS.c.stage == REVIEW,
        DRAFTS.c.expires_at > bindparam("now"),
    )
    .values(payload=bindparam("new_payload"), expires_at=bindparam("new_expires_at"))
)
_MARK_SENT = (
    update(DRAFTS)
    .where(DRAFTS.c.token_hash == bindparam("hashed"))
    .values(
        stage=SENT,
        reference=bindparam("new_reference"),
        payload=bindparam("new_payload"),
        expires_at=bindparam("new_expires_at"),
    )
)
_FIND = select(DRAFTS.c.stage, DRAFTS.c.payload, DRAFTS.c.reference).where(
    DRAFTS.c.token_hash == bindparam("hashed"), DRAFTS.c.expires_at > bindparam("now")
)


def insert_draft(
    connection: Connection,
    token: str,
    payload: dict[str, Any],
    now: datetime,
    expires_at: datetime,
) -> None:
    """A new draft at the review stage."""
    connection.execute(
        _INSERT,
        {
            "token_hash": token_hash(token),
            "stage": REVIEW,
            "payload": json.dumps(payload, ensure_ascii=False),
            "created_at": now,
            "expires_at": expires_at,
        },
    )


def replace_draft(
    connection: Connection,
    token: str,
    payload: dict[str, Any],
    now: datetime,
    expires_at: datetime,
) -> bool:
    """Replace the payload of a draft still at the review stage; False when there is none."""
    result = connection.execute(
        _REPLACE,
        {
            "hashed": token_hash(token),
            "now": now,
            "new_payload": json.dumps(payload, ensure_ascii=False),
            "new_expires_at": expires_at,
        },
    )
    return bool(result.rowcount)


def mark_sent(
    connection: Connection,
    token: str,
    reference: str,
    payload: dict[str, Any],
    expires_at: datetime,
) -> None:
    """The draft becomes the receipt's copy: the form's values replaced by ``payload``."""
    connection.execute(
        _MARK_SENT,
        {
            "hashed": token_hash(token),
            "new_reference": reference,
            "new_payload": json.dumps(payload, ensure_ascii=False),
            "new_expires_at": expires_at,
        },
    )


async def find_draft(db: Database, token: str, now: datetime) -> StoredDraft | None:
    """The draft of ``token`` unless it has expired (one read, one thread hop on SQLite)."""
    hashed = token_hash(token)

    def read(connection: Connection) -> StoredDraft | None:
        row = connection.execute(_FIND, {"hashed": hashed, "now": now}).first()
        if row is None:
            return None
        return StoredDraft(row.stage, json.loads(row.payload), row.reference)

    return await db.run_read(read)


def delete_expired(connection: Connection, now: datetime) -> int:
    """Delete every draft and copy past its time; how many."""
    result = connection.execute(delete(DRAFTS).where(DRAFTS.c.expires_at <= now))
    return int(result.rowcount or 0)
