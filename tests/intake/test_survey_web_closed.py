"""A completed survey's web link closes SAMVERKAN_COMPLETED_LINK_DAYS after completion.

The page then says the survey is closed and that the team deletes answers on request; it shows
no answers, and the delete page no longer works.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.main import create_app
from core.clock import utcnow
from storage.db import Database
from storage.models import Answer, Response
from tests.common.surveys import SurveyPage, heading
from tests.common.web import csrf_from

ANSWERS = (["traning"], ["Samtalen och gymmet"], ["ja_lite"], ["bra"], ["Fler grupper"], ["ja"])


async def completed_browser(client, token: str, db: Database, days_ago: float) -> SurveyPage:  # type: ignore[no-untyped-def]
    """A browser that answered the whole survey, completed ``days_ago`` days ago."""
    browser = SurveyPage(client, token)
    await browser.open()
    await browser.submit("start")
    for answers in ANSWERS:
        await browser.submit("answer", *answers)
    await completed_days_ago(db, days_ago)
    return browser


async def completed_days_ago(db: Database, days_ago: float) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Response).values(completed_at=utcnow() - timedelta(days=days_ago))
        )


async def answer_count(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count(Answer.id))) or 0)


@pytest.mark.parametrize(
    ("days", "days_ago", "closed"), [(7, 8, True), (7, 6, False), (30, 8, False)]
)
async def test_the_link_closes_the_set_days_after_completion(  # type: ignore[no-untyped-def]
    aiohttp_client, settings, db: Database, token: str, days: int, days_ago: float, closed: bool
) -> None:
    app = create_app(dataclasses.replace(settings, completed_link_days=days), database=db)
    browser = await completed_browser(await aiohttp_client(app), token, db, days_ago)

    html = await browser.open()

    if closed:
        assert browser.status == 410 and heading(html) == "Enkäten är avslutad"
        assert "kontakta teamet" in html and "Fler grupper" not in html
    else:
        assert browser.status == 200 and heading(html) == "Tack för dina svar"


async def test_a_closed_link_cannot_delete_answers(  # type: ignore[no-untyped-def]
    aiohttp_client, settings, db: Database, token: str
) -> None:
    app = create_app(dataclasses.replace(settings, completed_link_days=7), database=db)
    browser = await completed_browser(await aiohttp_client(app), token, db, 0)
    opened = await browser.client.get(browser.page + "/radera")  # a form from before it closed
    csrf = csrf_from(await opened.text())
    await completed_days_ago(db, 8)

    confirm = await browser.client.get(browser.page + "/radera")
    deleted = await browser.client.post(browser.page + "/radera", data={"_csrf": csrf})

    assert confirm.status == 410 and heading(await confirm.text()) == "Enkäten är avslutad"
    assert deleted.status == 410 and await answer_count(db) == 6
