"""Key rotation: re-encrypt every encrypted column under the current key, while the app runs.

The procedure (docs/security.md): set the new ``SAMVERKAN_SECRET_KEY``, move the old one to
``SAMVERKAN_PREVIOUS_SECRET_KEYS`` and restart the app processes, so they write with the new key
and still read the old one; then run ``samverkan rotate-key``; when it reports nothing left
under an old key, remove the previous key.

:func:`rotate_keys` walks every table with :class:`~storage.types.EncryptedText` columns in
primary-key order, in batches of short transactions. A value under an old key is decrypted and
encrypted again under the current key, and the blind indexes computed from it are recomputed,
in one UPDATE that only applies if the stored value is still the one read (compare-and-set):
a row the app changed in the meantime was written under the current key already and is left
alone. Values under the current key are skipped, so an interrupted run can simply be started
again. Plaintext never leaves this module; the report holds counts and row ids only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, Text, literal, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import DecryptionError, Keyring
from storage.db import Database
from storage.models import Base
from storage.types import EncryptedText

DEFAULT_BATCH_SIZE = 200
#: Keyed-hash columns and the encrypted column whose plaintext each one indexes, per table.
BLIND_INDEXES: Mapping[str, Mapping[str, str]] = {
    "participants": {"personnummer_hash": "personnummer"},
}
#: Passes over the tables at most; a pass finds only what the app wrote under an old key since.
MAX_PASSES = 3

Progress = Callable[[str, int], None]


@dataclass
class RotationReport:
    """What a rotation did: counts per ``table.column``, and rows it could not read."""

    rows_checked: int = 0
    reencrypted: Counter[str] = field(default_factory=Counter)
    reindexed: Counter[str] = field(default_factory=Counter)
    changed_meanwhile: int = 0
    unreadable: list[tuple[str, int]] = field(default_factory=list)
    passes: int = 0

    @property
    def total_reencrypted(self) -> int:
        """Values re-encrypted under the current key, all columns together."""
        return sum(self.reencrypted.values())


def encrypted_tables(metadata: Any = Base.metadata) -> list[tuple[Table, list[Column[Any]]]]:
    """Every table with encrypted columns, and those columns, in a stable order."""
    found = []
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            found.append((table, columns))
    return found


async def rotate_keys(
    db: Database,
    ring: Keyring,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> RotationReport:
    """Re-encrypt every value under an old key with ``ring``'s current key; resumable."""
    report = RotationReport()
    for _ in range(MAX_PASSES):
        before = report.total_reencrypted + report.changed_meanwhile
        report.passes += 1
        report.unreadable = []  # each pass meets the same unreadable rows again
        for table, columns in encrypted_tables():
            await _rotate_table(db, ring, table, columns, batch_size, report, progress)
        if report.total_reencrypted + report.changed_meanwhile == before:
            break
    return report


async def count_stale(db: Database, ring: Keyring) -> Counter[str]:
    """How many values per ``table.column`` are still under a key other than the current one."""
    stale: Counter[str] = Counter()
    async with db.sessions() as session:
        for table, columns in encrypted_tables():
            raw = [type_coerce(c, Text) for c in columns]
            for row in await session.execute(select(*raw)):
                for column, value in zip(columns, row, strict=True):
                    if value is not None and ring.needs_rotation(value):
                        stale[f"{table.name}.{column.name}"] += 1
    return stale


async def _rotate_table(
    db: Database,
    ring: Keyring,
    table: Table,
    columns: Sequence[Column[Any]],
    batch_size: int,
    report: RotationReport,
    progress: Progress | None,
) -> None:
    """One pass over ``table`` in primary-key order, one short transaction per batch."""
    (key,) = table.primary_key.columns
    names = [c.name for c in columns] + list(BLIND_INDEXES.get(table.name, {}))
    raw = [type_coerce(table.c[name], Text) for name in names]
    last: Any = None
    while True:
        async with db.transaction() as session:
            query = select(key, *raw).order_by(key).limit(batch_size)
            if last is not None:
                query = query.where(key > last)
            rows = (await session.execute(query)).all()
            for row_id, *values in rows:
                stored = dict(zip(names, values, strict=True))
                await _rotate_row(session, ring, table, row_id, stored, report)
        if not rows:
            return
        last = rows[-1][0]
        report.rows_checked += len(rows)
        if progress is not None:
            progress(table.name, len(rows))


async def _rotate_row(
    session: AsyncSession,
    ring: Keyring,
    table: Table,
    row_id: Any,
    stored: Mapping[str, str | None],
    report: RotationReport,
) -> None:
    """Re-encrypt one row's stale values and recompute its blind indexes (compare-and-set)."""
    try:
        changes = _changes(ring, table.name, stored)
    except DecryptionError:
        report.unreadable.append((table.name, int(row_id)))
        return
    if not changes:
        return
    (key,) = table.primary_key.columns
    still_as_read = [
        table.c[name].is_(None) if value is None else type_coerce(table.c[name], Text) == value
        for name, value in stored.items()
    ]
    statement = (
        update(table)
        .where(key == row_id, *still_as_read)
        .values({name: literal(value, Text) for name, value in changes.items()})
    )
    result = await session.execute(statement)
    if result.rowcount == 0:  # type: ignore[attr-defined]
        report.changed_meanwhile += 1
        return
    indexes = BLIND_INDEXES.get(table.name, {})
    for name in changes:
        counter = report.reindexed if name in indexes else report.reencrypted
        counter[f"{table.name}.{name}"] += 1


def _changes(ring: Keyring, table_name: str, stored: Mapping[str, str | None]) -> dict[str, str]:
    """New stored values: stale ciphertexts re-encrypted, out-of-date blind indexes recomputed."""
    indexes = BLIND_INDEXES.get(table_name, {})
    changes = {
        name: ring.encrypt(ring.decrypt(value))
        for name, value in stored.items()
        if name not in indexes and value is not None and ring.needs_rotation(value)
    }
    for index_column, source in indexes.items():
        value = stored.get(source)
        if value is None:
            continue
        expected = ring.blind_index(ring.decrypt(value))
        if stored.get(index_column) != expected:
            changes[index_column] = expected
    return changes
