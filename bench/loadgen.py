"""A closed-loop HTTP load generator on loopback: N clients repeat a scenario for a set time.

Each client runs the scenario (one request, or a form's GET + POST + POST) again and again for
``warmup + seconds``; only what completes in the last ``seconds`` counts. A scenario gets a
:class:`Visit` and times its steps with ``visit.request``. With ``new_visitor=True`` every
iteration is a new visitor: a fresh cookie jar and a new connection from its own loopback
address (127.1.0.1, 127.1.0.2, …), as different people at different machines would be, so a
per-address rate limit sees each visitor once. Otherwise each client keeps its session and its
keep-alive connection. Only loopback targets are allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bench import percentile

FIRST_VISITOR_ADDRESS = ipaddress.IPv4Address("127.1.0.1")
TIMEOUT = aiohttp.ClientTimeout(total=30)


class UnexpectedResponse(Exception):
    """A step answered with a status the scenario did not expect."""


@dataclass
class Timings:
    """Latencies (seconds) of iterations and of each named step inside the window, errors seen.

    ``succeeded_total`` counts every iteration that succeeded, warm-up included, to compare
    with what the server stored.
    """

    iterations: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0
    first_error: str | None = None
    succeeded_total: int = 0


@dataclass
class LoadResult:
    """What one load run measured over its measuring window."""

    clients: int
    seconds: float
    timings: Timings

    @property
    def completed(self) -> int:
        """Iterations that completed inside the window."""
        return len(self.timings.iterations)

    @property
    def throughput(self) -> float:
        """Completed iterations per second."""
        return self.completed / self.seconds

    @property
    def requests_per_second(self) -> float:
        """Completed HTTP requests per second, over every step."""
        return sum(len(v) for v in self.timings.steps.values()) / self.seconds

    def latency_ms(self, q: float, step: str | None = None) -> float:
        """The ``q``-th percentile latency in milliseconds of iterations, or of one step."""
        values = self.timings.iterations if step is None else self.timings.steps[step]
        return percentile(values, q) * 1000

    def summary(self) -> dict[str, Any]:
        """Raw figures for the JSON results."""
        return {
            "clients": self.clients,
            "seconds": self.seconds,
            "completed": self.completed,
            "errors": self.timings.errors,
            "succeeded_total": self.timings.succeeded_total,
            "first_error": self.timings.first_error,
            "throughput_per_s": self.throughput,
            "requests_per_s": self.requests_per_second,
            "p50_ms": self.latency_ms(50),
            "p99_ms": self.latency_ms(99),
            "steps": {
                name: {"count": len(v), "p50_ms": self.latency_ms(50, name),
                       "p99_ms": self.latency_ms(99, name)}
                for name, v in self.timings.steps.items()
            },
        }  # fmt: skip


class Visit:
    """One iteration's view of the target: its client session and the step timer."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.step_times: list[tuple[str, float]] = []

    async def request(
        self, step: str, method: str, path: str, *, expect: int = 200, **kwargs: Any
    ) -> str:
        """Send one request, read the body, check the status and time it as ``step``.

        Returns the body, or for an expected redirect the address it leads to.
        """
        started = time.perf_counter()
        async with self.session.request(
            method, self.base_url + path, allow_redirects=False, **kwargs
        ) as response:
            body = await response.text()
            if response.status != expect:
                raise UnexpectedResponse(f"{step}: {method} {path} gave {response.status}")
            if 300 <= expect < 400:
                body = response.headers.get("Location", "")
        self.step_times.append((step, time.perf_counter() - started))
        return body


Scenario = Callable[[Visit], Awaitable[None]]


def combined(results: list[LoadResult]) -> LoadResult:
    """Load runs made at the same time (against several servers) as one run."""
    timings = Timings()
    for result in results:
        part = result.timings
        timings.iterations += part.iterations
        for step, took in part.steps.items():
            timings.steps[step] += took
        timings.errors += part.errors
        timings.first_error = timings.first_error or part.first_error
        timings.succeeded_total += part.succeeded_total
    return LoadResult(sum(r.clients for r in results), results[0].seconds, timings)


def visitor_addresses() -> Iterator[str]:
    """Loopback source addresses, one per new visitor: 127.1.0.1, 127.1.0.2, …"""
    address = FIRST_VISITOR_ADDRESS
    while True:
        yield str(address)
        address += 1
        while address.packed[-1] in (0, 255):
            address += 1


def check_loopback(base_url: str) -> None:
    """Refuse any target that is not on this machine's loopback interface."""
    host = urlsplit(base_url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the load generator only targets loopback, not {host!r}")


async def run_load(
    base_url: str,
    scenario: Scenario,
    *,
    clients: int = 50,
    seconds: float = 10.0,
    warmup: float = 2.0,
    new_visitor: bool = False,
) -> LoadResult:
    """Run ``scenario`` from ``clients`` concurrent clients; measure the last ``seconds``."""
    check_loopback(base_url)
    started = time.perf_counter()
    window = (started + warmup, started + warmup + seconds)
    timings = Timings()
    runner = _Client(base_url, scenario, window, timings, new_visitor)
    addresses = visitor_addresses()
    await asyncio.gather(*(runner.loop(addresses) for _ in range(clients)))
    return LoadResult(clients=clients, seconds=seconds, timings=timings)


class _Client:
    """The loop every client runs until the measuring window closes."""

    def __init__(
        self,
        base_url: str,
        scenario: Scenario,
        window: tuple[float, float],
        timings: Timings,
        new_visitor: bool,
    ) -> None:
        self.base_url, self.scenario, self.window = base_url, scenario, window
        self.timings, self.new_visitor = timings, new_visitor

    async def loop(self, addresses: Iterator[str]) -> None:
        """Repeat the scenario until the window closes, recording what falls inside it."""
        kept = None if self.new_visitor else self._session(None)
        try:
            while time.perf_counter() < self.window[1]:
                session = kept or self._session(next(addresses))
                try:
                    await self._iterate(session)
                finally:
                    if kept is None:
                        await session.close()
        finally:
            if kept is not None:
                await kept.close()

    def _session(self, local_address: str | None) -> aiohttp.ClientSession:
        """A client session; bound to ``local_address`` when given (one new visitor)."""
        local = (local_address, 0) if local_address else None
        connector = aiohttp.TCPConnector(limit=1, local_addr=local, force_close=False)
        # unsafe=True: keep cookies from an IP-address host such as 127.0.0.1.
        jar = aiohttp.CookieJar(unsafe=True)
        return aiohttp.ClientSession(connector=connector, cookie_jar=jar, timeout=TIMEOUT)

    async def _iterate(self, session: aiohttp.ClientSession) -> None:
        """One scenario run, timed; counted only when it lies inside the window."""
        visit = Visit(session, self.base_url)
        began = time.perf_counter()
        try:
            await self.scenario(visit)
        except (aiohttp.ClientError, UnexpectedResponse, TimeoutError, ValueError) as failed:
            if self.window[0] <= began < self.window[1]:
                self.timings.errors += 1
                self.timings.first_error = self.timings.first_error or repr(failed)
            await asyncio.sleep(0.01)
            return
        ended = time.perf_counter()
        self.timings.succeeded_total += 1
        if began >= self.window[0] and ended <= self.window[1]:
            self.timings.iterations.append(ended - began)
            for step, took in visit.step_times:
                self.timings.steps[step].append(took)
