"""Referral operations: receive a referral, move it through its lifecycle, enrol and end.

Each operation is one transaction: it checks the rule in :mod:`core.referrals` or
:mod:`core.consent`, stores the change with who, when and why (:mod:`storage.referrals`),
appends the audit entry (ids and codes only) and queues the e-mail it sends
(:func:`services.mail.queue_mail`): the coordinators hear of a new referral, the referrer of a
declined one, whichever way the operation was reached.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.clock import today_in_sweden, utcnow
from core.codes import INCOME_SOURCES
from core.errors import DomainError, FormErrors, field_error
from core.i18n import N_
from core.referral_form import ReferralDraft
from core.referrals import Status, Transition, check_transition, trial_period_end
from core.translations import translate_to
from services.mail import queue_mail
from services.referral_drafts import keep_receipt_copy_in
from storage import audit, outbox
from storage import referrals as stored
from storage.crypto import Keyring
from storage.db import Database
from storage.models import Referral, Team
from storage.outbox import Mail
from storage.referrals import MAX_START_AHEAD, StoredReferral

#: How far ahead an introductory visit may be booked.
MAX_VISIT_AHEAD = timedelta(days=366)


@dataclass(frozen=True)
class Submission:
    """What the case worker's receipt shows: ``created`` is False for a repeated send."""

    referral_id: int
    reference: str
    team_name: str
    created: bool


@dataclass(frozen=True)
class ReceiptCopy:
    """The draft a referral was sent from, and what its receipt shows (given the team's name)."""

    draft: str
    copy_for: Callable[[str], Mapping[str, Any]]


async def submit_referral(
    db: Database,
    draft: ReferralDraft,
    *,
    submission_key: str,
    language: str,
    consent_language: str,
    public_url: str,
    consent_versions: Mapping[str, int] | None = None,
    now: datetime | None = None,
    receipt: ReceiptCopy | None = None,
) -> Submission:
    """Store a referral with its person, consents and audit entry; tell the coordinators.

    With ``receipt``, the form's draft becomes the receipt's copy in the same transaction.

    Idempotent per form and content: sending the same form again (a double click, a reload)
    returns the referral stored the first time. The key is stored with a keyed digest of the
    content, so a key reused with other content (a copied page, a bug in a client) stores
    that referral as new instead of answering with the first one's receipt.
    """
    now = now or utcnow()
    key = f"{submission_key}.{_content_digest(draft, db.keyring)}"

    def store(connection: Connection) -> StoredReferral:
        referral = stored.insert_referral(
            connection, draft, key, language, consent_language, consent_versions, now
        )
        _record_submission(connection, referral, language, public_url, now)
        if receipt is not None:
            copy = receipt.copy_for(referral.team_name)
            keep_receipt_copy_in(
                connection, receipt.draft, reference=referral.reference, copy=copy, now=now
            )
        return referral

    for _attempt in range(3):
        try:
            return _receipt(await db.run_transaction(store))
        except IntegrityError:
            existing = await stored.find_submission(db, key)
            if existing is not None:
                return _receipt(existing)  # the same form sent before, or twice at once
            # else a reference collision: try again with a new reference
    raise RuntimeError("could not store the referral after three attempts")


def _content_digest(draft: ReferralDraft, keyring: Keyring) -> str:
    """A keyed digest of everything the form says (no personal data can be read from it)."""
    content = json.dumps(_plain(draft), sort_keys=True, default=str)
    return keyring.blind_index(content)[:24]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """What ``dataclasses.asdict`` gives for the draft, without copying each value first."""
    kind = type(value)
    if dataclasses.is_dataclass(kind):
        names = _FIELD_NAMES.get(kind)
        if names is None:
            names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _receipt(referral: StoredReferral) -> Submission:
    return Submission(
        referral.referral_id, referral.reference, referral.team_name, referral.created
    )


