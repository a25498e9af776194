"""Run every benchmark, print a Markdown table for each, write ``bench/results/``.

Run: ``python -m bench.run_all [--quick] [--only NAME,...]`` (``make bench``). ``--quick``
shortens every benchmark (1 000 reminders instead of 10 000, 5 s load runs) for a smoke run;
the published figures come from a full run. The machine's load is recorded before and after
each benchmark, since other work on the same cores changes every figure. Writes
``bench/results/latest.md`` (the tables) and ``bench/results/latest.json`` (raw numbers); a
benchmark not run this time (``--only``) keeps its last figures there, dated. A quick run writes
``quick.md`` and ``quick.json`` instead, so it never replaces a full run's figures.
Exit status 0 whatever the figures are; 1 only when a benchmark itself crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import NotReady, Report, Table, machine_load

RESULTS = Path(__file__).resolve().parent / "results"
BENCHMARKS = ("startup", "intake", "bot", "reminder", "summary", "profile")


def cell(value: Any) -> str:
    """A table cell: numbers to a readable precision, missing values as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}".replace(",", " ")
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}".replace(",", " ")
    return str(value)


def markdown_table(table: Table) -> str:
    """One table in GitHub Markdown."""
    lines = [
        f"**{table.title}**",
        "",
        "| " + " | ".join(table.columns) + " |",
        "|" + "|".join("---" for _ in table.columns) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.rows]
    return "\n".join(lines)


def markdown_report(report: Report, load: dict[str, Any]) -> str:
    """A benchmark's section: its tables, its goals (met or not), its notes and the load."""
    parts = [f"### {report.title}"]
    parts += [markdown_table(table) for table in report.tables]
    if report.goals:
        goals = Table("Goals", ["goal", "measured", "met"])
        goals.rows = [[g.text, g.measured, "yes" if g.met else "**no**"] for g in report.goals]
        parts.append(markdown_table(goals))
    parts += [f"- {note}" for note in report.notes]
    parts.append(
        f"Machine load (1-min average, {load['after']['cpus']} CPUs): "
        f"{load['before']['loadavg'][0]} before, {load['after']['loadavg'][0]} after."
    )
    return "\n\n".join(parts)


def run_one(name: str, quick: bool) -> tuple[Report, dict[str, Any]]:
    """Run one benchmark in a fresh event loop; a missing piece or a crash becomes a note."""
    before = machine_load()
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}_bench")
        report: Report = asyncio.run(module.run(quick))
    except (NotReady, ImportError) as missing:
        report = Report(name, name.capitalize(), notes=[f"Not measured: {missing}"])
        report.raw["not_ready"] = str(missing)
    except Exception as crashed:  # noqa: BLE001 - one benchmark's crash must not stop the rest
        report = Report(name, name.capitalize(), notes=[f"Crashed: {crashed!r}"])
        report.raw["crashed"] = traceback.format_exc()
    load = {
        "before": before,
        "after": machine_load(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return report, load


def environment() -> dict[str, Any]:
    """Where and when the figures were taken."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=RESULTS.parent.parent,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": machine_load()["cpus"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks asked for; print and write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    env = environment() | {"quick": args.quick}
    print(f"## Benchmarks ({describe(env)})", flush=True)
    results: dict[str, Any] = {}
    for name in names:
        report, load = run_one(name, args.quick)
        section = markdown_report(report, load)
        print("\n" + section, flush=True)
        results[name] = {
            "environment": env,
            "load": load,
            "markdown": section,
            "goals": [g.__dict__ for g in report.goals],
            "notes": report.notes,
            "raw": report.raw,
        }
    write_results("quick" if args.quick else "latest", results)
    return 1 if any("crashed" in r["raw"] for r in results.values()) else 0


def describe(env: dict[str, Any]) -> str:
    """When, at which commit and on what a benchmark ran."""
    quick = ", quick run" if env["quick"] else ""
    return (
        f"{env['date']}, commit {env['commit']}, Python {env['python']}, {env['cpus']} CPUs{quick}"
    )


def write_results(stem: str, results: dict[str, Any]) -> None:
    """Update ``stem``.json with these benchmarks (others keep their last figures); write .md."""
    RESULTS.mkdir(exist_ok=True)
    stored = RESULTS / f"{stem}.json"
    everything = json.loads(stored.read_text(encoding="utf-8")) if stored.is_file() else {}
    everything = {k: v for k, v in everything.items() if isinstance(v, dict) and "markdown" in v}
    everything.update(results)
    ordered = {name: everything[name] for name in BENCHMARKS if name in everything}
    stored.write_text(json.dumps(ordered, indent=2, default=str) + "\n", encoding="utf-8")
    sections = ["## Benchmarks"] + [
        f"{entry['markdown']}\n\n_Measured {describe(entry['environment'])}._"
        for entry in ordered.values()
    ]
    (RESULTS / f"{stem}.md").write_text("\n\n".join(sections) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
