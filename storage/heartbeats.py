"""Heartbeats of running ``samverkan serve`` processes, kept as leases named ``process:HOST:PID``.

A server renews its lease every :data:`INTERVAL` seconds for :data:`LIFETIME` seconds, and
drops it when it stops; a lease still valid means a server is live on this database (one that
crashed stops counting within :data:`LIFETIME` seconds). ``samverkan import`` reads them to
refuse a long write on SQLite while a server needs the database.
"""

from __future__ import annotations

import os
import socket

from sqlalchemy import delete, select

from core.clock import utcnow
from storage import leases
from storage.db import Database
from storage.models import JobLease

PREFIX = "process:"
INTERVAL = 30.0
LIFETIME = 90.0


def process_name() -> str:
    """This process's lease name: ``process:HOST:PID`` (at most 60 characters)."""
    pid = f":{os.getpid()}"
    return PREFIX + socket.gethostname()[: 60 - len(PREFIX) - len(pid)] + pid


async def beat(db: Database, name: str) -> None:
    """Take or renew the lease ``name`` for :data:`LIFETIME` seconds."""
    await leases.acquire(db, name, name, seconds=LIFETIME)


async def stop(db: Database, name: str) -> None:
    """Drop the lease ``name``: this process no longer uses the database."""
    async with db.transaction() as session:
        await session.execute(delete(JobLease).where(JobLease.name == name))


async def live_processes(db: Database) -> list[str]:
    """The names of the processes whose heartbeat is still valid."""
    async with db.sessions() as session:
        names = await session.scalars(
            select(JobLease.name)
            .where(JobLease.name.startswith(PREFIX), JobLease.locked_until > utcnow())
            .order_by(JobLease.name)
        )
        return list(names)
