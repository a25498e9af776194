"""Checks ``samverkan serve`` makes before it listens: the schema is migrated (otherwise every
scheduled job would log a traceback), the secret key, and a first admin."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from app.commands import UserError
from app.main import keyring_for
from app.settings import Settings
from services.auth import has_admin
from storage.db import Database
from storage.keycheck import stored_key_ids
from storage.migrate import current_revision, head_revision

FIRST_ADMIN_HINT = (
    "No admin account yet. Create one with:\n"
    "  samverkan create-user YOUR-EMAIL --role admin\n"
    "then log in at {url}/team/login and add teams under Team."
)


async def check_before_serving(settings: Settings) -> str | None:
    """Raise UserError when the data is under an unknown key; a hint to print, or None."""
    ring = keyring_for(settings)
    db = Database.from_url(settings.database_url.reveal(), ring)
    try:
        try:
            revision = await current_revision(db)
        except (DBAPIError, OSError):
            return None  # not reachable: /healthz will say so
        if revision != head_revision():
            raise UserError(
                "the database has no tables yet: run `samverkan migrate` first"
                if revision is None
                else f"the database schema is at migration {revision}, this version needs "
                f"{head_revision()}: run `samverkan migrate` first"
            )
        try:
            unknown = await stored_key_ids(db) - set(ring.keys)
            admin = await has_admin(db)
        except (DBAPIError, OSError):
            return None  # not reachable or not migrated yet: /healthz will say so

        if unknown:
            raise UserError(
                "the database holds data encrypted under a key that is neither "
                "SAMVERKAN_SECRET_KEY nor in SAMVERKAN_PREVIOUS_SECRET_KEYS; refusing to start"
            )
        if not admin:
            return FIRST_ADMIN_HINT.format(url=settings.public_url.rstrip("/"))
        return None
    finally:
        await db.close()
