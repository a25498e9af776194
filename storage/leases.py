"""Leases for scheduled jobs, so that with several app processes each job runs once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from core.clock import utcnow
from storage.db import Database
from storage.models import JobLease


async def acquire(db: Database, name: str, holder: str, *, seconds: float) -> bool:
    """True when ``holder`` got (or already held) the lease ``name`` for ``seconds``."""
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    async with db.transaction() as session:
        result = await session.execute(
            update(JobLease)
            .where(JobLease.name == name)
            .where((JobLease.locked_until < now) | (JobLease.holder == holder))
            .values(holder=holder, locked_until=until, last_run_at=now)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return True
    try:
        async with db.transaction() as session:
            await session.execute(
                insert(JobLease).values(
                    name=name, holder=holder, locked_until=until, last_run_at=now
                )
            )
        return True
    except IntegrityError:
        return False
