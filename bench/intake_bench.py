"""Referral intake under load: complete form submissions against a plain aiohttp hello.

One submission is what a case worker's browser does: ``GET /remiss`` (the CSRF token and the
submission key), ``POST /remiss`` (checked, the review page) and ``POST /remiss/skicka``
(checked again, personal data encrypted, stored, 303 to the receipt). 50 clients repeat it on
loopback, each submission as a new visitor from its own loopback address, against
`samverkan serve` on SQLite and on PostgreSQL. The baseline is :mod:`bench.hello` under the
same 50 clients with keep-alive, in the same run. Every submission is counted in the database
afterwards: what the clients saw succeed must all be stored.
"""

from __future__ import annotations

import html
import itertools
import re
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench import Goal, NotReady, Report, Table
from bench.loadgen import LoadResult, UnexpectedResponse, Visit, run_load
from bench.services import free_port, postgres_database, prepare_database, served, service_env
from bench.startup_bench import hello_command, serve_command

CLIENTS = 50
TEAM = "norr"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
STEPS = ("GET /remiss", "POST /remiss", "POST /remiss/skicka")
_numbers = itertools.count()


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


async def measure_hello(work: Path, timing: Timing) -> LoadResult:
    """The hello server under 50 keep-alive clients."""
    port = free_port()
    env = service_env("sqlite+aiosqlite:///unused.db", work)
    async with served(hello_command(port), env, work, port, "/") as hello:
        return await run_load(hello.base_url, say_hello, clients=CLIENTS,
                              seconds=timing.seconds, warmup=timing.warmup)  # fmt: skip


async def measure_service(database_url: str, work: Path, timing: Timing) -> tuple[LoadResult, int]:
    """`samverkan serve` on ``database_url`` under 50 clients submitting referrals.

    Returns the load result and how many referrals were stored during the run.
    """
    env = service_env(database_url, work)
    await prepare_database(env, work)
    before = await count_referrals(database_url)
    port = free_port()
    async with served(serve_command(port), env, work, port) as service:
        result = await run_load(service.base_url, submit_referral, clients=CLIENTS,
                                seconds=timing.seconds, warmup=timing.warmup, new_visitor=True)  # fmt: skip
    return result, await count_referrals(database_url) - before


async def run(quick: bool) -> Report:
    """Hello, then the referral form on SQLite and on PostgreSQL; ratios to hello."""
    timing = Timing(warmup=1.0, seconds=5.0) if quick else Timing(warmup=3.0, seconds=20.0)
    results: dict[str, tuple[LoadResult, int | None]] = {}
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as tmp:
        work = Path(tmp)
        results["hello"] = (await measure_hello(work, timing), None)
        sqlite = work / "sqlite"
        sqlite.mkdir()
        results["sqlite"] = await measure_service(
            f"sqlite+aiosqlite:///{sqlite}/bench.db", sqlite, timing
        )
        try:
            async with postgres_database() as url:
                postgres = work / "postgres"
                postgres.mkdir()
                results["postgresql"] = await measure_service(url, postgres, timing)
        except NotReady as missing:
            note = f"PostgreSQL not measured: {missing}"
        else:
            note = ""
    return intake_report(results, timing, note)


def intake_report(
    results: dict[str, tuple[LoadResult, int | None]], timing: Timing, note: str
) -> Report:
    """Tables, goals and raw figures of the intake benchmark."""
    hello = results["hello"][0]
    overall = Table(
        f"Referral intake, {CLIENTS} clients, {timing.seconds:g} s after {timing.warmup:g} s warm-up",
        ["server", "completed", "per s", "ratio to hello", "HTTP req/s", "p50 ms", "p99 ms",
         "errors", "stored / succeeded"],
    )  # fmt: skip
    steps = Table("Referral intake: latency of each step", ["database", "step", "p50 ms", "p99 ms"])
    report = Report("intake", "Referral intake", tables=[overall, steps])
    for name, (result, stored) in results.items():
        label = "aiohttp hello (baseline)" if name == "hello" else f"samverkan /remiss, {name}"
        ratio = result.throughput / hello.throughput
        overall.rows.append([
            label, result.completed, result.throughput, ratio, result.requests_per_second,
            result.latency_ms(50), result.latency_ms(99), result.timings.errors,
            "—" if stored is None else f"{stored} / {result.timings.succeeded_total}",
        ])  # fmt: skip
        report.raw[name] = result.summary() | {"ratio_to_hello": ratio, "stored": stored}
        if name == "hello":
            continue
        for step in STEPS:
            steps.rows.append(
                [name, step, result.latency_ms(50, step), result.latency_ms(99, step)]
            )
        report.goals += [
            Goal(f"{name}: submissions/s ≥ 0.25 × hello req/s", f"{ratio:.3f}", ratio >= 0.25),
            Goal(f"{name}: p99 of a complete submission < 100 ms",
                 f"{result.latency_ms(99):.0f} ms", result.latency_ms(99) < 100),
        ]  # fmt: skip
        if stored != result.timings.succeeded_total:
            report.notes.append(
                f"{name}: {stored} stored but {result.timings.succeeded_total} succeeded"
            )
        if result.timings.first_error:
            report.notes.append(f"{name}: first error: {result.timings.first_error}")
    if note:
        report.notes.append(note)
    return report
