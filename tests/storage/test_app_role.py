"""The production database role (deploy/postgres/app-role.sql): rows yes, history no.

Migrations run as the owner; the service runs as the app role, which can read and write rows
but cannot TRUNCATE, ALTER or DROP, so the append-only audit log cannot be rewritten through
the service's connection. PostgreSQL only (SQLite has no roles).
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from storage import migrate
from tests.conftest import PG_ENV

SQL = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "app-role.sql"


def with_variables(sql: str, **values: str) -> str:
    """The script with psql's ``:"name"`` and ``:'name'`` variables filled in."""
    sql = re.sub(r':"(\w+)"', lambda m: '"' + values[m.group(1)] + '"', sql)
    return re.sub(r":'(\w+)'", lambda m: "'" + values[m.group(1)] + "'", sql)


async def connect(base: str, *, user: str, database: str) -> asyncpg.Connection:
    url = make_url(base)
    return await asyncpg.connect(host=url.host, port=url.port or 5432, user=user, database=database)


@pytest.fixture
async def app_connection() -> AsyncIterator[asyncpg.Connection]:
    """A database migrated by its owner, and a connection as the app role."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip("PostgreSQL only: set SAMVERKAN_TEST_DATABASE_URL")
    suffix = uuid.uuid4().hex[:8]
    owner, app, name = f"owner_{suffix}", f"app_{suffix}", f"roles_{suffix}"
    admin = await connect(base, user=make_url(base).username or "postgres", database="postgres")
    await admin.execute(f'CREATE ROLE "{owner}" LOGIN')
    await admin.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    inside = await connect(base, user=make_url(base).username or "postgres", database=name)
    script = with_variables(SQL.read_text(), owner=owner, app=app, app_password="x")
    await inside.execute(script.replace(f'DATABASE "{owner}"', f'DATABASE "{name}"'))
    await inside.close()
    owner_url = make_url(base).set(username=owner, database=name)
    await asyncio.to_thread(migrate.upgrade, owner_url.render_as_string(hide_password=False))
    connection = await connect(base, user=app, database=name)
    try:
        yield connection
    finally:
        await connection.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE "{app}"')
        await admin.execute(f'DROP ROLE "{owner}"')
        await admin.close()


async def test_the_app_role_writes_rows(app_connection: asyncpg.Connection) -> None:
    await app_connection.execute(
        "INSERT INTO job_leases (name, holder, locked_until) VALUES ('job', 'me', now())"
    )
    await app_connection.execute(
        "INSERT INTO audit_log (at, actor, action, detail) VALUES (now(), 'test', 'x', '{}')"
    )
    await app_connection.execute("UPDATE job_leases SET holder = 'you'")
    await app_connection.execute("DELETE FROM job_leases")
    assert await app_connection.fetchval("SELECT count(*) FROM audit_log") == 1


async def test_the_app_role_cannot_rewrite_the_audit_log(
    app_connection: asyncpg.Connection,
) -> None:
    await app_connection.execute(
        "INSERT INTO audit_log (at, actor, action, detail) VALUES (now(), 'test', 'x', '{}')"
    )
    refused = []
    for statement in (
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TABLE audit_log",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(asyncpg.PostgresError) as error:
            await app_connection.execute(statement)
        refused.append(type(error.value).__name__)
    assert refused[:3] == ["InsufficientPrivilegeError"] * 3
    assert await app_connection.fetchval("SELECT count(*) FROM audit_log") == 1
