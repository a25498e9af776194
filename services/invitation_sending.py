"""Sending survey invitations by SMS or e-mail, one from the person page or many at once.

Each send creates a new invitation (through :mod:`services.invitations`; an older unfinished
one stops working, since only a token's hash is stored and the link cannot be sent twice) and
queues the message in the same transaction: an SMS through :func:`services.sms.queue_sms`
(due after quiet hours), an e-mail through :func:`services.mail.queue_mail`. The message holds
neutral words and the link only (:mod:`core.invitation_messages`). It goes to the contact
details on record (the referral's phone number, the participant's e-mail address); a missing or
unusable one is refused with a message naming it. Audited as ``invitation.sent_sms`` or
``invitation.sent_email``, with ids only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.clock import local_date, utcnow
from core.contact import email_address, mask_email, mask_phone, sms_number
from core.errors import DomainError, NotAllowed, NotFound
from core.i18n import N_
from core.invitation_messages import email_text, participant_language, sms_text
from core.invitations import NewInvitation
from services import invitations
from services.invitation_lists import references, survey_statuses
from services.mail import queue_mail
from services.sms import queue_sms
from storage import audit, outbox
from storage import invitations as stored_invitations
from storage.db import Database
from storage.models import Participant, Team
from storage.outbox import Mail, MailStatus

__all__ = ["MailStatus", "Sent", "plan_bulk", "send_invitation", "send_invitations"]

CHANNELS = ("sms", "email")
KINDS = {"sms": "invitation.sms", "email": "invitation.email"}
#: "All without a recent answer": no survey completed within this many days.


class ChannelOff(NotAllowed):
    """SMS or e-mail is not configured, so nothing can be sent that way."""


@dataclass(frozen=True)
class Sent:
    """One queued invitation message: to whom (masked), and when it is due."""

    participant_id: int
    person_ref: str
    channel: str
    masked_to: str
    due_at: datetime


def _web_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/enkat/{token}"


def address_of(participant: Participant, channel: str) -> str:
    """The participant's number (E.164) or e-mail address; DomainError naming it if unusable."""
    if channel == "sms":
        return sms_number(participant.phone)
    return email_address(participant.email)


def masked(participant: Participant, channel: str) -> str:
    """The contact detail as lists show it."""
    return mask_phone(participant.phone) if channel == "sms" else mask_email(participant.email)


async def _queue(
    session: AsyncSession,
    participant: Participant,
    created: NewInvitation,
    channel: str,
    *,
    public_url: str,
    now: datetime,
) -> Sent:
    """Queue the message of one new invitation; what was queued."""
    to = address_of(participant, channel)
    language = participant_language(participant.language)
    link = _web_link(public_url, created.token)
    team_id, object_id = participant.team_id, participant.id
    if channel == "sms":
        text = sms_text(language, link)
        _id, due_at = await queue_sms(
            session, KINDS["sms"], to, text, now=now,
            team_id=team_id, object_type="participant", object_id=object_id,
        )  # fmt: skip
    else:
        mail = email_text(language, link, local_date(created.expires_at).isoformat())
        await queue_mail(
            session, KINDS["email"], Mail((to,), mail.subject, mail.body), now=now,
            team_id=team_id, object_type="participant", object_id=object_id,
        )  # fmt: skip
        due_at = now
    return Sent(
        participant.id, participant.person_ref, channel, masked(participant, channel), due_at
    )


def _check_channel(channel: str, enabled: Sequence[str]) -> None:
    if channel not in CHANNELS:
        raise DomainError(N_("Välj SMS eller e-post."), field="channel")
    if channel not in enabled:
        message = (
            N_("SMS är inte inställt för tjänsten.")
            if channel == "sms"
            else N_("E-post är inte inställt för tjänsten.")
        )
        raise ChannelOff(message, field="channel")


async def _send(
    session: AsyncSession,
    staff: Staff,
    participants: list[Participant],
    channel: str,
    *,
    public_url: str,
    days: int,
    now: datetime,
) -> list[Sent]:
    """Invitations for ``participants`` (all with a usable address), queued and audited."""
    created = await invitations.invite_in_transaction(
        session, participants, channel=channel, days=days, staff=staff
    )
    sent = []
    for participant, new in zip(participants, created, strict=True):
        queued = await _queue(session, participant, new, channel, public_url=public_url, now=now)
        await audit.record(
            session,
            "invitation.sent_sms" if channel == "sms" else "invitation.sent_email",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="participant",
            object_id=participant.id,
            team_id=participant.team_id,
            detail={"invitation": new.invitation_id, "due_at": queued.due_at.isoformat()},
        )
        sent.append(queued)
    return sent


