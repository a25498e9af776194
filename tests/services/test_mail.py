"""E-mail through the outbox and a real SMTP server on 127.0.0.1 (aiosmtpd).

Operations queue their mail in their own transaction; :func:`deliver_outbox` sends it. These
tests run the sender by hand (the scheduler is off in tests), so each step is visible.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from app.main import create_app
from core.clock import utcnow
from core.referrals import Status
from services.mail import MAX_ATTEMPTS, Mailer, deliver_outbox, retry_delay
from services.referrals import move_referral
from storage.db import Database
from tests.common.mail import Inbox, queued_mail
from tests.common.referrals import make_referral, referral_form
from tests.common.servers import free_port
from tests.common.teams import make_team, make_user, staff_for
from tests.common.web import form_fields, hidden_fields, log_in

PERSONAL_DATA = ("Sara", "Exempel", "19850312", "1231", "070-123", "Lena", "Handläggare")


@pytest.fixture
def inbox(settings_env: dict[str, str]) -> Iterator[Inbox]:
    """A real SMTP server on loopback; the app's settings point at it."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings_env["SAMVERKAN_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    settings_env["SAMVERKAN_SMTP_FROM"] = "samverkan@forbund.example.se"
    settings_env["SAMVERKAN_PUBLIC_URL"] = "http://samverkan.example.se"  # https needs TLS here
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
async def app(inbox, settings, db):  # type: ignore[no-untyped-def]
    await make_team(db, "norr")
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    await make_user(db, "coach@example.se", role="staff", team="norr")
    return create_app(settings, database=db)


def mailer_for(settings_env: dict[str, str], *, timeout: float = 15.0) -> Mailer:
    """The mailer the app would build from these settings."""
    return Mailer(
        settings_env["SAMVERKAN_SMTP_URL"], settings_env["SAMVERKAN_SMTP_FROM"], timeout=timeout
    )


async def send_referral(client) -> None:  # type: ignore[no-untyped-def]
    """Fill in, review and send the referral form as a case worker does (sent twice)."""
    page = await (await client.get("/remiss")).text()
    review = await client.post("/remiss", data=hidden_fields(page) + form_fields(referral_form()))
    fields = hidden_fields(await review.text())
    response = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    assert response.status == 303
    again = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    assert again.status == 303


async def test_coordinators_get_a_link_to_a_new_referral_and_no_personal_data(
    aiohttp_client, app, inbox, db, settings_env
) -> None:
    client = await aiohttp_client(app)
    await send_referral(client)
    delivery = await deliver_outbox(db, mailer_for(settings_env), holder="test")
    assert delivery.sent == 1
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    body = message.get_content()
    assert recipients == ["samordnare@example.se"]
    assert message["Subject"] == "Ny remiss till Samverkansteam Norr"
    assert "http://samverkan.example.se/team/remisser/1" in body
    assert not any(secret in body + message["Subject"] for secret in PERSONAL_DATA)
    assert (await deliver_outbox(db, mailer_for(settings_env), holder="test")).sent == 0


