"""Import of historical participant records from a CSV file (INTERFACES.md, "Import file").

A team's earlier years, kept in Excel, give the summaries their trend. The import is all or
nothing: every row is checked first (:func:`check_file`, from :mod:`storage.import_file`),
every problem is reported with its file, line (the header is line 1) and column, and only a
file without problems is written (:func:`import_records`), in one transaction. The file is
streamed: the check keeps only the rows' keys, and the rows are read again and written in
batches of :data:`BATCH_ROWS` with Core statements, so memory stays flat (about 130 MB for
100 000 rows; ``bench/import_bench.py``).

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, cast

from sqlalchemy import Select, String, Table, and_, column, delete, insert, select, update, values
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import local_midnight
from core.i18n import N_
from core.referrals import Status
from storage import audit
from storage.db import Database
from storage.import_file import (
    ImportProblem,
    ImportRejected,
    RecordRow,
    check_file,
    read_records,
    stream_records,
)
from storage.models import Participant, Referral, ReferralEvent, Team

__all__ = [
    "ImportProblem",
    "ImportRejected",
    "ImportResult",
    "check_file",
    "import_records",
    "read_records",
    "stream_records",
]

#: The tables, written with Core statements: no ORM object (or identity map) per row.
_PARTICIPANTS, _REFERRALS, _EVENTS = (
    cast(Table, Participant.__table__),
    cast(Table, Referral.__table__),
    cast(Table, ReferralEvent.__table__),
)

#: Rows stored per batch: a few statements each, memory flat, well under parameter limits.
BATCH_ROWS = 1000


@dataclass(frozen=True)
class ImportResult:
    """What an import stored: new and updated records, per team code."""

    created: int
    updated: int
    teams: tuple[str, ...]


@dataclass(frozen=True)
class _TeamInfo:
    id: int
    trial_months: int


@dataclass(frozen=True)
class _Stored:
    """A participant stored before this import, with its imported referral if it has one."""

    participant_id: int
    referral_id: int | None
    live: bool  # it has a referral registered in the service, not imported


@dataclass
class _Tally:
    rows: int = 0
    created: int = 0
    teams: frozenset[str] = frozenset()


async def import_records(
    db: Database, rows: Iterable[RecordRow], *, file: str, actor: str = "cli"
) -> ImportResult:
    """Store checked rows in one transaction, in batches: new records added, imports updated.

    ``rows`` may be a stream (:func:`stream_records`): only one batch is held at a time, and
    statements are Core inserts and updates, so no ORM object outlives its batch. Raises
    ImportRejected (and stores nothing) when a row's person_ref belongs to a referral
    registered in the service rather than imported.
    """
    async with db.transaction() as session:
        teams = {
            code: _TeamInfo(team_id, trial)
            for code, team_id, trial in await session.execute(
                select(Team.code, Team.id, Team.trial_months)
            )
        }
        tally, live = _Tally(), list[ImportProblem]()
        for batch in _batches(rows, BATCH_ROWS):
            stored = await _stored_records(session, batch, teams)
            live += [_live_problem(r, file) for r in batch if _stored_live(r, teams, stored)]
            if not live:
                tally.created += await _store(session, batch, teams, stored)
            tally.rows += len(batch)
            tally.teams |= {r.team for r in batch}
            session.expunge_all()
        if live:
            raise ImportRejected(live[:1000], total=len(live))
        team_codes = sorted(tally.teams)
        if tally.rows:
            await audit.record(
                session,
                "records.imported",
                actor=actor,
                object_type="import",
                team_id=teams[team_codes[0]].id if len(team_codes) == 1 else None,
                detail={"rows": tally.rows, "created": tally.created, "teams": team_codes},
            )
    return ImportResult(tally.created, tally.rows - tally.created, tuple(team_codes))


def _batches(rows: Iterable[RecordRow], size: int) -> Iterator[list[RecordRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _key(row: RecordRow, teams: Mapping[str, _TeamInfo]) -> tuple[int, str]:
    """The unique key of a row's participant: (team id, person_ref)."""
    return teams[row.team].id, row.person_ref


