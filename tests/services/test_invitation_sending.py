"""Sending survey invitations by SMS or e-mail: to the contact details on record, permitted,
audited, and nothing stored when the contact detail is missing. E-mail goes through the outbox
to a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from core.access import Staff
from core.contact import ContactMissing
from core.errors import DomainError, NotAllowed, NotFound
from services.invitation_sending import (
    ChannelOff,
    plan_bulk,
    send_invitation,
    send_invitations,
)
from services.mail import Mailer, deliver_outbox
from services.retention import purge_expired
from services.sms import queue_sms
from storage.db import Database
from storage.models import AuditEntry, Invitation, OutboxMessage, Participant
from tests.common.mail import Inbox
from tests.common.people import make_person_with_history
from tests.common.servers import free_port
from tests.common.sms import NOON, outbox_rows, participant_with_contact
from tests.common.surveys import make_survey_response
from tests.common.teams import make_team, staff_for

PUBLIC_URL = "https://samverkan.example.se"
BOTH = ("sms", "email")


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, Mailer]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, Mailer(f"smtp://127.0.0.1:{port}", "samverkan@forbund.example.se")
    finally:
        controller.stop()


async def counts(db: Database) -> tuple[int, int, int]:
    """Invitations, outbox rows and audit entries stored."""
    async with db.sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(Invitation)),
            await session.scalar(select(func.count()).select_from(OutboxMessage)),
            await session.scalar(select(func.count()).select_from(AuditEntry)),
        )  # type: ignore[return-value]


async def send(db: Database, staff: Staff, participant_id: int, channel: str, **kw):  # type: ignore[no-untyped-def]
    options = {"enabled": BOTH, "public_url": PUBLIC_URL, "days": 30, "now": NOON, **kw}
    return await send_invitation(db, staff, participant_id, channel, **options)


async def test_an_email_invitation_arrives_with_a_neutral_subject_and_the_link_only(
    db: Database, inbox: tuple[Inbox, Mailer]
) -> None:
    handler, mailer = inbox
    await make_team(db)
    staff = await staff_for(db, "coach@example.se")
    person = await participant_with_contact(db, email="sara.exempel@example.se")

    sent = await send(db, staff, person.id, "email")
    delivery = await deliver_outbox(db, mailer, holder="test")
    await handler.wait_for(1)

    [(recipients, message)] = handler.messages
    body = message.get_content()
    assert delivery.sent == 1 and recipients == ["sara.exempel@example.se"]
    assert message["Subject"] == "Några korta frågor"
    assert re.search(r"https://samverkan\.example\.se/enkat/[A-Za-z0-9_-]+\s", body)
    for personal in ("Sara", "Exempel", "Norr", "N-001", "team", "Team"):
        assert personal not in body
    assert sent.masked_to == "s•••@example.se"


async def test_sending_is_audited_with_ids_only(db: Database) -> None:
    await make_team(db)
    staff = await staff_for(db, "coach@example.se")
    person = await participant_with_contact(db)

    await send(db, staff, person.id, "sms")

    async with db.sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "invitation.sent_sms")
        )
        invitation = await session.scalar(select(Invitation))
    assert (entry.actor, entry.object_type, entry.object_id) == (
        f"user:{staff.user_id}", "participant", person.id,
    )  # fmt: skip
    assert entry.detail == {"invitation": invitation.id, "due_at": NOON.isoformat()}
    assert invitation.channel == "sms"


@pytest.mark.parametrize(
    ("channel", "contact", "field", "words"),
    [
        ("sms", {"phone": None}, "phone", "Telefonnummer saknas"),
        ("sms", {"phone": "08-123 456 78"}, "phone", "mobilnummer"),
        ("email", {"email": None}, "email", "E-postadress saknas"),
        ("email", {"email": "sara at example"}, "email", "E-postadress:"),
    ],
)
async def test_a_missing_or_unusable_contact_detail_is_refused_and_nothing_is_stored(
    db: Database, channel: str, contact: dict[str, str | None], field: str, words: str
) -> None:
    await make_team(db)
    staff = await staff_for(db, "coach@example.se")
    person = await participant_with_contact(db, **contact)
    before = await counts(db)

    with pytest.raises(DomainError) as refused:
        await send(db, staff, person.id, channel)

    assert refused.value.field == field and words in refused.value.render()
    assert await counts(db) == before


async def test_staff_of_another_team_cannot_send(db: Database) -> None:
    await make_team(db)
    await make_team(db, "syd", "Samverkansteam Syd")
    other = await staff_for(db, "coach@syd.example.se", team="syd")
    person = await participant_with_contact(db)

    with pytest.raises(NotFound):
        await send(db, other, person.id, "sms")
    assert (await counts(db))[:2] == (0, 0)


async def test_a_channel_that_is_not_set_up_is_refused(db: Database) -> None:
    await make_team(db)
    staff = await staff_for(db, "coach@example.se")
    person = await participant_with_contact(db)

    with pytest.raises(ChannelOff):
        await send(db, staff, person.id, "sms", enabled=("email",))


async def test_bulk_reaches_everyone_not_answered_or_invited_lately_and_lists_who_cannot(
    db: Database,
) -> None:
    await make_team(db)
    coordinator = await staff_for(db, "samordnare@example.se", role="coordinator")
    await participant_with_contact(db, "N-001")
    await participant_with_contact(db, "N-002", phone=None)
    answered = await participant_with_contact(db, "N-003")
    await make_survey_response(db, answered.id, completed=NOON - timedelta(days=10))
    invited = await participant_with_contact(db, "N-004")
    await make_survey_response(db, invited.id, completed=None, invited=NOON - timedelta(days=3))
    long_ago = await participant_with_contact(db, "N-005")
    await make_survey_response(
        db, long_ago.id, completed=NOON - timedelta(days=40), invited=NOON - timedelta(days=45)
    )
    window = {"enabled": BOTH, "reinvite_after_days": 30, "now": NOON}

    plan = await plan_bulk(db, coordinator, "norr", "sms", **window)
    sent, skipped = await send_invitations(
        db, coordinator, "norr", "sms", public_url=PUBLIC_URL, days=30, **window
    )

    # The same rule as "invite all": N-003 answered and N-004 was invited within 30 days.
    reachable = [(p.person_ref, masked) for p, masked in plan.reachable]
    assert reachable == [("N-001", "07x-xxx xx 67"), ("N-005", "07x-xxx xx 67")]
    assert [(p.person_ref, type(e)) for p, e in plan.unreachable] == [("N-002", ContactMissing)]
    assert [s.person_ref for s in sent] == ["N-001", "N-005"]
    assert [p.person_ref for p, _error in skipped] == ["N-002"]
    assert [row.to for row in await outbox_rows(db)] == [["+46701234567"], ["+46701234567"]]


async def test_bulk_sending_is_for_coordinators(db: Database) -> None:
    await make_team(db)
    staff = await staff_for(db, "coach@example.se")
    await participant_with_contact(db)

    with pytest.raises(NotAllowed):
        await send_invitations(
            db, staff, "norr", "sms", enabled=BOTH, public_url=PUBLIC_URL, days=30,
            reinvite_after_days=30, now=NOON,
        )  # fmt: skip
    assert (await counts(db))[:2] == (0, 0)


async def test_a_purge_removes_the_email_address_and_the_invitation_messages(db: Database) -> None:
    await make_team(db)
    person = await make_person_with_history(db)  # ended in 2019
    async with db.transaction() as session:
        stored = await session.get_one(Participant, person.participant_id)
        stored.email = "sara.exempel@example.se"
        await queue_sms(session, "invitation.sms", "+46701234567", "Hej! …", now=NOON,
                        team_id=stored.team_id, object_type="participant", object_id=stored.id)  # fmt: skip

    await purge_expired(db, today=date(2026, 12, 1), retention_years=5)

    async with db.sessions() as session:
        purged = await session.get_one(Participant, person.participant_id)
    assert (purged.email, purged.phone) == (None, None)
    assert await outbox_rows(db) == []
