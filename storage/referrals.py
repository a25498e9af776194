"""Referral use cases: receive a referral, move it through its lifecycle, enrol and end.

Each use case is one transaction: it checks the rule in :mod:`core.referrals` or
:mod:`core.consent`, stores the change with who, when and why (:class:`ReferralEvent`), and
writes the audit log (ids and codes only). Staff act through a :class:`Staff`, which limits
them to their own team's records: another team's referral is :class:`NotFound`, as if it did
not exist. Views call exactly one of these functions.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.clock import SWEDEN, today_in_sweden, utcnow
from core.codes import INCOME_SOURCES
from core.consent import ConsentDraft, consent_drafts
from core.errors import DomainError, FormErrors, NotFound
from core.i18n import N_
from core.referrals import ReferralDraft, Status, check_transition, trial_period_end
from storage import audit
from storage.crypto import keyring
from storage.db import Database
from storage.models import Consent, Participant, Referral, ReferralEvent, StaffUser, Team

PARTICIPANTS = cast(Table, Participant.__table__)
REFERRALS = cast(Table, Referral.__table__)
EVENTS = cast(Table, ReferralEvent.__table__)
CONSENTS = cast(Table, Consent.__table__)
#: Reference codes: no 0/O, 1/I/L, so they can be read out over the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: How far ahead an enrolment may be dated (a start agreed at the introductory visit).
MAX_START_AHEAD = timedelta(days=30)


@dataclass(frozen=True)
class Submission:
    """A stored referral: ``created`` is False when the same form had already been sent."""

    referral_id: int
    reference: str
    team_id: int
    team_name: str
    created: bool
    #: The team's active coordinators, to tell about a new referral (empty for a repeat).
    coordinator_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """A stored transition, with what a declined referral's e-mail to the referrer needs."""

    referral_id: int
    reference: str
    to_status: Status
    team_name: str
    referrer_email: str | None
    referrer_message: str | None
    form_language: str
    received_date: date


def new_reference() -> str:
    """A random, readable reference code such as ``R-K7M2QX``."""
    return "R-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def personnummer_index(digits: str) -> str:
    """The blind index of a personnummer (12 digits), for finding the same person again."""
    return keyring().blind_index(digits)


