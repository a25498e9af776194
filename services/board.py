"""The team's lists: the referral board (queue position, days waiting) and the participants.

Lists show only the teams a member of staff may see, filtered by team, status and period.
Queue position counts referrals waiting for a place (``queued`` and ``visit_booked``) in the
order they were accepted into the queue; days waiting count from the day a referral came in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.referrals import QUEUE_STATUSES, Status, trial_period_end
from storage.crypto import session_keyring
from storage.db import Database
from storage.models import Participant, ProgressStep, Referral, Team

#: Statuses of referrals that still wait for a decision or a place.
OPEN_STATUSES = (Status.RECEIVED, Status.ASSESSING, Status.QUEUED, Status.VISIT_BOOKED)
#: The board's status filter: a group name or one status.
STATUS_FILTERS = {
    "open": OPEN_STATUSES,
    "all": tuple(Status),
    **{status.value: (status,) for status in Status},
}
#: How many blind indexes one duplicate query looks up (well below the drivers' limits).
INDEXES_PER_QUERY = 500
#: The participants list's filter.
PARTICIPATION_FILTERS = {
    "active": (Status.ENROLLED,),
    "ended": (Status.ENDED,),
    "all": (Status.ENROLLED, Status.ENDED),
}


@dataclass(frozen=True)
class Period:
    """Dates ``start``..``end``, both inclusive; either may be open."""

    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class BoardRow:
    """One referral on the board; ``person_name`` is None with protected identity."""

    referral_id: int
    participant_id: int
    reference: str
    team_code: str
    team_name: str
    status: str
    received_date: date
    days_waiting: int | None
    queue_position: int | None
    person_name: str | None
    protected_identity: bool
    referrer_code: str
    possible_duplicate: bool
    #: The booked introductory visit's date (``visit_booked``).
    visit_date: date | None = None


@dataclass(frozen=True)
class Board:
    """The board: its rows and how many referrals each status has (within team and period)."""

    rows: tuple[BoardRow, ...]
    counts: dict[str, int]


@dataclass(frozen=True)
class ParticipantRow:
    """One participation (an enrolled or ended referral) in the participants list."""

    referral_id: int
    participant_id: int
    reference: str
    team_code: str
    team_name: str
    person_name: str | None
    protected_identity: bool
    status: str
    start_date: date | None
    trial_end: date | None
    end_date: date | None
    end_reason: str | None
    latest_step: str | None


def visible_teams_query(staff: Staff) -> Select[Team]:
    """The teams ``staff`` may see, by name."""
    query = select(Team).order_by(Team.name)
    if staff.team_ids is not None:
        query = query.where(Team.id.in_(staff.team_ids))
    return query


@dataclass(frozen=True)
class TeamChoice:
    """A team as a filter or picker offers it."""

    id: int
    code: str
    name: str


@dataclass(frozen=True)
class TeamPlaces:
    """A team's places a year (*årsplatser*) against the participants enrolled now."""

    code: str
    name: str
    places: int
    active: int


async def team_places(db: Database, staff: Staff) -> list[TeamPlaces]:
    """The places and active participants of each team ``staff`` sees that has places set."""
    active = (
        select(func.count(Referral.id))
        .where(Referral.team_id == Team.id, Referral.status == Status.ENROLLED.value)
        .correlate(Team)
        .scalar_subquery()
    )
    query = visible_teams_query(staff).where(Team.places.is_not(None)).add_columns(active)
    async with db.sessions() as session:
        rows = (await session.execute(query)).all()
    return [TeamPlaces(team.code, team.name, team.places or 0, int(n)) for team, n in rows]


async def visible_teams(db: Database, staff: Staff) -> list[TeamChoice]:
    """The teams ``staff`` may see, by name, for the team filter."""
    async with db.sessions() as session:
        teams = (await session.scalars(visible_teams_query(staff))).all()
    return [TeamChoice(team.id, team.code, team.name) for team in teams]


def _scoped(query: Select, staff: Staff, team: str | None, period: Period, column) -> Select:  # type: ignore[no-untyped-def, type-arg]
    """``query`` limited to what ``staff`` sees, one team code if given, and ``period``."""
    if staff.team_ids is not None:
        query = query.where(Referral.team_id.in_(staff.team_ids))
    if team:
        query = query.where(Referral.team_id.in_(select(Team.id).where(Team.code == team)))
    if period.start:
        query = query.where(column >= period.start)
    if period.end:
        query = query.where(column <= period.end)
    return query


async def referral_board(
    db: Database,
    staff: Staff,
    *,
    status: str = "open",
    team: str | None = None,
    period: Period | None = None,
    today: date,
) -> Board:
    """The referrals ``staff`` may see, oldest first, with queue position and days waiting."""
    statuses, period = STATUS_FILTERS.get(status, OPEN_STATUSES), period or Period()
    async with db.sessions() as session:
        base = _scoped(
            select(Referral, Team.code, Team.name).join(Team, Team.id == Referral.team_id),
            staff,
            team,
            period,
            Referral.received_date,
        )
        found = (
            await session.execute(
                base.where(Referral.status.in_(statuses)).order_by(
                    Referral.received_at, Referral.id
                )
            )
        ).all()
        counted = _scoped(
            select(Referral.status, func.count(Referral.id)).group_by(Referral.status),
            staff,
            team,
            period,
            Referral.received_date,
        )
        counts = {row[0]: int(row[1]) for row in (await session.execute(counted)).all()}
        positions = await queue_positions(session, {row[0].team_id for row in found})
        duplicates = await possible_duplicates(session, [row[0].participant for row in found])
    rows = tuple(
        _board_row(referral, (code, name), today, positions, duplicates)
        for referral, code, name in found
    )
    return Board(rows=rows, counts=counts)


