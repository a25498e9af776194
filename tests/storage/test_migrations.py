"""The migrations and the models describe the same schema, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import Database
from storage.models import Base


async def test_models_and_migrations_agree(db: Database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(db: Database) -> None:
    if db.dialect != "sqlite":
        return
    async with db.engine.connect() as conn:
        from sqlalchemy import text

        mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
        fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
        timeout = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
    assert (mode, fks, timeout) == ("wal", 1, 30000)


async def test_read_only_work_on_sqlite_does_not_block_a_writer(db: Database) -> None:
    """A summary reading in a long transaction must not hold SQLite's write lock."""
    if db.dialect != "sqlite":
        return
    from sqlalchemy import text

    from storage.models import Team

    async with db.engine.connect() as reader:
        await reader.execute(text("SELECT count(*) FROM teams"))
        async with db.transaction() as session:  # would wait 30 s for the lock if reads held it
            session.add(Team(code="x", name="X"))
        assert (await reader.execute(text("SELECT 1"))).scalar() == 1
