"""Specification of storage.db's transactions: committed or rolled back whole, no lost update."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, event, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from storage.db import Database
from storage.models import JobLease

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


async def lease(db: Database) -> JobLease | None:
    async with db.sessions() as session:
        return await session.get(JobLease, "counter")


LEASES = JobLease.__table__


def add_counter(connection: Connection) -> None:
    connection.execute(insert(LEASES), {"name": "counter", "holder": "0", "locked_until": EPOCH})


async def test_a_synchronous_transaction_is_committed_and_returns_its_result(db) -> None:
    def add(connection: Connection) -> str:
        add_counter(connection)
        return "done"

    assert await db.run_transaction(add) == "done"
    assert (found := await lease(db)) is not None and found.holder == "0"


async def test_a_synchronous_transaction_that_fails_halfway_stores_nothing(db) -> None:
    def half(connection: Connection) -> None:
        add_counter(connection)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        await db.run_transaction(half)
    assert await lease(db) is None


async def test_concurrent_read_modify_write_transactions_lose_no_update(db) -> None:
    await db.run_transaction(add_counter)

    def increment(connection: Connection) -> None:
        query = select(LEASES.c.holder).where(LEASES.c.name == "counter")
        if db.dialect == "postgresql":
            query = query.with_for_update()
        value = int(connection.scalar(query) or 0)
        connection.execute(
            update(LEASES).where(LEASES.c.name == "counter").values(holder=str(value + 1))
        )

    await asyncio.gather(*(db.run_transaction(increment) for _ in range(40)))
    assert (found := await lease(db)) is not None and found.holder == "40"


async def test_a_read_sees_what_was_committed_and_keeps_no_write(db) -> None:
    await db.run_transaction(add_counter)

    def read_and_try_to_write(connection: Connection) -> str | None:
        holder = connection.scalar(select(LEASES.c.holder).where(LEASES.c.name == "counter"))
        with contextlib.suppress(DBAPIError):  # PostgreSQL refuses it (read-only)
            connection.execute(update(LEASES).values(holder="changed"))  # SQLite rolls it back
        return holder

    assert await db.run_read(read_and_try_to_write) == "0"
    assert (found := await lease(db)) is not None and found.holder == "0"


async def test_writes_at_once_lose_no_update_and_share_commits(db) -> None:
    await db.run_transaction(add_counter)
    commits: list[object] = []

    def increment(connection: Connection) -> int:
        query = select(LEASES.c.holder).where(LEASES.c.name == "counter")
        if db.dialect == "postgresql":
            query = query.with_for_update()
        value = int(connection.scalar(query) or 0) + 1
        connection.execute(
            update(LEASES).where(LEASES.c.name == "counter").values(holder=str(value))
        )
        return value

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(Engine, "commit", committed)
    try:
        results = await asyncio.gather(*(db.run_transaction(increment) for _ in range(40)))
    finally:
        event.remove(Engine, "commit", committed)

    assert sorted(results) == list(range(1, 41))
    assert (found := await lease(db)) is not None and found.holder == "40"
    assert 1 <= len(commits) < 40  # one transaction (one hop) for many writes


async def test_a_caller_cancelled_while_its_write_waits_leaves_the_others_and_the_writer_working(
    db,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def add(name: str) -> Callable[[Connection], str]:
        def work(connection: Connection) -> str:
            connection.execute(insert(LEASES), {"name": name, "holder": "0", "locked_until": EPOCH})
            return name

        return work

    def slow(connection: Connection) -> str:
        loop.call_soon_threadsafe(started.set)
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=10)
        return add("first")(connection)

    if db.dialect != "sqlite" or db.engine.url.database in (None, "", ":memory:"):
        pytest.skip("needs the worker-thread writer (a SQLite file)")
    first = asyncio.create_task(db.run_transaction(slow))
    await started.wait()  # the first group is being written: the next ones wait
    waiting = asyncio.create_task(db.run_transaction(add("cancelled")))
    other = asyncio.create_task(db.run_transaction(add("other")))
    await asyncio.sleep(0)
    waiting.cancel()
    release.set()

    assert await first == "first" and await other == "other"
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await db.run_transaction(add("later")) == "later"
    async with db.sessions() as session:
        names = set(await session.scalars(select(JobLease.name)))
    assert {"first", "other", "later"} <= names  # a queued work still commits with its group


async def test_transactions_at_once_share_commits_and_a_failing_one_is_undone_alone(db) -> None:
    commits: list[object] = []

    def add(name: str, fail: bool = False) -> Callable[[Connection], str]:
        def work(connection: Connection) -> str:
            connection.execute(insert(LEASES), {"name": name, "holder": "0", "locked_until": EPOCH})
            if fail:
                raise RuntimeError("refused")
            return name

        return work

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(Engine, "commit", committed)
    try:
        outcomes = await asyncio.gather(
            *(db.run_transaction(add(f"lease-{n}", fail=n == 7)) for n in range(20)),
            return_exceptions=True,
        )
    finally:
        event.remove(Engine, "commit", committed)

    assert isinstance(outcomes[7], RuntimeError)
    assert [o for n, o in enumerate(outcomes) if n != 7] == [
        f"lease-{n}" for n in range(20) if n != 7
    ]
    async with db.sessions() as session:
        names = set(await session.scalars(select(JobLease.name)))
    assert names == {f"lease-{n}" for n in range(20) if n != 7}
    assert 1 <= len(commits) < 20  # shared: many writers, few commits


@pytest.mark.parametrize("noticed", [True, False], ids=["driver-noticed", "found-by-ping"])
async def test_an_idle_pooled_connection_cut_by_the_server_is_replaced_not_failed(
    db, monkeypatch: pytest.MonkeyPatch, noticed: bool
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL's connection pool")
    import asyncpg

    from storage import db as storage_db

    pid = await db.run_read(lambda c: c.scalar(text("select pg_backend_pid()")))
    # The server ends that pooled connection, as a restart would while it sat idle.
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(url)
    try:
        assert await admin.fetchval("select pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    monkeypatch.setattr(storage_db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle long
    if not noticed:  # as when the network dropped it silently: only a ping finds out
        monkeypatch.setattr(storage_db, "_known_closed", lambda _connection: False)

    assert await db.run_read(lambda c: c.scalar(text("select 1"))) == 1


async def test_a_group_that_succeeds_takes_one_savepoint_not_one_per_work(db) -> None:
    statements: list[str] = []

    def executed(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    def add(name: str) -> Callable[[Connection], None]:
        return lambda c: c.execute(
            insert(LEASES), {"name": name, "holder": "0", "locked_until": EPOCH}
        )

    event.listen(Engine, "before_cursor_execute", executed)
    try:
        await asyncio.gather(*(db.run_transaction(add(f"lease-{n}")) for n in range(20)))
    finally:
        event.remove(Engine, "before_cursor_execute", executed)

    assert statements.count("INSERT") == 20
    assert statements.count("SAVEPOINT") <= statements.count("BEGIN") + 2 < 20
