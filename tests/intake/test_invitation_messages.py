"""Sending invitations from the web: the person page's buttons and status, bulk with a
confirmation step, refusals with a message naming the field, permission and CSRF."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from app.main import create_app
from intake.context import CLOCK
from storage.db import Database
from storage.models import Invitation, OutboxMessage
from tests.common.sms import NOON, outbox_rows, participant_with_contact
from tests.common.teams import make_team, make_user
from tests.common.web import csrf_from, log_in


async def client_for(
    aiohttp_client, settings_env, db, *, role="staff", team="norr", sms=True, now=NOON
):  # type: ignore[no-untyped-def]
    """A client logged in as ``role`` of ``team``, SMS and e-mail set up, the clock at noon."""
    from app.settings import load_settings

    if sms:
        settings_env.update({"SAMVERKAN_SMS_URL": "http://127.0.0.1:9/a1/sms",
                             "SAMVERKAN_SMS_USER": "u1", "SAMVERKAN_SMS_SECRET": "p1"})  # fmt: skip
    settings_env["SAMVERKAN_SMTP_URL"] = "smtp://127.0.0.1:9"
    app = create_app(load_settings(settings_env, dotenv_path=None), database=db)
    app[CLOCK] = lambda: now
    email = f"{role}-{team}@example.se"
    await make_user(db, email, role=role, team=team)
    client = await aiohttp_client(app)
    await log_in(client, email)
    return client


async def post_from(client, page: str, action: str, **fields: str):  # type: ignore[no-untyped-def]
    """Post a form from ``page`` with its CSRF token."""
    html = await (await client.get(page)).text()
    return await client.post(
        action, data={"_csrf": csrf_from(html), **fields}, allow_redirects=False
    )


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


async def test_the_person_page_offers_sms_and_email_to_masked_contact_details(
    aiohttp_client, settings_env, db: Database
) -> None:
    await make_team(db)
    person = await participant_with_contact(db, email="sara.exempel@example.se")
    client = await client_for(aiohttp_client, settings_env, db)

    html = await (await client.get(f"/team/deltagare/{person.id}")).text()

    assert "Skicka SMS till 07x-xxx xx 67" in html
    assert "Skicka e-post till s•••@example.se" in html
    assert "sara.exempel@example.se" not in html  # the page itself shows the phone, not this


async def test_without_a_phone_or_sms_the_button_is_replaced_by_a_hint(
    aiohttp_client, settings_env, db: Database
) -> None:
    await make_team(db)
    person = await participant_with_contact(db, phone=None)
    client = await client_for(aiohttp_client, settings_env, db, sms=False)

    html = await (await client.get(f"/team/deltagare/{person.id}")).text()

    assert "/inbjudan/sms" not in html and "/inbjudan/epost" not in html
    assert "SMS: inte inställt för tjänsten." in html
    assert "E-post: personen har ingen e-postadress i registret." in html


async def test_an_sms_is_queued_and_its_status_shown_on_the_person_page(
    aiohttp_client, settings_env, db: Database
) -> None:
    await make_team(db)
    person = await participant_with_contact(db)
    client = await client_for(aiohttp_client, settings_env, db)
    page = f"/team/deltagare/{person.id}"

    response = await post_from(client, page, f"{page}/inbjudan/sms")
    html = await (await client.get(page)).text()

    assert response.status == 303
    assert "Inbjudan är köad som SMS till 07x-xxx xx 67." in text_of(html)
    assert re.search(r"SMS \d{4}-\d\d-\d\d \d\d:\d\d: <span class=\"tag\">köat</span>", html)
    [row] = await outbox_rows(db)
    assert row.to == ["+46701234567"] and "/enkat/" in row.body


async def test_a_missing_phone_number_is_a_422_naming_the_field_and_nothing_is_stored(
    aiohttp_client, settings_env, db: Database
) -> None:
    await make_team(db)
    person = await participant_with_contact(db, phone=None)
    client = await client_for(aiohttp_client, settings_env, db)
    page = f"/team/deltagare/{person.id}"

    response = await post_from(client, page, f"{page}/inbjudan/sms")
    html = await response.text()

    assert response.status == 422
    assert 'href="#send-phone"' in html and 'id="send-phone"' in html
    assert "Telefonnummer saknas: remissen har inget telefonnummer till personen." in html
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invitation)) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_staff_of_another_team_get_404_and_a_post_without_csrf_is_refused(
    aiohttp_client, settings_env, db: Database
) -> None:
    await make_team(db)
    await make_team(db, "syd", "Samverkansteam Syd")
    person = await participant_with_contact(db)
    other = await client_for(aiohttp_client, settings_env, db, team="syd")
    page = f"/team/deltagare/{person.id}"

    foreign = await post_from(other, "/team/enkater", f"{page}/inbjudan/sms")
    no_csrf = await other.post(f"{page}/inbjudan/sms", data={}, allow_redirects=False)

    assert (foreign.status, no_csrf.status) == (404, 403)
    assert await outbox_rows(db) == []


async def test_bulk_shows_who_gets_it_first_and_sends_on_confirmation(
    aiohttp_client, settings_env, db: Database
) -> None:
    await make_team(db)
    await participant_with_contact(db, "N-001")
    await participant_with_contact(db, "N-002", phone=None)
    client = await client_for(aiohttp_client, settings_env, db, role="coordinator")

    survey_page = await (await client.get("/team/enkater")).text()
    confirm = await post_from(
        client, "/team/enkater", "/team/enkater/skicka", team="norr", channel="sms", scope="all"
    )
    confirm_html = await confirm.text()
    queued_before = await outbox_rows(db)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm_html)
    sent = await client.post("/team/enkater/skicka", data=fields, allow_redirects=False)
    after = await (await client.get("/team/enkater")).text()

    assert 'action="/team/enkater/skicka"' in survey_page
    assert confirm.status == 200 and queued_before == []
    # Named, with the board's reference (as the survey page shows them), never the phone in full.
    assert "Sara Exempel (R-norr-N-001) · 07x-xxx xx 67" in confirm_html
    assert "Sara Exempel (R-norr-N-002): Telefonnummer saknas" in text_of(confirm_html)
    assert "0701234567" not in confirm_html
    assert sent.status == 303
    assert '<div class="notice" role="status"><p>1 inbjudan är köad.</p></div>' in after
    assert [row.to for row in await outbox_rows(db)] == [["+46701234567"]]


async def test_bulk_sending_is_for_coordinators_only(
    aiohttp_client, settings_env, db: Database
) -> None:
    await make_team(db)
    await participant_with_contact(db)
    client = await client_for(aiohttp_client, settings_env, db)

    survey_page = await (await client.get("/team/enkater")).text()
    response = await post_from(
        client, "/team/enkater", "/team/enkater/skicka", team="norr", channel="sms",
        scope="all", confirm="ja",
    )  # fmt: skip

    assert 'action="/team/enkater/skicka"' not in survey_page
    assert response.status == 403
    assert await outbox_rows(db) == []


async def test_the_queue_time_after_quiet_hours_is_said(
    aiohttp_client, settings_env, db: Database
) -> None:
    await make_team(db)
    person = await participant_with_contact(db)
    evening = NOON.replace(hour=21)  # 22:00 in Stockholm
    client = await client_for(aiohttp_client, settings_env, db, now=evening)
    page = f"/team/deltagare/{person.id}"

    await post_from(client, page, f"{page}/inbjudan/sms")
    html = text_of(await (await client.get(page)).text())

    assert "skickas kl. 08:00" in html
    assert re.search(r"köat, skickas \d{4}-\d\d-\d\d 08:00", html)
