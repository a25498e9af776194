"""Running Alembic migrations from the CLI and from tests (synchronously, own event loop)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage.crypto import Keyring
from storage.db import Database

HERE = Path(__file__).resolve().parent


def alembic_config(url: str, *, configure_logging: bool = False) -> Config:
    """An Alembic config for ``url`` that finds our migrations wherever we are installed."""
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = configure_logging
    return config


def upgrade(url: str, revision: str = "head", *, keyring: Keyring | None = None) -> None:
    """Bring the schema at ``url`` up to ``revision``; call from a thread inside async code.

    ``keyring``: the keys of the encrypted columns, for data migrations that rewrite them
    (0004 re-redacts stored answers); a database without such rows needs none.
    """
    config = alembic_config(url)
    config.attributes["keyring"] = keyring
    command.upgrade(config, revision)


def downgrade(url: str, revision: str) -> None:
    """Take the schema at ``url`` down to ``revision``."""
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The newest migration this version of the code brings."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def current_revision(db: Database) -> str | None:
    """The schema's migration at ``db``; None when it was never migrated (no tables yet)."""
    async with db.engine.connect() as connection:
        if not await connection.run_sync(lambda c: inspect(c).has_table("alembic_version")):
            return None
        revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        return None if revision is None else str(revision)
