"""The server's heartbeat on SQLite, so that ``samverkan import`` knows a server is live."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from intake.context import DB
from storage import heartbeats
from storage.db import DATABASE_ERRORS, Database

log = logging.getLogger("samverkan.heartbeat")


async def heartbeat_context(app: web.Application) -> AsyncIterator[None]:
    """On SQLite, keep this process's heartbeat lease while the app runs; drop it at the end."""
    db = app[DB]
    if db.dialect != "sqlite":
        yield
        return
    name = heartbeats.process_name()
    await _beat(db, name)
    task = asyncio.create_task(_beat_forever(db, name))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(*DATABASE_ERRORS):
            await heartbeats.stop(db, name)


async def _beat_forever(db: Database, name: str) -> None:
    """Renew the heartbeat every INTERVAL seconds."""
    while True:
        await asyncio.sleep(heartbeats.INTERVAL)
        await _beat(db, name)


async def _beat(db: Database, name: str) -> None:
    """One renewal; a failure is logged, not fatal (the lease runs out on its own)."""
    try:
        await heartbeats.beat(db, name)
    except DATABASE_ERRORS:
        log.warning("heartbeat.failed", exc_info=True)