def _record_submission(
    connection: Connection, referral: StoredReferral, language: str, public_url: str, now: datetime
) -> None:
    """The audit entry of a new referral and the coordinators' e-mail (no personal data)."""
    audit.record_sync(
        connection,
        "referral.submitted",
        at=now,
        actor="public",
        object_type="referral",
        object_id=referral.referral_id,
        team_id=referral.team_id,
        detail={
            "participant_id": referral.participant_id,
            "consents": referral.consents,
            "language": language,
        },
    )
    link = f"{public_url.rstrip('/')}/team/remisser/{referral.referral_id}"
    mail = Mail(
        referral.coordinator_emails,
        f"Ny remiss till {referral.team_name}",
        f"En ny remiss ({referral.reference}) har kommit in till {referral.team_name}.\n\n"
        f"Logga in och läs den här:\n{link}\n\n"
        "Meddelandet innehåller inga personuppgifter.\n",
    )
    recipients = tuple(address for address in mail.recipients if address)
    if recipients:  # as services.mail.queue_mail does
        outbox.add_sync(
            connection,
            "referral.new",
            Mail(recipients, mail.subject, mail.body),
            now=now,
            team_id=referral.team_id,
            object_type="referral",
            object_id=referral.referral_id,
        )


async def move_referral(
    db: Database,
    staff: Staff,
    referral_id: int,
    target: Status,
    *,
    note: str = "",
    decline_reason: str | None = None,
    visit_date: date | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Status:
    """Move a referral on (assessing, queued, visit booked, declined, withdrawn), with a note.

    Booking the visit needs its date (``visit_date``). Declining queues the e-mail that tells
    the referrer the reason (never the team's notes). Enrolling and ending have their own
    operations.
    """
    if target in (Status.ENROLLED, Status.ENDED):
        raise ValueError("use enrol_participant() or end_participation() for that move")
    today, now = today or today_in_sweden(), now or utcnow()
    async with db.transaction() as session:
        referral = await stored.load_referral(session, staff, referral_id, for_update=True)
        visit_error = _visit_date_error(referral, target, visit_date, today)
        try:
            change = check_transition(
                Status(referral.status), target, note=note, decline_reason=decline_reason
            )
        except FormErrors as failed:
            raise FormErrors({**failed.errors, **visit_error}) from None
        if visit_error:
            raise FormErrors(visit_error)
        stored.move(
            session,
            referral,
            staff,
            target,
            now,
            note=change.note,
            referrer_message=change.decline_reason,
            visit_date=visit_date if target is Status.VISIT_BOOKED else None,
        )
        await audit.record(
            session,
            "referral.transitioned",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="referral",
            object_id=referral.id,
            team_id=referral.team_id,
            detail={"from": change.from_status.value, "to": target.value},
        )
        if target is Status.DECLINED:
            await _queue_decline_mail(session, referral, change.decline_reason or "", now)
    return target


def _visit_date_error(
    referral: Referral, target: Status, visit_date: date | None, today: date
) -> dict[str, DomainError]:
    """The error in a booked visit's date (needed for ``visit_booked``, taken by no other move)."""
    if target is not Status.VISIT_BOOKED:
        return {}
    if visit_date is None:
        message = N_("Ange datum för studiebesöket, till exempel {example}.")
        example = (today + timedelta(days=7)).isoformat()
        return {"visit_date": DomainError(message, field="visit_date", example=example)}
    if not referral.received_date <= visit_date <= today + MAX_VISIT_AHEAD:
        message = N_(
            "Datum för studiebesöket kan inte vara före remissen kom in ({received}) eller "
            "mer än ett år fram i tiden."
        )
        received = referral.received_date.isoformat()
        return {"visit_date": DomainError(message, field="visit_date", received=received)}
    return {}


async def _queue_decline_mail(
    session: AsyncSession, referral: Referral, reason: str, now: datetime
) -> None:
    """Tell the referrer, in the form's language, that the referral was declined and why."""
    team = await session.get_one(Team, referral.team_id)

    def _(message: str) -> str:
        return translate_to(referral.form_language, message)

    subject = _("Remiss {reference} har avböjts").format(reference=referral.reference)
    body = _(
        "Hej!\n\n{team} har gått igenom remissen {reference} som du skickade {date} och kan "
        "tyvärr inte ta emot personen.\n\nSkäl:\n{reason}\n\nKontakta teamet om du har frågor. "
        "Ange referensnumret {reference}.\n"
    ).format(
        team=team.name,
        reference=referral.reference,
        date=referral.received_date.isoformat(),
        reason=reason,
    )
    mail = Mail((referral.referrer_email or "",), subject, body)
    await queue_mail(
        session,
        "referral.declined",
        mail,
        team_id=referral.team_id,
        object_type="referral",
        object_id=referral.id,
        now=now,
    )


async def enrol_participant(
    db: Database,
    staff: Staff,
    referral_id: int,
    *,
    start_date: date | None,
    note: str = "",
    today: date | None = None,
    now: datetime | None = None,
) -> date:
    """Enrol the participant from ``start_date``; returns the day the trial period ends."""
    today, now = today or today_in_sweden(), now or utcnow()
    async with db.transaction() as session:
        referral = await stored.load_referral(session, staff, referral_id, for_update=True)
        change = check_transition(Status(referral.status), Status.ENROLLED, note=note)
        if start_date is None:
            raise field_error("start_date", N_("Ange startdatum, till exempel 2026-03-01."))
        if start_date < referral.received_date or start_date > today + MAX_START_AHEAD:
            raise field_error(
                "start_date",
                N_(
                    "Startdatum kan inte vara före remissen kom in ({received}) eller mer än "
                    "30 dagar fram i tiden."
                ),
                received=referral.received_date.isoformat(),
            )
        team = await session.get_one(Team, referral.team_id)
        referral.start_date, referral.trial_months = start_date, team.trial_months
        stored.move(session, referral, staff, Status.ENROLLED, now, note=change.note)
        await audit.record(
            session,
            "participant.enrolled",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="referral",
            object_id=referral.id,
            team_id=referral.team_id,
            detail={"participant_id": referral.participant_id, "trial_months": team.trial_months},
        )
    return trial_period_end(start_date, team.trial_months)


async def end_participation(
    db: Database,
    staff: Staff,
    referral_id: int,
    *,
    end_date: date | None,
    end_reason: str | None,
    income_source_after: str,
    note: str = "",
    today: date | None = None,
    now: datetime | None = None,
) -> None:
    """End an enrolled participant's participation with an end reason and income after."""
    today, now = today or today_in_sweden(), now or utcnow()
    async with db.transaction() as session:
        referral = await stored.load_referral(session, staff, referral_id, for_update=True)
        change = _checked_end(referral, end_date, end_reason, income_source_after, note, today)
        referral.end_date, referral.end_reason = end_date, change.end_reason
        referral.income_source_after = income_source_after
        stored.move(
            session, referral, staff, Status.ENDED, now, note=change.note, reason=change.end_reason
        )
        await audit.record(
            session,
            "participant.ended",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="referral",
            object_id=referral.id,
            team_id=referral.team_id,
            detail={"participant_id": referral.participant_id, "end_reason": change.end_reason},
        )


async def check_end_participation(
    db: Database,
    staff: Staff,
    referral_id: int,
    *,
    end_date: date | None,
    end_reason: str | None,
    income_source_after: str,
    note: str = "",
    today: date | None = None,
) -> None:
    """Raise what :func:`end_participation` would raise for these values; store nothing.

    The page asks for a confirmation between the two.
    """
    today = today or today_in_sweden()
    async with db.sessions() as session:
        referral = await stored.load_referral(session, staff, referral_id)
        _checked_end(referral, end_date, end_reason, income_source_after, note, today)


def _checked_end(
    referral: Referral,
    end_date: date | None,
    end_reason: str | None,
    income_source_after: str,
    note: str,
    today: date,
) -> Transition:
    """The checked end of ``referral``; FormErrors naming every field that is wrong."""
    errors = _end_errors(referral, end_date, income_source_after, today)
    try:
        change = check_transition(
            Status(referral.status), Status.ENDED, note=note, end_reason=end_reason
        )
    except FormErrors as failed:
        raise FormErrors({**failed.errors, **errors}) from None
    if errors:
        raise FormErrors(errors)
    return change


def _end_errors(
    referral: Referral, end_date: date | None, income_after: str, today: date
) -> dict[str, DomainError]:
    """Field errors in the end date and the income source after the participation."""
    errors: dict[str, DomainError] = {}
    if end_date is None:
        message = N_("Ange slutdatum, till exempel 2026-06-30.")
        errors["end_date"] = DomainError(message, field="end_date")
    elif referral.start_date and not referral.start_date <= end_date <= today:
        message = N_("Slutdatum ska ligga mellan startdatum ({start}) och i dag.")
        errors["end_date"] = DomainError(
            message, field="end_date", start=referral.start_date.isoformat()
        )
    if income_after not in INCOME_SOURCES:
        message = N_("Välj personens försörjning efter avslutet. Välj ”Okänd” om du inte vet.")
        errors["income_source_after"] = DomainError(message, field="income_source_after")
    return errors


async def teams_taking_referrals(db: Database) -> dict[str, str]:
    """The teams the referral form offers, code → name, by name."""
    return await stored.team_names(db)
