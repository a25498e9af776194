"""Invitations on a 375 px phone in Debian's Chromium: the survey page, search, the invite-all
confirmation, the letters PDF, the person page's survey section and the copy buttons.

Every page fits the screen (no horizontal scrolling) and axe-core finds no WCAG 2.1 AA
violation. ``SAMVERKAN_SCREENSHOTS=DIR`` saves a screenshot of each page.
"""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path
from typing import Any

from pdfminer.high_level import extract_pages

from tests.common.surveys import make_enrolled_participant
from tests.common.teams import PASSWORD, make_team, make_user
from tests.e2e.axe import axe_violations, describe

SCREENSHOTS = os.environ.get("SAMVERKAN_SCREENSHOTS", "")
NAMES = [f"Deltagare Med Ett Ganska Långt Efternamn{n:02}" for n in range(1, 13)]


async def fits_and_is_accessible(page: Any, name: str) -> None:
    """No axe violation, nothing wider than the screen; a screenshot if asked."""
    violations = await axe_violations(page)
    assert violations == [], f"{name}: {describe(violations)}"
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    inner = await page.evaluate("() => window.innerWidth")
    assert width <= inner, f"{name} is {width} px wide on a {inner} px screen"
    if SCREENSHOTS:
        await asyncio.to_thread(Path(SCREENSHOTS).mkdir, parents=True, exist_ok=True)
        await page.screenshot(path=f"{SCREENSHOTS}/{name}-phone.png", full_page=True)


async def test_a_coordinator_invites_the_team_and_one_person_on_a_phone(
    live_server, phone_page
) -> None:
    await make_team(live_server.db)
    await make_user(live_server.db, "samordnare@example.se", role="coordinator")
    for number, name in enumerate(NAMES, start=1):
        await make_enrolled_participant(live_server.db, f"NORR-2026-{number:03}", name=name)
    page, base = phone_page, live_server.url
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)

    await page.goto(base + "/team/login")
    await page.fill("#email", "samordnare@example.se")
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]")

    await page.goto(base + "/team/enkater")
    await fits_and_is_accessible(page, "invitations")
    assert await page.locator("table.invitations tbody tr").count() == len(NAMES)
    one_row = await page.evaluate(
        "() => document.querySelector('table.invitations tbody tr').getBoundingClientRect().height"
    )
    assert one_row < 140, f"a row is {one_row} px high on a phone"
    await page.fill("#invitation-q", "efternamn07")
    async with page.expect_navigation():
        await page.click("button:has-text('Sök')")
    assert await page.locator("table.invitations tbody tr").count() == 1
    await fits_and_is_accessible(page, "invitations-search")

    await page.goto(base + "/team/enkater")
    async with page.expect_navigation():
        await page.click("text=Bjud in alla aktiva deltagare")
    assert "12 deltagare får en ny inbjudan." in await page.locator("main").inner_text()
    await fits_and_is_accessible(page, "invitations-confirm")
    async with page.expect_navigation():
        await page.click("button:has-text('Skapa 12 inbjudningar')")
    assert "12 nya inbjudningar" in await page.locator("h1").inner_text()
    await fits_and_is_accessible(page, "invitations-created")
    async with page.expect_download() as waiting:
        await page.click("button:has-text('Ladda ner alla 12 brev (PDF)')")
    download = await waiting.value
    letters = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert letters.startswith(b"%PDF") and download.suggested_filename.endswith(".pdf")
    assert len(list(extract_pages(io.BytesIO(letters)))) == len(NAMES)

    await page.goto(base + "/team/deltagare")
    async with page.expect_navigation():
        await page.click(f"text={NAMES[0]}")
    assert "Inbjuden" in await page.locator(".survey-section").inner_text()
    await fits_and_is_accessible(page, "participant-survey")
    if SCREENSHOTS:
        await page.locator(".survey-section").screenshot(path=f"{SCREENSHOTS}/survey-section.png")
    async with page.expect_navigation():
        await page.click("button:has-text('Bjud in till enkät')")
    assert await page.locator(".invitation-qr img").count() == 1
    await fits_and_is_accessible(page, "invitation-one")

    link = await page.locator(".copy-link-text").first.inner_text()
    await page.locator("button.copy-button").first.click()
    await page.locator(".copy-status:has-text('Kopierad')").first.wait_for()
    assert await page.evaluate("() => navigator.clipboard.readText()") == link
    assert "/enkat/" in link
