"""SMS invitations through the outbox to a 46elks test server on 127.0.0.1 (the real HTTP API).

The scheduler is off in tests, so each test runs the ``sms.outbox`` job's function by hand
with a clock of its own: what the provider received, what was stored, when it is tried again.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from app.main import create_app
from core.invitation_messages import sms_text
from services.invitation_sending import send_invitation
from services.sms import Elks46, deliver_sms_outbox, message_of_token, status_token
from storage.crypto import Keyring
from storage.db import Database
from tests.common.sms import EVENING, NEXT_MORNING, NOON, outbox_rows, participant_with_contact
from tests.common.teams import make_team, staff_for
from tests.fakes.elks46 import FakeElks

PUBLIC_URL = "https://samverkan.example.se"
BOTH = ("sms", "email")


@pytest.fixture
async def elks() -> AsyncIterator[FakeElks]:
    async with FakeElks() as server:
        yield server


def provider(elks: FakeElks, *, password: str | None = None) -> Elks46:
    return Elks46(elks.url, elks.user, password or elks.password, "Samverkan", timeout=5)


async def sms_to_sara(db: Database, *, now=NOON, phone="070-123 45 67", **contact):  # type: ignore[no-untyped-def]
    """Team norr, its coach, and an SMS invitation to participant N-001 queued at ``now``."""
    await make_team(db)
    staff = await staff_for(db, "coach@example.se")
    person = await participant_with_contact(db, phone=phone, **contact)
    return await send_invitation(
        db, staff, person.id, "sms", enabled=BOTH, public_url=PUBLIC_URL, days=30, now=now
    )


async def test_an_sms_invitation_reaches_46elks_with_the_documented_fields(
    db: Database, elks: FakeElks
) -> None:
    await sms_to_sara(db)

    delivery = await deliver_sms_outbox(
        db, provider(elks), holder="test", public_url=PUBLIC_URL, now=NOON
    )

    assert delivery.sent == 1
    [sms] = elks.sent
    [row] = await outbox_rows(db)
    assert (sms.sender, sms.to, sms.dontlog) == ("Samverkan", "+46701234567", "message")
    assert sms.whendelivered == f"{PUBLIC_URL}/sms/status/{status_token(db.keyring, row.id)}"
    link = re.fullmatch(r".*: (https://samverkan\.example\.se/enkat/[A-Za-z0-9_-]+)", sms.message)
    assert link is not None
    assert (row.provider_id, row.delivery_status, row.sent_at is not None) == (
        sms.id,
        "created",
        True,
    )


async def test_the_message_holds_the_link_and_neutral_words_only(
    db: Database, elks: FakeElks
) -> None:
    await sms_to_sara(db, language="engelska")
    await deliver_sms_outbox(db, provider(elks), holder="test", public_url=PUBLIC_URL, now=NOON)

    [sms] = elks.sent
    link = sms.message.rsplit(" ", 1)[1]
    assert sms.message == sms_text("en", link)
    assert sms.message.startswith("Hi! We would like to hear how you are doing.")
    for personal in ("Sara", "Exempel", "Norr", "N-001", "070", "team", "Team", "rehab"):
        assert personal not in sms.message


async def test_a_failure_is_retried_after_30_seconds_and_the_error_stored(
    db: Database, elks: FakeElks
) -> None:
    await sms_to_sara(db)
    elks.fail_next(1, 503)

    failed = await deliver_sms_outbox(
        db, provider(elks), holder="test", public_url=PUBLIC_URL, now=NOON
    )
    [row] = await outbox_rows(db)
    too_soon = await deliver_sms_outbox(
        db, provider(elks), holder="test", public_url=PUBLIC_URL, now=NOON + timedelta(seconds=29)
    )
    retried = await deliver_sms_outbox(
        db, provider(elks), holder="test", public_url=PUBLIC_URL, now=NOON + timedelta(seconds=30)
    )

    assert (failed.retried, too_soon.sent, retried.sent) == (1, 0, 1)
    assert (row.attempts, row.last_error, row.due_at) == (
        1,
        "HTTP 503",
        NOON + timedelta(seconds=30),
    )
    assert row.sent_at is None and row.failed_at is None
    [done] = await outbox_rows(db)
    assert (done.attempts, done.last_error, done.provider_id) == (2, None, elks.sent[0].id)
    assert elks.requests == 2


async def test_wrong_credentials_are_retried_and_a_refused_message_is_given_up(
    db: Database, elks: FakeElks
) -> None:
    await sms_to_sara(db)
    wrong = await deliver_sms_outbox(
        db, provider(elks, password="wrong"), holder="test", public_url=PUBLIC_URL, now=NOON
    )
    [row] = await outbox_rows(db)
    assert (wrong.retried, row.last_error, row.failed_at) == (1, "HTTP 401", None)

    elks.fail_next(1, 400, "Invalid to number")
    later = NOON + timedelta(minutes=1)
    refused = await deliver_sms_outbox(
        db, provider(elks), holder="test", public_url=PUBLIC_URL, now=later
    )

    [row] = await outbox_rows(db)
    assert (refused.given_up, row.last_error, row.failed_at) == (1, "HTTP 400", later)
    assert elks.sent == []


async def test_an_sms_queued_in_quiet_hours_goes_out_when_they_end(
    db: Database, elks: FakeElks
) -> None:
    sent = await sms_to_sara(db, now=EVENING)
    sms = provider(elks)

    at_night = await deliver_sms_outbox(db, sms, holder="t", public_url=PUBLIC_URL, now=EVENING)
    before_eight = NEXT_MORNING - timedelta(seconds=1)
    early = await deliver_sms_outbox(db, sms, holder="t", public_url=PUBLIC_URL, now=before_eight)
    at_eight = await deliver_sms_outbox(
        db, sms, holder="t", public_url=PUBLIC_URL, now=NEXT_MORNING
    )

    assert sent.due_at == NEXT_MORNING
    assert (at_night.sent, early.sent, at_eight.sent) == (0, 0, 1)
    assert elks.requests == 1


async def test_a_retry_that_would_fall_in_quiet_hours_waits_for_the_morning(
    db: Database, elks: FakeElks
) -> None:
    just_before_eight_pm = EVENING - timedelta(hours=1, minutes=30, seconds=10)  # 19:59:50
    await sms_to_sara(db, now=just_before_eight_pm)
    elks.fail_next(1, 500)

    await deliver_sms_outbox(
        db, provider(elks), holder="t", public_url=PUBLIC_URL, now=just_before_eight_pm
    )

    [row] = await outbox_rows(db)
    assert row.due_at == NEXT_MORNING


async def test_the_delivery_report_is_stored_from_the_status_address(
    aiohttp_server, settings, db: Database, elks: FakeElks
) -> None:
    server = await aiohttp_server(create_app(settings, database=db))
    public_url = str(server.make_url("")).rstrip("/")
    await sms_to_sara(db)
    await deliver_sms_outbox(db, provider(elks), holder="t", public_url=public_url, now=NOON)
    [sms] = elks.sent

    status = await elks.report(sms, "delivered")

    [row] = await outbox_rows(db)
    assert status == 204
    assert (row.delivery_status, row.delivered_at is not None) == ("delivered", True)


async def test_a_report_with_a_forged_token_or_another_id_is_refused(
    aiohttp_server, settings, db: Database, elks: FakeElks
) -> None:
    server = await aiohttp_server(create_app(settings, database=db))
    public_url = str(server.make_url("")).rstrip("/")
    await sms_to_sara(db)
    await deliver_sms_outbox(db, provider(elks), holder="t", public_url=public_url, now=NOON)
    [sms] = elks.sent
    [row] = await outbox_rows(db)
    forged = sms.__class__(
        **{**sms.__dict__, "whendelivered": f"{public_url}/sms/status/{row.id}-{'0' * 32}"}
    )
    other_id = sms.__class__(**{**sms.__dict__, "id": "s" + "f" * 32})

    assert await elks.report(forged, "failed") == 403
    assert await elks.report(other_id, "failed") == 403
    [row] = await outbox_rows(db)
    assert row.delivery_status == "created"


def test_a_status_token_is_the_message_id_with_a_keyed_hash_that_survives_a_key_change() -> None:
    old = Keyring("old-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    rotated = Keyring(
        "new-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ["old-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"],
    )
    token = status_token(old, 41)

    assert token.startswith("41-") and len(token) == 3 + 32
    assert message_of_token(old, token) == 41
    assert message_of_token(rotated, token) == 41
    assert message_of_token(old, token.replace("41-", "42-")) is None
    assert (
        message_of_token(Keyring("another-key-0123456789-abcdefghijklmnopqrstuvwxyz"), token)
        is None
    )


def test_the_provider_never_shows_its_secret() -> None:
    elks = Elks46("https://api.46elks.com/a1/sms", "u123", "very-secret-password")
    assert "very-secret-password" not in repr(elks)
