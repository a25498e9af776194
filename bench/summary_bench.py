"""The period summary on big data: time and peak memory for 10 thousand to 1 million answers.

Each size is a förbund of five teams over two years (2024–2025) with 1 000, 10 000 or 100 000
participants and about 10 survey answers each (six per response, some people answer twice):
referrals with their status history (1 % entered by mistake), invitations, responses, answers
and their themes (some corrected by staff). The data is written with bulk inserts in one child
process; a second, fresh child process then builds the förbund's summary of 2025 (the previous
period, 2024, holds the other half of the answers) and reports:

- the wall time of :func:`reports.summary.build_summary` (cold, then warm),
- the peak of Python's own allocations during it (``tracemalloc``, a separate run, since
  tracing slows allocation), and
- the peak resident memory of the whole child process (``ru_maxrss``: interpreter, imports,
  SQLite's page cache, everything).

Goal (issue 5): 1 million answers in under 10 s and 1 GiB peak, growing no worse than
linearly. Run ``.venv/bin/python -m bench.summary_bench [--quick] [--postgres]``; it prints a
Markdown table and writes ``bench/results/summary.md`` (``summary-postgresql.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import Goal, NotReady, Report, Table, machine_load  # noqa: E402
from bench.summary_data import TEAMS, SurveyRows, history, people  # noqa: E402

#: (participants, survey answers) per size.
SIZES = ((1_000, 10_000), (10_000, 100_000), (100_000, 1_000_000))
PERIOD = ("2025-01-01", "2025-12-31")
CHUNK = 20_000
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
RESULTS = ROOT / "bench" / "results" / "summary.md"
GIB = 1024**3
#: The local PostgreSQL, for ``--postgres`` (a database per size, dropped afterwards).
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


# --- the child processes ---------------------------------------------------------------------


async def generate(url: str, participants: int, answers: int) -> dict[str, Any]:
    """Create the schema and write one size of data with bulk inserts."""
    from sqlalchemy import insert

    from storage import migrate
    from storage.crypto import Keyring
    from storage.db import Database
    from storage.models import Base, SurveyVersion, Team

    await asyncio.to_thread(migrate.upgrade, url)
    db, began, written = Database.from_url(url, Keyring(SECRET)), time.perf_counter(), 0
    tables = Base.metadata.tables
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(Team),
            [{"id": i, "code": c, "name": f"Team {c}"} for i, c in enumerate(TEAMS, 1)],
        )
        await conn.execute(
            insert(SurveyVersion),
            [
                {
                    "id": 1,
                    "code": "default",
                    "version": "1",
                    "content_hash": "0" * 64,
                    "definition": {},
                }
            ],
        )
    survey = SurveyRows(seed=participants)
    batch: dict[str, list[dict[str, Any]]] = {}
    for n, (person, referral) in enumerate(people(participants, seed=participants), start=1):
        batch.setdefault("participants", []).append(person)
        batch.setdefault("referrals", []).append(referral)
        batch.setdefault("referral_events", []).extend(history(referral))
        target = answers * n // participants  # keep pace with the people made so far
        for _ in range(8):
            if referral["start_date"] is None or survey.answer >= target:
                break
            survey.respond(referral)
        for table, rows in survey.take().items():
            batch.setdefault(table, []).extend(rows)
        if len(batch.get("answers", [])) >= CHUNK or len(batch["participants"]) >= CHUNK:
            written += await _write(db, tables, batch)
            batch = {}
    written += await _write(db, tables, batch)
    await db.close()
    return {"rows": written, "answers": survey.answer, "seconds": time.perf_counter() - began}


async def _write(db: Any, tables: Any, batch: dict[str, list[dict[str, Any]]]) -> int:
    """Insert a batch, parents first; the number of rows."""
    order = (
        "participants",
        "referrals",
        "referral_events",
        "invitations",
        "responses",
        "answers",
        "answer_themes",
    )
    async with db.engine.begin() as conn:
        for name in order:
            if batch.get(name):
                await conn.execute(tables[name].insert(), batch[name])
    return sum(len(rows) for rows in batch.values())


async def measure(url: str) -> dict[str, Any]:
    """Build the förbund's summary of 2025: cold, warm, then traced for Python's peak."""
    from reports.periods import parse_period
    from reports.summary import build_summary
    from storage.crypto import Keyring
    from storage.db import Database

    period = parse_period(*PERIOD)
    timings = []
    for _ in range(2):
        db = Database.from_url(url, Keyring(SECRET))
        began = time.perf_counter()
        summary = await build_summary(db, period)
        timings.append(time.perf_counter() - began)
        await db.close()
    db = Database.from_url(url, Keyring(SECRET))
    tracemalloc.start()
    await build_summary(db, period)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    await db.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    survey = summary["survey"]
    return {
        "cold": timings[0],
        "warm": timings[1],
        "traced_peak": traced_peak,
        "max_rss": rss,
        "responses": survey["responses"],
        "ended": summary["outcomes"]["ended"],
    }


def _child(args: list[str]) -> dict[str, Any]:
    """Run this module as a child process with ``args``; its JSON result."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.summary_bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the report ------------------------------------------------------------------------------