def _stored_live(
    row: RecordRow, teams: Mapping[str, _TeamInfo], stored: Mapping[tuple[int, str], _Stored]
) -> bool:
    before = stored.get(_key(row, teams))
    return before is not None and before.live


def _live_problem(row: RecordRow, file: str) -> ImportProblem:
    """The problem of a row whose person_ref is a referral registered in the service."""
    reason = N_("finns redan som ett ärende registrerat i tjänsten; ändra det där i stället")
    return ImportProblem(file, row.line, "person_ref", reason)


async def _stored_records(
    session: AsyncSession, rows: Sequence[RecordRow], teams: Mapping[str, _TeamInfo]
) -> dict[tuple[int, str], _Stored]:
    """The participants already stored under the rows' keys, with their referrals."""
    found: dict[tuple[int, str], _Stored] = {}
    by_team: dict[int, list[str]] = {}
    for row in rows:
        by_team.setdefault(teams[row.team].id, []).append(row.person_ref)
    for team_id, refs in by_team.items():
        participants = (await session.execute(_participants_with(session, team_id, refs))).all()
        if not participants:
            continue
        referrals: dict[int, list[tuple[int, bool]]] = {}
        for referral_id, participant_id, imported in await session.execute(
            select(Referral.id, Referral.participant_id, Referral.imported)
            .where(Referral.participant_id.in_([p.id for p in participants]))
            .order_by(Referral.id)
        ):
            referrals.setdefault(participant_id, []).append((referral_id, imported))
        for participant_id, person_ref in participants:
            own = referrals.get(participant_id, [])
            imported_ids = [rid for rid, imported in own if imported]
            found[(team_id, person_ref)] = _Stored(
                participant_id,
                imported_ids[-1] if imported_ids else None,
                len(imported_ids) < len(own),
            )
    return found


def _participants_with(
    session: AsyncSession, team_id: int, refs: Sequence[str]
) -> Select[int, str]:
    """The query for the team's participants with these refs: (id, person_ref)."""
    query = select(Participant.id, Participant.person_ref)
    if session.get_bind().dialect.name != "postgresql":
        return query.where(Participant.team_id == team_id, Participant.person_ref.in_(refs))
    # A join with the refs rather than ``person_ref IN (...)``: PostgreSQL's statistics miss
    # the rows this transaction added, and it would test every row of the team against the
    # whole list, batch after batch (100 000 rows took minutes).
    wanted = values(column("ref", String), name="wanted").data([(ref,) for ref in refs])
    on = and_(Participant.team_id == team_id, Participant.person_ref == wanted.c.ref)
    return query.join_from(wanted, Participant, on)


async def _store(
    session: AsyncSession,
    rows: Sequence[RecordRow],
    teams: Mapping[str, _TeamInfo],
    stored: Mapping[tuple[int, str], _Stored],
) -> int:
    """Add or update each row's participant and referral and write their history.

    Returns how many rows were new participants.
    """
    participant_ids = await _store_participants(session, rows, teams, stored)
    referral_ids = await _store_referrals(session, rows, teams, stored, participant_ids)
    replaced = [s.referral_id for s in stored.values() if s.referral_id is not None]
    if replaced:
        await session.execute(delete(ReferralEvent).where(ReferralEvent.referral_id.in_(replaced)))
    events = [e for row in rows for e in _history(row, referral_ids[_key(row, teams)])]
    await session.execute(insert(_EVENTS), events)
    return sum(1 for row in rows if _key(row, teams) not in stored)


