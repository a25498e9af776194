"""Demo data: loads into an empty database only, is deterministic, and its figures make sense
(two teams, referrals in every status along allowed paths, answers only from participants).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core.codes import END_REASONS
from core.referrals import ALLOWED_TRANSITIONS, Status
from reports.periods import Period
from reports.summary import build_summary
from storage.crypto import Keyring
from storage.db import Database
from storage.demo import DEMO_USERS, load_demo_data
from storage.models import (
    Answer,
    Participant,
    ProgressStep,
    Referral,
    ReferralEvent,
    Response,
    StaffUser,
    Team,
)
from tests.conftest import TEST_SECRET, clean_tables

ANCHOR = date(2026, 11, 30)


@pytest.fixture(scope="module")
def demo_counts(database_url: str) -> dict[str, int]:
    """Demo data of seed 2026 as on 30 November 2026, loaded once for this module's tests
    (which only read it, or put the same data back); the counts it reported.
    """

    async def load() -> dict[str, int]:
        db = Database.from_url(database_url, Keyring(TEST_SECRET))
        try:
            await clean_tables(db)
            return await load_demo_data(db, anchor=ANCHOR, seed=2026)
        finally:
            await db.close()

    return asyncio.run(load())


@pytest.fixture
async def demo(
    demo_counts: dict[str, int], database_url: str, keyring: Keyring
) -> AsyncIterator[tuple[Database, dict[str, int]]]:
    """The database with the demo data (not emptied first), and the counts reported."""
    db = Database.from_url(database_url, Keyring(TEST_SECRET))
    yield db, demo_counts
    await db.close()


async def rows_of(db: Database, entity: type) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(entity)) or 0)


async def test_the_counts_reported_are_the_rows_stored(demo) -> None:  # type: ignore[no-untyped-def]
    db, counts = demo
    stored = {
        "teams": await rows_of(db, Team),
        "users": await rows_of(db, StaffUser),
        "referrals": await rows_of(db, Referral),
        "answers": await rows_of(db, Answer),
    }
    assert counts == stored
    assert (counts["teams"], counts["users"]) == (2, len(DEMO_USERS))
    assert counts["referrals"] > 100 and counts["answers"] > 100


async def test_there_are_referrals_in_every_status_in_both_teams(demo) -> None:  # type: ignore[no-untyped-def]
    db, _ = demo
    async with db.sessions() as session:
        pairs = (
            await session.execute(
                select(Team.code, Referral.status).join(Team, Team.id == Referral.team_id)
            )
        ).all()
    statuses = Counter(status for _, status in pairs)
    assert set(statuses) == {s.value for s in Status}
    assert {team for team, _ in pairs} == {"norr", "syd"}


async def test_every_history_follows_the_allowed_moves_and_ends_in_the_status(demo) -> None:  # type: ignore[no-untyped-def]
    db, _ = demo
    async with db.sessions() as session:
        referrals = (await session.scalars(select(Referral))).all()
        events = (await session.scalars(select(ReferralEvent).order_by(ReferralEvent.id))).all()
        trial = dict((await session.execute(select(Team.id, Team.trial_months))).all())
    history: dict[int, list[ReferralEvent]] = {}
    for event in events:
        history.setdefault(event.referral_id, []).append(event)
    for referral in referrals:
        steps = history[referral.id]
        moves = [(e.from_status, e.to_status) for e in steps]
        assert moves[0] == (None, "received")
        for (_, before), (after_from, after) in zip(moves, moves[1:], strict=False):
            assert after_from == before and Status(after) in ALLOWED_TRANSITIONS[Status(before)]
        assert steps[-1].to_status == referral.status
        assert [e.at for e in steps] == sorted(e.at for e in steps)
        assert referral.received_date <= ANCHOR
        for event in steps:  # a reason is an end reason, on the move to ended only
            assert (event.to_status == "ended") == (event.reason is not None)
            assert event.reason is None or event.reason in END_REASONS
        if referral.status in ("enrolled", "ended"):
            assert referral.start_date is not None and referral.start_date <= ANCHOR
            assert referral.trial_months == trial[referral.team_id]
        if referral.status == "ended":
            assert referral.end_date is not None and referral.start_date is not None
            assert referral.start_date < referral.end_date < ANCHOR
            assert referral.end_reason in END_REASONS


async def test_answers_come_from_participants_who_started_and_before_the_anchor(demo) -> None:  # type: ignore[no-untyped-def]
    db, counts = demo
    async with db.sessions() as session:
        started = set(
            (
                await session.scalars(
                    select(Referral.participant_id).where(Referral.start_date.is_not(None))
                )
            ).all()
        )
        responses = (await session.scalars(select(Response))).all()
    assert responses and {r.participant_id for r in responses} <= started
    assert all(r.completed_at is not None and r.completed_at.date() < ANCHOR for r in responses)
    assert counts["answers"] == 6 * len(responses)  # every question answered or skipped


async def test_the_summary_of_a_year_counts_the_demo_referrals(demo) -> None:  # type: ignore[no-untyped-def]
    db, _ = demo
    year = Period(date(2025, 1, 1), date(2025, 12, 31))
    async with db.sessions() as session:
        received = await session.scalar(
            select(func.count())
            .select_from(Referral)
            .join(Team, Team.id == Referral.team_id)
            .where(
                Team.code == "norr", Referral.received_date.between(year.first_day, year.last_day)
            )
            .where(Referral.end_reason.is_distinct_from("felregistrering"))
        )
    summary = await build_summary(db, year, team_code="norr", suppress=False)
    assert summary["referrals"]["received"] == received and received > 20
    assert summary["survey"]["responses"] > 0


async def test_the_team_recorded_its_steps_visits_and_endings(demo) -> None:  # type: ignore[no-untyped-def]
    db, _ = demo
    async with db.sessions() as session:
        events = (await session.scalars(select(ReferralEvent))).all()
        enrolled = set(
            await session.scalars(select(Referral.id).where(Referral.start_date.is_not(None)))
        )
        steps = (await session.scalars(select(ProgressStep))).all()
    moved = [e for e in events if e.to_status != "received"]
    assert moved and all(e.user_id is not None for e in moved)  # who moved it
    visits = [e.note or "" for e in events if e.to_status == "visit_booked"]
    assert visits and all(re.search(r"Studiebesök bokat \d{4}-\d\d-\d\d kl", n) for n in visits)
    assert any(e.to_status == "ended" and e.note for e in events)
    with_steps = {s.referral_id for s in steps}
    assert with_steps <= enrolled and len(with_steps) > 0.8 * len(enrolled)
    assert len({s.step for s in steps}) >= 6 and all(s.user_id and s.note for s in steps)


async def test_answers_and_quotes_of_a_half_year_differ(demo) -> None:  # type: ignore[no-untyped-def]
    db, _ = demo
    half = Period(date(2026, 1, 1), date(2026, 6, 30))
    async with db.sessions() as session:
        texts = [
            a.text
            for a in await session.scalars(
                select(Answer)
                .join(Response, Response.id == Answer.response_id)
                .join(Team, Team.id == Response.team_id)
                .where(Answer.question_id == "nytta", Team.code == "norr")
                .where(
                    Response.completed_at.between(
                        datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
                    )
                )
            )
        ]
    assert len(texts) > 20 and len(set(texts)) >= 0.9 * len(texts)
    summary = await build_summary(db, half, team_code="norr", suppress=False)
    quotes = [q["text"] for q in summary["survey"]["quotes"]]
    assert len(quotes) >= 8 and len(set(quotes)) == len(quotes)
    assert not [q for q in quotes if "[namn]" in q]  # fictional answers name nobody


async def test_a_database_with_data_is_refused_and_kept_as_it_was(demo) -> None:  # type: ignore[no-untyped-def]
    db, counts = demo
    with pytest.raises(ValueError, match="already has data"):
        await load_demo_data(db, anchor=ANCHOR, seed=7)
    assert (await rows_of(db, Team), await rows_of(db, Referral)) == (2, counts["referrals"])


async def test_the_same_seed_and_anchor_give_the_same_data(demo) -> None:  # type: ignore[no-untyped-def]
    db, _ = demo

    async def snapshot() -> list[tuple[object, ...]]:
        async with db.sessions() as session:
            return [
                tuple(row)
                for row in (
                    await session.execute(
                        select(
                            Referral.reference,
                            Referral.status,
                            Referral.start_date,
                            Referral.end_date,
                            Participant.gender,
                            Participant.person_ref,
                        )
                        .join(Participant, Participant.id == Referral.participant_id)
                        .order_by(Referral.reference)
                    )
                ).all()
            ]

    first = await snapshot()
    await clean_tables(db)
    await load_demo_data(db, anchor=ANCHOR, seed=2026)
    assert await snapshot() == first
