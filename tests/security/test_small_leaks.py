"""Small leaks closed: who may read /metrics, the Server header, private data files, a busy
database that is not reported as down."""

from __future__ import annotations

import asyncio
import dataclasses
import stat
from contextlib import AsyncExitStack
from pathlib import Path

from app.main import create_app
from app.settings import Secret, load_settings
from storage.crypto import Keyring
from storage.db import Database


async def test_metrics_with_a_token_set_need_that_token(aiohttp_client, settings, db) -> None:
    app = create_app(dataclasses.replace(settings, metrics_token=Secret("m" * 32)), database=db)
    client = await aiohttp_client(app)
    without = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 32})
    right = await client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
    assert (without.status, wrong.status, right.status) == (403, 403, 200)
    assert "samverkan_http_requests_total" in await right.text()


async def test_metrics_without_a_token_are_for_this_machine_only(
    aiohttp_client, settings, db
) -> None:
    behind_proxy = dataclasses.replace(settings, trusted_proxies=("127.0.0.1",))
    client = await aiohttp_client(create_app(behind_proxy, database=db))
    local = await client.get("/metrics")
    from_outside = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert (local.status, from_outside.status) == (200, 403)


async def test_the_server_header_names_no_versions(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    for path in ("/remiss", "/healthz", "/sidan-finns-inte", "/static/app.css"):
        response = await client.get(path)
        assert response.headers["Server"] == "samverkan", path


def test_a_generated_secret_key_and_a_new_database_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    load_settings({"SAMVERKAN_DATA_DIR": str(data)}, dotenv_path=tmp_path / "none.env")
    database = data / "samverkan.db"
    Database.from_url(f"sqlite+aiosqlite:///{database}", Keyring("k" * 40))
    for path in (data / "secret.key", database):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


async def test_a_database_with_every_pooled_connection_busy_is_still_healthy(db) -> None:
    pool = db.engine.pool
    size = pool.size() + pool._max_overflow  # type: ignore[attr-defined]
    async with AsyncExitStack() as held:
        for _ in range(size):
            await held.enter_async_context(db.engine.connect())
        waiting = asyncio.create_task(db.ping(seconds=2))
        assert await waiting is True
