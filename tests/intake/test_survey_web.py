"""The survey as a web page: one question per page, save and resume, Arabic right to left."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from app.main import create_app
from core import surveys as core
from core.translations import translate_to
from storage import invitations
from storage.db import Database
from storage.models import Answer, Response
from tests.common.surveys import SurveyPage, heading

SURVEY = core.load_default_survey()


@pytest.fixture
async def browser(aiohttp_client, settings, db: Database, token: str) -> SurveyPage:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(settings, database=db))
    return SurveyPage(client, token)


async def stored(db: Database) -> dict[str, tuple[object, str | None, bool, bool]]:
    async with db.sessions() as session:
        answers = await session.scalars(select(Answer))
        return {a.question_id: (a.value, a.text, a.redacted, a.skipped) for a in answers}


async def the_response(db: Database) -> Response | None:
    async with db.sessions() as session:
        return await session.scalar(select(Response))


async def test_the_start_page_says_why_and_that_answering_is_voluntary(browser: SurveyPage) -> None:
    html = await browser.open()

    assert browser.status == 200 and heading(html) == SURVEY.title_in("sv")
    assert "Det är frivilligt att svara" in unescape(html)
    assert 'value="start"' in html and '<html lang="sv" dir="ltr">' in html


async def test_a_whole_survey_one_question_per_page(browser: SurveyPage, db: Database) -> None:
    await browser.open()
    pages = [heading(await browser.submit("start"))]
    for answers in (
        ["enskilda_samtal", "traning"],
        ["Samtalen och gymmet"],
        ["ja_lite"],
        ["bra"],
        ["Fler grupper"],
        ["ja"],
    ):
        pages.append(heading(await browser.submit("answer", *answers)))

    assert pages == [q.text_in("sv") for q in SURVEY.questions] + ["Tack för dina svar"]
    assert SURVEY.thanks_in("sv") in unescape(browser.html)
    assert await stored(db) == {
        core.Q_ACTIVITIES: (["enskilda_samtal", "traning"], None, False, False),
        core.Q_USEFUL: (None, "Samtalen och gymmet", False, False),
        core.Q_CLOSER: ("ja_lite", None, False, False),
        core.Q_HEALTH: ("bra", None, False, False),
        core.Q_BETTER: (None, "Fler grupper", False, False),
        core.Q_QUOTE: (True, None, False, False),
    }
    response = await the_response(db)
    assert response.completed_at is not None and response.channel == "web"


async def test_a_missing_answer_is_shown_with_an_error_summary(browser: SurveyPage) -> None:
    await browser.open()
    await browser.submit("start")

    html = await browser.submit("answer")

    assert browser.status == 422
    assert 'class="error-summary"' in html and "Välj minst ett alternativ." in html
    assert heading(html) == SURVEY.question(core.Q_ACTIVITIES).text_in("sv")


async def test_back_shows_the_earlier_answer_and_skip_passes_over(
    browser: SurveyPage, db: Database
) -> None:
    await browser.open()
    await browser.submit("start")
    await browser.submit("answer", "traning")
    html = await browser.submit("back")
    assert heading(html) == SURVEY.question(core.Q_ACTIVITIES).text_in("sv")
    assert re.search(r'value="traning" checked', html)

    for answers in (["traning"], ["Gymmet"], ["ja_lite"], ["bra"]):
        await browser.submit("answer", *answers)
    await browser.submit("skip")
    html = await browser.submit("skip")

    assert heading(html) == "Tack för dina svar"
    answers = await stored(db)
    assert answers[core.Q_BETTER] == answers[core.Q_QUOTE] == (None, None, False, True)
    assert (await the_response(db)).quote_allowed is None


async def test_a_required_question_has_no_skip_button(browser: SurveyPage) -> None:
    await browser.open()
    html = await browser.submit("start")

    assert 'value="skip"' not in html and 'value="later"' in html


async def test_leaving_for_later_and_coming_back_resumes_at_the_same_question(
    browser: SurveyPage,
) -> None:
    await browser.open()
    await browser.submit("start")
    await browser.submit("answer", "traning")

    saved = await browser.submit("later")
    assert heading(saved) == "Dina svar är sparade"
    again = await browser.open()
    assert heading(again) == SURVEY.question(core.Q_USEFUL).text_in("sv")


async def test_personal_details_are_removed_and_the_participant_is_told(
    browser: SurveyPage, db: Database
) -> None:
    await browser.open()
    await browser.submit("start")
    await browser.submit("answer", "traning")

    html = await browser.submit("answer", "Ring mig på 070-123 45 67")

    assert heading(html) == SURVEY.question(core.Q_USEFUL).text_in("sv")
    assert "Vi tog bort uppgifter som kan visa vem du är" in html and "070-123" not in html
    [(value, text, redacted, _)] = [v for k, v in (await stored(db)).items() if k == "nytta"]
    assert redacted and "070" not in text and text in unescape(html)
    next_page = await browser.submit("answer", text)
    assert heading(next_page) == SURVEY.question(core.Q_CLOSER).text_in("sv")
    assert (await stored(db))[core.Q_USEFUL][2] is True


async def test_arabic_pages_are_right_to_left(browser: SurveyPage, db: Database) -> None:
    html = await browser.open("?lang=ar")
    assert '<html lang="ar" dir="rtl">' in html and heading(html) == SURVEY.title_in("ar")

    html = await browser.submit("start")

    assert heading(html) == SURVEY.question(core.Q_ACTIVITIES).text_in("ar")
    assert SURVEY.question(core.Q_ACTIVITIES).options[0].text_in("ar") in html
    assert (await the_response(db)).language == "ar"


@pytest.mark.parametrize(("language", "name"), [("so", "Soomaali"), ("ti", "ትግርኛ")])
async def test_somali_and_tigrinya_are_offered_and_shown_left_to_right(
    browser: SurveyPage, db: Database, language: str, name: str
) -> None:
    start = await browser.open()
    assert f'href="{browser.page}?lang={language}" lang="{language}"' in start and name in start

    html = await browser.open(f"?lang={language}")
    assert f'<html lang="{language}" dir="ltr">' in html
    assert heading(html) == SURVEY.title_in(language)
    html = await browser.submit("start")

    question = SURVEY.question(core.Q_ACTIVITIES)
    assert heading(html) == question.text_in(language) != question.text_in("sv")
    assert unescape(question.options[0].text_in(language)) in unescape(html)
    assert unescape(translate_to(language, "Fortsätt senare")) in unescape(html)
    assert (await the_response(db)).language == language


async def test_a_survey_language_does_not_follow_the_person_to_the_referral_form(
    browser: SurveyPage,
) -> None:
    await browser.open("?lang=so")

    form = await browser.client.get("/remiss")
    asked = await browser.client.get("/remiss?lang=ti")

    assert '<html lang="sv" dir="ltr">' in await form.text()
    assert '<html lang="sv" dir="ltr">' in await asked.text()
    assert 'lang="so"' not in await form.text() and 'lang="ti"' not in await asked.text()


async def test_a_stale_form_changes_nothing(browser: SurveyPage, db: Database) -> None:
    await browser.open()
    first_page = await browser.submit("start")
    await browser.submit("answer", "traning")

    browser.html = first_page  # the browser's back button, then sending the old form
    html = await browser.submit("answer", "annat")

    assert heading(html) == SURVEY.question(core.Q_USEFUL).text_in("sv")
    assert (await stored(db))[core.Q_ACTIVITIES][0] == ["traning"]


async def test_answers_can_be_deleted_after_a_confirmation(
    browser: SurveyPage, db: Database
) -> None:
    await browser.open()
    await browser.submit("start")
    await browser.submit("answer", "traning")

    confirm = await browser.client.get(browser.page + "/radera")
    browser.html = await confirm.text()
    assert heading(browser.html) == "Ta bort mina svar"
    html = await browser.submit("", path="/radera")

    assert heading(html) == "Dina svar är borttagna"
    assert await stored(db) == {} and await the_response(db) is None


async def test_an_unknown_link_says_so(browser: SurveyPage) -> None:
    browser.page = "/enkat/" + "x" * 32
    html = await browser.open()

    assert browser.status == 404 and "Länken fungerar inte" in html


async def test_a_link_opened_in_telegram_sends_the_participant_there(
    browser: SurveyPage, db: Database, token: str
) -> None:
    async with db.transaction() as session:
        await invitations.claim_invitation(session, token, chat_id=77)

    html = await browser.open()

    assert browser.status == 409 and "Du har redan börjat svara i Telegram" in html


async def test_the_token_stays_out_of_metrics_and_referrers(
    browser: SurveyPage, token: str
) -> None:
    response = await browser.client.get(browser.page)
    metrics = await (await browser.client.get("/metrics")).text()

    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert token not in metrics and 'route="/enkat/{token}"' in metrics


async def test_on_another_device_the_survey_goes_on_in_the_language_chosen(
    aiohttp_client, settings, db: Database, token: str
) -> None:
    first = SurveyPage(await aiohttp_client(create_app(settings, database=db)), token)
    await first.open("?lang=ar")
    await first.submit("start")
    await first.submit("answer", "traning")

    other = SurveyPage(await aiohttp_client(create_app(settings, database=db)), token)
    html = await other.open()
    assert '<html lang="ar" dir="rtl">' in html
    await other.submit("answer", "Gymmet")

    assert (await the_response(db)).language == "ar"
    assert heading(other.html) == SURVEY.question(core.Q_CLOSER).text_in("ar")
