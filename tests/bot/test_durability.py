"""State lives in the database: restarts, redeliveries, several processes, the webhook secret."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from sqlalchemy import func, select

from core import surveys as core
from storage.db import Database
from storage.models import Answer, ProcessedUpdate, Response
from tests.bot.conftest import (
    WEBHOOK_SECRET,
    Person,
    bot_settings,
    new_token,
    serving,
    webhook_url,
)
from tests.fakes.telegram_api import FakeBotApi

SURVEY = core.load_default_survey()


async def answer_count(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count(Answer.id))) or 0)


async def test_after_a_restart_the_participant_goes_on_at_the_next_question(
    api: FakeBotApi, settings, db: Database
) -> None:
    polling = bot_settings(settings, api)
    person = Person(api)
    async with serving(polling, db):
        await person.write(f"/start {await new_token(db)}")
        await person.press("Svenska", expect=2)
        await person.write("3")  # Träning/gym; the next question arrives
    # The process is gone; a new one starts on the same database.
    async with serving(polling, db):
        [next_question] = await person.write("Gymmet och grupperna")

    assert SURVEY.question(core.Q_CLOSER).text_in("sv") in next_question.text
    assert await answer_count(db) == 2


async def test_the_webhook_refuses_a_wrong_or_missing_secret(
    api: FakeBotApi, settings, db: Database
) -> None:
    async with serving(bot_settings(settings, api, mode="webhook"), db) as server:
        url = webhook_url(server)
        update = api.user_text(501, "/hjalp")
        statuses = [
            await api.deliver_webhook(update, url=url, secret="not the secret"),
            await api.deliver_webhook(update, url=url, secret=""),
        ]
        assert api.messages_to(501) == []
        statuses.append(await api.deliver_webhook(update, url=url, secret=WEBHOOK_SECRET))

    assert statuses == [403, 403, 200]
    assert [m.text.split(":")[0] for m in api.messages_to(501)] == ["Så här fungerar enkäten"]


async def test_a_redelivered_update_is_applied_once(
    api: FakeBotApi, settings, db: Database
) -> None:
    async with serving(bot_settings(settings, api, mode="webhook"), db) as server:
        url = webhook_url(server)
        person = Person(api, webhooks=[url])
        await person.write(f"/start {await new_token(db)}")
        await person.press("Svenska", expect=2)
        update = api.user_text(person.chat_id, "3")
        first = await api.deliver_webhook(update, url=url)
        sent = len(person.messages)
        again = await api.deliver_webhook(update, url=url)

    assert (first, again) == (200, 200)
    assert len(person.messages) == sent and await answer_count(db) == 1


async def test_two_processes_can_take_turns_with_one_conversation(
    api: FakeBotApi, settings, db: Database
) -> None:
    webhook = bot_settings(settings, api, mode="webhook")
    async with serving(webhook, db) as first, serving(webhook, db) as second:
        person = Person(api, webhooks=[webhook_url(first), webhook_url(second)])
        await person.write(f"/start {await new_token(db)}")
        await person.press("Svenska", expect=2)
        await person.press("☐ Träning/gym", expect=1)
        await person.press("☐ Annat", expect=1)
        await person.press("✓ Klar")
        await person.write("Gymmet")
        await person.press("Ja, mycket")
        await person.write("5")
        await person.press("Hoppa över")
        [thanks] = await person.press("Nej")

    assert thanks.text.endswith(SURVEY.thanks_in("sv"))
    async with db.sessions() as session:
        response = await session.scalar(select(Response))
        answers = {a.question_id: a.value for a in await session.scalars(select(Answer))}
    assert response.completed_at is not None
    assert answers[core.Q_ACTIVITIES] == ["traning", "annat"]
    assert answers[core.Q_HEALTH] == "mycket_daligt" and len(answers) == 6


async def test_one_update_sent_to_two_processes_at_once_is_applied_once(
    api: FakeBotApi, settings, db: Database
) -> None:
    webhook = bot_settings(settings, api, mode="webhook")
    async with serving(webhook, db) as first, serving(webhook, db) as second:
        person = Person(api, webhooks=[webhook_url(first)])
        await person.write(f"/start {await new_token(db)}")
        await person.press("Svenska", expect=2)
        update = api.user_text(person.chat_id, "3")
        sent = len(person.messages)
        statuses = await asyncio.gather(
            *(api.deliver_webhook(update, url=webhook_url(s)) for s in (first, second))
        )

    assert statuses == [200, 200]
    assert len(person.messages) == sent + 1 and await answer_count(db) == 1
    async with db.sessions() as session:
        assert await session.scalar(
            select(ProcessedUpdate.update_id).where(
                ProcessedUpdate.update_id == update["update_id"]
            )
        )


async def test_the_webhook_answers_400_to_what_is_not_an_update(
    api: FakeBotApi, settings, db: Database
) -> None:
    async with serving(bot_settings(settings, api, mode="webhook"), db) as server:
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with aiohttp.ClientSession() as client:
            response = await client.post(webhook_url(server), data="nej", headers=headers)
            not_json = response.status
            response = await client.post(webhook_url(server), json=[1], headers=headers)

    assert (not_json, response.status) == (400, 400)


async def test_a_failed_update_is_answered_500_and_applied_when_telegram_retries(
    api: FakeBotApi, settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import invitations

    real_load = invitations.mark_updates_and_load_chats_sync
    failures = [RuntimeError("the database went away")]

    def failing_once(connection, updates):  # type: ignore[no-untyped-def]
        loaded = real_load(connection, updates)
        if failures:  # after the update was recorded: that must be undone too
            raise failures.pop()
        return loaded

    async with serving(bot_settings(settings, api, mode="webhook"), db) as server:
        url = webhook_url(server)
        person = Person(api, webhooks=[url])
        await person.write(f"/start {await new_token(db)}")
        await person.press("Svenska", expect=2)
        monkeypatch.setattr(invitations, "mark_updates_and_load_chats_sync", failing_once)
        update = api.user_text(person.chat_id, "3")
        failed = await api.deliver_webhook(update, url=url)
        stored_after_failure = await answer_count(db)
        retried = await api.deliver_webhook(update, url=url)

    assert (failed, stored_after_failure, retried) == (500, 0, 200)
    assert await answer_count(db) == 1


async def test_an_update_whose_reply_failed_is_answered_when_telegram_retries(
    api: FakeBotApi, settings, db: Database
) -> None:
    async with serving(bot_settings(settings, api, mode="webhook"), db) as server:
        url = webhook_url(server)
        person = Person(api, webhooks=[url])
        await person.write(f"/start {await new_token(db)}")
        await person.press("Svenska", expect=2)
        await person.press("☐ Social samvaro", expect=1)
        await person.press("✓ Klar")
        api.fail_next("sendMessage", 502, "Bad Gateway")
        update = api.user_text(person.chat_id, "Gruppen var bra")
        sent = len(person.messages)
        failed = await api.deliver_webhook(update, url=url)
        retried = await api.deliver_webhook(update, url=url)
        again = await api.deliver_webhook(update, url=url)

    assert (failed, retried, again) == (500, 200, 200)
    [next_question] = person.messages[sent:]  # sent once, at the retry
    assert "Fråga 3 av 6" in next_question.text
    assert await answer_count(db) == 2
