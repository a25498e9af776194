"""Shared fixtures: a migrated database (SQLite file, or PostgreSQL when
``SAMVERKAN_TEST_DATABASE_URL`` is set), clean tables per test, settings and the web app,
and a folder of survey files.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.settings import Settings, load_settings
from core import surveys as core
from storage import migrate
from storage.crypto import Keyring
from storage.db import Database
from storage.models import Base

os.environ.setdefault("PTB_TIMEDELTA", "1")
TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PG_ENV = "SAMVERKAN_TEST_DATABASE_URL"


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        database=u.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for this test session (own PostgreSQL database per run)."""
    base = os.environ.get(PG_ENV)
    if not base:
        path = tmp_path_factory.mktemp("db") / "samverkan.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrate.upgrade(url)
        yield url
        return
    name = f"samverkan_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def keyring() -> Keyring:
    """The keys of the test database's encrypted columns."""
    return Keyring(TEST_SECRET)


@pytest.fixture
async def reopen(database_url: str) -> AsyncIterator[Callable[[Keyring], Database]]:
    """Open the test database again with other keys (a process after a key change)."""
    opened: list[Database] = []

    def with_keys(keyring: Keyring) -> Database:
        opened.append(Database.from_url(database_url, keyring))
        return opened[-1]

    yield with_keys
    for database in opened:
        await database.close()


async def clean_tables(db: Database) -> None:
    """Empty every table (fast, keeps the migrated schema)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # The append-only audit triggers (migration 0002) step aside while tables are emptied.
            triggers = (
                await conn.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                )
            ).all()
            for name, _sql in triggers:
                await conn.execute(text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))
            for _name, sql in triggers:
                await conn.execute(text(sql))


@pytest.fixture
async def db(database_url: str, keyring: Keyring) -> AsyncIterator[Database]:
    """The test database with empty tables."""
    database = Database.from_url(database_url, keyring)
    await clean_tables(database)
    yield database
    await database.close()


@pytest.fixture
def settings_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for load_settings in tests; change it before the settings fixture runs."""
    return {
        "SAMVERKAN_ENV": "test",
        "SAMVERKAN_DATABASE_URL": database_url,
        "SAMVERKAN_SECRET_KEY": TEST_SECRET,
        "SAMVERKAN_DATA_DIR": str(tmp_path / "data"),
        "SAMVERKAN_SCHEDULER": "off",
        "SAMVERKAN_PUBLIC_URL": "http://127.0.0.1:8080",
    }


@pytest.fixture
def settings(settings_env: dict[str, str], tmp_path: Path) -> Settings:
    return load_settings(settings_env, dotenv_path=tmp_path / "no.env")


@pytest.fixture
def random_email() -> str:
    return f"user-{secrets.token_hex(4)}@example.se"


@pytest.fixture
def survey_dir(tmp_path: Path) -> Path:
    """A förbund's survey folder (passed as ``surveys_dir``): the default survey, a team's
    reworded one and a broken one."""
    default = core.default_survey_path().read_text(encoding="utf-8")
    (tmp_path / "default.yaml").write_text(default, encoding="utf-8")
    reworded = default.replace('version: "2026-2"', 'version: "norr-1"')
    reworded = reworded.replace("Hur bedömer du ditt allmänna", "Hur mår du, i ditt allmänna")
    (tmp_path / "norr.yaml").write_text(reworded, encoding="utf-8")
    broken = default.replace("code: mycket_daligt", "code: uselt")
    (tmp_path / "trasig.yaml").write_text(broken, encoding="utf-8")
    return tmp_path