async def submit_referral(
    db: Database,
    draft: ReferralDraft,
    *,
    submission_key: str,
    language: str,
    consent_language: str,
    consent_versions: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> Submission:
    """Store a referral with its person, first event, consent records and audit entry.

    Idempotent on ``submission_key``: sending the same form again (a double click, a reload)
    returns the referral stored the first time. Raises NotFound for an unknown team. The
    insert is tried first: the unique submission key turns a repeat into an IntegrityError,
    and only then is the referral stored before looked up (one transaction per new referral).
    """
    now = now or utcnow()
    for _attempt in range(3):
        try:
            async with db.transaction() as session:
                return await _store_referral(
                    session, draft, submission_key, language, consent_language,
                    consent_versions, now,
                )  # fmt: skip
        except IntegrityError:
            existing = await _find_submission(db, submission_key)
            if existing is not None:
                return existing  # the same key sent before, or twice at once
            # else a reference collision: try again with a new reference
    raise RuntimeError("could not store the referral after three attempts")


async def _find_submission(db: Database, submission_key: str) -> Submission | None:
    """The referral already stored for ``submission_key``, if any."""
    async with db.sessions() as session:
        row = (
            await session.execute(
                select(Referral.id, Referral.reference, Team.id, Team.name)
                .join(Team, Team.id == Referral.team_id)
                .where(Referral.submission_key == submission_key)
            )
        ).first()
    return Submission(row[0], row[1], row[2], row[3], created=False) if row else None


async def _store_referral(
    session: AsyncSession,
    draft: ReferralDraft,
    submission_key: str,
    language: str,
    consent_language: str,
    consent_versions: Mapping[str, int] | None,
    now: datetime,
) -> Submission:
    """Insert everything a new referral consists of, in the caller's transaction.

    Plain inserts of the mapped tables (their column types still encrypt), no unit of work:
    a new referral has nothing to track, and each insert is one round trip.
    """
    team_id, team_name, recipients = await _team_and_coordinators(session, draft.team)
    reference = new_reference()
    consents = consent_drafts(
        draft, language=consent_language, recorded_by=f"remittent:{draft.referrer.org}",
        now=now, versions=consent_versions,
    )  # fmt: skip
    participant_id = await _insert(
        session, PARTICIPANTS, _participant_row(draft, team_id, reference)
    )
    referral = _referral_row(draft, team_id, participant_id, reference, now)
    referral.update(submission_key=submission_key, form_language=language)
    referral_id = await _insert(session, REFERRALS, referral)
    await session.execute(
        insert(EVENTS),
        [{"referral_id": referral_id, "to_status": Status.RECEIVED.value, "at": now}],
    )
    if consents:
        rows = [_consent_row(consent, participant_id, referral_id) for consent in consents]
        await session.execute(insert(CONSENTS), rows)
    await audit.record(
        session, "referral.submitted", actor="public", object_type="referral",
        object_id=referral_id, team_id=team_id,
        detail={"participant_id": participant_id, "consents": len(consents), "language": language},
    )  # fmt: skip
    return Submission(
        referral_id, reference, team_id, team_name, created=True, coordinator_emails=recipients
    )


async def _team_and_coordinators(
    session: AsyncSession, team_code: str
) -> tuple[int, str, tuple[str, ...]]:
    """The team's id and name and its active coordinators' e-mails; NotFound if no such team."""
    coordinator = and_(
        StaffUser.team_id == Team.id, StaffUser.role == "coordinator", StaffUser.active
    )
    rows = (
        await session.execute(
            select(Team.id, Team.name, StaffUser.email)
            .outerjoin(StaffUser, coordinator)
            .where(Team.code == team_code)
            .order_by(StaffUser.email)
        )
    ).all()
    if not rows:
        raise NotFound(N_("Teamet finns inte."), field="team")
    return rows[0][0], rows[0][1], tuple(row[2] for row in rows if row[2] is not None)


async def _insert(session: AsyncSession, table: Table, row: dict[str, Any]) -> int:
    """Insert one row into ``table``; its new id."""
    return int((await session.execute(insert(table).returning(table.c.id), [row])).scalar_one())


def _consent_row(consent: ConsentDraft, participant_id: int, referral_id: int) -> dict[str, Any]:
    """The stored columns of one consent record of a new referral."""
    return {
        "participant_id": participant_id, "referral_id": referral_id, "kind": consent.kind,
        "party": consent.party, "information_kinds": list(consent.information_kinds),
        "purpose": consent.purpose, "text_version": str(consent.text_version),
        "text_hash": consent.text_hash, "language": consent.language, "method": consent.method,
        "recorded_by": consent.recorded_by, "given_at": consent.given_at,
    }  # fmt: skip


def _participant_row(draft: ReferralDraft, team_id: int, reference: str) -> dict[str, Any]:
    """The person of a referral; identity fields stay empty with protected identity."""
    person = draft.person
    digits = person.personnummer.digits if person.personnummer else None
    birth_date = person.birth_date
    return {
        "team_id": team_id,
        "person_ref": reference,
        "protected_identity": person.protected_identity,
        "name": person.name,
        "personnummer": digits,
        "personnummer_hash": personnummer_index(digits) if digits else None,
        "phone": person.phone,
        "contact_channel": person.contact_channel,
        "language": person.language or None,
        "interpreter": person.needs_interpreter,
        "gender": person.gender,
        "birth_date": birth_date,
        "birth_year": birth_date.year if birth_date else person.birth_year,
        "follow_up_consent": draft.consent.follow_up,
    }


def _referral_row(
    draft: ReferralDraft, team_id: int, participant_id: int, reference: str, now: datetime
) -> dict[str, Any]:
    """The case of a new referral, status ``received``."""
    return {
        "reference": reference,
        "team_id": team_id,
        "participant_id": participant_id,
        "status": Status.RECEIVED.value,
        "status_changed_at": now,
        "received_at": now,
        "received_date": now.astimezone(SWEDEN).date(),
        "referrer_code": draft.referrer.org,
        "referrer_name": draft.referrer.name,
        "referrer_email": draft.referrer.email,
        "referrer_phone": draft.referrer.phone,
        "income_source": draft.income_source,
        "contacts": list(draft.contacts),
        "help_wanted": draft.help_wanted,
        "practical_needs": draft.practical_needs or None,
    }


async def load_referral(
    session: AsyncSession, staff: Staff, referral_id: int, *, for_update: bool = False
) -> Referral:
    """The referral ``referral_id`` if ``staff`` may see it; NotFound otherwise."""
    query = select(Referral).where(Referral.id == referral_id)
    if for_update:
        query = query.with_for_update(of=Referral)
    referral = await session.scalar(query)
    if referral is None or not staff.sees(referral.team_id):
        raise NotFound(N_("Remissen finns inte, eller så hör den till ett annat team."))
    return referral


def _move(
    session: AsyncSession, referral: Referral, staff: Staff, target: Status, now: datetime, *,
    note: str, reason: str | None = None, referrer_message: str | None = None,
) -> ReferralEvent:  # fmt: skip
    """Set the referral's new status and add the event that records who, when and why."""
    event = ReferralEvent(
        referral_id=referral.id, from_status=referral.status, to_status=target, at=now,
        user_id=staff.user_id, reason=reason, note=note or None,
        referrer_message=referrer_message,
    )  # fmt: skip
    session.add(event)
    referral.status, referral.status_changed_at = target, now
    if target is Status.QUEUED and referral.queued_at is None:
        referral.queued_at = now  # a cancelled visit keeps its place in the queue
    return event


async def transition_referral(
    db: Database,
    staff: Staff,
    referral_id: int,
    target: Status,
    *,
    note: str = "",
    decline_reason: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Move a referral to ``target`` (not to enrolled or ended: see :func:`enrol`)."""
    if target in (Status.ENROLLED, Status.ENDED):
        raise ValueError("use enrol() or end_participation() for that move")
    now = now or utcnow()
    async with db.transaction() as session:
        referral = await load_referral(session, staff, referral_id, for_update=True)
        change = check_transition(
            Status(referral.status), target, note=note, decline_reason=decline_reason
        )
        _move(session, referral, staff, target, now, note=change.note,
              referrer_message=change.decline_reason)  # fmt: skip
        await audit.record(
            session, "referral.transitioned", actor=staff.actor, user_id=staff.user_id,
            object_type="referral", object_id=referral.id, team_id=referral.team_id,
            detail={"from": change.from_status.value, "to": target.value},
        )  # fmt: skip
        team_name = await session.scalar(select(Team.name).where(Team.id == referral.team_id))
    return Decision(
        referral_id=referral.id, reference=referral.reference, to_status=target,
        team_name=team_name or "", referrer_email=referral.referrer_email,
        referrer_message=change.decline_reason, form_language=referral.form_language,
        received_date=referral.received_date,
    )  # fmt: skip


async def enrol(
    db: Database, staff: Staff, referral_id: int, *, start_date: date | None, note: str = "",
    today: date | None = None, now: datetime | None = None,
) -> date:  # fmt: skip
    """Enrol the participant from ``start_date``; returns the day the trial period ends."""
    today, now = today or today_in_sweden(), now or utcnow()
    async with db.transaction() as session:
        referral = await load_referral(session, staff, referral_id, for_update=True)
        change = check_transition(Status(referral.status), Status.ENROLLED, note=note)
        if start_date is None:
            raise field_error("start_date", N_("Ange startdatum, till exempel 2026-03-01."))
        if start_date < referral.received_date or start_date > today + MAX_START_AHEAD:
            raise field_error(
                "start_date",
                N_("Startdatum kan inte vara före remissen kom in ({received}) eller mer än "
                   "30 dagar fram i tiden."),
                received=referral.received_date.isoformat(),
            )  # fmt: skip
        team = await session.get_one(Team, referral.team_id)
        referral.start_date, referral.trial_months = start_date, team.trial_months
        _move(session, referral, staff, Status.ENROLLED, now, note=change.note)
        await audit.record(
            session, "participant.enrolled", actor=staff.actor, user_id=staff.user_id,
            object_type="referral", object_id=referral.id, team_id=referral.team_id,
            detail={"participant_id": referral.participant_id, "trial_months": team.trial_months},
        )  # fmt: skip
    return trial_period_end(start_date, team.trial_months)


async def end_participation(
    db: Database, staff: Staff, referral_id: int, *, end_date: date | None,
    end_reason: str | None, income_source_after: str, note: str = "",
    today: date | None = None, now: datetime | None = None,
) -> None:  # fmt: skip
    """End an enrolled participant's participation with an end reason and income after."""
    today, now = today or today_in_sweden(), now or utcnow()
    async with db.transaction() as session:
        referral = await load_referral(session, staff, referral_id, for_update=True)
        errors = _end_errors(referral, end_date, income_source_after, today)
        try:
            change = check_transition(
                Status(referral.status), Status.ENDED, note=note, end_reason=end_reason
            )
        except FormErrors as failed:
            raise FormErrors({**failed.errors, **errors}) from None
        if errors:
            raise FormErrors(errors)
        referral.end_date, referral.end_reason = end_date, change.end_reason
        referral.income_source_after = income_source_after
        _move(session, referral, staff, Status.ENDED, now, note=change.note,
              reason=change.end_reason)  # fmt: skip
        await audit.record(
            session, "participant.ended", actor=staff.actor, user_id=staff.user_id,
            object_type="referral", object_id=referral.id, team_id=referral.team_id,
            detail={"participant_id": referral.participant_id, "end_reason": change.end_reason},
        )  # fmt: skip


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


def field_error(field: str, message: str, **params: object) -> FormErrors:
    """A form error for one field."""
    return FormErrors({field: DomainError(message, field=field, **params)})


async def team_names(db: Database) -> dict[str, str]:
    """Every team of the förbund, code → name, by name (the form's team choice)."""
    async with db.sessions() as session:
        rows = await session.execute(select(Team.code, Team.name).order_by(Team.name))
    return {code: name for code, name in rows.all()}
