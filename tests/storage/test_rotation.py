"""Key rotation: every encrypted value ends up under the new key, while the app keeps writing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Text, insert, select, type_coerce, update

from storage.crypto import Keyring
from storage.db import Database
from storage.models import Participant
from storage.rotation import count_stale, encrypted_tables, rotate_keys
from tests.common.people import make_person_with_history
from tests.common.teams import make_team
from tests.conftest import TEST_SECRET

OLD = TEST_SECRET
NEW = "the-new-secret-key-" + "n" * 40


async def names_and_hashes(db: Database) -> dict[str, str | None]:
    """Every participant's name and personnummer hash, read with the installed keyring."""
    async with db.sessions() as session:
        rows = await session.execute(select(Participant.name, Participant.personnummer_hash))
    return {name: digest for name, digest in rows.all()}


async def insert_under_key(db: Database, ring: Keyring, team_id: int, n: int) -> None:
    """A participant written by a process whose current key is ``ring`` (raw ciphertexts)."""
    async with db.transaction() as session:
        await session.execute(
            insert(Participant.__table__).values(
                team_id=team_id,
                person_ref=f"W-{n}",
                name=type_coerce(ring.encrypt(f"Written during rotation {n}"), Text),
            )
        )


async def test_every_encrypted_value_is_reencrypted_and_readable_with_only_the_new_key(
    db: Database,
    reopen,
) -> None:
    await make_team(db)
    people = [await make_person_with_history(db, n) for n in range(1, 6)]
    db = reopen(Keyring(NEW, [OLD]))

    report = await rotate_keys(db, Keyring(NEW, [OLD]), batch_size=2)

    db = reopen(Keyring(NEW))
    assert await count_stale(db, Keyring(NEW)) == {}
    expected = {p.name: Keyring(NEW).blind_index(p.personnummer) for p in people}
    assert await names_and_hashes(db) == expected
    assert report.reencrypted["participants.name"] == 5
    assert report.reindexed["participants.personnummer_hash"] == 5
    assert report.unreadable == []


async def test_the_test_person_fills_every_encrypted_column(db: Database) -> None:
    """If this fails, a new encrypted column needs a value in make_person_with_history."""
    await make_team(db)
    await make_person_with_history(db)
    empty = []
    async with db.sessions() as session:
        for table, columns in encrypted_tables():
            for column in columns:
                if await session.scalar(select(column).where(column.is_not(None))) is None:
                    empty.append(f"{table.name}.{column.name}")
    assert empty == []


async def test_rows_written_during_the_rotation_stay_readable_and_nothing_is_lost(
    db: Database,
    reopen,
) -> None:
    team = await make_team(db)
    people = [await make_person_with_history(db, n) for n in range(1, 31)]
    rotating = Keyring(NEW, [OLD])
    db = reopen(rotating)
    first_batch_done = asyncio.Event()
    seen_mid_rotation: list[int] = []

    async def app_keeps_working() -> None:
        await first_batch_done.wait()
        for n in range(10):
            # An app process not yet restarted (old key), and one already restarted (new key).
            await insert_under_key(db, Keyring(OLD), team.id, n)
            async with db.transaction() as session:
                session.add(
                    Participant(
                        team_id=team.id, person_ref=f"N-{n}", name=f"Written by the new app {n}"
                    )
                )
                await session.execute(
                    update(Participant)
                    .where(Participant.person_ref == f"P-{n + 1}")
                    .values(phone=f"070-000 00 {n:02d}")
                )
            seen_mid_rotation.append(len(await names_and_hashes(db)))

    rotation = rotate_keys(
        db, rotating, batch_size=3, progress=lambda table, rows: first_batch_done.set()
    )
    await asyncio.gather(rotation, app_keeps_working())
    await rotate_keys(db, rotating)  # the run an operator repeats: picks up late old-key writes

    db = reopen(Keyring(NEW))
    assert await count_stale(db, Keyring(NEW)) == {}
    names = set(await names_and_hashes(db))
    assert names == (
        {p.name for p in people}
        | {f"Written during rotation {n}" for n in range(10)}
        | {f"Written by the new app {n}" for n in range(10)}
    )
    assert seen_mid_rotation == list(range(32, 52, 2))
    async with db.sessions() as session:
        phones = set((await session.scalars(select(Participant.phone))).all())
    assert {f"070-000 00 {n:02d}" for n in range(10)} <= phones


async def test_an_interrupted_rotation_carries_on_where_it_stopped(db: Database, reopen) -> None:
    await make_team(db)
    for n in range(1, 8):
        await make_person_with_history(db, n)
    rotating = Keyring(NEW, [OLD])
    db = reopen(rotating)

    class Crash(Exception):
        pass

    def crash_after_first_batch(table: str, rows: int) -> None:
        raise Crash

    stale_before = await count_stale(db, rotating)
    with pytest.raises(Crash):
        await rotate_keys(db, rotating, batch_size=3, progress=crash_after_first_batch)
    stale_after_crash = await count_stale(db, rotating)
    report = await rotate_keys(db, rotating, batch_size=3)

    assert 0 < stale_after_crash.total() < stale_before.total()
    assert report.reencrypted == stale_after_crash
    assert await count_stale(db, rotating) == {}


async def test_a_value_under_an_unknown_key_is_reported_and_left_as_it_was(
    db: Database, reopen
) -> None:
    team = await make_team(db)
    unknown = Keyring("a-key-nobody-configured-" + "x" * 30)
    await insert_under_key(db, unknown, team.id, 1)
    rotating = Keyring(NEW, [OLD])
    db = reopen(rotating)

    report = await rotate_keys(db, rotating)

    async with db.sessions() as session:
        row = (
            await session.execute(select(Participant.id, type_coerce(Participant.name, Text)))
        ).one()
    assert report.unreadable == [("participants", row[0])]
    assert unknown.decrypt(row[1]) == "Written during rotation 1"


async def test_a_change_the_app_commits_while_its_row_is_being_rotated_is_kept(
    db: Database,
    reopen,
) -> None:
    await make_team(db)
    await make_person_with_history(db, 1)
    rotating = Keyring(NEW, [OLD])
    db = reopen(rotating)

    async with db.sessions() as app, app.begin():
        await app.execute(update(Participant).values(phone="070-999 99 99"))  # holds the row
        rotation = asyncio.create_task(rotate_keys(db, rotating))
        await asyncio.sleep(0.5)  # the rotation has read the old row and waits for the lock
    report = await rotation

    async with db.sessions() as session:
        assert await session.scalar(select(Participant.phone)) == "070-999 99 99"
    assert await count_stale(db, rotating) == {}
    if db.dialect == "postgresql":  # SQLite's BEGIN IMMEDIATE makes the rotation wait instead
        assert report.changed_meanwhile == 1