async def test_declining_mails_the_referrer_the_reason_but_never_the_team_note(
    aiohttp_client, app, inbox, db, settings_env
) -> None:
    submission = await make_referral(db)
    client = await aiohttp_client(app)
    token = await log_in(client, "coach@example.se")
    response = await client.post(
        f"/team/remisser/{submission.referral_id}/status",
        data={
            "_csrf": token,
            "to": "declined",
            "note": "INTERN: missbruk enligt soc",
            "decline_reason": "Personen behöver först stöd från psykiatrin.",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    await deliver_outbox(db, mailer_for(settings_env), holder="test")
    declined = [m for _to, m in inbox.messages if "avböjts" in m["Subject"]]
    assert len(declined) == 1
    message = declined[0]
    body = message.get_content()
    assert message["To"] == "lena.handlaggare@arbetsformedlingen.se"
    assert message["Subject"] == f"Remiss {submission.reference} har avböjts"
    assert "Personen behöver först stöd från psykiatrin." in body
    assert "INTERN" not in body and "missbruk" not in body
    assert not any(secret in body for secret in ("Sara", "19850312"))


async def test_a_decline_through_the_operation_alone_queues_the_mail(db: Database) -> None:
    """No route can skip the mail: it belongs to the operation, not to a web view."""
    await make_team(db, "norr")
    submission = await make_referral(db)
    staff = await staff_for(db, "coach@example.se", role="staff", team="norr")
    await move_referral(db, staff, submission.referral_id, Status.ASSESSING)
    await move_referral(
        db, staff, submission.referral_id, Status.DECLINED, decline_reason="Passar inte just nu."
    )
    kinds = [(m.kind, m.recipients) for m in await queued_mail(db)]
    assert ("referral.declined", ("lena.handlaggare@arbetsformedlingen.se",)) in kinds


async def test_mail_queued_while_the_server_is_down_arrives_when_it_is_up_again(
    aiohttp_client, settings_env, settings, db
) -> None:
    port = free_port()
    settings_env["SAMVERKAN_SMTP_URL"] = f"smtp://127.0.0.1:{port}"  # nobody listens yet
    settings_env["SAMVERKAN_SMTP_FROM"] = "samverkan@forbund.example.se"
    await make_team(db, "norr")
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    client = await aiohttp_client(create_app(settings, database=db))
    await send_referral(client)
    assert "Remissen är skickad" in await (await client.get("/remiss/kvitto")).text()

    down = await deliver_outbox(db, mailer_for(settings_env), holder="test")
    assert (down.sent, down.retried) == (0, 1)
    [queued] = await queued_mail(db)
    assert (queued.attempts, queued.sent_at, queued.failed_at) == (1, None, None)

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        too_soon = await deliver_outbox(db, mailer_for(settings_env), holder="test")
        later = utcnow() + retry_delay(1) + timedelta(seconds=1)
        up = await deliver_outbox(db, mailer_for(settings_env), holder="test", now=later)
    finally:
        controller.stop()
    assert (too_soon.sent, up.sent) == (0, 1)
    assert [to for to, _m in handler.messages] == [["samordnare@example.se"]]


async def test_a_message_that_keeps_failing_is_given_up_and_shown(
    aiohttp_client, settings_env, settings, db
) -> None:
    settings_env["SAMVERKAN_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens
    settings_env["SAMVERKAN_SMTP_FROM"] = "samverkan@forbund.example.se"
    await make_team(db, "norr")
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    submission = await make_referral(db)
    moment = utcnow()
    for _attempt in range(MAX_ATTEMPTS):
        await deliver_outbox(db, mailer_for(settings_env), holder="test", now=moment)
        moment += timedelta(hours=3)
    [given_up] = await queued_mail(db)
    assert given_up.attempts == MAX_ATTEMPTS and given_up.failed_at is not None
    client = await aiohttp_client(create_app(settings, database=db))
    await log_in(client, "samordnare@example.se")
    page = await (await client.get(f"/team/remisser/{submission.referral_id}")).text()
    assert "kunde inte skickas" in page
    metrics = await (await client.get("/metrics")).text()
    assert 'samverkan_mail_outbox{state="failed"} 1' in metrics


async def test_two_senders_deliver_each_message_once(inbox, settings_env, db) -> None:
    await make_team(db, "norr")
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    for _ in range(6):
        await make_referral(db)
    runs = await asyncio.gather(
        deliver_outbox(db, mailer_for(settings_env), holder="process-a"),
        deliver_outbox(db, mailer_for(settings_env), holder="process-b"),
    )
    assert sum(run.sent for run in runs) == 6
    assert len(inbox.messages) == 6


async def test_a_mail_server_that_never_answers_does_not_delay_the_receipt(
    aiohttp_client, settings_env, settings, db
) -> None:
    """The receipt never waits for SMTP: a sender stuck on a silent server changes nothing."""
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings_env["SAMVERKAN_SMTP_URL"] = f"smtp://127.0.0.1:{silent.getsockname()[1]}"
        settings_env["SAMVERKAN_SMTP_FROM"] = "samverkan@forbund.example.se"
        await make_team(db, "norr")
        await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
        await make_referral(db)  # one message already queued: the sender hangs on it
        stuck = asyncio.create_task(
            deliver_outbox(db, mailer_for(settings_env, timeout=3), holder="test")
        )
        await asyncio.sleep(0.2)
        client = await aiohttp_client(create_app(settings, database=db))
        async with asyncio.timeout(2):
            await send_referral(client)
            receipt = await (await client.get("/remiss/kvitto")).text()
        assert "Remissen är skickad" in receipt and not stuck.done()
        delivery = await stuck
    assert (delivery.sent, delivery.retried) == (0, 1)
