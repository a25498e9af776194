"""A person's record as staff see it, and the audit log that every view of it leaves.

Opening a referral or a participant page is itself recorded (``participant.viewed``); a
coordinator can print a person's log extract (every entry about the person and their
referrals) and read or export the team's log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.clock import SWEDEN, today_in_sweden
from core.errors import NotAllowed, NotFound
from core.i18n import N_
from core.personnummer import Personnummer, mask
from core.referrals import ALLOWED_TRANSITIONS, Status, trial_period_end
from services.board import Period, days_waiting, queue_positions
from storage import audit, outbox
from storage.crypto import session_keyring
from storage.db import Database
from storage.models import (
    AuditEntry,
    Consent,
    Participant,
    ProgressStep,
    Referral,
    ReferralEvent,
    StaffUser,
    Team,
)
from storage.outbox import MailStatus

COORDINATOR_ROLES = frozenset({"coordinator", "admin"})
LOG_LIMIT = 1000


@dataclass(frozen=True)
class EventView:
    """One status change as shown in a referral's history."""

    at: datetime
    from_status: str | None
    to_status: str
    by: str
    reason: str | None
    note: str | None
    referrer_message: str | None
    visit_date: date | None = None


@dataclass(frozen=True)
class StepView:
    """One recorded step on the way to work."""

    recorded_on: date
    step: str
    note: str | None
    by: str


@dataclass(frozen=True)
class Case:
    """One referral of the person, with its history, steps and where it can go next."""

    referral: Referral
    events: tuple[EventView, ...]
    steps: tuple[StepView, ...]
    next_statuses: tuple[Status, ...]
    queue_position: int | None
    days_waiting: int | None
    trial_end: date | None
    #: E-mail queued about this referral (the coordinators' notice, a decline) and how it went.
    mail: tuple[MailStatus, ...] = ()


@dataclass(frozen=True)
class PersonRecord:
    """A person with their referrals (newest first), consents and possible duplicates."""

    participant: Participant
    team: Team
    masked_personnummer: str | None
    cases: tuple[Case, ...]
    consents: tuple[Consent, ...]
    duplicates: tuple[str, ...]

    def case(self, referral_id: int) -> Case:
        """The case of ``referral_id``."""
        return next(case for case in self.cases if case.referral.id == referral_id)

    @property
    def sharing_parties(self) -> tuple[str, ...]:
        """The parties the team may share information with now (consent not withdrawn)."""
        return tuple(
            consent.party
            for consent in self.consents
            if consent.kind == "information_sharing"
            and consent.withdrawn_at is None
            and consent.party
        )


@dataclass(frozen=True)
class LogLine:
    """One audit entry, with the name of the person who acted.

    ``names`` gives what the page shows instead of the ids in the entry: ``participant:5``
    → the reference of the person's latest referral (as on the board), ``referral:7`` → its
    reference, ``team:2`` → the team's name, ``staff_user:3`` → the staff member's name.
    """

    at: datetime
    by: str
    action: str
    object_type: str | None
    object_id: int | None
    detail: dict[str, object]
    names: dict[str, str] = field(default_factory=dict)


async def referral_record(
    db: Database, staff: Staff, referral_id: int, *, today: date
) -> PersonRecord:
    """The record of the person a referral is about; the view is audited."""
    async with db.transaction() as session:
        referral = await session.get(Referral, referral_id)
        if referral is None or not staff.sees(referral.team_id):
            raise NotFound(N_("Remissen finns inte, eller så hör den till ett annat team."))
        return await _viewed(session, staff, referral.participant_id, today, page="referral")


async def participant_record(
    db: Database, staff: Staff, participant_id: int, *, today: date
) -> PersonRecord:
    """A participant's record with every referral; the view is audited."""
    async with db.transaction() as session:
        return await _viewed(session, staff, participant_id, today, page="participant")


async def _viewed(
    session: AsyncSession, staff: Staff, participant_id: int, today: date, *, page: str
) -> PersonRecord:
    """Load a person's record and write the audit entry for the view."""
    record = await _load_record(session, staff, participant_id, today)
    await audit.record(
        session,
        "participant.viewed",
        actor=staff.actor,
        user_id=staff.user_id,
        object_type="participant",
        object_id=participant_id,
        team_id=record.team.id,
        detail={"page": page},
    )
    return record


