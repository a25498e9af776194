"""Durability: a referral whose receipt a case worker saw survives the server being killed.

``samverkan serve`` runs as a real process on a free port against the test database (SQLite
file, or PostgreSQL with ``SAMVERKAN_TEST_DATABASE_URL``). Many case workers fill in the
referral form at once, the real way (form, CSRF token, review, send, receipt), each from their
own address. Meanwhile the server is killed with SIGKILL and started again, several times. A
case worker whose connection breaks sends the same step again once the server is back, as a
browser's reload would. Afterwards every reference shown on a receipt is in the database
exactly once, with everything stored with it, and no form was stored twice.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import AuditEntry, Consent, Participant, Referral
from tests.common.referrals import referral_form
from tests.common.servers import RETRYABLE, Server, free_port
from tests.common.teams import make_team
from tests.common.web import Browser, csrf_from, hidden_fields

CASE_WORKERS = 12
KILLS = 3
SECONDS_BETWEEN_KILLS = 2.5
GIVE_UP_AFTER = 45.0  # seconds from the start: the test stays bounded even if things go wrong
_REFERENCE = re.compile(r'<span class="reference">([^<]+)</span>')


@dataclass
class Outcome:
    """What the case workers saw: the receipts (submission key → reference) and failures."""

    receipts: dict[str, str] = field(default_factory=dict)
    attempted: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    retries: int = 0


class CaseWorker:
    """Sends referrals through the form, one after another, until told to stop."""

    def __init__(self, number: int, base_url: str, outcome: Outcome, deadline: float) -> None:
        self.number, self.base_url, self.outcome, self.deadline = (
            number,
            base_url,
            outcome,
            deadline,
        )
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set() and time.monotonic() < self.deadline:
            self.sent += (
                1  # a new browser and address for each form (the rate limit is per address)
            )
            browser = Browser(self.base_url, local_address=f"127.0.{self.number + 1}.{self.sent}")
            try:
                await self.send_one(browser)
            except AssertionError as failed:
                self.outcome.failures.append(str(failed))
            finally:
                await browser.close()

    async def send_one(self, browser: Browser) -> None:
        """Form → review → send → receipt; each step sent again after a broken connection."""
        form = await self.step(browser, "GET", "/remiss", expect=200)
        fields = dict(hidden_fields(form))
        key = fields["submission_key"]
        self.outcome.attempted.add(key)
        review_path = await self.step(
            browser,
            "POST",
            "/remiss",
            expect=303,
            data={**referral_form(), **fields, "_csrf": csrf_from(form)},
        )
        review = await self.step(browser, "GET", review_path, expect=200)
        sent_fields = hidden_fields(review)
        await self.step(browser, "POST", "/remiss/skicka", expect=303, data=sent_fields)
        receipt = await self.step(browser, "GET", "/remiss/kvitto", expect=200)
        match = _REFERENCE.search(receipt)
        assert match, "the receipt page shows no reference"
        self.outcome.receipts[key] = match.group(1)

    async def step(
        self, browser: Browser, method: str, path: str, *, expect: int, data: object = None
    ) -> str:
        """One request, sent again while the server is down (connection errors, 503).

        The page's text, or for a redirect the address it leads to.
        """
        while time.monotonic() < self.deadline:
            try:
                async with browser.session.request(
                    method,
                    browser.base_url + path,
                    data=data,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    body = await response.text()
                    if response.status == expect:
                        return response.headers.get("Location", body)
                    assert response.status == 503, f"{method} {path}: {response.status}"
            except RETRYABLE:
                pass
            self.outcome.retries += 1
            await asyncio.sleep(0.2)
        raise AssertionError(f"{method} {path}: gave up at the deadline")


@pytest.fixture
async def server(db: Database, database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    await make_team(db)
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path),
        "SAMVERKAN_ENV": "test", "SAMVERKAN_DATABASE_URL": database_url,
        "SAMVERKAN_SECRET_KEY": "crash-test-secret-key-" + "c" * 30,
        "SAMVERKAN_DATA_DIR": str(tmp_path / "data"), "SAMVERKAN_SCHEDULER": "off",
        "SAMVERKAN_LOG_LEVEL": "warning",
    }  # fmt: skip
    running = Server(env, free_port(), tmp_path / "server.log")
    await running.start()
    yield running
    await running.stop()


async def stored(db: Database) -> tuple[dict[str, str], dict[str, int]]:
    """References by submission key, and row counts of what each referral consists of."""
    async with db.sessions() as session:
        rows = (await session.execute(select(Referral.submission_key, Referral.reference))).all()
        counts = {
            "referrals": len(rows),
            "participants": await session.scalar(select(func.count(Participant.id))),
            "referrals with consents": await session.scalar(
                select(func.count(func.distinct(Consent.referral_id)))),
            "audit entries": await session.scalar(select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "referral.submitted")),
        }  # fmt: skip
    # The stored key is the form's key and a digest of its content (services.referrals).
    return {key.rsplit(".", 1)[0]: reference for key, reference in rows}, counts


async def test_every_acknowledged_referral_survives_sigkill_exactly_once(
    server: Server, db: Database
) -> None:
    started = time.monotonic()
    outcome, stop = Outcome(), asyncio.Event()
    workers = [
        CaseWorker(n, server.url, outcome, started + GIVE_UP_AFTER) for n in range(CASE_WORKERS)
    ]
    sending = [asyncio.create_task(worker.run(stop)) for worker in workers]
    receipts_before_kill = []
    for _ in range(KILLS):
        await asyncio.sleep(SECONDS_BETWEEN_KILLS)
        receipts_before_kill.append(len(outcome.receipts))
        await server.kill()
        await server.start()
    await asyncio.sleep(SECONDS_BETWEEN_KILLS)
    stop.set()
    await asyncio.gather(*sending)

    by_key, counts = await stored(db)
    references = list(by_key.values())
    print(
        f"receipts {len(outcome.receipts)}, forms {len(outcome.attempted)}, retries "
        f"{outcome.retries}, stored {counts}, {time.monotonic() - started:.1f} s"
    )
    assert outcome.failures == []
    assert all(n > 0 for n in receipts_before_kill), "every kill should find referrals being sent"
    assert outcome.retries > 0, "the kills should have cut off some requests"
    assert {key: by_key.get(key) for key in outcome.receipts} == outcome.receipts
    assert sorted(set(references)) == sorted(references)
    assert set(by_key) <= outcome.attempted
    assert counts == dict.fromkeys(counts, len(by_key))
