"""What staff typed into a form when their session had expired, kept until they log in again.

A POST that arrives after the session ended is not lost: its fields are stored encrypted
(:class:`storage.models.FormDraft`) under a one-time key that the person's session cookie
carries, the person logs in, and the page they were on fills the form in again for them to
send. A draft is read once, only by the member of staff who typed it, and lives
:data:`DRAFT_LIFETIME` at most.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from core.clock import utcnow
from storage.db import Database
from storage.models import FormDraft
from storage.sessions import token_hash

DRAFT_LIFETIME = timedelta(hours=12)
#: A form larger than this (as JSON) is not kept; the team pages' forms are far smaller.
MAX_DRAFT_CHARACTERS = 50_000


@dataclass(frozen=True)
class Draft:
    """A kept form: the page it was on, where it was sent (``action``) and its fields."""

    page: str
    action: str
    fields: dict[str, str]


async def keep_draft(
    db: Database,
    *,
    user_id: int,
    page: str,
    action: str,
    fields: Mapping[str, str],
    now: datetime | None = None,
) -> str | None:
    """Store ``fields`` for ``user_id``; the one-time key, or None for an oversized form."""
    now = now or utcnow()
    text = json.dumps(dict(fields), ensure_ascii=False)
    if len(text) > MAX_DRAFT_CHARACTERS or len(page) > 300 or len(action) > 300:
        return None
    token = secrets.token_urlsafe(32)
    async with db.transaction() as session:
        await session.execute(delete(FormDraft).where(FormDraft.created_at < now - DRAFT_LIFETIME))
        session.add(
            FormDraft(
                token_hash=token_hash(token),
                user_id=user_id,
                page=page,
                action=action,
                fields=text,
                created_at=now,
            )
        )
    return token


async def take_draft(
    db: Database, token: str, *, user_id: int, page: str, now: datetime | None = None
) -> Draft | None:
    """The draft kept under ``token`` if ``user_id`` typed it on ``page``; read only once.

    A draft of another member of staff (someone else logged in on the same computer) or an
    expired one is deleted unread; one of another page stays for that page.
    """
    now = now or utcnow()
    async with db.transaction() as session:
        row = await session.scalar(
            select(FormDraft).where(FormDraft.token_hash == token_hash(token))
        )
        if row is None or (row.page != page and row.user_id == user_id):
            return None
        deleted = await session.execute(delete(FormDraft).where(FormDraft.id == row.id))
        if getattr(deleted, "rowcount", 0) != 1:
            return None  # another request took it at the same moment
        if row.user_id != user_id or now - row.created_at > DRAFT_LIFETIME:
            return None
        fields = json.loads(row.fields)
    return Draft(row.page, row.action, {str(k): str(v) for k, v in fields.items()})


async def draft_waits(db: Database, token: str, *, page: str | None = None) -> bool:
    """True while a draft is kept under ``token`` (for ``page``, if given)."""
    async with db.sessions() as session:
        row = await session.scalar(
            select(FormDraft).where(FormDraft.token_hash == token_hash(token))
        )
    return row is not None and (page is None or row.page == page)
