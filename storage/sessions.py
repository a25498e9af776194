"""Server-side staff sessions and the login throttle: queries only.

A session row is keyed by the SHA-256 of the token the cookie carries; deleting the row ends
the session in every process. The throttle counts attempts per key in a window with one
atomic upsert (``attempts = attempts + 1``) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginThrottle, StaffSession, StaffUser


def token_hash(token: str) -> str:
    """The stored form of a session or password-link token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def add_session(
    session: AsyncSession, token: str, user_id: int, now: datetime, stage: str = "full"
) -> None:
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            user_id=user_id,
            stage=stage,
            created_at=now,
            last_seen_at=now,
        )
    )


async def find_session(
    session: AsyncSession, token: str, *, stage: str = "full"
) -> tuple[StaffSession, StaffUser] | None:
    """The session row at ``stage`` and its active user, or None."""
    row = (
        await session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(
                StaffSession.token_hash == token_hash(token),
                StaffSession.stage == stage,
                StaffUser.active,
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def touch_session(session: AsyncSession, token: str, now: datetime) -> None:
    await session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == token_hash(token))
        .values(last_seen_at=now)
    )


async def delete_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))


async def delete_sessions_of(
    session: AsyncSession, user_id: int, *, keep_token: str | None = None
) -> int:
    """End every session of ``user_id`` (but ``keep_token``'s); returns how many."""
    query = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep_token is not None:
        query = query.where(StaffSession.token_hash != token_hash(keep_token))
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_idle_sessions(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.last_seen_at < before))


async def count_attempt(session: AsyncSession, key: str, now: datetime, window: timedelta) -> int:
    """Count one attempt for ``key`` atomically; returns the attempts in the current window.

    A window older than ``window`` starts again at one.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stale = LoginThrottle.window_start < now - window

    statement = (
        insert(LoginThrottle)
        .values(key=key, window_start=now, attempts=1)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "attempts": case((stale, 1), else_=LoginThrottle.attempts + 1),
                "window_start": case((stale, now), else_=LoginThrottle.window_start),
            },
        )
        .returning(LoginThrottle.attempts)
    )
    return int((await session.execute(statement)).scalar_one())


async def clear_attempts(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
