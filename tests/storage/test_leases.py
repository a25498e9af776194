"""Job leases: one holder at a time per job, renewed by its holder, taken over once expired."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from storage import leases
from storage.crypto import Keyring
from storage.db import Database
from storage.models import JobLease
from tests.conftest import TEST_SECRET


@pytest.fixture
async def other_process(db: Database, database_url: str) -> AsyncIterator[Database]:
    """A second engine on the same database, as a second app process has."""
    other = Database.from_url(database_url, Keyring(TEST_SECRET))
    yield other
    await other.close()


async def holder_of(db: Database, name: str) -> str | None:
    async with db.sessions() as session:
        return await session.scalar(select(JobLease.holder).where(JobLease.name == name))


async def test_the_first_holder_gets_the_lease_and_another_is_refused_while_it_lasts(
    db: Database, other_process: Database
) -> None:
    assert await leases.acquire(db, "outbox.send", "a:1", seconds=30) is True
    assert await leases.acquire(other_process, "outbox.send", "b:2", seconds=30) is False
    assert await holder_of(db, "outbox.send") == "a:1"


async def test_the_holder_renews_its_own_lease(db: Database) -> None:
    assert await leases.acquire(db, "outbox.send", "a:1", seconds=30) is True
    assert await leases.acquire(db, "outbox.send", "a:1", seconds=30) is True


async def test_an_expired_lease_is_taken_over_by_another_holder(
    db: Database, other_process: Database
) -> None:
    assert await leases.acquire(db, "outbox.send", "a:1", seconds=0.2) is True
    await asyncio.sleep(0.3)
    assert await leases.acquire(other_process, "outbox.send", "b:2", seconds=30) is True
    assert await holder_of(db, "outbox.send") == "b:2"
    assert await leases.acquire(db, "outbox.send", "a:1", seconds=30) is False


async def test_leases_of_different_jobs_are_independent(
    db: Database, other_process: Database
) -> None:
    assert await leases.acquire(db, "outbox.send", "a:1", seconds=30) is True
    assert await leases.acquire(other_process, "retention.purge", "b:2", seconds=30) is True


async def test_two_processes_asking_for_a_new_lease_at_once_get_it_once(
    db: Database, other_process: Database
) -> None:
    for round_ in range(5):
        got = await asyncio.gather(
            leases.acquire(db, f"job-{round_}", "a:1", seconds=30),
            leases.acquire(other_process, f"job-{round_}", "b:2", seconds=30),
        )
        assert sorted(got) == [False, True]
