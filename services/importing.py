"""Import of historical participant records from a CSV file (INTERFACES.md, "Import file").

A team's earlier years, kept in Excel, give the summaries their trend. The import is all or
nothing: every row is checked first (:func:`read_records`, from :mod:`storage.import_file`),
every problem is reported with its file, line (the header is line 1) and column, and only a
file without problems is written (:func:`import_records`), in one transaction.

Each row becomes a participant (the team's own pseudonymous ``person_ref``, gender, birth date
or year; no name or personnummer) and one imported referral. Its status history is
synthesised from the dates — ``queued`` on the referral date, ``enrolled`` on the start date,
``ended`` on the end date, each at midnight Swedish time, in that order — so that the queue at
the end of any earlier period can be counted. Importing the same ``person_ref`` and ``team``
again updates that record (and replaces its synthesised history); a person_ref that belongs to
a referral registered in the service itself is refused, so live records are never overwritten.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import local_midnight
from core.i18n import N_
from core.referrals import Status
from storage import audit
from storage.db import Database
from storage.import_file import ImportProblem, ImportRejected, RecordRow, read_records
from storage.models import Participant, Referral, ReferralEvent, Team

__all__ = ["ImportProblem", "ImportRejected", "ImportResult", "import_records", "read_records"]

#: Rows looked up per query (well under the parameter limits of SQLite and PostgreSQL).
_CHUNK = 500


@dataclass(frozen=True)
class ImportResult:
    """What an import stored: new and updated records, per team code."""

    created: int
    updated: int
    teams: tuple[str, ...]


@dataclass
class _Stored:
    """A participant stored before this import, with its imported referral if it has one."""

    participant: Participant
    referral: Referral | None
    live: bool  # it has a referral registered in the service, not imported


async def import_records(
    db: Database, rows: Sequence[RecordRow], *, file: str, actor: str = "cli"
) -> ImportResult:
    """Store checked rows in one transaction: new records added, earlier imports updated.

    Raises ImportRejected (and stores nothing) when a row's person_ref belongs to a referral
    registered in the service rather than imported.
    """
    if not rows:
        return ImportResult(0, 0, ())
    team_codes = sorted({r.team for r in rows})
    async with db.transaction() as session:
        teams = {t.code: t for t in (await session.scalars(select(Team))).all()}
        stored = await _stored_records(session, rows, teams)
        live = [row for row in rows if _key(row, teams) in stored and stored[_key(row, teams)].live]
        if live:
            raise ImportRejected([_live_problem(row, file) for row in live])
        created = await _store(session, rows, teams, stored)
        await audit.record(
            session,
            "records.imported",
            actor=actor,
            object_type="import",
            team_id=teams[team_codes[0]].id if len(team_codes) == 1 else None,
            detail={"rows": len(rows), "created": created, "teams": team_codes},
        )
    return ImportResult(created, len(rows) - created, tuple(team_codes))


def _key(row: RecordRow, teams: Mapping[str, Team]) -> tuple[int, str]:
    """The unique key of a row's participant: (team id, person_ref)."""
    return teams[row.team].id, row.person_ref


def _live_problem(row: RecordRow, file: str) -> ImportProblem:
    """The problem of a row whose person_ref is a referral registered in the service."""
    reason = N_("finns redan som ett ärende registrerat i tjänsten; ändra det där i stället")
    return ImportProblem(file, row.line, "person_ref", reason)


async def _stored_records(
    session: AsyncSession, rows: Sequence[RecordRow], teams: Mapping[str, Team]
) -> dict[tuple[int, str], _Stored]:
    """The participants already stored under the rows' keys."""
    keys = {_key(row, teams) for row in rows}
    found: dict[tuple[int, str], _Stored] = {}
    for team_id in {team_id for team_id, _ in keys}:
        refs = sorted(ref for t, ref in keys if t == team_id)
        for start in range(0, len(refs), _CHUNK):
            query = select(Participant).where(
                Participant.team_id == team_id,
                Participant.person_ref.in_(refs[start : start + _CHUNK]),
            )
            participants = (await session.scalars(query)).all()
            referrals = await _referrals_of(session, [p.id for p in participants])
            for participant in participants:
                own = referrals.get(participant.id, [])
                imported = [r for r in own if r.imported]
                found[(team_id, participant.person_ref)] = _Stored(
                    participant, imported[-1] if imported else None, len(imported) < len(own)
                )
    return found


