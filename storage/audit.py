"""The append-only audit log: who did what to which record, with ids and codes only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import SyncExecutor
from storage.models import AuditEntry


async def record(
    session: AsyncSession,
    action: str,
    *,
    actor: str,
    user_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    team_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry; never put names, personnummer or answers in ``detail``."""
    session.add(
        AuditEntry(
            actor=actor,
            actor_user_id=user_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            team_id=team_id,
            detail=dict(detail or {}),
        )
    )


def record_sync(
    session: SyncExecutor,
    action: str,
    *,
    at: datetime,
    actor: str,
    user_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    team_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """:func:`record` for synchronous code (``Database.run_transaction``), as a plain insert."""
    session.execute(
        _INSERT,
        {
            "at": at,
            "actor": actor,
            "actor_user_id": user_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "team_id": team_id,
            "detail": dict(detail or {}),
        },
    )


_INSERT = insert(cast(Table, AuditEntry.__table__))  # built once


async def count_since(
    session: AsyncSession, action: str, since: datetime, *, detail_key: str, detail_value: str
) -> int:
    """How many ``action`` entries since ``since`` carry ``detail[detail_key] == detail_value``."""
    rows = await session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == action, AuditEntry.at >= since)
    )
    return sum(1 for d in rows if d.get(detail_key) == detail_value)


async def total(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(AuditEntry.id))) or 0)
