"""Login throttling per account and address: exact under a burst, and not a lockout weapon."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from sqlalchemy import select

from services.auth import LIMITS, log_in
from storage import users
from storage.models import AuditEntry
from tests.common.teams import PASSWORD, make_team, make_user


async def test_a_burst_of_guesses_gets_exactly_the_allowed_number_checked(db) -> None:
    await make_team(db)
    await make_user(db)
    results = await asyncio.gather(
        *(
            log_in(db, "coach@example.se", f"wrong guess {i:04}", address="203.0.113.9")
            for i in range(20)
        )
    )
    assert sum(not r.throttled for r in results) == LIMITS["pair"]
    async with db.sessions() as session:
        actions = Counter(await session.scalars(select(AuditEntry.action)))
    assert actions["login.failed"] == LIMITS["pair"] and actions["login.throttled"] == 15


async def test_a_strangers_guesses_do_not_lock_the_owner_out(db) -> None:
    await make_team(db)
    await make_user(db)
    for i in range(LIMITS["pair"] + 3):
        await log_in(db, "coach@example.se", f"wrong guess {i:04}", address="198.51.100.7")
    stranger = await log_in(db, "coach@example.se", PASSWORD, address="198.51.100.7")
    owner = await log_in(db, "coach@example.se", PASSWORD, address="192.0.2.10")
    assert stranger.throttled and stranger.user is None
    assert not owner.throttled and owner.user is not None and owner.token


async def test_one_address_cannot_spray_guesses_over_many_accounts(db) -> None:
    await make_team(db)
    for i in range(LIMITS["address"]):
        await log_in(db, f"person{i}@example.se", "wrong guess 0000", address="198.51.100.7")
    assert (await log_in(db, "someone@example.se", "x", address="198.51.100.7")).throttled
    assert not (await log_in(db, "someone@example.se", "x", address="192.0.2.10")).throttled


async def test_the_password_check_runs_off_the_event_loop_and_outside_transactions(
    db, monkeypatch
) -> None:
    await make_team(db)
    await make_user(db)
    real, seen = users.verify_password, []

    def watched(stored: str, password: str) -> bool:
        seen.append((threading.current_thread() is threading.main_thread(), db._writers.locked()))
        return real(stored, password)

    monkeypatch.setattr(users, "verify_password", watched)
    await log_in(db, "coach@example.se", PASSWORD, address="192.0.2.1")
    await log_in(db, "coach@example.se", "wrong guess 0000", address="192.0.2.1")
    assert seen == [(False, False), (False, False)]  # a worker thread, no write lock held
