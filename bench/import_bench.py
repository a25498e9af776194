"""``samverkan import`` of a big file: wall time, peak memory and how long it blocks writers.

For each database (SQLite always, PostgreSQL with ``--postgres URL``) the benchmark migrates a
fresh database, writes a file of N generated rows (default 100 000) and runs ``samverkan
import`` twice in a child process (first every row new, then every row an update), reporting:

- the wall time of the command,
- the peak resident memory of the child (``ru_maxrss``, read by the child at exit), and
- on SQLite, the longest a tiny write from another connection waited while the import ran
  (polled every 20 ms): how long the import held the database's write lock.

Goal (issue 13, item 6): memory bounded (a 100 000-row file once used 1.1 GB). Run
``.venv/bin/python -m bench.import_bench [--rows N] [--postgres URL]``; it prints a Markdown
table and writes ``bench/results/import.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from storage.import_file import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "import.md"
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
#: Runs ``samverkan ARGS`` and prints the process's peak memory (KiB) as its last stderr line.
#: The child reports its own peak from /proc (VmHWM): ``ru_maxrss`` would also count the
#: parent's memory at the fork, which Linux carries over the exec (a big pytest process would
#: look like a big import).
MEASURED = (
    "import atexit, re, sys\n"
    "def peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    print('maxrss_kib=' + re.search(r'VmHWM:\\s+(\\d+)', status).group(1), file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "from app.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def write_records(path: Path, rows: int, *, team: str = "ost") -> None:
    """A valid import file of ``rows`` people: a third queued, a third active, a third ended."""
    genders, referrers = ("kvinna", "man", "annat"), ("af", "fk", "kommun_socialtjanst", "egen")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(rows):
            referral = date(2019, 1, 1) + timedelta(days=i % 1800)
            start = referral + timedelta(days=20) if i % 3 else None
            end = start + timedelta(days=100) if start and i % 3 == 2 else None
            writer.writerow(
                (
                    f"P{i:07d}",
                    genders[i % 3],
                    "",
                    str(1960 + i % 40),
                    referrers[i % 4],
                    "",
                    referral.isoformat(),
                    start.isoformat() if start else "",
                    end.isoformat() if end else "",
                    "arbete" if end else "",
                    team,
                )
            )


def run_import(env: dict[str, str], *args: str) -> tuple[int, float, int, str]:
    """``samverkan import ARGS`` in a child: exit status, seconds, peak KiB, other stderr."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, "import", *args],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    lines = done.stderr.strip().splitlines()
    peak = int(lines[-1].removeprefix("maxrss_kib=")) if lines else 0
    return done.returncode, seconds, peak, "\n".join(lines[:-1])


class WriteProbe:
    """Tiny writes to an SQLite file every 20 ms from another thread; the longest wait."""

    def __init__(self, path: Path) -> None:
        self.path, self.longest, self.writes = path, 0.0, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def __enter__(self) -> WriteProbe:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        connection.execute("CREATE TABLE IF NOT EXISTS bench_probe (n INTEGER)")
        while not self.stopping.wait(0.02):
            started = time.monotonic()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO bench_probe VALUES (1)")
            connection.execute("COMMIT")
            self.longest = max(self.longest, time.monotonic() - started)
            self.writes += 1
        connection.close()


async def prepare(url: str) -> None:
    """Migrate the database and add the team ``ost``."""
    from storage import migrate
    from storage.crypto import Keyring
    from storage.db import Database
    from storage.models import Team

    await asyncio.to_thread(migrate.upgrade, url)
    db = Database.from_url(url, Keyring(SECRET, []))
    async with db.transaction() as session:
        session.add(Team(code="ost", name="Samverkansteam Öst", forbund="Exempel"))
    await db.close()


def measure(url: str, rows: int, folder: Path, sqlite_path: Path | None) -> list[str]:
    """Two imports of the same file (new, then updates); one table row each."""

    asyncio.run(prepare(url))
    folder.mkdir(exist_ok=True)
    records = folder / "records.csv"
    write_records(records, rows)
    env = {
        "SAMVERKAN_DATABASE_URL": url,
        "SAMVERKAN_SECRET_KEY": SECRET,
        "SAMVERKAN_DATA_DIR": str(folder / "data"),
        "SAMVERKAN_ENV": "test",
    }
    lines = []
    for kind in ("new", "updated"):
        if sqlite_path is not None:
            with WriteProbe(sqlite_path) as probe:
                status, seconds, peak, err = run_import(env, str(records))
            blocked = f"{probe.longest:.2f} s ({probe.writes} writes)"
        else:
            status, seconds, peak, err = run_import(env, str(records))
            blocked = "– (row locks only)"
        assert status == 0, err
        backend = "SQLite" if sqlite_path else "PostgreSQL"
        lines.append(
            f"| {backend} | {rows:,} {kind} | {seconds:.1f} s | {peak / 1024:.0f} MiB | {blocked} |"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", metavar="URL", help="a database to create tables in")
    args = parser.parse_args()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    header = [
        "| database | rows | wall time | peak memory | longest wait of another writer |",
        "|---|---|---|---|---|",
    ]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "bench.db"
        lines += measure(f"sqlite+aiosqlite:///{path}", args.rows, folder, path)
        if args.postgres:
            lines += measure(args.postgres, args.rows, folder / "pg", None)
    RESULTS.write_text("\n".join(["# samverkan import", "", *header, *lines, ""]), "utf-8")
    print("\n".join(header + lines))


if __name__ == "__main__":
    main()
