"""The survey's thanks and broken-link pages say how to reach the team and get a new link,
in the participant's language; the way back sits at the top of each question."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import update

from app.main import create_app
from core.clock import utcnow
from storage.db import Database
from storage.models import Invitation, Team
from tests.common.surveys import SurveyPage, heading


@pytest.fixture
async def browser(aiohttp_client, settings, db: Database, token: str) -> SurveyPage:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(settings, database=db))
    return SurveyPage(client, token)


async def give_contact(db: Database, phone: str | None, email: str | None) -> None:
    async with db.transaction() as session:
        await session.execute(update(Team).values(contact_phone=phone, contact_email=email))


async def expire_links(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(days=1)))


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def answer_all(browser: SurveyPage) -> str:
    await browser.open()
    await browser.submit("start")
    for answers in (["traning"], ["Gymmet"], ["ja_lite"], ["bra"], ["Fler grupper"], ["ja"]):
        html = await browser.submit("answer", *answers)
    return html


async def test_the_thanks_page_gives_the_teams_phone_and_email(
    browser: SurveyPage, db: Database
) -> None:
    await give_contact(db, "010-123 45 67", "norr@example.se")

    html = await answer_all(browser)

    assert heading(html) == "Tack för dina svar"
    shown = text_of(html)
    assert "Kontakta teamet" in shown and "Samverkansteam Norr" in shown
    assert 'href="tel:0101234567"' in html and "010-123 45 67" in shown
    assert 'href="mailto:norr@example.se"' in html


async def test_an_expired_link_says_to_ask_the_coach_for_a_new_one_and_how(
    browser: SurveyPage, db: Database
) -> None:
    await give_contact(db, "010-123 45 67", None)
    await expire_links(db)

    html = await browser.open()

    assert browser.status == 410
    shown = text_of(html)
    assert "Kontakta din coach så får du en ny länk." in shown
    assert "Samverkansteam Norr" in shown and 'href="tel:0101234567"' in html
    assert "mailto:" not in html  # no e-mail given, none shown


async def test_an_expired_link_in_arabic_gives_the_contact_in_arabic(
    browser: SurveyPage, db: Database
) -> None:
    await expire_links(db)

    html = await browser.open("?lang=ar")

    assert browser.status == 410 and '<html lang="ar" dir="rtl">' in html
    assert "تواصل مع مدربك وسيرسل لك رابطًا جديدًا." in text_of(html)
    assert "Kontakta din coach" not in html


async def test_an_unknown_link_says_to_ask_whoever_sent_it(browser: SurveyPage) -> None:
    browser.page = "/enkat/" + "x" * 43

    html = await browser.open()

    assert browser.status == 404
    shown = text_of(html)
    assert "Kontakta den som skickade länken till dig så får du en ny länk." in shown
    assert "Kontakta teamet" not in shown  # we do not know which team


async def test_back_is_a_link_like_button_above_the_question(browser: SurveyPage) -> None:
    await browser.open()
    first = await browser.submit("start")
    assert 'value="back"' not in first  # nothing before the first question

    html = await browser.submit("answer", "traning")

    back = html.index('value="back"')
    assert back < html.index("<h1") and back < html.index('class="progress"')
    assert 'class="back-link"' in html[html.rindex("<button", 0, back) : back]
    assert html.count('value="back"') == 1