def _exponent(sizes: list[int], values: list[float]) -> float | None:
    """The growth exponent between the two largest sizes: 1.0 is linear."""
    if len(values) < 2 or values[-2] <= 0:
        return None
    return math.log(values[-1] / values[-2]) / math.log(sizes[-1] / sizes[-2])


async def run(quick: bool, postgres: bool = False) -> Report:
    """Generate and measure every size; a report with the table and the goals."""
    sizes = SIZES[:2] if quick else SIZES
    results = []
    with tempfile.TemporaryDirectory(prefix="samverkan-summary-bench-") as tmp:
        for participants, answers in sizes:
            url = await _database(Path(tmp), participants, postgres)
            try:
                made = _child(["generate", url, str(participants), str(answers)])
                measured = _child(["measure", url])
            finally:
                if postgres:
                    await _drop(url)
            results.append(
                {
                    "participants": participants,
                    "answers": made["answers"],
                    "generated_s": made["seconds"],
                    **measured,
                }
            )
    return _report(results, "PostgreSQL" if postgres else "SQLite")


async def _database(folder: Path, participants: int, postgres: bool) -> str:
    """A new, empty database for one size."""
    if not postgres:
        return f"sqlite+aiosqlite:///{folder}/summary-{participants}.db"
    import asyncpg

    name = f"samverkan_summary_bench_{participants}"
    try:
        admin = await asyncpg.connect(ADMIN_URL, timeout=5)
    except OSError as failed:
        raise NotReady(f"no PostgreSQL on 127.0.0.1:5432: {failed}") from failed
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _drop(url: str) -> None:
    """Drop a benchmark database on the local PostgreSQL."""
    import asyncpg

    admin = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    finally:
        await admin.close()


def _report(results: list[dict[str, Any]], database: str) -> Report:
    """The measurements as a table, with the growth and the goals."""
    table = Table(
        f"Summary of 2025 for the whole förbund ({database})",
        ["participants", "answers", "cold s", "warm s", "Python peak MiB", "process peak MiB"],
    )
    for r in results:
        table.rows.append(
            [
                r["participants"],
                r["answers"],
                round(r["cold"], 2),
                round(r["warm"], 2),
                round(r["traced_peak"] / 2**20, 1),
                round(r["max_rss"] / 2**20, 1),
            ]
        )
    answers = [r["answers"] for r in results]
    time_growth = _exponent(answers, [r["cold"] for r in results])
    memory_growth = _exponent(answers, [r["traced_peak"] for r in results])
    load = machine_load()
    report = Report(
        "summary", "Period summary on big data", tables=[table], raw={"results": results, **load}
    )
    report.notes.append(f"Machine: {load['cpus']} CPUs, load average {load['loadavg']} (shared).")
    if database == "PostgreSQL":
        report.notes.append("Process peak is the client's; the PostgreSQL server's is not in it.")
    report.notes.append(
        f"Growth from {answers[-2]:,} to {answers[-1]:,} answers: time ∝ n^{time_growth:.2f}, "
        f"Python memory ∝ n^{memory_growth:.2f} (1.00 is linear)."
        if time_growth is not None and memory_growth is not None
        else "One size only."
    )
    largest = results[-1]
    if largest["answers"] >= 900_000:
        report.goals.append(
            Goal(
                "1 million answers in under 10 s", f"{largest['cold']:.1f} s", largest["cold"] < 10
            )
        )
        report.goals.append(
            Goal(
                "under 1 GiB peak", f"{largest['max_rss'] / GIB:.2f} GiB", largest["max_rss"] < GIB
            )
        )
    if time_growth is not None:
        report.goals.append(
            Goal("time no worse than linear", f"n^{time_growth:.2f}", time_growth <= 1.1)
        )
    return report


def markdown(report: Report) -> str:
    """The report as Markdown: its tables, notes and goals."""
    lines = [f"# {report.title}", ""]
    for table in report.tables:
        lines += [
            f"## {table.title}",
            "",
            "| " + " | ".join(table.columns) + " |",
            "|" + "---:|" * len(table.columns),
        ]
        lines += [
            "| " + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row) + " |"
            for row in table.rows
        ]
        lines.append("")
    lines += [*report.notes, ""]
    lines += [
        f"- {'met' if g.met else 'NOT met'}: {g.text} (measured {g.measured})" for g in report.goals
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    """Command line: the benchmark, or one of its child processes."""
    if argv[:1] == ["generate"]:
        print(json.dumps(asyncio.run(generate(argv[1], int(argv[2]), int(argv[3])))))
        return
    if argv[:1] == ["measure"]:
        print(json.dumps(asyncio.run(measure(argv[1]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="only 10 and 100 thousand answers")
    parser.add_argument("--postgres", action="store_true", help="on the local PostgreSQL")
    options = parser.parse_args(argv)
    report = asyncio.run(run(options.quick, options.postgres))
    text = markdown(report)
    print(text)
    results = RESULTS.with_name("summary-postgresql.md") if options.postgres else RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
