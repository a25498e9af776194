"""A referral from the case worker's keyboard to the team's board, in Debian's Chromium.

The case worker fills in the form with the keyboard only, makes a mistake and corrects it
from the error summary, checks the review and gets the receipt; a coordinator then finds the
referral on the board, enrols the participant and later ends the participation. axe-core
checks every page on the way (WCAG 2.1 AA), on a phone and on a desktop.

``SAMVERKAN_SCREENSHOTS=docs/screenshots`` saves a screenshot of each page (README images).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import func, select

from core.clock import today_in_sweden
from storage.models import Referral
from tests.common.teams import PASSWORD, make_team, make_user
from tests.e2e.axe import axe_violations, describe

SCREENSHOTS = os.environ.get("SAMVERKAN_SCREENSHOTS", "")


async def accessible(page: Any, name: str, viewport: str) -> None:
    """Assert that axe-core finds no WCAG 2.1 AA violation and nothing is wider than the
    screen; save a screenshot if asked."""
    violations = await axe_violations(page)
    assert violations == [], f"{name} ({viewport}):\n{describe(violations)}"
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} ({viewport}) is {overflow} px wider than the screen"
    if SCREENSHOTS:
        await asyncio.to_thread(Path(SCREENSHOTS).mkdir, parents=True, exist_ok=True)
        height = await page.evaluate("() => document.documentElement.scrollHeight")
        full_page = height <= 3 * page.viewport_size["height"]  # long forms: the first screen
        await page.screenshot(path=f"{SCREENSHOTS}/{name}-{viewport}.png", full_page=full_page)


async def focused_id(page: Any) -> str:
    return str(await page.evaluate("() => document.activeElement && document.activeElement.id"))


async def tab_to(page: Any, element_id: str, limit: int = 60) -> None:
    """Press Tab until the element ``element_id`` has the focus."""
    for _ in range(limit):
        if await focused_id(page) == element_id:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}; focus is on #{await focused_id(page)}")


async def type_into(page: Any, element_id: str, text: str) -> None:
    await tab_to(page, element_id)
    await page.keyboard.type(text)


async def tick(page: Any, element_id: str) -> None:
    """Tab to a check box or the first radio button of a group and press Space."""
    await tab_to(page, element_id)
    await page.keyboard.press("Space")


async def fill_in_by_keyboard(page: Any) -> None:
    """Every required field, with a personnummer whose check digit is wrong."""
    await tick(page, "referrer_type")  # the first choice: a case worker
    await tab_to(page, "referrer_org")
    await page.keyboard.press("ArrowDown")  # the first organisation: Arbetsförmedlingen
    await type_into(page, "referrer_name", "Lena Handläggare")
    await type_into(page, "referrer_email", "lena.handlaggare@arbetsformedlingen.se")
    await type_into(page, "referrer_phone", "010-486 00 00")
    await type_into(page, "person_name", "Sara Exempel")
    await type_into(page, "personnummer", "19850312-1234")
    await type_into(page, "person_phone", "070-123 45 67")
    await tick(page, "contact_channel")
    await tick(page, "interpreter")
    await page.keyboard.press("ArrowDown")  # from "Ja" to "Nej"
    await tab_to(page, "income_source")
    await page.keyboard.press("ArrowDown")
    await tick(page, "contacts")
    await type_into(page, "help_wanted", "Vill komma närmare arbete och få struktur i vardagen.")
    assert await page.locator("#help_wanted-limit").inner_text() == "Högst 3000 tecken."
    count = page.locator("#help_wanted-limit + .character-count")
    assert await count.inner_text() == "53 av 3000 tecken"
    assert await count.get_attribute("aria-hidden") == "true"
    spoken = page.locator("#help_wanted-count")
    assert await spoken.get_attribute("aria-live") == "polite"
    await page.wait_for_function(
        "() => document.getElementById('help_wanted-count').textContent === '53 av 3000 tecken'"
    )
    await tick(page, "consent_sharing_parties")
    await tick(page, "consent_sharing_info")
    await tick(page, "consent_follow_up")
    await tick(page, "consent_method")
    await tick(page, "consent_confirmed")


async def press_button(page: Any, element_id: str) -> None:
    async with page.expect_navigation():
        await tab_to(page, element_id)
        await page.keyboard.press("Enter")


async def send_referral_by_keyboard(page: Any, base: str, viewport: str) -> str:
    """The case worker's part; returns the reference on the receipt."""
    await page.goto(base + "/remiss")
    await accessible(page, "form", viewport)
    await fill_in_by_keyboard(page)
    await press_button(page, "continue")
    assert await page.locator(".error-summary").count() == 1
    assert await focused_id(page) == "error-summary"
    await accessible(page, "form-errors", viewport)
    await page.keyboard.press("Tab")  # the summary's only link
    await page.keyboard.press("Enter")
    assert await focused_id(page) == "personnummer"
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.type("19850312-1231")
    await press_button(page, "continue")
    assert "Granska remissen" in await page.locator("h1").inner_text()
    await accessible(page, "review", viewport)
    review_url = page.url
    assert "/remiss/granska/" in review_url
    await press_button(page, "send")
    assert page.url.endswith("/remiss/kvitto")
    await accessible(page, "receipt", viewport)
    assert "19850312-****" in await page.locator(".receipt-copy").inner_text()
    reference = (await page.locator(".reference").inner_text()).strip()
    await back_without_sending_again(page, review_url)
    return reference


