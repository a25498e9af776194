"""The referral form's drafts: what was typed, kept between the form's steps for a few hours.

The public form redirects after every POST (form → review → receipt), so the values live on
the server in between, encrypted and found by an unguessable token, never in a URL or a cookie.
A draft lasts :data:`DRAFT_LIFETIME` from its last save; once the referral is sent it becomes
the receipt's copy (personnummer masked) for :data:`RECEIPT_LIFETIME`. The scheduled job
``mail.outbox`` calls :func:`purge_expired_drafts`; an expired draft is never shown before.
Drafts are not audited: they are the case worker's own typing, not a record of a person.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from core.clock import utcnow
from storage import referral_drafts as stored
from storage.db import Database
from storage.referral_drafts import StoredDraft

DRAFT_LIFETIME = timedelta(hours=2)
RECEIPT_LIFETIME = timedelta(hours=1)

__all__ = ["DRAFT_LIFETIME", "RECEIPT_LIFETIME", "StoredDraft", "new_token"]


def new_token() -> str:
    """A new draft token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


async def save_draft(
    db: Database,
    payload: Mapping[str, Any],
    *,
    token: str | None = None,
    now: datetime | None = None,
) -> str:
    """Keep ``payload``; returns its token (``token`` again if that draft could be replaced).

    A ``token`` whose draft was sent or has expired is not reused: a new draft is made.
    """
    now = now or utcnow()
    expires_at = now + DRAFT_LIFETIME
    chosen = token

    def save(connection: Connection) -> str:
        if chosen and stored.replace_draft(connection, chosen, dict(payload), now, expires_at):
            return chosen
        fresh = new_token()
        stored.insert_draft(connection, fresh, dict(payload), now, expires_at)
        return fresh

    return await db.run_transaction(save)


async def read_draft(
    db: Database, token: str, *, now: datetime | None = None
) -> StoredDraft | None:
    """The draft or receipt copy of ``token``, None when there is none or it has expired."""
    return await stored.find_draft(db, token, now or utcnow())


def keep_receipt_copy_in(
    connection: Connection, token: str, *, reference: str, copy: Mapping[str, Any], now: datetime
) -> None:
    """The draft ``token`` was sent as ``reference``: keep only ``copy`` (for the receipt), in
    the caller's transaction (the one that stores the referral)."""
    stored.mark_sent(connection, token, reference, dict(copy), now + RECEIPT_LIFETIME)


async def purge_expired_drafts(db: Database, *, now: datetime | None = None) -> int:
    """Delete every draft and receipt copy past its time; how many were deleted."""
    moment = now or utcnow()

    def purge(connection: Connection) -> int:
        return stored.delete_expired(connection, moment)

    return await db.run_transaction(purge)
