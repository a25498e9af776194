"""Referral intake under load: complete form submissions against a plain aiohttp hello.

One submission is what a case worker's browser does: ``GET /remiss`` (the CSRF token and the
submission key), ``POST /remiss`` (checked, the review page) and ``POST /remiss/skicka``
(checked again, personal data encrypted, stored, 303 to the receipt). 50 clients repeat it on
loopback, each submission as a new visitor from its own loopback address, against
`samverkan serve` on SQLite and on PostgreSQL. The baseline is :mod:`bench.hello` under the
same 50 clients with keep-alive, in the same run; a second reference is the service's own
simplest page, ``GET /team/login`` (template, session, CSRF token, every middleware, no
database). Every submission is counted in the database afterwards: what the clients saw succeed
must all be stored.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench import Goal, NotReady, Report, Table
from bench.loadgen import LoadResult, Scenario, UnexpectedResponse, Visit, run_load
from bench.services import (
    cpu_in_window,
    free_port,
    postgres_database,
    prepare_database,
    served,
    service_env,
)
from bench.startup_bench import hello_command, serve_command

CLIENTS = 50
TEAM = "norr"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
STEPS = ("GET /remiss", "POST /remiss", "POST /remiss/skicka")
ROW_LABELS = {
    "hello": "aiohttp hello (baseline)",
    "GET /team/login": "samverkan GET /team/login (simplest page)",
}
_numbers = itertools.count()


@dataclass(frozen=True)
class Measured:
    """A load run, the server's CPU seconds in its window, and what the database stored."""

    load: LoadResult
    server_cpu_s: float
    stored: int | None = None

    def cpu_ms_per_iteration(self) -> float:
        """The server's CPU time per completed iteration, in milliseconds."""
        return 1000 * self.server_cpu_s / max(self.load.completed, 1)


@dataclass(frozen=True)
class Timing:
    """How long to warm up and then measure each server, in seconds."""

    warmup: float
    seconds: float


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
        ("team", TEAM), ("referrer_org", "kommun_socialtjanst"),
        ("referrer_name", "Lena Handläggare"),
        ("referrer_email", "lena.handlaggare@exempel.kommun.se"),
        ("referrer_phone", "010-123 45 67"), ("person_name", f"Testperson {n}"),
        ("personnummer", personnummer(n)), ("person_phone", "070-123 45 67"),
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


async def submit_referral(visit: Visit) -> None:
    """One complete submission: form, review, send (303 to the receipt)."""
    form = await visit.request(STEPS[0], "GET", "/remiss")
    if not any(name == "_csrf" for name, _ in hidden_fields(form)):
        raise UnexpectedResponse("the form has no CSRF token")
    answers = hidden_fields(form) + referral_answers(next(_numbers))
    review = await visit.request(STEPS[1], "POST", "/remiss", data=answers)
    await visit.request(STEPS[2], "POST", "/remiss/skicka", data=hidden_fields(review), expect=303)


async def say_hello(visit: Visit) -> None:
    """One request to the hello server."""
    await visit.request("GET /", "GET", "/")


async def view_login_page(visit: Visit) -> None:
    """The service's simplest page: a template, the session and CSRF token, no database."""
    await visit.request("GET /team/login", "GET", "/team/login")


async def count_referrals(database_url: str) -> int:
    """How many referrals the database holds."""
    from storage.db import Database
    from storage.models import Referral

    db = Database.from_url(database_url)
    try:
        async with db.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Referral)) or 0)
    finally:
        await db.close()


async def under_load(
    base_url: str, pid: int, scenario: Scenario, timing: Timing, *, new_visitor: bool
) -> tuple[LoadResult, float]:
    """Run ``scenario`` from 50 clients; also the server's CPU seconds in the window."""
    load, cpu = await asyncio.gather(
        run_load(base_url, scenario, clients=CLIENTS, seconds=timing.seconds,
                 warmup=timing.warmup, new_visitor=new_visitor),
        cpu_in_window(pid, timing.warmup, timing.seconds),
    )  # fmt: skip
    return load, cpu


async def measure_hello(work: Path, timing: Timing) -> Measured:
    """The hello server under 50 keep-alive clients."""
    port = free_port()
    env = service_env("sqlite+aiosqlite:///unused.db", work)
    async with served(hello_command(port), env, work, port, "/") as hello:
        load, cpu = await under_load(
            hello.base_url, hello.process.pid, say_hello, timing, new_visitor=False
        )
    return Measured(load, cpu)