def _board_row(
    referral: Referral,
    team: tuple[str, str],
    today: date,
    positions: dict[int, int],
    duplicates: set[int],
) -> BoardRow:
    """A board row from a referral and the team-wide queue and duplicate facts."""
    person = referral.participant
    return BoardRow(
        referral_id=referral.id,
        participant_id=person.id,
        reference=referral.reference,
        team_code=team[0],
        team_name=team[1],
        status=referral.status,
        received_date=referral.received_date,
        days_waiting=days_waiting(referral, today),
        queue_position=positions.get(referral.id),
        person_name=person.name,
        protected_identity=person.protected_identity,
        referrer_code=referral.referrer_code,
        possible_duplicate=person.id in duplicates,
        visit_date=referral.visit_date,
    )


def days_waiting(referral: Referral, today: date) -> int | None:
    """Days since the referral came in, while it waits; None once decided or enrolled."""
    if referral.status not in OPEN_STATUSES:
        return None
    return (today - referral.received_date).days


async def queue_positions(session: AsyncSession, team_ids: Iterable[int]) -> dict[int, int]:
    """Referral id → place in its team's queue (1 is next), for referrals waiting for a place."""
    team_ids = set(team_ids)
    if not team_ids:
        return {}
    rows = (
        await session.execute(
            select(Referral.id, Referral.team_id)
            .where(Referral.team_id.in_(team_ids), Referral.status.in_(QUEUE_STATUSES))
            .order_by(Referral.queued_at.asc().nulls_last(), Referral.received_at, Referral.id)
        )
    ).all()
    positions: dict[int, int] = {}
    places: dict[int, int] = {}
    for referral_id, team_id in rows:
        places[team_id] = places.get(team_id, 0) + 1
        positions[referral_id] = places[team_id]
    return positions


async def possible_duplicates(session: AsyncSession, people: Iterable[Participant]) -> set[int]:
    """Ids of ``people`` whose personnummer another participant of the same team also has.

    Each person's number is indexed under every key of the keyring, so a pair stored under
    the old and the new key while a key rotation is under way is found as well.
    """
    wanted: dict[tuple[int, str], set[int]] = {}
    for person in people:
        if person.personnummer:
            for index in session_keyring(session).blind_indexes(person.personnummer):
                wanted.setdefault((person.team_id, index), set()).add(person.id)
    team_ids = {team_id for team_id, _ in wanted}
    indexes = sorted({index for _, index in wanted})
    found: set[int] = set()
    for start in range(0, len(indexes), INDEXES_PER_QUERY):
        rows = await session.execute(
            select(Participant.id, Participant.team_id, Participant.personnummer_hash).where(
                Participant.team_id.in_(team_ids),
                Participant.personnummer_hash.in_(indexes[start : start + INDEXES_PER_QUERY]),
            )
        )
        for other_id, team_id, stored in rows.all():
            found |= wanted.get((team_id, stored or ""), set()) - {other_id}
    return found


async def participant_list(
    db: Database,
    staff: Staff,
    *,
    status: str = "active",
    team: str | None = None,
    period: Period | None = None,
) -> tuple[ParticipantRow, ...]:
    """Enrolled and ended participants, newest start first, with their latest step."""
    statuses = PARTICIPATION_FILTERS.get(status, PARTICIPATION_FILTERS["active"])
    period = period or Period()
    async with db.sessions() as session:
        query = _scoped(
            select(Referral, Team.code, Team.name).join(Team, Team.id == Referral.team_id),
            staff,
            team,
            Period(None, period.end),
            Referral.start_date,
        ).where(Referral.status.in_(statuses))
        if period.start:
            query = query.where((Referral.end_date.is_(None)) | (Referral.end_date >= period.start))
        found = (
            await session.execute(query.order_by(Referral.start_date.desc(), Referral.id))
        ).all()
        steps = await latest_steps(session, [row[0].id for row in found])
    return tuple(_participant_row(referral, (code, name), steps) for referral, code, name in found)


def _participant_row(
    referral: Referral, team: tuple[str, str], steps: dict[int, str]
) -> ParticipantRow:
    """A participants-list row from a referral."""
    person = referral.participant
    start, months = referral.start_date, referral.trial_months
    return ParticipantRow(
        referral_id=referral.id,
        participant_id=person.id,
        reference=referral.reference,
        team_code=team[0],
        team_name=team[1],
        person_name=person.name,
        protected_identity=person.protected_identity,
        status=referral.status,
        start_date=start,
        trial_end=trial_period_end(start, months) if start and months in (2, 3) else None,
        end_date=referral.end_date,
        end_reason=referral.end_reason,
        latest_step=steps.get(referral.id),
    )


async def latest_steps(session: AsyncSession, referral_ids: Sequence[int]) -> dict[int, str]:
    """Referral id → the step recorded last for it."""
    if not referral_ids:
        return {}
    rows = await session.execute(
        select(ProgressStep.referral_id, ProgressStep.step)
        .where(ProgressStep.referral_id.in_(referral_ids))
        .order_by(ProgressStep.recorded_on, ProgressStep.id)
    )
    return {referral_id: step for referral_id, step in rows.all()}
