"""Referral intake under load: the form page and complete submissions against aiohttp hello.

One submission is what a case worker's browser does: ``GET /remiss`` (the CSRF token and the
submission key), ``POST /remiss`` (checked, kept as a draft, 303 to the review page),
``GET /remiss/granska/{token}`` (the review page) and ``POST /remiss/skicka``
(checked again, personal data encrypted, stored, 303 to the receipt). Against `samverkan serve`
on SQLite and on PostgreSQL, in the same run:

- the form page alone: 50 keep-alive clients repeating ``GET /remiss`` (requests/s and p50/p99);
- submissions flat out: 50 clients, each submission a new visitor from its own loopback address,
  with the server's CPU time (from /proc) per submission;
- submissions at a human pace: 10 case workers, one step every 2 s each (latency per step);
- scale-out (PostgreSQL): two `samverkan serve` processes, 25 of the 50 clients on each port.

The baseline is :mod:`bench.hello` under 50 keep-alive clients, in the same run: its requests/s
and its server CPU per request. With ``SAMVERKAN_BENCH_BEFORE=/path/to/checkout`` the same
scenarios also run against that tree (the "before" of a change), alternating with this one.
Every submission is counted in the database afterwards: what the clients saw succeed must all
be stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import html
import itertools
import os
import random
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench import Goal, NotReady, Report, Table
from bench.loadgen import (
    LoadResult,
    Scenario,
    UnexpectedResponse,
    Visit,
    combined,
    run_load,
)
from bench.services import (
    ROOT,
    Service,
    cpu_in_window,
    free_port,
    postgres_database,
    prepare_database,
    served,
    service_env,
)
from bench.startup_bench import hello_command, serve_command

CLIENTS = 50
#: Case workers at a human pace, and the pause before each of their steps (seconds).
HUMAN_CLIENTS = 10
HUMAN_PAUSE = 2.0
TEAM = "norr"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
STEPS = ("GET /remiss", "POST /remiss", "GET /remiss/granska", "POST /remiss/skicka")
_numbers = itertools.count()


@dataclass(frozen=True)
class Measured:
    """A load run, the server's CPU seconds in its window, and what the database stored."""

    load: LoadResult
    server_cpu_s: float
    stored: int | None = None
    #: Submissions the clients saw succeed, in every scenario on that database, warm-up included.
    succeeded: int | None = None

    def cpu_ms_per_iteration(self) -> float:
        """The server's CPU time per completed iteration, in milliseconds."""
        return 1000 * self.server_cpu_s / max(self.load.completed, 1)


@dataclass(frozen=True)
class Timing:
    """How long to warm up and then measure each server, in seconds."""

    warmup: float
    seconds: float
    #: The measuring window of the human-pace run (one submission takes over 6 s there).
    human_seconds: float


def personnummer(n: int) -> str:
    """A valid, unique personnummer (YYMMDD-NNNC) for the ``n``-th submission."""
    born = date(1960, 1, 1) + timedelta(days=n % 14_000)
    digits = born.strftime("%y%m%d") + f"{(n // 14_000) % 1000:03d}"
    total = 0
    for position, digit in enumerate(int(d) for d in digits):
        product = digit * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return f"{digits[:6]}-{digits[6:]}{(10 - total % 10) % 10}"


def referral_answers(n: int) -> list[tuple[str, str]]:
    """What the case worker fills in: a complete referral with both consents."""
    return [
        ("team", TEAM), ("referrer_type", "remittent"), ("referrer_org", "kommun_socialtjanst"),
        ("referrer_name", "Lena Handläggare"),
        ("referrer_email", "lena.handlaggare@exempel.kommun.se"),
        ("referrer_phone", "010-123 45 67"), ("person_name", f"Testperson {n}"),
        ("personnummer", personnummer(n)), ("personnummer_confirmed", "ja"),
        ("person_phone", "070-123 45 67"),
        ("contact_channel", "sms"), ("language", "arabiska"), ("interpreter", "ja"),
        ("income_source", "forsorjningsstod"), ("contacts", "kommun"), ("contacts", "af"),
        ("help_wanted", "Vill hitta en praktikplats.\nHar svårt med långa dagar."),
        ("practical_needs", ""), ("consent_sharing_parties", "af"),
        ("consent_sharing_parties", "kommun"), ("consent_sharing_info", "arbetsformaga"),
        ("consent_sharing_info", "insatser"), ("consent_follow_up", "ja"),
        ("consent_method", "paper"), ("consent_confirmed", "ja"),
    ]  # fmt: skip