async def _load_record(
    session: AsyncSession, staff: Staff, participant_id: int, today: date
) -> PersonRecord:
    """A person's record, if ``staff`` may see it; NotFound otherwise."""
    participant = await session.get(Participant, participant_id)
    if participant is None or not staff.sees(participant.team_id):
        raise NotFound(N_("Deltagaren finns inte, eller så hör den till ett annat team."))
    team = await session.get_one(Team, participant.team_id)
    referrals = (
        await session.scalars(
            select(Referral)
            .where(Referral.participant_id == participant_id)
            .order_by(Referral.received_at.desc(), Referral.id.desc())
        )
    ).all()
    positions = await queue_positions(session, {team.id})
    names = await _staff_names(session)
    cases = tuple(
        [await _case(session, referral, positions, names, today) for referral in referrals]
    )
    consents = (
        await session.scalars(
            select(Consent)
            .where(Consent.participant_id == participant_id)
            .order_by(Consent.kind.desc(), Consent.id)
        )
    ).all()
    digits = participant.personnummer
    return PersonRecord(
        participant=participant,
        team=team,
        masked_personnummer=mask(Personnummer(digits)) if digits else None,
        cases=cases,
        consents=tuple(consents),
        duplicates=await _duplicates(session, participant),
    )


async def _case(
    session: AsyncSession,
    referral: Referral,
    positions: dict[int, int],
    names: dict[int, str],
    today: date,
) -> Case:
    """One referral's history, steps and next statuses."""
    events = await session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.at, ReferralEvent.id)
    )
    steps = await session.scalars(
        select(ProgressStep)
        .where(ProgressStep.referral_id == referral.id)
        .order_by(ProgressStep.recorded_on.desc(), ProgressStep.id.desc())
    )
    start, months = referral.start_date, referral.trial_months
    return Case(
        referral=referral,
        events=tuple(
            EventView(
                e.at,
                e.from_status,
                e.to_status,
                _name(names, e.user_id),
                e.reason,
                e.note,
                e.referrer_message,
                e.visit_date,
            )
            for e in events
        ),
        steps=tuple(
            StepView(s.recorded_on, s.step, s.note, _name(names, s.user_id)) for s in steps
        ),
        next_statuses=tuple(
            status
            for status in Status
            if status in ALLOWED_TRANSITIONS.get(Status(referral.status), frozenset())
        ),
        queue_position=positions.get(referral.id),
        days_waiting=days_waiting(referral, today),
        trial_end=trial_period_end(start, months) if start and months in (2, 3) else None,
        mail=tuple(await outbox.for_object(session, "referral", referral.id)),
    )


async def _duplicates(session: AsyncSession, participant: Participant) -> tuple[str, ...]:
    """References of the team's other referrals for the same personnummer, under any key."""
    if not participant.personnummer:
        return ()
    indexes = session_keyring(session).blind_indexes(participant.personnummer)
    rows = await session.scalars(
        select(Referral.reference)
        .join(Participant, Participant.id == Referral.participant_id)
        .where(
            Participant.team_id == participant.team_id,
            Participant.personnummer_hash.in_(indexes),
            Participant.id != participant.id,
        )
        .order_by(Referral.received_at)
    )
    return tuple(rows.all())


async def _staff_names(session: AsyncSession) -> dict[int, str]:
    """Staff user id → display name (staff names are not personal data of participants)."""
    rows = await session.execute(select(StaffUser.id, StaffUser.display_name, StaffUser.email))
    return {uid: name or email for uid, name, email in rows.all()}


def _name(names: dict[int, str], user_id: int | None) -> str:
    """Who acted: a staff member's name, or the referral form when no one was logged in."""
    return names.get(user_id, "") if user_id is not None else ""


async def person_log_extract(
    db: Database, staff: Staff, participant_id: int
) -> tuple[PersonRecord, tuple[LogLine, ...]]:
    """Every audit entry about a person and their referrals; coordinators only, audited."""
    if staff.role not in COORDINATOR_ROLES:
        raise NotAllowed(N_("Bara samordnare kan ta ut ett loggutdrag."))
    async with db.transaction() as session:
        record = await _load_record(session, staff, participant_id, today_in_sweden())
        referral_ids = [case.referral.id for case in record.cases]
        query = _log_query().where(
            or_(
                (AuditEntry.object_type == "participant")
                & (AuditEntry.object_id == participant_id),
                (AuditEntry.object_type == "referral") & AuditEntry.object_id.in_(referral_ids),
            )
        )
        lines = await _log_lines(session, query.order_by(AuditEntry.at, AuditEntry.id))
        await audit.record(
            session,
            "participant.log_extracted",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="participant",
            object_id=participant_id,
            team_id=record.team.id,
        )
    return record, lines