async def measure_service(
    database_url: str, work: Path, timing: Timing, *, page: bool = False
) -> dict[str, Measured]:
    """`samverkan serve` on ``database_url`` under 50 clients submitting referrals.

    With ``page``, also under 50 keep-alive clients loading its simplest page, a ceiling for
    a page of this service.
    """
    env = service_env(database_url, work)
    await prepare_database(env, work)
    before = await count_referrals(database_url)
    port = free_port()
    measured = {}
    async with served(serve_command(port), env, work, port) as service:
        pid = service.process.pid
        if page:
            load, cpu = await under_load(
                service.base_url, pid, view_login_page, timing, new_visitor=False
            )
            measured["page"] = Measured(load, cpu)
        load, cpu = await under_load(
            service.base_url, pid, submit_referral, timing, new_visitor=True
        )
    measured["form"] = Measured(load, cpu, await count_referrals(database_url) - before)
    return measured


async def run(quick: bool) -> Report:
    """Hello, then the referral form on SQLite and on PostgreSQL; ratios to hello."""
    timing = Timing(warmup=1.0, seconds=5.0) if quick else Timing(warmup=3.0, seconds=20.0)
    results: dict[str, Measured] = {}
    notes = []
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as tmp:
        work = Path(tmp)
        results["hello"] = await measure_hello(work, timing)
        (work / "sqlite").mkdir()
        url = f"sqlite+aiosqlite:///{work}/sqlite/bench.db"
        sqlite = await measure_service(url, work / "sqlite", timing, page=True)
        results["GET /team/login"], results["SQLite"] = sqlite["page"], sqlite["form"]
        try:
            async with postgres_database() as url:
                (work / "postgresql").mkdir()
                postgres = await measure_service(url, work / "postgresql", timing)
                results["PostgreSQL"] = postgres["form"]
        except NotReady as missing:
            notes.append(f"PostgreSQL not measured: {missing}")
    report = intake_report(results, timing)
    report.notes += notes
    return report


def intake_report(results: dict[str, Measured], timing: Timing) -> Report:
    """Tables, goals and raw figures of the intake benchmark."""
    hello = results["hello"].load
    overall = Table(
        f"Referral intake: {CLIENTS} clients, {timing.seconds:g} s after a "
        f"{timing.warmup:g} s warm-up",
        ["server", "completed", "per s", "ratio to hello", "HTTP req/s", "p50 ms", "p99 ms",
         "server CPU ms each", "errors", "stored / succeeded"],
    )  # fmt: skip
    steps = Table("Referral intake: latency of each step", ["database", "step", "p50 ms", "p99 ms"])
    report = Report("intake", "Referral intake", tables=[overall, steps])
    for name, measured in results.items():
        load, stored = measured.load, measured.stored
        ratio = load.throughput / hello.throughput
        overall.rows.append([
            ROW_LABELS.get(name, f"samverkan /remiss, {name}"),
            load.completed, load.throughput, ratio, load.requests_per_second, load.latency_ms(50),
            load.latency_ms(99), measured.cpu_ms_per_iteration(), load.timings.errors,
            "—" if stored is None else f"{stored} / {load.timings.succeeded_total}",
        ])  # fmt: skip
        report.raw[name] = load.summary() | {
            "ratio_to_hello": ratio, "stored": stored, "server_cpu_s": measured.server_cpu_s,
            "server_cpu_ms_per_iteration": measured.cpu_ms_per_iteration(),
        }  # fmt: skip
        if name not in ROW_LABELS:
            steps.rows += [[name, step, load.latency_ms(50, step), load.latency_ms(99, step)]
                           for step in STEPS]  # fmt: skip
            report.goals += service_goals(name, measured, ratio)
            report.notes.append(
                f"{name}: counting each of the three requests, "
                f"{load.requests_per_second / hello.throughput:.3f} of hello's requests/s."
            )
            report.notes += service_notes(name, measured)
    return report


def service_goals(name: str, measured: Measured, ratio: float) -> list[Goal]:
    """The issue's two goals for one database."""
    p99 = measured.load.latency_ms(99)
    return [
        Goal(f"{name}: submissions/s ≥ 0.25 × hello requests/s", f"{ratio:.3f}", ratio >= 0.25),
        Goal(f"{name}: p99 of a complete submission < 100 ms", f"{p99:.0f} ms", p99 < 100),
    ]


def service_notes(name: str, measured: Measured) -> list[str]:
    """What went wrong in one run, if anything: lost submissions, errors."""
    timings, notes = measured.load.timings, []
    if measured.stored != timings.succeeded_total:
        notes.append(f"{name}: {measured.stored} stored but {timings.succeeded_total} succeeded")
    if timings.first_error:
        notes.append(f"{name}: first error: {timings.first_error}")
    return notes
