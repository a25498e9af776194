"""Start-up: time from spawning `samverkan serve` to the first 200 from ``/healthz``.

The baseline is the plain aiohttp hello server (:mod:`bench.hello`) spawned and polled the
same way, so the ratio is the service's own start-up work (imports, settings, database,
templates, translations) over the interpreter's and aiohttp's. Each is started ``runs`` times
on a migrated SQLite database with the demo data; the median counts.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import Report, Table, median
from bench.services import SAMVERKAN, free_port, prepare_database, served, service_env


def hello_command(port: int) -> list[str]:
    """The command line of the hello server on ``port``."""
    return [sys.executable, "-m", "bench.hello", str(port)]


def serve_command(port: int) -> list[str]:
    """The command line of `samverkan serve` on ``port``."""
    return [SAMVERKAN, "serve", "--port", str(port)]


async def time_starts(
    command: Callable[[int], list[str]], env: dict[str, str], cwd: Path, ready: str, runs: int
) -> list[float]:
    """Seconds from spawn to the first 200 on ``ready``, once per run."""
    times = []
    for _ in range(runs):
        port = free_port()
        async with served(command(port), env, cwd, port, ready) as service:
            times.append(service.ready_seconds)
    return times


async def run(quick: bool) -> Report:
    """Start the hello server and `samverkan serve` several times each; compare medians."""
    runs = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as tmp:
        work = Path(tmp)
        env = service_env(f"sqlite+aiosqlite:///{work}/bench.db", work)
        await prepare_database(env, work)
        hello = await time_starts(hello_command, env, work, "/", runs)
        service = await time_starts(serve_command, env, work, "/healthz", runs)
    table = Table("Start-up: spawn to first 200", ["server", "runs", "median s", "min s", "max s"])
    for name, times in (("aiohttp hello (baseline)", hello), ("samverkan serve, SQLite", service)):
        table.rows.append([name, len(times), median(times), min(times), max(times)])
    ratio = median(service) / median(hello)
    report = Report("startup", "Start-up time", tables=[table])
    report.notes.append(
        f"samverkan serve takes {ratio:.1f}× the hello server's start-up (no numeric goal)."
    )
    report.raw = {"hello_s": hello, "serve_s": service, "ratio": ratio}
    return report