async def _store_participants(
    session: AsyncSession,
    rows: Sequence[RecordRow],
    teams: Mapping[str, _TeamInfo],
    stored: Mapping[tuple[int, str], _Stored],
) -> dict[tuple[int, str], int]:
    """The participant id of every row: new ones inserted, earlier ones updated."""
    ids = {key: before.participant_id for key, before in stored.items()}
    new = [_participant_values(row, teams) for row in rows if _key(row, teams) not in stored]
    if new:
        returned = await session.execute(
            insert(_PARTICIPANTS).returning(
                _PARTICIPANTS.c.id, _PARTICIPANTS.c.team_id, _PARTICIPANTS.c.person_ref
            ),
            new,
        )
        ids.update({(team_id, ref): pid for pid, team_id, ref in returned})
    updated = [
        {"id": ids[_key(row, teams)], **_participant_values(row, teams)}
        for row in rows
        if _key(row, teams) in stored
    ]
    if updated:
        await session.execute(update(Participant), updated)
    return ids


async def _store_referrals(
    session: AsyncSession,
    rows: Sequence[RecordRow],
    teams: Mapping[str, _TeamInfo],
    stored: Mapping[tuple[int, str], _Stored],
    participant_ids: Mapping[tuple[int, str], int],
) -> dict[tuple[int, str], int]:
    """The imported referral id of every row: new ones inserted, earlier ones updated."""
    ids: dict[tuple[int, str], int] = {}
    new, updated = [], []
    for row in rows:
        key = _key(row, teams)
        values = _referral_values(row, teams[row.team], participant_ids[key])
        before = stored.get(key)
        if before is not None and before.referral_id is not None:
            ids[key] = before.referral_id
            updated.append({"id": before.referral_id, **values})
        else:
            new.append({"reference": _import_reference(), "imported": True, **values})
    if new:
        returned = await session.execute(
            insert(_REFERRALS).returning(_REFERRALS.c.id, _REFERRALS.c.participant_id),
            new,
        )
        by_participant = {pid: rid for rid, pid in returned}
        for key, pid in participant_ids.items():
            if pid in by_participant:
                ids[key] = by_participant[pid]
    if updated:
        await session.execute(update(Referral), updated)
    return ids


def _import_reference() -> str:
    """A unique reference for an imported referral: ``I-`` and 12 random hex digits."""
    return f"I-{secrets.token_hex(6).upper()}"


def _participant_values(row: RecordRow, teams: Mapping[str, _TeamInfo]) -> dict[str, Any]:
    """The participant's statistical fields from the row."""
    return {
        "team_id": teams[row.team].id,
        "person_ref": row.person_ref,
        "gender": row.gender,
        "birth_date": row.birth_date,
        "birth_year": row.birth_year,
    }


def _referral_values(row: RecordRow, team: _TeamInfo, participant_id: int) -> dict[str, Any]:
    """The referral's dates, codes and status from the row."""
    received = local_midnight(row.referral_date)
    last_change = max(d for d in (row.referral_date, row.start_date, row.end_date) if d)
    return {
        "team_id": team.id,
        "participant_id": participant_id,
        "status": row.status,
        "status_changed_at": local_midnight(last_change),
        "received_at": received,
        "queued_at": received,
        "received_date": row.referral_date,
        "referrer_code": row.referrer,
        "income_source": row.income_source,
        "start_date": row.start_date,
        "trial_months": team.trial_months if row.start_date else None,
        "end_date": row.end_date,
        "end_reason": row.end_reason,
    }


def _history(row: RecordRow, referral_id: int) -> Iterator[dict[str, Any]]:
    """The status history the row's dates give, in order."""
    yield _event(referral_id, None, Status.QUEUED, row.referral_date)
    if row.start_date is not None:
        yield _event(referral_id, Status.QUEUED, Status.ENROLLED, row.start_date)
    if row.end_date is not None:
        yield _event(referral_id, Status.ENROLLED, Status.ENDED, row.end_date, row.end_reason)


def _event(
    referral_id: int, before: Status | None, after: Status, day: Any, reason: str | None = None
) -> dict[str, Any]:
    return {
        "referral_id": referral_id,
        "from_status": before,
        "to_status": after,
        "at": local_midnight(day),
        "reason": reason,
        "user_id": None,
        "note": None,
        "referrer_message": None,
    }