async def back_without_sending_again(page: Any, review_url: str) -> None:
    """The back button from the receipt: a GET of the review page, never a form sent again."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    response = await page.go_back()
    assert response is not None and response.ok
    first = response.request
    while first.redirected_from is not None:
        first = first.redirected_from
    assert (first.method, first.url) == ("GET", review_url)
    assert response.request.method == "GET" and page.url.endswith("/remiss/kvitto")
    assert dialogs == []


async def log_in(page: Any, base: str) -> None:
    await page.goto(base + "/team/login")
    await page.fill("#email", "samordnare@example.se")
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]")


async def enrol_and_end(page: Any, reference: str, viewport: str) -> None:
    """The coordinator moves the referral through the queue, enrols, and ends."""
    async with page.expect_navigation():
        await page.click(f"text={reference}")
    await accessible(page, "referral", viewport)
    for button in ("Flytta till ”Under bedömning”", "Sätt i kö"):
        async with page.expect_navigation():
            await page.get_by_role("button", name=button).click()
    today = today_in_sweden().isoformat()
    await page.fill("#visit_booked-visit_date", today)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Spara bokat studiebesök").click()
    await page.fill("#enrol-start_date", today)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Skriv in").click()
    assert "Prövotiden slutar" in await page.content()
    async with page.expect_navigation():
        await page.get_by_role("link", name="Till personsidan").click()
    await accessible(page, "participant", viewport)
    await page.fill("#end-end_date", today)
    await page.select_option("#end-end_reason", "arbete")
    await page.select_option("#end-income_source_after", "lon")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Fortsätt till bekräftelse").click()
    await accessible(page, "end-confirm", viewport)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Ja, avsluta deltagandet").click()
    assert "Deltagandet är avslutat." in await page.content()
    assert re.search(r"Avslutsanledning</dt><dd>Arbete", await page.content())


async def referral_to_enrolment_and_end(server: Any, page: Any, viewport: str) -> None:
    """The whole flow in one browser page, checking accessibility at each step."""
    await make_team(server.db, "norr", "Samverkansteam Norr")
    await make_user(server.db, "samordnare@example.se", role="coordinator", team="norr")
    reference = await send_referral_by_keyboard(page, server.url, viewport)
    assert re.fullmatch(r"R-[A-Z2-9]{6}", reference)
    async with server.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 1
    await log_in(page, server.url)
    await page.goto(server.url + "/team/remisser")
    assert reference in await page.content()
    await accessible(page, "board", viewport)
    await enrol_and_end(page, reference, viewport)


async def test_a_referral_from_keyboard_to_enrolment_and_end_on_a_phone(
    live_server, phone_page
) -> None:  # type: ignore[no-untyped-def]
    await referral_to_enrolment_and_end(live_server, phone_page, "phone")


async def test_a_referral_from_keyboard_to_enrolment_and_end_on_a_desktop(
    live_server, desktop_page
) -> None:  # type: ignore[no-untyped-def]
    await referral_to_enrolment_and_end(live_server, desktop_page, "desktop")


async def test_the_printed_consent_keeps_each_choice_and_the_signature_whole_on_a_page(
    live_server, desktop_page
) -> None:  # type: ignore[no-untyped-def]
    await desktop_page.goto(live_server.url + "/remiss/samtycke")
    await accessible(desktop_page, "consent-print", "desktop")
    for paper in ("A4", "Letter", "A5", "Legal"):
        pdf = await desktop_page.pdf(format=paper)
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
        assert len(pages) >= 2, paper
        signature = [n for n, text in enumerate(pages) if "Med min underskrift" in text]
        assert len(signature) == 1, paper
        text = pages[signature[0]]
        for line in ("Namn", "Personnummer", "Ort och datum", "ta tillbaka samtycket"):
            assert line in text, f"{paper}: {line!r} is not on the signature's page"
        assert (
            text.rstrip().endswith("Underskrift") or "Underskrift" in text.split("Ort och datum")[1]
        )
        choices = [n for n, text in enumerate(pages) if "Nej, jag samtycker inte." in text]
        assert choices and "Ja, jag samtycker till uppföljning" in pages[choices[0]], paper


async def test_the_steps_of_the_form_are_accessible_in_english_on_a_phone(
    live_server, phone_page
) -> None:  # type: ignore[no-untyped-def]
    await make_team(live_server.db, "norr", "Samverkansteam Norr")
    await phone_page.goto(live_server.url + "/remiss?lang=en")
    await accessible(phone_page, "form-en", "phone")
    async with phone_page.expect_navigation():
        await phone_page.click("#continue")
    assert phone_page.url.split("?")[0].rsplit("/", 2)[-2] == "utkast"
    await accessible(phone_page, "form-errors-en", "phone")
    await phone_page.goto(live_server.url + "/remiss/granska/" + "A" * 43)
    assert "no longer available" in await phone_page.locator("h1").inner_text()
    await accessible(phone_page, "expired-en", "phone")
