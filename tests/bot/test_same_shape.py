"""One survey, two channels: the bot and the web page store the same answers the same way."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import aiohttp
from sqlalchemy import select

from storage.db import Database
from storage.models import Answer, AnswerTheme, Invitation, Response
from tests.bot.conftest import Person, bot_settings, new_token, serving, webhook_url
from tests.fakes.telegram_api import FakeBotApi

USEFUL = "Gruppen och träningen, och min coach som lyssnade. Ring 070-123 45 67"
BETTER = "Fler aktiviteter på kvällen"


async def answer_in_telegram(person: Person, token: str) -> None:
    await person.write(f"/start {token}")
    await person.press("Svenska", expect=3)
    await person.press("☐ Gruppcoachning/samtalsgrupper", expect=1)
    await person.press("☐ Social samvaro", expect=1)
    await person.press("✓ Klar")
    await person.write(USEFUL, expect=2)  # the redaction notice and the next question
    await person.press("Ja, mycket")
    await person.press("Någorlunda")
    await person.write(BETTER)
    await person.press("Ja")


async def answer_on_the_web(base_url: str, token: str) -> None:
    async with aiohttp.ClientSession(base_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        page = f"/enkat/{token}"
        html = await (await web.get(page)).text()
        for action, answers in [
            ("start", []),
            ("answer", ["gruppcoachning", "social_samvaro"]),
            ("answer", [USEFUL]),
            ("answer", None),  # shown again with the redaction notice; go on as stored
            ("answer", ["ja_mycket"]),
            ("answer", ["nagorlunda"]),
            ("answer", [BETTER]),
            ("answer", ["ja"]),
        ]:
            if answers is None:
                stored_text = re.search(r"<textarea[^>]*>([^<]*)</textarea>", html)
                answers = [unescape(stored_text.group(1))]
            form = [("_csrf", _field(html, "_csrf")), ("action", action)]
            form += [("question", _field(html, "question"))] if action != "start" else []
            form += [("answer", answer) for answer in answers]
            html = await (await web.post(page, data=form)).text()
    assert "Tack för dina svar" in html


def _field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


async def stored_shape(db: Database, channel: str) -> dict[str, Any]:
    """The response of one channel as rows, without ids and times."""
    async with db.sessions() as session:
        response = await session.scalar(select(Response).where(Response.channel == channel))
        answers = await session.scalars(
            select(Answer).where(Answer.response_id == response.id).order_by(Answer.question_id)
        )
        rows = []
        for a in answers:
            themes = await session.scalars(
                select(AnswerTheme.theme).where(AnswerTheme.answer_id == a.id)
            )
            rows.append((a.question_id, a.value, a.text, a.redacted, a.skipped, sorted(themes)))
        invitation = await session.get(Invitation, response.invitation_id)
    return {
        "survey_version_id": response.survey_version_id,
        "language": response.language,
        "completed": response.completed_at is not None,
        "quote_allowed": response.quote_allowed,
        "cursor": response.cursor,
        "invitation_language": invitation.language,
        "answers": rows,
    }


async def test_the_bot_and_the_web_store_the_same_response(
    api: FakeBotApi, settings, db: Database
) -> None:
    async with serving(bot_settings(settings, api, mode="webhook"), db) as server:
        await answer_in_telegram(Person(api, webhooks=[webhook_url(server)]), await new_token(db))
        await answer_on_the_web(str(server.make_url("")), await new_token(db, "N-002"))

    in_telegram, on_the_web = await stored_shape(db, "telegram"), await stored_shape(db, "web")
    assert in_telegram == on_the_web
    assert in_telegram["completed"] and in_telegram["quote_allowed"] is True
    useful = next(row for row in in_telegram["answers"] if row[0] == "nytta")
    assert useful[3] is True and "070" not in useful[2] and "grupp" in useful[5]
