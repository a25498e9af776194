"""A completed survey's link closes SAMVERKAN_COMPLETED_LINK_DAYS after completion, in the chat too.

Then ``/start TOKEN``, returning to the chat and ``/radera`` say the survey is closed and that the
team deletes answers on request; no answer is shown, and nothing is deleted from the chat.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.clock import utcnow
from storage.db import Database
from storage.models import Answer, Response
from tests.bot.conftest import Person, bot_settings, new_token, serving, webhook_url
from tests.fakes.telegram_api import FakeBotApi

CLOSED = "Enkäten är avslutad och länken gäller inte längre"


@pytest.fixture
async def person(api: FakeBotApi, settings, db: Database) -> AsyncIterator[Person]:  # type: ignore[no-untyped-def]
    """A participant; the app serves the bot in webhook mode, links closing 7 days after."""
    webhook = dataclasses.replace(
        bot_settings(settings, api, mode="webhook"), completed_link_days=7
    )
    async with serving(webhook, db) as server:
        yield Person(api, webhooks=[webhook_url(server)])


async def complete_survey(person: Person, token: str) -> None:
    """Answer every question in Swedish."""
    await person.write(f"/start {token}")
    await person.press("Svenska", expect=2)
    await person.press("☐ Träning/gym", expect=1)
    await person.press("✓ Klar")
    await person.write("Samtalen och gymmet")
    await person.press("Ja, lite")
    await person.press("Bra")
    await person.write("Fler grupper")
    await person.press("Ja")


async def completed_days_ago(db: Database, days: float) -> None:
    async with db.transaction() as session:
        await session.execute(update(Response).values(completed_at=utcnow() - timedelta(days=days)))


async def answer_count(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count(Answer.id))) or 0)


async def test_after_the_set_days_start_says_the_survey_is_closed(
    person: Person, db: Database
) -> None:
    token = await new_token(db)
    await complete_survey(person, token)
    await completed_days_ago(db, 8)

    [reply] = await person.write(f"/start {token}")
    [back] = await person.write("Hej")

    assert reply.text.startswith(CLOSED) and "kontakta teamet" in reply.text
    assert back.text.startswith(CLOSED)
    assert "Fler grupper" not in reply.text + back.text


async def test_after_the_set_days_answers_are_deleted_only_by_the_team(
    person: Person, db: Database
) -> None:
    await complete_survey(person, await new_token(db))
    await completed_days_ago(db, 8)

    [reply] = await person.write("/radera")

    assert reply.text.startswith(CLOSED) and await answer_count(db) == 6


async def test_within_the_set_days_the_link_still_says_thanks(person: Person, db: Database) -> None:
    token = await new_token(db)
    await complete_survey(person, token)
    await completed_days_ago(db, 6)

    [reply] = await person.write(f"/start {token}")

    assert not reply.text.startswith(CLOSED)