def hidden_fields(page: str) -> list[tuple[str, str]]:
    """The hidden inputs of a page, as the browser sends them back."""
    return [(name, html.unescape(value)) for name, value in HIDDEN_INPUT.findall(page)]


async def submit_referral(visit: Visit, pause: float = 0.0) -> None:
    """One complete submission: form, review, send (303 to the receipt).

    With ``pause``, the case worker reads or types for that long before each step, starting
    at a random moment so that the clients do not move in step.
    """
    await asyncio.sleep(random.uniform(0, pause))
    form = await visit.request(STEPS[0], "GET", "/remiss")
    if not any(name == "_csrf" for name, _ in hidden_fields(form)):
        raise UnexpectedResponse("the form has no CSRF token")
    answers = hidden_fields(form) + referral_answers(next(_numbers))
    await asyncio.sleep(pause)
    review_path = await visit.request(STEPS[1], "POST", "/remiss", data=answers, expect=303)
    review = await visit.request(STEPS[2], "GET", review_path)
    await asyncio.sleep(pause)
    await visit.request(STEPS[3], "POST", "/remiss/skicka", data=hidden_fields(review), expect=303)


async def submit_at_human_pace(visit: Visit) -> None:
    """One submission by a case worker who spends ``HUMAN_PAUSE`` seconds on each step."""
    await submit_referral(visit, HUMAN_PAUSE)


async def view_form(visit: Visit) -> None:
    """The empty referral form, with its CSRF token."""
    page = await visit.request(STEPS[0], "GET", "/remiss")
    if "_csrf" not in page:
        raise UnexpectedResponse("the form has no CSRF token")


async def say_hello(visit: Visit) -> None:
    """One request to the hello server."""
    await visit.request("GET /", "GET", "/")


async def count_referrals(database_url: str) -> int:
    """How many referrals the database holds."""
    from bench.services import BENCH_SECRET
    from storage.crypto import Keyring
    from storage.db import Database
    from storage.models import Referral

    db = Database.from_url(database_url, Keyring(BENCH_SECRET))
    try:
        async with db.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Referral)) or 0)
    finally:
        await db.close()


async def under_load(
    services: list[Service],
    scenario: Scenario,
    seconds: float,
    warmup: float,
    *,
    clients: int = CLIENTS,
    new_visitor: bool,
) -> Measured:
    """Run ``scenario`` from ``clients`` clients, shared evenly between ``services``.

    Also the CPU seconds all the server processes use in the measuring window.
    """
    share = clients // len(services)
    loads = [
        run_load(
            s.base_url,
            scenario,
            clients=share,
            seconds=seconds,
            warmup=warmup,
            new_visitor=new_visitor,
        )
        for s in services
    ]
    cpus = [cpu_in_window(s.process.pid, warmup, seconds) for s in services]
    measured = await asyncio.gather(*loads, *cpus)
    loads_done = [m for m in measured if isinstance(m, LoadResult)]
    cpu = sum(m for m in measured if isinstance(m, float))
    return Measured(combined(loads_done), cpu)


async def measure_hello(work: Path, timing: Timing) -> Measured:
    """The hello server under 50 keep-alive clients."""
    port = free_port()
    env = service_env("sqlite+aiosqlite:///unused.db", work)
    async with served(hello_command(port), env, work, port, "/") as hello:
        return await under_load(
            [hello], say_hello, timing.seconds, timing.warmup, new_visitor=False
        )


