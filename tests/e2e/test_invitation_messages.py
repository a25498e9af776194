"""Sending invitations by SMS in Chromium on a phone: the person page and the bulk form pass axe,
fit 375 px, and a sent SMS shows its status."""

from __future__ import annotations

from typing import Any

import pytest

from tests.common.sms import participant_with_contact
from tests.common.teams import PASSWORD, make_team, make_user
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import PHONE


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """SMS (an address nothing listens on: the job is off in tests) and e-mail set up."""
    return {**settings_env, "SAMVERKAN_SMS_URL": "http://127.0.0.1:9/a1/sms",
            "SAMVERKAN_SMS_USER": "u1", "SAMVERKAN_SMS_SECRET": "p1",
            "SAMVERKAN_SMTP_URL": "smtp://127.0.0.1:9"}  # fmt: skip


async def accessible_on_a_phone(page: Any) -> None:
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


async def test_a_coordinator_sends_sms_from_the_person_page_and_in_bulk(
    live_server, phone_page
) -> None:
    await make_team(live_server.db)
    await make_user(live_server.db, "samordnare@example.se", role="coordinator")
    person = await participant_with_contact(live_server.db, email="sara.exempel@example.se")
    await participant_with_contact(live_server.db, "N-002", phone=None)
    page = phone_page
    await page.goto(live_server.url + "/team/login")
    await page.get_by_label("E-postadress").fill("samordnare@example.se")
    await page.get_by_label("Lösenord").fill(PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    await page.goto(f"{live_server.url}/team/deltagare/{person.id}")
    await accessible_on_a_phone(page)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Skicka SMS till 07x-xxx xx 67").click()
    assert "Inbjudan är köad som SMS" in await page.locator(".notice").inner_text()
    assert (await page.locator("#inbjudan-skicka .tag").first.inner_text()).startswith("köat")
    await accessible_on_a_phone(page)

    await page.goto(live_server.url + "/team/enkater")
    await accessible_on_a_phone(page)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Visa vilka som får inbjudan").click()
    await accessible_on_a_phone(page)
    # Everyone: the person just invited by SMS is left out, as "invite all" does.
    shown = await page.locator("main").inner_text()
    assert "1 deltagare hoppas över" in shown and "Telefonnummer saknas" in shown
    assert "Skicka 1 inbjudan" not in shown

    await page.goto(live_server.url + "/team/enkater")
    await page.locator("#send-scope-chosen").check()
    for box in await page.locator(".send-chosen input[type=checkbox]").all():
        await box.check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Visa vilka som får inbjudan").click()
    await accessible_on_a_phone(page)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Skicka 1 inbjudan").click()
    assert await page.locator(".notice").inner_text() == "1 inbjudan är köad."
