"""Which keys the stored personal data is encrypted under (a start-up check reads this)."""

from __future__ import annotations

from sqlalchemy import Text, func, select, type_coerce

from storage.crypto import PREFIX
from storage.db import Database
from storage.rotation import encrypted_tables

KEY_ID_LENGTH = 8


async def stored_key_ids(db: Database) -> set[str]:
    """The ids of every key some stored value is encrypted under (ids only, no data read)."""
    found: set[str] = set()
    width = len(PREFIX) + KEY_ID_LENGTH
    async with db.sessions() as session:
        for _table, columns in encrypted_tables():
            for column in columns:
                heads = func.substr(type_coerce(column, Text), 1, width)
                for head in await session.scalars(
                    select(heads).where(column.is_not(None)).distinct()
                ):
                    if head and head.startswith(PREFIX):
                        found.add(head[len(PREFIX) :])
    return found