async def measure_service(
    database_url: str, work: Path, timing: Timing, root: Path = ROOT, *, processes: int = 1
) -> dict[str, Measured]:
    """`samverkan serve` (``processes`` of them) from ``root`` on ``database_url``.

    One process: the form page, submissions flat out and at a human pace. Several: submissions
    flat out only, the clients shared between the processes.
    """
    env = service_env(database_url, work, root)
    await prepare_database(env, work)
    before = await count_referrals(database_url)
    measured: dict[str, Measured] = {}
    async with contextlib.AsyncExitStack() as stack:
        services = []
        for _ in range(processes):
            port = free_port()
            services.append(
                await stack.enter_async_context(served(serve_command(port), env, work, port))
            )
        if processes == 1:
            measured["form page"] = await under_load(
                services, view_form, timing.seconds, timing.warmup, new_visitor=False
            )
        measured["submissions"] = await under_load(
            services, submit_referral, timing.seconds, timing.warmup, new_visitor=True
        )
        if processes == 1:
            measured["human pace"] = await under_load(
                services,
                submit_at_human_pace,
                timing.human_seconds,
                HUMAN_PAUSE * 3,
                clients=HUMAN_CLIENTS,
                new_visitor=True,
            )
    stored = await count_referrals(database_url) - before
    succeeded = sum(m.load.timings.succeeded_total for k, m in measured.items() if k != "form page")
    measured["submissions"] = dataclasses.replace(
        measured["submissions"], stored=stored, succeeded=succeeded
    )
    return measured


def trees() -> list[tuple[str, Path]]:
    """The source trees to measure: this one, after the "before" tree when one is given."""
    before = os.environ.get("SAMVERKAN_BENCH_BEFORE")
    return ([("before", Path(before))] if before else []) + [("now", ROOT)]


async def run(quick: bool) -> Report:
    """Hello; then each tree on SQLite and on PostgreSQL; then two processes on PostgreSQL."""
    timing = (
        Timing(warmup=1.0, seconds=5.0, human_seconds=20.0)
        if quick
        else Timing(warmup=3.0, seconds=20.0, human_seconds=40.0)
    )
    results: dict[tuple[str, str], dict[str, Measured]] = {}
    notes = []
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as tmp:
        work = Path(tmp)
        hello = await measure_hello(work, timing)
        for kind in ("SQLite", "PostgreSQL"):
            for tree, root in trees():
                folder = work / f"{tree}-{kind}"
                folder.mkdir()
                try:
                    async with database(kind, folder) as url:
                        results[tree, kind] = await measure_service(url, folder, timing, root)
                except NotReady as missing:
                    notes.append(f"{kind} not measured: {missing}")
        if ("now", "PostgreSQL") in results:
            (work / "scale-out").mkdir()
            async with postgres_database() as url:
                two = await measure_service(url, work / "scale-out", timing, processes=2)
            results["now", "PostgreSQL, 2 processes"] = two
    report = intake_report(hello, results, timing)
    report.notes += notes
    return report


