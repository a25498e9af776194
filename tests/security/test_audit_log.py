"""The audit log: every required kind of event is logged, and the database refuses to change
or delete an entry (append-only)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from app.main import create_app
from services.retention import purge_expired
from storage import audit, migrate
from storage.db import Database
from storage.models import AuditEntry
from tests.common.people import make_person_with_history
from tests.common.teams import make_team, make_user
from tests.common.web import log_in


async def one_entry(db: Database) -> int:
    async with db.transaction() as session:
        await audit.record(
            session,
            "participant.viewed",
            actor="user:1",
            object_type="participant",
            object_id=7,
            detail={"why": "test"},
        )
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
            conn.execute(
                "INSERT INTO audit_log (at, actor, action, detail) "
                "VALUES ('2026-01-01', 'x', 'y', '{}')"
            )
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


async def test_logins_views_reveals_exports_and_purges_are_all_logged(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    person = await make_person_with_history(db, ended_on=date(2019, 6, 30))
    await make_user(db, "boss@example.se", role="coordinator")
    client = await aiohttp_client(create_app(settings, database=db))
    token = await log_in(client, "boss@example.se")
    page = f"/team/deltagare/{person.participant_id}"

    assert (await client.get(page)).status == 200
    revealed = await client.post(
        f"{page}/personnummer", data={"_csrf": token, "reason": "identitet"}
    )
    assert revealed.status == 200
    assert (await client.get("/team/logg.csv")).status == 200
    assert (await client.post(f"{page}/registerutdrag", data={"_csrf": token})).status == 200
    assert (await client.get("/team/sammanstallning/ladda-ner.json?team=norr")).status == 200
    await purge_expired(db, today=date(2026, 11, 22), retention_years=5, actor="scheduler")
    listed = await (await client.get("/team/logg")).text()

    async with db.sessions() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    actions = [e.action for e in entries]
    for action in (
        "login.succeeded",
        "participant.viewed",
        "participant.personnummer_revealed",
        "audit.exported",
        "participant.exported",
        "summary.exported",
        "retention.purged",
    ):
        assert action in actions, action
    reveal = next(e for e in entries if e.action == "participant.personnummer_revealed")
    assert (reveal.detail, reveal.object_id) == ({"reason": "identitet"}, person.participant_id)
    logged = str([(e.actor, e.detail) for e in entries])
    assert [v for v in person.clear_texts().values() if v in logged] == []
    assert "Hela personnumret visades" in listed and "Personuppgifter gallrades" in listed