async def send_invitation(
    db: Database,
    staff: Staff,
    participant_id: int,
    channel: str,
    *,
    enabled: Sequence[str],
    public_url: str,
    days: int,
    now: datetime | None = None,
) -> Sent:
    """A new invitation for one participant, sent by ``channel`` (``sms`` or ``email``)."""
    async with db.transaction() as session:
        participant = await session.get(Participant, participant_id)
        if participant is None or participant.purged_at or not staff.sees(participant.team_id):
            raise NotFound(N_("Deltagaren finns inte."))
        _check_channel(channel, enabled)
        address_of(participant, channel)  # refused before anything is written
        [sent] = await _send(
            session, staff, [participant], channel,
            public_url=public_url, days=days, now=now or utcnow(),
        )  # fmt: skip
        return sent


@dataclass(frozen=True)
class BulkPlan:
    """Who a bulk send reaches (masked contact) and who it cannot, with the reason."""

    team: Team
    channel: str
    reachable: list[tuple[Participant, str]]
    unreachable: list[tuple[Participant, DomainError]]
    #: Each participant's reference as the board shows it.
    references: dict[int, str] = field(default_factory=dict)
    #: How many active participants "everyone" leaves out: answered or invited lately.
    left_out: int = 0

    def who(self, participant: Participant) -> str:
        """The participant's name (none with protected identity) and the board's reference."""
        reference = self.references.get(participant.id, participant.person_ref)
        return f"{participant.name} ({reference})" if participant.name else reference


async def plan_bulk(
    db: Database,
    staff: Staff,
    team_code: str | None,
    channel: str,
    *,
    participant_ids: Sequence[int] = (),
    enabled: Sequence[str],
    reinvite_after_days: int,
    now: datetime | None = None,
) -> BulkPlan:
    """Who a bulk send would reach: the chosen participants, or (none chosen) every active one
    but those who answered or were invited in the last ``reinvite_after_days`` days (the rule
    of "invite all"). Coordinators and admins only."""
    _check_channel(channel, enabled)
    async with db.sessions() as session:
        team, chosen, left_out = await _bulk_participants(
            session, staff, team_code, participant_ids, reinvite_after_days, now or utcnow()
        )
        refs = await references(session, [p.id for p in chosen])
    plan = BulkPlan(team, channel, [], [], refs, left_out)
    for participant in chosen:
        try:
            address_of(participant, channel)
        except DomainError as error:
            plan.unreachable.append((participant, error))
        else:
            plan.reachable.append((participant, masked(participant, channel)))
    return plan


async def _bulk_participants(
    session: AsyncSession,
    staff: Staff,
    team_code: str | None,
    participant_ids: Sequence[int],
    reinvite_after_days: int,
    now: datetime,
) -> tuple[Team, list[Participant], int]:
    """The team, the participants to send to, and how many the rule of "invite all" left out."""
    if not staff.has_role("coordinator"):
        raise NotAllowed(N_("Bara samordnare kan skicka inbjudningar till många på en gång."))
    query = select(Team).order_by(Team.code)
    teams = [t for t in await session.scalars(query) if staff.sees(t.id)]
    team = next((t for t in teams if team_code in (None, t.code)), None)
    if team is None:
        raise invitations.TeamNotAllowed()
    active = await stored_invitations.active_participants(session, team.id)
    if participant_ids:
        wanted = set(participant_ids)
        return team, [p for p in active if p.id in wanted], 0
    statuses = await survey_statuses(session, [p.id for p in active])
    chosen = [
        p for p in active
        if p.id not in statuses or statuses[p.id].skip_reason(now, reinvite_after_days) is None
    ]  # fmt: skip
    return team, chosen, len(active) - len(chosen)


async def send_invitations(
    db: Database,
    staff: Staff,
    team_code: str | None,
    channel: str,
    *,
    participant_ids: Sequence[int] = (),
    enabled: Sequence[str],
    public_url: str,
    days: int,
    reinvite_after_days: int,
    now: datetime | None = None,
) -> tuple[list[Sent], list[tuple[Participant, DomainError]]]:
    """Send to everyone :func:`plan_bulk` reaches, in one transaction; sent and skipped."""
    _check_channel(channel, enabled)
    now = now or utcnow()
    async with db.transaction() as session:
        _team, chosen, _left_out = await _bulk_participants(
            session, staff, team_code, participant_ids, reinvite_after_days, now
        )
        reachable, skipped = [], []
        for participant in chosen:
            try:
                address_of(participant, channel)
            except DomainError as error:
                skipped.append((participant, error))
            else:
                reachable.append(participant)
        sent = await _send(
            session, staff, reachable, channel, public_url=public_url, days=days, now=now
        )
    return sent, skipped


async def message_status(db: Database, staff: Staff, participant_id: int) -> list[MailStatus]:
    """The invitation messages sent to a participant, newest first (for the person page)."""
    async with db.sessions() as session:
        participant = await session.get(Participant, participant_id)
        if participant is None or not staff.sees(participant.team_id):
            raise NotFound(N_("Deltagaren finns inte."))
        found = await outbox.for_object(
            session, "participant", participant_id, kinds=tuple(KINDS.values())
        )
    return list(reversed(found))