@contextlib.asynccontextmanager
async def database(kind: str, folder: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database: a SQLite file in ``folder``, or a PostgreSQL one."""
    if kind == "SQLite":
        yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    async with postgres_database() as url:
        yield url


def intake_report(
    hello: Measured, results: dict[tuple[str, str], dict[str, Measured]], timing: Timing
) -> Report:
    """Tables, goals and raw figures of the intake benchmark."""
    overall = Table(
        f"Referral intake: {CLIENTS} clients ({HUMAN_CLIENTS} at a human pace), "
        f"{timing.seconds:g} s ({timing.human_seconds:g} s) after a warm-up",
        [
            "tree",
            "server",
            "scenario",
            "completed",
            "per s",
            "ratio to hello req/s",
            "p50 ms",
            "p99 ms",
            "server CPU ms each",
            "CPU ÷ hello's per request",
            "errors",
            "stored / succeeded",
        ],
    )
    steps = Table(
        "Referral intake: latency of each step",
        ["tree", "server", "scenario", "step", "p50 ms", "p99 ms", "count"],
    )
    report = Report("intake", "Referral intake", tables=[overall, steps])
    hello_cpu = hello.cpu_ms_per_iteration()
    overall.rows.append(_row("—", "aiohttp hello (baseline)", "GET /", hello, hello, hello_cpu))
    report.raw["hello"] = _raw(hello, hello, hello_cpu)
    for (tree, server), scenarios in results.items():
        for scenario, measured in scenarios.items():
            overall.rows.append(_row(tree, server, scenario, measured, hello, hello_cpu))
            report.raw[f"{tree} | {server} | {scenario}"] = _raw(measured, hello, hello_cpu)
            steps.rows += [
                [tree, server, scenario, step, measured.load.latency_ms(50, step),
                 measured.load.latency_ms(99, step), len(measured.load.timings.steps[step])]
                for step in STEPS if measured.load.timings.steps.get(step)
            ]  # fmt: skip
            report.notes += service_notes(f"{tree}, {server}, {scenario}", measured)
        if tree == "now":
            report.goals += service_goals(server, scenarios, hello, hello_cpu)
    report.notes += scale_out_notes(results)
    return report


def _row(
    tree: str, server: str, scenario: str, m: Measured, hello: Measured, hello_cpu: float
) -> list[object]:
    """One line of the overall table."""
    load = m.load
    return [
        tree, server, scenario, load.completed, load.throughput,
        load.throughput / hello.load.throughput, load.latency_ms(50), load.latency_ms(99),
        m.cpu_ms_per_iteration(), m.cpu_ms_per_iteration() / hello_cpu, load.timings.errors,
        "—" if m.stored is None else f"{m.stored} / {m.succeeded}",
    ]  # fmt: skip


def _raw(m: Measured, hello: Measured, hello_cpu: float) -> dict[str, object]:
    """The raw figures of one scenario, for latest.json."""
    return m.load.summary() | {
        "ratio_to_hello": m.load.throughput / hello.load.throughput, "stored": m.stored,
        "server_cpu_s": m.server_cpu_s, "server_cpu_ms_per_iteration": m.cpu_ms_per_iteration(),
        "cpu_ratio_to_hello_request": m.cpu_ms_per_iteration() / hello_cpu,
    }  # fmt: skip


def service_goals(
    server: str, scenarios: dict[str, Measured], hello: Measured, hello_cpu: float
) -> list[Goal]:
    """The issue's goals 1 and 2 for one database (this tree, one process)."""
    goals = []
    if page := scenarios.get("form page"):
        ratio = page.load.throughput / hello.load.throughput
        p99 = page.load.latency_ms(99)
        goals += [
            Goal(f"{server}: GET /remiss ≥ 0.15 × hello req/s", f"{ratio:.3f}", ratio >= 0.15),
            Goal(f"{server}: GET /remiss p99 < 100 ms at 50 clients", f"{p99:.0f} ms", p99 < 100),
        ]
    if (flat := scenarios.get("submissions")) and "human pace" in scenarios:
        cpu = flat.cpu_ms_per_iteration() / hello_cpu
        goals.append(
            Goal(
                f"{server}: CPU per submission ≤ 100 × hello's per request",
                f"{cpu:.0f} ×",
                cpu <= 100,
            )
        )
    if human := scenarios.get("human pace"):
        worst = max(human.load.latency_ms(99, step) for step in STEPS)
        goals.append(
            Goal(
                f"{server}: {HUMAN_CLIENTS} case workers at a human pace, p99 of "
                "every step < 50 ms",
                f"{worst:.0f} ms",
                worst < 50,
            )
        )
    return goals


def scale_out_notes(results: dict[tuple[str, str], dict[str, Measured]]) -> list[str]:
    """Submissions/s of two processes on one PostgreSQL against one process."""
    one = results.get(("now", "PostgreSQL"))
    two = results.get(("now", "PostgreSQL, 2 processes"))
    if not (one and two):
        return []
    ratio = two["submissions"].load.throughput / one["submissions"].load.throughput
    return [
        f"Scale-out: 2 `samverkan serve` processes on one PostgreSQL (the load generator sends "
        f"25 clients to each port, no proxy) reach {two['submissions'].load.throughput:.1f} "
        f"submissions/s, {ratio:.2f} × one process's "
        f"{one['submissions'].load.throughput:.1f}/s, on {os.cpu_count()} CPUs that also run "
        "the load generator and PostgreSQL."
    ]


def service_notes(name: str, measured: Measured) -> list[str]:
    """What went wrong in one run, if anything: lost submissions, errors."""
    timings, notes = measured.load.timings, []
    if measured.stored is not None and measured.stored != measured.succeeded:
        notes.append(f"{name}: {measured.stored} stored but {measured.succeeded} succeeded")
    if timings.first_error:
        notes.append(f"{name}: first error: {timings.first_error}")
    return notes