async def _referrals_of(
    session: AsyncSession, participant_ids: Sequence[int]
) -> dict[int, list[Referral]]:
    """The referrals of the participants, oldest first."""
    if not participant_ids:
        return {}
    referrals = (
        await session.scalars(
            select(Referral)
            .where(Referral.participant_id.in_(participant_ids))
            .order_by(Referral.id)
        )
    ).all()
    by_participant: dict[int, list[Referral]] = {}
    for referral in referrals:
        by_participant.setdefault(referral.participant_id, []).append(referral)
    return by_participant


async def _store(
    session: AsyncSession,
    rows: Sequence[RecordRow],
    teams: Mapping[str, Team],
    stored: Mapping[tuple[int, str], _Stored],
) -> int:
    """Add or update each row's participant and referral and write their history.

    Returns how many rows were new participants.
    """
    participants = []
    for row in rows:
        before = stored.get(_key(row, teams))
        participant = before.participant if before else None
        if participant is None:
            participant = Participant(team_id=teams[row.team].id, person_ref=row.person_ref)
            session.add(participant)
        _fill_participant(participant, row)
        participants.append(participant)
    await session.flush()
    pairs: list[tuple[RecordRow, Referral]] = []
    for row, participant in zip(rows, participants, strict=True):
        before = stored.get(_key(row, teams))
        referral = before.referral if before else None
        if referral is None:
            referral = Referral(reference=_import_reference(), imported=True)
            session.add(referral)
        referral.team_id, referral.participant_id = participant.team_id, participant.id
        _fill_referral(referral, row, teams[row.team].trial_months)
        pairs.append((row, referral))
    await session.flush()
    updated_ids = [s.referral.id for s in stored.values() if s.referral is not None]
    for start in range(0, len(updated_ids), _CHUNK):
        chunk = updated_ids[start : start + _CHUNK]
        await session.execute(delete(ReferralEvent).where(ReferralEvent.referral_id.in_(chunk)))
    session.add_all(event for row, referral in pairs for event in _history(row, referral.id))
    return len(rows) - len(stored)


def _import_reference() -> str:
    """A unique reference for an imported referral: ``I-`` and 12 random hex digits."""
    return f"I-{secrets.token_hex(6).upper()}"


def _fill_participant(participant: Participant, row: RecordRow) -> None:
    """The participant's statistical fields from the row."""
    participant.gender = row.gender
    participant.birth_date = row.birth_date
    participant.birth_year = row.birth_year


def _fill_referral(referral: Referral, row: RecordRow, team_trial_months: int) -> None:
    """The referral's dates, codes and status from the row."""
    received = local_midnight(row.referral_date)
    last_change = max(d for d in (row.referral_date, row.start_date, row.end_date) if d)
    referral.status = row.status
    referral.status_changed_at = local_midnight(last_change)
    referral.received_at = referral.queued_at = received
    referral.received_date = row.referral_date
    referral.referrer_code = row.referrer
    referral.income_source = row.income_source
    referral.start_date = row.start_date
    referral.trial_months = team_trial_months if row.start_date else None
    referral.end_date = row.end_date
    referral.end_reason = row.end_reason


def _history(row: RecordRow, referral_id: int) -> Iterator[ReferralEvent]:
    """The status history the row's dates give, in order."""
    yield ReferralEvent(
        referral_id=referral_id,
        from_status=None,
        to_status=Status.QUEUED,
        at=local_midnight(row.referral_date),
    )
    if row.start_date is not None:
        yield ReferralEvent(
            referral_id=referral_id,
            from_status=Status.QUEUED,
            to_status=Status.ENROLLED,
            at=local_midnight(row.start_date),
        )
    if row.end_date is not None:
        yield ReferralEvent(
            referral_id=referral_id,
            from_status=Status.ENROLLED,
            to_status=Status.ENDED,
            at=local_midnight(row.end_date),
            reason=row.end_reason,
        )
