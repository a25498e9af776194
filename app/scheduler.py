"""Periodic jobs (reminders, retention purge) run inside ``samverkan serve``.

Each job runs at its interval in every process, but only the process holding the job's
database lease does the work, so several app processes never send a reminder twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage import leases
from storage.db import Database

log = logging.getLogger("samverkan.scheduler")


@dataclass(frozen=True)
class Job:
    """A named coroutine run every ``interval`` seconds."""

    name: str
    interval: float
    run: Callable[[], Awaitable[object]]


class Scheduler:
    """Runs jobs in background tasks until stopped; a failing run is logged, not fatal."""

    def __init__(self, db: Database, jobs: list[Job]) -> None:
        self.db = db
        self.jobs = jobs
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self._tasks: list[asyncio.Task[None]] = []

    async def _loop(self, job: Job) -> None:
        while True:
            try:
                if await leases.acquire(self.db, job.name, self.holder, seconds=job.interval * 0.9):
                    await job.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job.failed", extra={"job": job.name})
            await asyncio.sleep(job.interval)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(job), name=f"job:{job.name}") for job in self.jobs
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
