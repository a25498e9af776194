"""The throughput trend: per half-year before the period, the flow and throughput time.

The half-years are grouped in the database by a number for each (``year * 2`` plus 1 for the
second half), so the whole trend takes four queries whatever its length.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from reports.figures import DAYS_PER_MONTH, active_after, count_where, throughput_days
from reports.periods import Period, trend_half_years
from reports.scope import Scope, not_a_mistake
from reports.sql import as_float, as_int, medians, month, year
from storage.models import Referral


def half_year_number(day: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """``year * 2`` for the first half of the year, ``year * 2 + 1`` for the second."""
    return year(day) * 2 + case((month(day) > 6, 1), else_=0)


def _number_of(half_year: Period) -> int:
    """The :func:`half_year_number` of a half-year."""
    return half_year.first_day.year * 2 + (half_year.first_day.month > 6)


async def trend_figures(
    conn: AsyncConnection, scope: Scope, period: Period
) -> list[dict[str, Any]]:
    """The ``trend``: one row per half-year before ``period``, oldest first.

    The trend starts at the team's first half-year with data: earlier rows (nobody new, ended
    or active) are left out, so a new team's trend is not a row of zeros.
    """
    half_years = trend_half_years(period)
    span = Period(half_years[0].first_day, half_years[-1].last_day)
    in_scope = and_(not_a_mistake(), scope.covers(Referral.team_id))
    ended_in_span = and_(Referral.end_date.between(span.first_day, span.last_day), in_scope)
    ended_key = half_year_number(Referral.end_date).label("key")
    ended = {
        as_int(row.key): (as_int(row.n), as_int(row.days))
        for row in await conn.execute(
            select(ended_key, func.count().label("n"), func.sum(throughput_days()).label("days"))
            .where(ended_in_span)
            .group_by(ended_key)
        )
    }
    median_rows = await conn.execute(
        medians(select(ended_key, throughput_days().label("value")).where(ended_in_span))
    )
    median_days = {as_int(row.key): as_float(row.median) for row in median_rows}
    started_key = half_year_number(Referral.start_date).label("key")
    new = {
        as_int(row.key): as_int(row.n)
        for row in await conn.execute(
            select(started_key, func.count().label("n"))
            .where(Referral.start_date.between(span.first_day, span.last_day), in_scope)
            .group_by(started_key)
        )
    }
    active = await _active_at_ends(conn, in_scope, half_years)
    rows = [
        _row(h, ended.get(_number_of(h), (0, 0)), median_days.get(_number_of(h)), new, active[n])
        for n, h in enumerate(half_years)
    ]
    return without_empty_start(rows)


def without_empty_start(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows from the first one where anybody was new, ended or active."""
    first = next(
        (n for n, r in enumerate(rows) if r["new"] or r["ended"] or r["active_at_end"]), None
    )
    return [] if first is None else rows[first:]


async def _active_at_ends(
    conn: AsyncConnection, in_scope: ColumnElement[bool], half_years: list[Period]
) -> list[int]:
    """How many were active at the end of each half-year."""
    counts = [count_where(active_after(h.last_day)) for h in half_years]
    query = select(*counts).where(in_scope, Referral.start_date <= half_years[-1].last_day)
    return [as_int(v) for v in (await conn.execute(query)).one()]


def _row(
    half_year: Period,
    ended: tuple[int, int],
    median_days: float | None,
    new: dict[int, int],
    active_at_end: int,
) -> dict[str, Any]:
    """One trend row as in the summary JSON."""
    count, days = ended
    return {
        "label": half_year.label,
        "from": half_year.first_day.isoformat(),
        "to": half_year.last_day.isoformat(),
        "ended": count,
        "throughput_months_mean": days / count / DAYS_PER_MONTH if count else None,
        "throughput_months_median": None if median_days is None else median_days / DAYS_PER_MONTH,
        "new": new.get(_number_of(half_year), 0),
        "active_at_end": active_at_end,
    }