async def team_log(
    db: Database,
    staff: Staff,
    *,
    period: Period | None = None,
    action: str = "",
    exported: bool = False,
) -> tuple[LogLine, ...]:
    """The newest audit entries of the teams ``staff`` sees; coordinators only.

    ``exported`` records that the list left the service as a file.
    """
    if staff.role not in COORDINATOR_ROLES:
        raise NotAllowed(N_("Bara samordnare kan läsa loggen."))
    period = period or Period()
    query = _log_query()
    if staff.team_ids is not None:
        query = query.where(AuditEntry.team_id.in_(staff.team_ids))
    if period.start:
        query = query.where(AuditEntry.at >= _start_of(period.start))
    if period.end:
        query = query.where(AuditEntry.at < _start_of(period.end + timedelta(days=1)))
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(LOG_LIMIT)
    async with db.transaction() as session:
        lines = await _log_lines(session, query)
        if exported:
            await audit.record(
                session,
                "audit.exported",
                actor=staff.actor,
                user_id=staff.user_id,
                team_id=next(iter(staff.team_ids), None) if staff.team_ids else None,
                detail={"entries": len(lines)},
            )
    return lines


def _log_query() -> Select[AuditEntry, str]:
    """Audit entries with the acting staff member's name."""
    return select(AuditEntry, StaffUser.display_name).outerjoin(
        StaffUser, StaffUser.id == AuditEntry.actor_user_id
    )


async def _log_lines(session: AsyncSession, query) -> tuple[LogLine, ...]:  # type: ignore[no-untyped-def]
    """Run an audit query into log lines, with the references and names its ids stand for."""
    rows: Sequence = (await session.execute(query)).all()  # type: ignore[type-arg]
    names = await _log_names(session, [entry for entry, _name in rows])
    return tuple(
        LogLine(e.at, name or e.actor, e.action, e.object_type, e.object_id, dict(e.detail), names)
        for e, name in rows
    )


#: Detail keys that hold the id of a record of the given kind.
_DETAIL_IDS = {"participant_id": "participant", "consent_id": "consent"}


def _wanted_ids(entries: Sequence[AuditEntry]) -> dict[str, set[int]]:
    """The ids of each kind the entries name, as object or in their details."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.object_type and isinstance(entry.object_id, int):
            wanted.setdefault(entry.object_type, set()).add(entry.object_id)
        detail = entry.detail or {}
        for key, kind in _DETAIL_IDS.items():
            if isinstance(detail.get(key), int):
                wanted.setdefault(kind, set()).add(detail[key])
        if entry.action == "user.team_changed":
            ids = {detail.get("old"), detail.get("new")}
            wanted.setdefault("team", set()).update(i for i in ids if isinstance(i, int))
    return wanted


async def _log_names(session: AsyncSession, entries: Sequence[AuditEntry]) -> dict[str, str]:
    """``kind:id`` → what to show for it: references for people, names for teams and staff."""
    wanted, names = _wanted_ids(entries), {}
    if ids := wanted.get("participant"):
        rows = await session.execute(
            select(Referral.participant_id, Referral.reference)
            .where(Referral.participant_id.in_(ids))
            .order_by(Referral.received_at, Referral.id)
        )
        names.update({f"participant:{pid}": reference for pid, reference in rows.all()})
    if ids := wanted.get("referral"):
        rows = await session.execute(
            select(Referral.id, Referral.reference).where(Referral.id.in_(ids))
        )
        names.update({f"referral:{rid}": reference for rid, reference in rows.all()})
    if ids := wanted.get("team"):
        rows = await session.execute(select(Team.id, Team.name).where(Team.id.in_(ids)))
        names.update({f"team:{tid}": name for tid, name in rows.all()})
    if ids := wanted.get("staff_user"):
        staff = await session.execute(
            select(StaffUser.id, StaffUser.display_name, StaffUser.email).where(
                StaffUser.id.in_(ids)
            )
        )
        names.update({f"staff_user:{uid}": name or email for uid, name, email in staff.all()})
    return names


def _start_of(day: date) -> datetime:
    """Midnight in Sweden at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=SWEDEN)
