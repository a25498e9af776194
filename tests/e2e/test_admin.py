"""The admin pages and two-factor enrolment in Chromium on a 375 px phone: no axe violations,
nothing wider than the screen, and an admin enrols TOTP and edits a team by the real forms."""

from __future__ import annotations

import re
from typing import Any

import pyotp

from tests.common.teams import PASSWORD, make_team, make_user
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import PHONE


async def fits_and_is_accessible(page: Any, what: str) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"{what}: {describe(violations)}"
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} is {width} px wide"


async def test_an_admin_enrols_totp_and_manages_teams_and_staff_on_a_phone(
    live_server, phone_page
) -> None:
    await make_team(live_server.db)
    await make_user(live_server.db, "chef@example.se", role="admin", team=None, two_factor=False)
    await make_user(live_server.db, "coach@example.se")
    page, base = phone_page, live_server.url

    await page.goto(base + "/team/login")
    await page.fill("#email", "chef@example.se")
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert page.url.endswith("/team/tvafaktor")
    assert await page.locator(".qr svg").count() == 1
    await fits_and_is_accessible(page, "enrolment")
    secret = (await page.locator("code.secret").inner_text()).replace(" ", "")
    await page.fill("#code", pyotp.TOTP(secret).now())
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert await page.locator(".recovery-codes li").count() == 10
    await fits_and_is_accessible(page, "recovery codes")

    await page.goto(base + "/team/admin/team")
    await fits_and_is_accessible(page, "teams")
    await page.fill("#f-code", "syd")
    await page.fill("#f-name", "Team Syd")
    async with page.expect_navigation():
        await page.click("text=Skapa teamet")
    assert re.search(r"/team/admin/team/\d+$", page.url)
    await fits_and_is_accessible(page, "team settings")
    await page.fill("#f-places", "40")
    async with page.expect_navigation():
        await page.click("button:has-text('Spara')")
    assert "Inställningarna är sparade." in await page.locator(".notice").inner_text()

    await page.goto(base + "/team/admin/personal")
    await fits_and_is_accessible(page, "staff accounts")
    await page.fill("#f-email", "ny@example.se")
    await page.select_option("#f-team", "norr")
    async with page.expect_navigation():
        await page.click("text=Skicka inbjudan")
    assert "ny@example.se" in await page.content()
    await fits_and_is_accessible(page, "staff accounts after an invitation")


async def test_the_password_pages_have_no_axe_violations_on_a_phone(
    live_server, phone_page
) -> None:
    for path in ("/konto/glomt-losenord", "/konto/losenord/" + "x" * 43):
        await phone_page.goto(live_server.url + path)
        await fits_and_is_accessible(phone_page, path)
