"""The migrations and the models describe the same schema, on SQLite and PostgreSQL."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from storage.db import Database
from storage.models import Base, Team


async def test_models_and_migrations_agree(db: Database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite connection pragmas; PostgreSQL has no such settings")
    async with db.engine.connect() as conn:
        mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
        fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
        timeout = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
    assert (mode, fks, timeout) == ("wal", 1, 30000)


async def test_read_only_work_does_not_block_a_writer(db: Database) -> None:
    """A summary reading in a long transaction must not hold the write lock (either database)."""
    async with db.engine.connect() as reader:
        await reader.execute(text("SELECT count(*) FROM teams"))
        async with asyncio.timeout(10), db.transaction() as session:  # fails rather than waits
            session.add(Team(code="x", name="X"))
        # SQLite reads from the reader's snapshot; PostgreSQL (read committed) sees the commit.
        seen = (await reader.execute(text("SELECT count(*) FROM teams"))).scalar()
        assert seen == (0 if db.dialect == "sqlite" else 1)
    async with db.sessions() as session:
        assert await session.scalar(select(Team.code)) == "x"
