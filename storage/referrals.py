"""Referral queries: store a new referral, load one for a member of staff, record a move.

The operations that use these (:mod:`services.referrals`) hold the transaction, check the
rules and write the audit log. Storing a new referral is Core statements, built once, on a
synchronous :class:`~sqlalchemy.Connection`, run by
:meth:`storage.db.Database.run_transaction` in one thread hop on SQLite and through
``run_sync`` on PostgreSQL. A member of staff sees only their own team's referrals: another
team's referral is :class:`NotFound`, as if it did not exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Insert, Table, and_, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.clock import SWEDEN
from core.consent import ConsentDraft, consent_drafts
from core.errors import NotFound
from core.i18n import N_
from core.referral_form import ReferralDraft
from core.referrals import Status
from storage.crypto import Keyring, keyring_of
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
class StoredReferral:
    """A referral as stored: ``created`` is False when the same form had already been sent."""

    referral_id: int
    reference: str
    team_id: int
    team_name: str
    created: bool
    participant_id: int | None = None
    consents: int = 0
    #: The team's active coordinators, to tell about a new referral (empty for a repeat).
    coordinator_emails: tuple[str, ...] = ()


def new_reference() -> str:
    """A random, readable reference code such as ``R-K7M2QX``."""
    return "R-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


async def find_submission(db: Database, submission_key: str) -> StoredReferral | None:
    """The referral already stored for ``submission_key``, if any."""
    async with db.sessions() as session:
        row = (
            await session.execute(
                select(Referral.id, Referral.reference, Team.id, Team.name)
                .join(Team, Team.id == Referral.team_id)
                .where(Referral.submission_key == submission_key)
            )
        ).first()
    return StoredReferral(row[0], row[1], row[2], row[3], created=False) if row else None


def insert_referral(
    connection: Connection,
    draft: ReferralDraft,
    submission_key: str,
    language: str,
    consent_language: str,
    consent_versions: Mapping[str, int] | None,
    now: datetime,
) -> StoredReferral:
    """Insert everything a new referral consists of, in the caller's transaction.

    Plain inserts of the mapped tables (their column types still encrypt), no unit of work:
    a new referral has nothing to track, and each insert is one round trip.
    """
    team_id, team_name, recipients = _team_and_coordinators(connection, draft.team)
    reference = new_reference()
    consents = consent_drafts(
        draft.consent,
        language=consent_language,
        recorded_by=f"remittent:{draft.referrer.org}",
        now=now,
        versions=consent_versions,
    )
    person = _participant_row(draft, team_id, reference, keyring_of(connection.dialect))
    participant_id = _insert(connection, _INSERT_PARTICIPANT, person)
    referral = _referral_row(draft, team_id, participant_id, reference, now)
    referral.update(submission_key=submission_key, form_language=language)
    referral_id = _insert(connection, _INSERT_REFERRAL, referral)
    connection.execute(
        _INSERT_EVENT, {"referral_id": referral_id, "to_status": Status.RECEIVED.value, "at": now}
    )
    if consents:
        rows = [_consent_row(consent, participant_id, referral_id) for consent in consents]
        connection.execute(_INSERT_CONSENT, rows)
    return StoredReferral(
        referral_id,
        reference,
        team_id,
        team_name,
        created=True,
        participant_id=participant_id,
        consents=len(consents),
        coordinator_emails=recipients,
    )


#: The statements of a new referral, built once (each use then skips building its cache key).
_INSERT_PARTICIPANT = insert(PARTICIPANTS).returning(PARTICIPANTS.c.id)
_INSERT_REFERRAL = insert(REFERRALS).returning(REFERRALS.c.id)
_INSERT_EVENT = insert(EVENTS)
_INSERT_CONSENT = insert(CONSENTS)
_TEAMS = cast(Table, Team.__table__)
_STAFF = cast(Table, StaffUser.__table__)
_TEAM_AND_COORDINATORS = (
    select(_TEAMS.c.id, _TEAMS.c.name, _STAFF.c.email, _TEAMS.c.notify_emails)
    .outerjoin(
        _STAFF,
        and_(
            _STAFF.c.team_id == _TEAMS.c.id,
            _STAFF.c.role == "coordinator",
            _STAFF.c.active,
        ),
    )
    .where(_TEAMS.c.code == bindparam("team_code"), _TEAMS.c.accepts_referrals)
    .order_by(_STAFF.c.email)
)


def _team_and_coordinators(
    connection: Connection, team_code: str
) -> tuple[int, str, tuple[str, ...]]:
    """The team's id and name and who hears of a new referral (its active coordinators and
    the team's own list); NotFound if no such team, or the team takes no referrals."""
    rows = connection.execute(_TEAM_AND_COORDINATORS, {"team_code": team_code}).all()
    if not rows:
        raise NotFound(N_("Teamet finns inte."), field="team")
    coordinators = [row[2] for row in rows if row[2] is not None]
    extra = [e for e in rows[0][3] or [] if e not in coordinators]
    return rows[0][0], rows[0][1], tuple(coordinators + extra)


def _insert(connection: Connection, statement: Insert, row: dict[str, Any]) -> int:
    """Insert one row with ``statement`` (an insert returning the id); its new id."""
    return int(connection.execute(statement, row).scalar_one())


def _consent_row(consent: ConsentDraft, participant_id: int, referral_id: int) -> dict[str, Any]:
    """The stored columns of one consent record of a new referral."""
    return {
        "participant_id": participant_id, "referral_id": referral_id, "kind": consent.kind,
        "party": consent.party, "information_kinds": list(consent.information_kinds),
        "purpose": consent.purpose, "text_version": str(consent.text_version),
        "text_hash": consent.text_hash, "language": consent.language, "method": consent.method,
        "recorded_by": consent.recorded_by, "given_at": consent.given_at,
    }  # fmt: skip


def _participant_row(
    draft: ReferralDraft, team_id: int, reference: str, keyring: Keyring
) -> dict[str, Any]:
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
        # the blind index, for finding the same person again
        "personnummer_hash": keyring.blind_index(digits) if digits else None,
        "phone": person.phone,
        "email": person.email,
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


def move(
    session: AsyncSession,
    referral: Referral,
    staff: Staff,
    target: Status,
    now: datetime,
    *,
    note: str,
    reason: str | None = None,
    referrer_message: str | None = None,
    visit_date: date | None = None,
) -> ReferralEvent:
    """Set the referral's new status and add the event that records who, when and why.

    A move to ``visit_booked`` stores the visit's date on the referral and the event; a move
    back to ``queued`` (a cancelled visit) clears it.
    """
    event = ReferralEvent(
        referral_id=referral.id,
        from_status=referral.status,
        to_status=target,
        at=now,
        user_id=staff.user_id,
        reason=reason,
        note=note or None,
        referrer_message=referrer_message,
        visit_date=visit_date,
    )
    session.add(event)
    referral.status, referral.status_changed_at = target, now
    if target is Status.VISIT_BOOKED:
        referral.visit_date = visit_date
    elif target is Status.QUEUED:
        referral.visit_date = None
    if target is Status.QUEUED and referral.queued_at is None:
        referral.queued_at = now  # a cancelled visit keeps its place in the queue
    return event


async def team_names(db: Database) -> dict[str, str]:
    """The teams that take referrals, code → name, by name (the form's team choice)."""
    async with db.sessions() as session:
        rows = await session.execute(
            select(Team.code, Team.name).where(Team.accepts_referrals).order_by(Team.name)
        )
    return {code: name for code, name in rows.all()}
