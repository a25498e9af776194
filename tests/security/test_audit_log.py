"""The audit log is append-only: the database itself refuses to change or delete an entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from storage import audit, migrate
from storage.db import Database
from storage.models import AuditEntry


async def one_entry(db: Database) -> int:
    async with db.transaction() as session:
        await audit.record(session, "participant.viewed", actor="user:1", object_type="participant",
                           object_id=7, detail={"why": "test"})  # fmt: skip
    async with db.sessions() as session:
        return int(await session.scalar(select(AuditEntry.id)) or 0)


@pytest.mark.parametrize(
    "statement",
    [
        lambda: update(AuditEntry).values(actor="user:2"),
        lambda: update(AuditEntry).values(detail={}),
        lambda: delete(AuditEntry),
        lambda: text("DELETE FROM audit_log WHERE id > 0"),
    ],
    ids=["rewrite-actor", "blank-detail", "delete", "raw-delete"],
)
async def test_changing_or_deleting_an_entry_is_refused(db: Database, statement) -> None:
    await one_entry(db)

    with pytest.raises(DBAPIError, match="append-only"):
        async with db.transaction() as session:
            await session.execute(statement())

    async with db.sessions() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    assert [(e.actor, e.detail) for e in entries] == [("user:1", {"why": "test"})]


async def test_an_entry_changed_through_the_orm_is_refused(db: Database) -> None:
    entry_id = await one_entry(db)

    with pytest.raises(DBAPIError, match="append-only"):
        async with db.transaction() as session:
            entry = await session.get_one(AuditEntry, entry_id)
            entry.action = "nothing.happened"


async def test_new_entries_can_still_be_added(db: Database) -> None:
    await one_entry(db)
    await one_entry(db)
    async with db.sessions() as session:
        assert await audit.total(session) == 2


def test_the_migration_adds_and_removes_the_guard_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "guard.db"
    url = f"sqlite+aiosqlite:///{path}"

    def delete_allowed() -> bool:
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO audit_log (at, actor, action, detail) "
                         "VALUES ('2026-01-01', 'x', 'y', '{}')")  # fmt: skip
            try:
                conn.execute("DELETE FROM audit_log")
            except sqlite3.IntegrityError:
                return False
            return True

    migrate.upgrade(url, "0001")
    before = delete_allowed()
    migrate.upgrade(url)
    guarded = delete_allowed()
    migrate.downgrade(url, "0001")
    after = delete_allowed()

    assert (before, guarded, after) == (True, False, True)
