"""Specification of storage.db's transactions: committed or rolled back whole, no lost update."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import JobLease

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


async def lease(db: Database) -> JobLease | None:
    async with db.sessions() as session:
        return await session.get(JobLease, "counter")


async def test_a_synchronous_transaction_is_committed_and_returns_its_result(db) -> None:
    def add(session: Session) -> str:
        session.add(JobLease(name="counter", holder="0", locked_until=EPOCH))
        return "done"

    assert await db.run_transaction(add) == "done"
    assert (found := await lease(db)) is not None and found.holder == "0"


async def test_a_synchronous_transaction_that_fails_halfway_stores_nothing(db) -> None:
    def half(session: Session) -> None:
        session.add(JobLease(name="counter", holder="0", locked_until=EPOCH))
        session.flush()
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        await db.run_transaction(half)
    assert await lease(db) is None


async def test_concurrent_read_modify_write_transactions_lose_no_update(db) -> None:
    await db.run_transaction(
        lambda s: s.add(JobLease(name="counter", holder="0", locked_until=EPOCH))
    )

    def increment(session: Session) -> None:
        query = select(JobLease.holder).where(JobLease.name == "counter")
        if db.dialect == "postgresql":
            query = query.with_for_update()
        value = int(session.scalar(query) or 0)
        session.execute(
            update(JobLease).where(JobLease.name == "counter").values(holder=str(value + 1))
        )

    await asyncio.gather(*(db.run_transaction(increment) for _ in range(40)))
    assert (found := await lease(db)) is not None and found.holder == "40"
