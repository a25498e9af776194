"""The web survey in Chromium on a 375 px phone: Swedish and Arabic, accessible, without scripts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core import surveys as core
from core.translations import translate_to
from storage import invitations
from storage.models import Answer, Response
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import PASSWORD, make_team, make_user
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import PHONE

SURVEY = core.load_default_survey()
MIN_TARGET = 44  # CSS pixels: a comfortable touch target


async def survey_link(live_server: Any) -> str:
    await make_team(live_server.db)
    participant = await make_enrolled_participant(live_server.db)
    async with live_server.db.transaction() as session:
        [new] = await invitations.create_invitations(session, [participant], channel="web", days=30)
    return f"{live_server.url}/enkat/{new.token}"


async def check_page(page: Any) -> None:
    """No axe violations, nothing wider than the phone, every control easy to tap."""
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    for target in await page.locator("main button, main .choice").all():
        box = await target.bounding_box()
        assert box["height"] >= MIN_TARGET, await target.inner_text()


async def choose(page: Any, *labels: str) -> None:
    for label in labels:
        await page.get_by_label(label, exact=True).check()


async def go_on(page: Any, button: str = "Fortsätt") -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button, exact=True).click()


async def stored(live_server: Any) -> tuple[Response, dict[str, Any]]:
    async with live_server.db.sessions() as session:
        response = await session.scalar(select(Response))
        answers = {a.question_id: a.value or a.text for a in await session.scalars(select(Answer))}
    return response, answers


async def test_a_participant_answers_in_swedish_on_a_phone(live_server, phone_page) -> None:
    page = phone_page
    await page.goto(await survey_link(live_server))
    assert await page.locator("h1").inner_text() == SURVEY.title_in("sv")
    await check_page(page)
    await go_on(page, "Börja")

    await check_page(page)
    await choose(page, "Träning/gym", "Enskilda samtal")
    await go_on(page)
    await page.get_by_label(SURVEY.question(core.Q_USEFUL).text_in("sv")).fill("Samtalen")
    await go_on(page)
    await go_on(page)  # nothing chosen: an error summary, focusable, and no violations
    assert await page.locator(".error-summary").is_visible()
    await check_page(page)
    await choose(page, "Ja, lite")
    await go_on(page)
    await choose(page, "Bra")
    await go_on(page)
    await go_on(page, "Hoppa över")
    await check_page(page)
    await choose(page, "Ja")
    await go_on(page)

    assert await page.locator("h1").inner_text() == "Tack för dina svar"
    await check_page(page)
    response, answers = await stored(live_server)
    assert response.completed_at is not None and response.language == "sv"
    assert answers == {
        core.Q_ACTIVITIES: ["enskilda_samtal", "traning"],
        core.Q_USEFUL: "Samtalen",
        core.Q_CLOSER: "ja_lite",
        core.Q_HEALTH: "bra",
        core.Q_BETTER: None,
        core.Q_QUOTE: True,
    }


async def test_a_participant_answers_in_arabic_right_to_left(live_server, phone_page) -> None:
    page = phone_page
    await page.goto(await survey_link(live_server) + "?lang=ar")
    assert await page.evaluate("() => getComputedStyle(document.body).direction") == "rtl"
    await check_page(page)
    await go_on(page, "ابدأ")

    question = SURVEY.question(core.Q_ACTIVITIES)
    assert await page.locator("h1").inner_text() == question.text_in("ar")
    await check_page(page)
    await choose(page, question.options[1].text_in("ar"))
    await go_on(page, "متابعة")
    await page.get_by_label(SURVEY.question(core.Q_USEFUL).text_in("ar")).fill("المحادثات")
    await go_on(page, "متابعة")
    await go_on(page, "المتابعة لاحقًا")

    assert await page.locator("h1").inner_text() == "تم حفظ إجاباتك"
    await check_page(page)
    await page.get_by_role("link", name="تابع الآن").click()
    assert await page.locator("h1").inner_text() == SURVEY.question(core.Q_CLOSER).text_in("ar")
    response, answers = await stored(live_server)
    assert response.language == "ar" and answers[core.Q_USEFUL] == "المحادثات"


async def test_a_participant_answers_in_tigrinya_left_to_right(live_server, phone_page) -> None:
    page = phone_page
    await page.goto(await survey_link(live_server))
    await page.get_by_role("link", name="ትግርኛ").click()
    assert await page.evaluate("() => getComputedStyle(document.body).direction") == "ltr"
    assert await page.locator("h1").inner_text() == SURVEY.title_in("ti")
    await check_page(page)
    await go_on(page, translate_to("ti", "Börja"))

    question = SURVEY.question(core.Q_ACTIVITIES)
    assert await page.locator("h1").inner_text() == question.text_in("ti")
    await check_page(page)
    await choose(page, question.options[1].text_in("ti"))
    await go_on(page, translate_to("ti", "Fortsätt"))

    assert await page.locator("h1").inner_text() == SURVEY.question(core.Q_USEFUL).text_in("ti")
    response, answers = await stored(live_server)
    assert response.language == "ti" and answers[core.Q_ACTIVITIES] == ["enskilda_samtal"]


async def test_the_survey_works_without_javascript(live_server, browser) -> None:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True)
    page = await context.new_page()
    try:
        await page.goto(await survey_link(live_server))
        await go_on(page, "Börja")
        await choose(page, "Annat")
        await go_on(page)
        await go_on(page, "Tillbaka")
        assert await page.get_by_label("Annat", exact=True).is_checked()
    finally:
        await context.close()
    _, answers = await stored(live_server)
    assert answers == {core.Q_ACTIVITIES: ["annat"]}


async def test_the_teams_invitation_pages_are_accessible(live_server, desktop_page) -> None:
    await make_team(live_server.db)
    await make_user(live_server.db, "coach@example.se")
    for ref in ("N-001", "N-002"):
        await make_enrolled_participant(live_server.db, ref)
    page = desktop_page
    await page.goto(live_server.url + "/team/login")
    await page.get_by_label("E-postadress").fill("coach@example.se")
    await page.get_by_label("Lösenord").fill(PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    await page.goto(live_server.url + "/team/enkater")
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    # "Invite all" is for coordinators; a coach invites one person at a time.
    assert await page.get_by_text("Bjud in alla aktiva deltagare").count() == 0
    async with page.expect_navigation():
        await page.get_by_role("button", name="Bjud in till R-norr-N-001").click()

    assert await page.locator("h1").inner_text() == "1 ny inbjudan"
    assert await page.locator("img[src^='data:image/svg+xml']").count() == 1
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
