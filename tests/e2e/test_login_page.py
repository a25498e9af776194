"""The staff login page in a real browser: keyboard only, accessible on phone and desktop."""

from tests.common.teams import PASSWORD, make_team, make_user
from tests.e2e.axe import axe_violations, describe


async def test_login_page_has_no_axe_violations_on_a_phone(live_server, phone_page) -> None:
    await phone_page.goto(live_server.url + "/team/login")
    violations = await axe_violations(phone_page)
    assert violations == [], describe(violations)


async def test_staff_log_in_with_the_keyboard_only(live_server, desktop_page) -> None:
    await make_team(live_server.db)
    await make_user(live_server.db, "samordnare@example.se", role="coordinator")
    page = desktop_page
    await page.goto(live_server.url + "/team/login")
    for _ in range(5):  # skip link, brand, then the e-mail field
        await page.keyboard.press("Tab")
        if await page.evaluate("() => document.activeElement.id") == "email":
            break
    assert await page.evaluate("() => document.activeElement.id") == "email"
    await page.keyboard.type("samordnare@example.se")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "/team/" in page.url and "/login" not in page.url
