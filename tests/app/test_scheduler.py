"""The scheduler: with two processes on one database a job runs once per interval, an
expired lease passes to the other process, and a failing run is logged without stopping.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from app.scheduler import Job, Scheduler
from storage.crypto import Keyring
from storage.db import Database
from tests.conftest import TEST_SECRET

INTERVAL = 0.5


@pytest.fixture
async def two_databases(
    db: Database, database_url: str
) -> AsyncIterator[tuple[Database, Database]]:
    """The engines of two app processes on the same database."""
    other = Database.from_url(database_url, Keyring(TEST_SECRET))
    yield db, other
    await other.close()


def scheduler(db: Database, holder: str, job: Job) -> Scheduler:
    """A scheduler as one process runs it; ``holder`` stands for that process's host:pid."""
    running = Scheduler(db, [job])
    running.holder = holder
    return running


def recording_job(runs: list[tuple[str, float]], holder: str) -> Job:
    """The job ``job.test``, which notes who ran it and when."""

    async def run() -> None:
        runs.append((holder, time.monotonic()))

    return Job("job.test", INTERVAL, run)


async def test_two_processes_run_a_job_once_per_interval(two_databases) -> None:
    runs: list[tuple[str, float]] = []
    first, second = (
        scheduler(db, holder, recording_job(runs, holder))
        for db, holder in zip(two_databases, ("host:1", "host:2"), strict=True)
    )
    first.start()
    second.start()
    await asyncio.sleep(6 * INTERVAL + 0.2)
    await first.stop()
    await second.stop()

    times = [at for _, at in runs]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert 5 <= len(runs) <= 8  # 7 intervals began; each process alone would run 7 times
    assert min(gaps) > 0.6 * INTERVAL  # never twice in one interval


async def test_when_the_holder_stops_the_other_process_takes_over_after_the_lease(
    two_databases,
) -> None:
    runs: list[tuple[str, float]] = []
    first = scheduler(two_databases[0], "host:1", recording_job(runs, "host:1"))
    first.start()
    await asyncio.sleep(INTERVAL / 2)  # the first process holds the lease
    second = scheduler(two_databases[1], "host:2", recording_job(runs, "host:2"))
    second.start()
    await asyncio.sleep(1.1 * INTERVAL)
    await first.stop()  # the process dies; its lease runs out 0.9 intervals after it was taken
    stopped = time.monotonic()
    await asyncio.sleep(4 * INTERVAL)
    await second.stop()

    before = {holder for holder, at in runs if at < stopped}
    after = [holder for holder, at in runs if at >= stopped]
    assert before == {"host:1"}
    assert len(after) >= 3 and set(after) == {"host:2"}


async def test_a_failing_run_is_logged_and_the_job_runs_again(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    async def fails_first() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the SMTP server is away")

    running = scheduler(db, "host:1", Job("job.flaky", INTERVAL, fails_first))
    with caplog.at_level(logging.ERROR, logger="samverkan.scheduler"):
        running.start()
        await asyncio.sleep(2 * INTERVAL + 0.2)
        await running.stop()

    failures = [r for r in caplog.records if r.getMessage() == "job.failed"]
    assert [(r.job, r.exc_info[0]) for r in failures] == [("job.flaky", RuntimeError)]  # type: ignore[attr-defined, index]
    assert calls == 3
