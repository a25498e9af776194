"""Heartbeats: a live process is listed until it stops or its lease runs out."""

from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import update

from core.clock import utcnow
from storage import heartbeats
from storage.db import Database
from storage.models import JobLease


async def test_a_process_is_live_from_its_beat_until_it_stops(db: Database) -> None:
    name = heartbeats.process_name()
    assert name.startswith("process:") and name.endswith(f":{os.getpid()}")
    assert await heartbeats.live_processes(db) == []
    await heartbeats.beat(db, name)
    await heartbeats.beat(db, name)  # renewing is the same lease
    assert await heartbeats.live_processes(db) == [name]
    await heartbeats.stop(db, name)
    assert await heartbeats.live_processes(db) == []


async def test_a_process_that_stopped_beating_is_not_live(db: Database) -> None:
    await heartbeats.beat(db, "process:gone:1")
    async with db.transaction() as session:
        await session.execute(update(JobLease).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert await heartbeats.live_processes(db) == []
