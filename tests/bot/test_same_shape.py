"""One survey, two channels: the bot and the web page store the same answers the same way."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import aiohttp
from sqlalchemy import select

from core.surveys import load_default_survey
from storage.db import Database
from storage.models import Answer, AnswerTheme, Invitation, Response
from tests.bot.conftest import Person, bot_settings, new_token, serving, webhook_url
from tests.fakes.telegram_api import FakeBotApi

USEFUL = "Gruppen och träningen, och min coach som lyssnade. Ring 070-123 45 67"
SURVEY = load_default_survey()
THANKS = "tack"


def collapsed(seen: list[str]) -> list[str]:
    """The questions shown in order, a question shown twice in a row counted once."""
    return [item for n, item in enumerate(seen) if n == 0 or seen[n - 1] != item]


async def answer_in_telegram(person: Person, token: str) -> dict[str, list[str]]:
    """The script in Telegram; what the bot showed: questions in order, redaction notices."""
    await person.write(f"/start {token}")
    await person.press("Svenska", expect=2)
    await person.press("☐ Gruppcoachning/samtalsgrupper", expect=1)  # tick several
    await person.press("☐ Social samvaro", expect=1)
    await person.press("✓ Klar")
    await person.write(USEFUL, expect=2)  # the redaction notice and the next question
    await person.press("Ja, lite")
    await person.press("Tillbaka")  # back to närmare arbete …
    await person.press("Ja, mycket")  # … and change the answer
    await person.press("Någorlunda")
    await person.press("Hoppa över")  # skip "bättre"
    await person.press("Ja")
    shown: list[str] = []
    notices: list[str] = []
    for message in person.messages:
        # A pressed message becomes what comes next: the answered question, then the next one.
        number = re.search(r"Fråga (\d+) av", message.text or "")
        if message.method not in ("sendMessage", "editMessageText"):
            continue
        if number:
            shown.append(SURVEY.questions[int(number.group(1)) - 1].id)
        elif (message.text or "").startswith("Vi tog bort"):
            notices.append(shown[-1])
        elif (message.text or "").endswith(SURVEY.thanks_in("sv")):
            shown.append(THANKS)
    return {"questions": collapsed(shown), "notices": notices}


async def answer_on_the_web(base_url: str, token: str) -> dict[str, list[str]]:
    """The same script on the web page; what the pages showed."""
    shown: list[str] = []
    notices: list[str] = []
    async with aiohttp.ClientSession(base_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        page = f"/enkat/{token}"
        html = await (await web.get(page)).text()
        for action, answers in [
            ("start", []),
            ("answer", ["gruppcoachning", "social_samvaro"]),  # tick several
            ("answer", [USEFUL]),
            ("answer", None),  # shown again with the redaction notice; go on as stored
            ("answer", ["ja_lite"]),
            ("back", []),
            ("answer", ["ja_mycket"]),  # change the answer
            ("answer", ["nagorlunda"]),
            ("skip", []),
            ("answer", ["ja"]),
        ]:
            if answers is None:
                stored_text = re.search(r"<textarea[^>]*>([^<]*)</textarea>", html)
                answers = [unescape(stored_text.group(1))]
            form = [("_csrf", _field(html, "_csrf")), ("action", action)]
            form += [("question", _field(html, "question"))] if action != "start" else []
            form += [("answer", answer) for answer in answers]
            html = await (await web.post(page, data=form)).text()
            if "Tack för dina svar" in html:
                shown.append(THANKS)
                continue
            shown.append(_field(html, "question"))
            if "Vi tog bort uppgifter" in html:
                notices.append(shown[-1])
    return {"questions": collapsed(shown), "notices": notices}


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


async def test_the_bot_and_the_web_show_and_store_the_same_for_the_same_script(
    api: FakeBotApi, settings, db: Database
) -> None:
    async with serving(bot_settings(settings, api, mode="webhook"), db) as server:
        person = Person(api, webhooks=[webhook_url(server)])
        shown_in_telegram = await answer_in_telegram(person, await new_token(db))
        shown_on_the_web = await answer_on_the_web(
            str(server.make_url("")), await new_token(db, "N-002")
        )

    assert (
        shown_in_telegram
        == shown_on_the_web
        == {
            "questions": [
                "aktiviteter",
                "nytta",
                "narmare_arbete",
                "halsa",
                "narmare_arbete",
                "halsa",
                "battre",
                "citat",
                THANKS,
            ],
            "notices": ["nytta"],
        }
    )
    in_telegram, on_the_web = await stored_shape(db, "telegram"), await stored_shape(db, "web")
    assert in_telegram == on_the_web
    assert in_telegram["completed"] and in_telegram["quote_allowed"] is True
    answers = {row[0]: row[1:] for row in in_telegram["answers"]}
    assert answers["aktiviteter"][0] == ["gruppcoachning", "social_samvaro"]
    assert answers["narmare_arbete"][0] == "ja_mycket"  # changed after going back
    assert answers["battre"] == (None, None, False, True, [])  # skipped
    useful = answers["nytta"]
    assert useful[2] is True and "070" not in useful[1] and "grupp" in useful[4]
