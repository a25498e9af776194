"""Servers and databases for the benchmarks: `samverkan serve` and baselines as subprocesses.

A server runs as its own process, as in production, listening on 127.0.0.1 on a free port;
`served` starts it, waits for its first 200 and stops it with SIGTERM. Databases are a
migrated SQLite file, or a dedicated PostgreSQL database ``samverkan_bench_<pid>`` on
127.0.0.1:5432 that is dropped afterwards (one per process, so benchmarks run at the same time do
not drop each other's database); `bench_database` opens one in this process, with
the keyring installed, and `add_participants` fills it with enrolled participants.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from bench import NotReady

if TYPE_CHECKING:
    from storage.db import Database
    from storage.models import Participant

SAMVERKAN = str(Path(sys.executable).with_name("samverkan"))
ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get(
    "SAMVERKAN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BENCH_DATABASE = f"samverkan_bench_{os.getpid()}"
BENCH_SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Service:
    """A running server: its base URL and how long it took from spawn to its first 200."""

    base_url: str
    ready_seconds: float
    process: asyncio.subprocess.Process


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cpu_in_window(pid: int, warmup: float, seconds: float) -> float:
    """CPU seconds ``pid`` uses from ``warmup`` seconds from now, for ``seconds``."""
    await asyncio.sleep(warmup)
    began = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return cpu_seconds(pid) - began


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_env(
    database_url: str, data_dir: Path, root: Path = ROOT, **extra: str
) -> dict[str, str]:
    """The environment of a `samverkan` process: this one's, with the service's settings.

    ``root`` is the source tree the process imports (another checkout, to measure a "before").
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_")}
    env.update(
        SAMVERKAN_DATABASE_URL=database_url,
        SAMVERKAN_SECRET_KEY=secrets.token_urlsafe(48),
        SAMVERKAN_DATA_DIR=str(data_dir),
        SAMVERKAN_ENV="production",
        SAMVERKAN_PUBLIC_URL="http://127.0.0.1:8080",
        PYTHONPATH=str(root),
    )
    env.update(extra)
    return env


async def run_command(args: list[str], env: Mapping[str, str], cwd: Path) -> None:
    """Run one command to completion; raise with its output when it fails."""
    process = await asyncio.create_subprocess_exec(
        *args,
        env=dict(env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {output.decode()[-2000:]}")


async def prepare_database(env: Mapping[str, str], cwd: Path) -> None:
    """Migrate the database in ``env`` and load the demo data (two teams, their staff)."""
    await run_command([SAMVERKAN, "migrate"], env, cwd)
    await run_command([SAMVERKAN, "demo-data"], env, cwd)


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh database ``BENCH_DATABASE`` on the local PostgreSQL, dropped afterwards."""
    try:
        import asyncpg
    except ImportError as missing:
        raise NotReady("asyncpg is not installed") from missing
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as failed:
        raise NotReady(f"no PostgreSQL at {POSTGRES_ADMIN_URL}: {failed}") from failed
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace(
            "postgresql://", "postgresql+asyncpg://"
        )
        yield f"{base}/{BENCH_DATABASE}"
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        await admin.close()


@contextlib.asynccontextmanager
async def served(
    args: list[str], env: Mapping[str, str], cwd: Path, port: int, ready_path: str = "/healthz"
) -> AsyncIterator[Service]:
    """Start a server process; yield once ``ready_path`` answers 200; stop it with SIGTERM."""
    log = (cwd / f"server-{port}.log").open("wb")
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *args, env=dict(env), cwd=cwd, stdout=log, stderr=log
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(process, base_url + ready_path, cwd / f"server-{port}.log")
        yield Service(base_url, time.perf_counter() - began, process)
    finally:
        await _stop(process)
        log.close()


async def _wait_ready(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    """Poll ``url`` every 5 ms until it answers 200; fail when the process exits or in 60 s."""
    deadline = time.perf_counter() + 60
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.perf_counter() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"server exited: {_tail(log)}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.005)
    raise RuntimeError(f"{url} did not answer 200 within 60 s")


def _tail(log: Path) -> str:
    """The end of a server's log."""
    return log.read_text(errors="replace")[-2000:]


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL when the process has not stopped within 30 s."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def bench_database(kind: str, folder: Path) -> AsyncIterator[Database]:
    """A migrated, empty database in this process: ``sqlite`` (a file) or ``postgresql``."""
    from storage import migrate
    from storage.crypto import Keyring
    from storage.db import Database

    async with contextlib.AsyncExitStack() as stack:
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{folder}/bench-{kind}.db"
        else:
            url = await stack.enter_async_context(postgres_database())
        await asyncio.to_thread(migrate.upgrade, url)
        db = Database.from_url(url, Keyring(BENCH_SECRET))
        try:
            yield db
        finally:
            await db.close()


async def add_participants(db: Database, count: int) -> list[Participant]:
    """A team ``bench`` and ``count`` participants enrolled in it, in one transaction."""
    from storage.models import Participant, Referral, Team

    async with db.transaction() as session:
        team = Team(code="bench", name="Benchteamet")
        session.add(team)
        await session.flush()
        people = [
            Participant(team_id=team.id, person_ref=f"B-{n}", gender="kvinna") for n in range(count)
        ]
        session.add_all(people)
        await session.flush()
        session.add_all(
            Referral(
                reference=f"R-B-{p.id}",
                team_id=team.id,
                participant_id=p.id,
                status="enrolled",
                received_date=date(2026, 1, 5),
                referrer_code="af",
                start_date=date(2026, 2, 1),
            )
            for p in people
        )
    return people
