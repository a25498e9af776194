"""The referral page's next steps and the end confirmation on a 375 px phone, in Chromium.

Each page is checked for horizontal overflow (nothing wider than the screen) and with
axe-core (WCAG 2.1 AA). ``SAMVERKAN_SCREENSHOTS=DIR`` saves a screenshot of each.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date
from pathlib import Path
from typing import Any

from core.access import Staff
from core.clock import today_in_sweden
from core.referrals import Status
from services.referrals import enrol_participant, move_referral
from storage.models import Referral
from tests.common.referrals import make_referral
from tests.common.teams import PASSWORD, make_team, make_user
from tests.e2e.axe import axe_violations, describe

SCREENSHOTS = os.environ.get("SAMVERKAN_SCREENSHOTS", "")
TODAY = today_in_sweden()


async def fits_and_is_accessible(page: Any, name: str) -> None:
    """No horizontal scrolling and no axe-core violation; a screenshot if asked."""
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: {overflow} px wider than the screen"
    violations = await axe_violations(page)
    assert violations == [], f"{name}:\n{describe(violations)}"
    if SCREENSHOTS:
        await asyncio.to_thread(Path(SCREENSHOTS).mkdir, parents=True, exist_ok=True)
        await page.screenshot(path=f"{SCREENSHOTS}/{name}-phone.png", full_page=True)


async def test_the_referral_page_and_the_end_confirmation_fit_a_phone(
    live_server, phone_page
) -> None:  # type: ignore[no-untyped-def]
    db, page, base = live_server.db, phone_page, live_server.url
    team = await make_team(db, "norr", "Samverkansteam Norr")
    user = await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    staff = Staff(user.id, "coordinator", frozenset({team.id}))
    waiting, enrolled = (
        await make_referral(db),
        await make_referral(db, personnummer="19900101-0017"),
    )
    for target in (Status.ASSESSING, Status.QUEUED):
        await move_referral(db, staff, waiting.referral_id, target)
        await move_referral(db, staff, enrolled.referral_id, target)
    await move_referral(
        db, staff, enrolled.referral_id, Status.VISIT_BOOKED, visit_date=TODAY, today=TODAY
    )
    async with db.transaction() as session:
        referral = await session.get_one(Referral, enrolled.referral_id)
        referral.received_date, person = date(2026, 1, 5), referral.participant_id
    await enrol_participant(db, staff, enrolled.referral_id, start_date=date(2026, 2, 2))

    await page.goto(base + "/team/login")
    await page.fill("#email", "samordnare@example.se")
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]")

    await page.goto(f"{base}/team/remisser/{waiting.referral_id}")
    heading = page.get_by_role("heading", name="Nästa steg")
    assert await heading.is_visible() and await page.locator("input[type=radio]").count() == 0
    await fits_and_is_accessible(page, "referral-next-step")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Spara bokat studiebesök").click()
    assert "Ange datum för studiebesöket" in await page.content()
    await fits_and_is_accessible(page, "referral-visit-date-error")
    await page.fill("#visit_booked-visit_date", TODAY.isoformat())
    async with page.expect_navigation():
        await page.get_by_role("button", name="Spara bokat studiebesök").click()
    assert f"<dt>Studiebesök</dt><dd>{TODAY.isoformat()}</dd>" in await page.content()
    await fits_and_is_accessible(page, "referral-visit-booked")

    await page.goto(f"{base}/team/deltagare/{person}")
    assert await page.input_value("#end-end_date") == ""  # no silent default
    await page.fill("#end-end_date", TODAY.isoformat())
    await page.select_option("#end-end_reason", "studier")
    await page.select_option("#end-income_source_after", "studiemedel")
    await page.fill("#end-note", "Börjar på Komvux i augusti")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Fortsätt till bekräftelse").click()
    assert await page.locator("h1").inner_text() == "Bekräfta avslut"
    await fits_and_is_accessible(page, "end-confirm")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Ja, avsluta deltagandet").click()
    assert "Deltagandet är avslutat." in await page.content()
    async with db.sessions() as session:
        ended = await session.get_one(Referral, enrolled.referral_id)
    assert (ended.status, ended.end_date, ended.end_reason) == ("ended", TODAY, "studier")
