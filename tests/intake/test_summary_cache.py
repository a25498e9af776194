"""The summary cache: a summary is kept for a minute, then built again from the data; a theme
correction on the summaries page clears it at once (reports/summary_cache.py, intake/summaries.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.main import create_app
from intake.summaries import SUMMARY_CACHE
from reports.periods import Period
from reports.summary_cache import SummaryCache
from storage.db import Database
from storage.models import Referral
from tests.common.referrals import make_referral_received_on
from tests.common.surveys import make_survey_response
from tests.common.teams import make_team, make_user
from tests.common.web import log_in

SPRING = Period(date(2026, 1, 1), date(2026, 6, 30))
KEY = ("norr", SPRING, True)  # team norr, spring 2026, raw figures (no suppression)
MARCH = datetime(2026, 3, 20, 10, tzinfo=UTC)


class Clock:
    """Seconds as the cache sees them, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def norr(db: Database) -> Database:
    await make_team(db, "norr")
    return db


async def participant_of(db: Database, reference: str) -> int:
    async with db.sessions() as session:
        found = await session.scalar(
            select(Referral.participant_id).where(Referral.reference == reference)
        )
    assert found is not None
    return found


async def test_within_the_minute_the_same_summary_is_served(norr: Database) -> None:
    clock = Clock()
    cache = SummaryCache(ttl=60, clock=clock)
    first = await cache.summary(norr, KEY)
    await make_referral_received_on(norr, date(2026, 3, 2))
    clock.now += 59
    assert await cache.summary(norr, KEY) is first


async def test_after_the_minute_a_new_referral_is_counted(norr: Database) -> None:
    clock = Clock()
    cache = SummaryCache(ttl=60, clock=clock)
    assert (await cache.summary(norr, KEY))["referrals"]["received"] == 0
    await make_referral_received_on(norr, date(2026, 3, 2))
    clock.now += 61
    assert (await cache.summary(norr, KEY))["referrals"]["received"] == 1


async def test_after_the_minute_a_new_answer_is_counted(norr: Database) -> None:
    clock = Clock()
    cache = SummaryCache(ttl=60, clock=clock)
    submission = await make_referral_received_on(norr, date(2026, 3, 2))
    before = (await cache.summary(norr, KEY))["survey"]
    await make_survey_response(
        norr,
        await participant_of(norr, submission.reference),
        completed=MARCH,
        choices={"halsa": "bra"},
    )
    clock.now += 61
    after = (await cache.summary(norr, KEY))["survey"]
    assert (before["responses"], after["responses"]) == (0, 1)
    assert (before["health"]["by_answer"]["bra"], after["health"]["by_answer"]["bra"]) == (0, 1)


async def test_charts_and_downloads_follow_the_fresh_summary(norr: Database) -> None:
    clock = Clock()
    cache = SummaryCache(ttl=60, clock=clock)
    before = await cache.rendered(norr, KEY, "json")
    await make_referral_received_on(norr, date(2026, 3, 2))
    assert await cache.rendered(norr, KEY, "json") == before
    clock.now += 61
    assert await cache.rendered(norr, KEY, "json") != before


async def test_a_theme_correction_on_the_page_gives_a_fresh_summary_at_once(
    aiohttp_client, settings, norr: Database
) -> None:
    submission = await make_referral_received_on(norr, date(2026, 3, 2))
    answer = await make_survey_response(
        norr,
        await participant_of(norr, submission.reference),
        completed=MARCH,
        useful="Fikat med de andra varje tisdag",
    )
    await make_user(norr, "coach@example.se", team="norr")
    app = create_app(settings, database=norr)
    client = await aiohttp_client(app)
    token = await log_in(client, "coach@example.se")
    cache = app[SUMMARY_CACHE]
    assert (await cache.summary(norr, KEY))["survey"]["themes"]["social"] == 0

    response = await client.post(
        f"/team/sammanstallning/teman/{answer}",
        data={"_csrf": token, "themes": ["social"]},
        allow_redirects=False,
    )

    assert response.status == 303
    assert (await cache.summary(norr, KEY))["survey"]["themes"]["social"] == 1
