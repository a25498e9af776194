"""The figures of a period, each computed by aggregate queries in the database.

Every definition is DOMAIN.md's ("Definitions used in summaries"); a participation is one
referral with a start (enrolment) date, and referrals ended as *felregistrering* are left out
of every query. Only counts, sums and the middle values of medians come back to Python, so the
work grows with the number of groups, not with the number of participants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import local_midnight
from core.codes import (
    GENDERS,
    INCOME_GROUPS,
    INCOME_SOURCES,
    REFERRER_GROUPS,
    REFERRERS,
    REPORTED_END_REASONS,
)
from core.referrals import QUEUE_STATUSES
from reports.periods import Period
from reports.scope import Scope, not_a_mistake
from reports.sql import (
    as_float,
    as_int,
    day_of_month,
    days_between,
    ended_within_months,
    medians,
    month,
    one_group,
    year,
)
from storage.models import Participant, Referral, ReferralEvent, Team

#: Days per month in throughput time (DOMAIN.md): 365.25 / 12.
DAYS_PER_MONTH = 30.4375
#: Ages counted as young in ``share_young_at_end``.
YOUNG_AGES = (16, 29)
#: Birthday assumed when only the birth year is known (DOMAIN.md: 1 July).
BIRTH_YEAR_ONLY_BIRTHDAY = (7, 1)


def count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """The number of rows for which ``condition`` holds (0, not NULL, when none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def ended_in(period: Period) -> ColumnElement[bool]:
    """The participation ended in the period."""
    return Referral.end_date.between(period.first_day, period.last_day)


def started_in(period: Period) -> ColumnElement[bool]:
    """The participation started in the period (``new``)."""
    return Referral.start_date.between(period.first_day, period.last_day)


def active_after(day: date) -> ColumnElement[bool]:
    """Started on or before ``day`` and not ended by then: active at the end of ``day``."""
    return and_(Referral.start_date <= day, Referral.end_date.is_(None) | (Referral.end_date > day))


def _group_of(codes: Mapping[str, Any], code: str | None, fallback: str) -> str:
    """The report group of ``code``; ``fallback`` for a code not in the list."""
    known = codes.get(code or "")
    return str(known.group) if known is not None else fallback


def _zeros(keys: Iterable[str]) -> dict[str, int]:
    """A breakdown with every key at 0."""
    return dict.fromkeys(keys, 0)


async def participant_figures(
    conn: AsyncConnection, scope: Scope, period: Period
) -> dict[str, Any]:
    """The ``participants`` part: the flow through the period and its breakdowns."""
    first, last = period.first_day, period.last_day
    flags = {
        "active_at_start": Referral.start_date < first,
        "new": Referral.start_date >= first,
        "ended": Referral.end_date <= last,
        "active_at_end": Referral.end_date.is_(None) | (Referral.end_date > last),
    }
    query = (
        select(
            Referral.referrer_code,
            Referral.income_source,
            Participant.gender,
            *(count_where(c).label(name) for name, c in flags.items()),
        )
        .join(Participant, Participant.id == Referral.participant_id)
        .where(Referral.start_date <= last)
        .where(Referral.end_date.is_(None) | (Referral.end_date >= first))
        .where(not_a_mistake(), scope.covers(Referral.team_id))
        .group_by(Referral.referrer_code, Referral.income_source, Participant.gender)
    )
    figures: dict[str, Any] = dict.fromkeys(flags, 0)
    for moment in ("new", "active_at_end"):
        figures[f"{moment}_by_referrer"] = _zeros(REFERRER_GROUPS)
        figures[f"{moment}_by_income_source"] = _zeros(INCOME_GROUPS)
        figures[f"{moment}_by_gender"] = _zeros(GENDERS)
    for row in (await conn.execute(query)).mappings():
        _add_group(figures, row, flags)
    figures |= await _ages_at_end(conn, scope, period)
    return _in_interface_order(figures)


def _add_group(figures: dict[str, Any], row: RowMapping, flags: Iterable[str]) -> None:
    """Add one group of participations (a referrer, income source and gender) to the figures."""
    gender = row["gender"] if row["gender"] in GENDERS else "annat"
    referrer = _group_of(REFERRERS, row["referrer_code"], "other")
    income = _group_of(INCOME_SOURCES, row["income_source"], "annan")
    for name in flags:
        figures[name] += as_int(row[name])
    for moment in ("new", "active_at_end"):
        count = as_int(row[moment])
        figures[f"{moment}_by_referrer"][referrer] += count
        figures[f"{moment}_by_income_source"][income] += count
        figures[f"{moment}_by_gender"][gender] += count


def _in_interface_order(figures: dict[str, Any]) -> dict[str, Any]:
    """The participant figures in the order of INTERFACES.md."""
    order = (
        "active_at_start",
        "new",
        "ended",
        "active_at_end",
        "new_by_referrer",
        "new_by_income_source",
        "active_at_end_by_referrer",
        "active_at_end_by_income_source",
        "new_by_gender",
        "active_at_end_by_gender",
        "mean_age_at_end",
        "share_young_at_end",
    )
    return {key: figures[key] for key in order}


def age_at(day: date) -> ColumnElement[int]:
    """Completed years on ``day``: from the birth date, else from 1 July of the birth year."""
    day_code = day.month * 100 + day.day
    birthday_code = month(Participant.birth_date) * 100 + day_of_month(Participant.birth_date)
    from_birth_date = (
        day.year - year(Participant.birth_date) - case((birthday_code > day_code, 1), else_=0)
    )
    before_assumed_birthday = (day.month, day.day) < BIRTH_YEAR_ONLY_BIRTHDAY
    from_birth_year = day.year - int(before_assumed_birthday) - Participant.birth_year
    return case(
        (Participant.birth_date.is_not(None), from_birth_date),
        else_=from_birth_year,
    )


async def _ages_at_end(conn: AsyncConnection, scope: Scope, period: Period) -> dict[str, Any]:
    """Mean age and share aged 16–29 of those active at the end (with a known age)."""
    age = age_at(period.last_day).label("age")
    ages = (
        select(age)
        .select_from(Referral)
        .join(Participant, Participant.id == Referral.participant_id)
        .where(active_after(period.last_day), not_a_mistake(), scope.covers(Referral.team_id))
        .subquery()
    )
    young = ages.c.age.between(*YOUNG_AGES)
    row = (
        await conn.execute(select(func.count(ages.c.age), func.avg(ages.c.age), count_where(young)))
    ).one()
    known, mean, young_count = as_int(row[0]), as_float(row[1]), as_int(row[2])
    return {
        "mean_age_at_end": mean,
        "share_young_at_end": young_count / known if known else None,
    }


def is_dropout() -> ColumnElement[bool]:
    """The participation ended within its trial period (the referral's, else the team's)."""
    months = func.coalesce(Referral.trial_months, Team.trial_months)
    return ended_within_months(Referral.start_date, Referral.end_date, months)


def throughput_days() -> ColumnElement[int]:
    """Days from start to end of a participation."""
    return days_between(Referral.end_date, Referral.start_date)


async def outcome_figures(conn: AsyncConnection, scope: Scope, period: Period) -> dict[str, Any]:
    """The ``outcomes`` part: end reasons, dropouts, results and throughput time."""
    dropout = case((is_dropout(), 1), else_=0)
    query = (
        select(
            Referral.team_id,
            Participant.gender,
            Referral.end_reason,
            dropout.label("dropout"),
            func.count().label("ended"),
            func.sum(throughput_days()).label("days"),
        )
        .join(Participant, Participant.id == Referral.participant_id)
        .join(Team, Team.id == Referral.team_id)
        .where(ended_in(period), not_a_mistake(), scope.covers(Referral.team_id))
        .group_by(Referral.team_id, Participant.gender, Referral.end_reason, dropout)
    )
    totals = {"ended": 0, "dropouts": 0, "result": 0, "days": 0}
    by_reason = _zeros(REPORTED_END_REASONS)
    by_gender = {g: {"ended": 0, "result": 0} for g in GENDERS}
    for row in (await conn.execute(query)).mappings():
        ended = as_int(row["ended"])
        reason = row["end_reason"] if row["end_reason"] in by_reason else "ovrigt"
        result = ended if row["end_reason"] in scope.result_reasons(row["team_id"]) else 0
        gender = row["gender"] if row["gender"] in GENDERS else "annat"
        totals["ended"] += ended
        totals["dropouts"] += ended if as_int(row["dropout"]) else 0
        totals["result"] += result
        totals["days"] += as_int(row["days"])
        by_reason[reason] += ended
        by_gender[gender]["ended"] += ended
        by_gender[gender]["result"] += result
    return _outcomes(totals, by_reason, by_gender, await _median_throughput(conn, scope, period))


def _outcomes(
    totals: Mapping[str, int],
    by_reason: dict[str, int],
    by_gender: dict[str, dict[str, int]],
    median_days: float | None,
) -> dict[str, Any]:
    """The outcomes in the order of INTERFACES.md, with the shares and means computed."""
    ended, dropouts, result = totals["ended"], totals["dropouts"], totals["result"]
    completed = ended - dropouts
    return {
        "ended": ended,
        "dropouts": dropouts,
        "by_reason": by_reason,
        "result": result,
        "share_result": result / completed if completed else None,
        "by_gender": by_gender,
        "throughput_months_mean": totals["days"] / ended / DAYS_PER_MONTH if ended else None,
        "throughput_months_median": None if median_days is None else median_days / DAYS_PER_MONTH,
    }


async def _median_throughput(conn: AsyncConnection, scope: Scope, period: Period) -> float | None:
    """The median throughput time in days of those ended in the period."""
    values = select(one_group(), throughput_days().label("value")).where(
        ended_in(period), not_a_mistake(), scope.covers(Referral.team_id)
    )
    row = (await conn.execute(medians(values))).first()
    return None if row is None else as_float(row.median)


async def referral_figures(conn: AsyncConnection, scope: Scope, period: Period) -> dict[str, Any]:
    """The ``referrals`` part: received, the queue at the end, and waiting time of the new."""
    in_scope = and_(not_a_mistake(), scope.covers(Referral.team_id))
    received = await conn.scalar(
        select(func.count())
        .select_from(Referral)
        .where(Referral.received_date.between(period.first_day, period.last_day), in_scope)
    )
    wait = days_between(Referral.start_date, Referral.received_date)
    new = and_(started_in(period), in_scope)
    mean = await conn.scalar(select(func.avg(wait)).where(new))
    median = (
        await conn.execute(medians(select(one_group(), wait.label("value")).where(new)))
    ).first()
    return {
        "received": as_int(received),
        "queue_at_end": await queue_at(conn, scope, period.last_day),
        "wait_days_mean": as_float(mean),
        "wait_days_median": None if median is None else as_float(median.median),
    }


async def queue_at(conn: AsyncConnection, scope: Scope, day: date) -> int:
    """Referrals whose latest status at the end of ``day`` is queued or visit booked."""
    latest_first = (ReferralEvent.at.desc(), ReferralEvent.id.desc())
    statuses = (
        select(
            ReferralEvent.to_status,
            func.row_number()
            .over(partition_by=ReferralEvent.referral_id, order_by=latest_first)
            .label("n"),
        )
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(ReferralEvent.at < local_midnight(date.fromordinal(day.toordinal() + 1)))
        .where(not_a_mistake(), scope.covers(Referral.team_id))
        .subquery()
    )
    queued = statuses.c.to_status.in_(sorted(QUEUE_STATUSES))
    count = await conn.scalar(
        select(func.count()).select_from(statuses).where(statuses.c.n == 1, queued)
    )
    return as_int(count)
