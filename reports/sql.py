"""SQL building blocks that mean the same on SQLite and PostgreSQL.

Date arithmetic is where the two differ: SQLite stores dates as ``YYYY-MM-DD`` text and
subtracts them through ``julianday``, PostgreSQL subtracts dates directly and adds whole days
with ``+``. :func:`days_between` and :func:`next_day` hide that behind one expression each.

Medians are computed in the database with window functions that both engines have
(``row_number`` and ``count`` over a partition): the one or two middle rows of each group are
averaged. That keeps one portable query instead of ``percentile_cont`` on PostgreSQL and a
Python fallback on SQLite, and the rows never travel to Python; the cost is one sort of the
values, which the database does in C over at most a period's participants.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    SQLColumnExpression,
    and_,
    cast,
    extract,
    func,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class _DaysBetween(FunctionElement[int]):
    """``later - earlier`` in whole days."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


class _NextDay(FunctionElement[Any]):
    """The day after a date."""

    type = Date()
    inherit_cache = True
    name = "next_day"


@compiles(_DaysBetween, "sqlite")
def _days_between_sqlite(element: _DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite keeps dates as text: subtract their Julian day numbers."""
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(_DaysBetween)
def _days_between_standard(element: _DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    """PostgreSQL: a date minus a date is a whole number of days."""
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} - {earlier})"


@compiles(_NextDay, "sqlite")
def _next_day_sqlite(element: _NextDay, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite: the date function with a modifier."""
    (day,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({day}, '+1 day')"


@compiles(_NextDay)
def _next_day_standard(element: _NextDay, compiler: SQLCompiler, **kw: Any) -> str:
    """PostgreSQL: a date plus a whole number of days is a date."""
    (day,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"({day} + 1)"


def days_between(
    later: SQLColumnExpression[Any], earlier: SQLColumnExpression[Any]
) -> ColumnElement[int]:
    """The number of days from the date ``earlier`` to the date ``later``."""
    return _DaysBetween(later, earlier)


def next_day(day: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """The date after ``day``."""
    return _NextDay(day)


def year(day: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """The year of a date, as an integer."""
    return cast(extract("year", day), Integer)


def month(day: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """The month (1–12) of a date."""
    return cast(extract("month", day), Integer)


def day_of_month(day: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """The day of the month (1–31) of a date."""
    return cast(extract("day", day), Integer)


def months_between(
    later: SQLColumnExpression[Any], earlier: SQLColumnExpression[Any]
) -> ColumnElement[int]:
    """Calendar months from ``earlier``'s month to ``later``'s month (days ignored)."""
    return (year(later) * 12 + month(later)) - (year(earlier) * 12 + month(earlier))


def ended_within_months(
    start: SQLColumnExpression[Any], end: SQLColumnExpression[Any], months: SQLColumnExpression[Any]
) -> ColumnElement[bool]:
    """True when ``end`` is before ``start`` plus ``months`` calendar months.

    Same rule as :func:`core.referrals.trial_period_end`: the same day of the month ``months``
    later, or that month's last day when the month is shorter.
    """
    gap = months_between(end, start)
    last_day_of_month = day_of_month(next_day(end)) == 1
    same_month_earlier_day = and_(
        gap == months, day_of_month(end) < day_of_month(start), ~last_day_of_month
    )
    return (gap < months) | same_month_earlier_day


def medians(values: Select[Any, Any]) -> Select[Any, Any]:
    """The median of ``value`` per ``key``, for a select of two columns named key and value.

    The result has the columns ``key`` and ``median``; a group with an even number of values
    gets the mean of the two middle ones.
    """
    inner = values.subquery()
    ranked = select(
        inner.c.key,
        inner.c.value,
        func.row_number().over(partition_by=inner.c.key, order_by=inner.c.value).label("n"),
        func.count().over(partition_by=inner.c.key).label("size"),
    ).subquery()
    middle = and_(ranked.c.n * 2 >= ranked.c.size, ranked.c.n * 2 <= ranked.c.size + 2)
    return (
        select(ranked.c.key, func.avg(ranked.c.value).label("median"))
        .where(middle)
        .group_by(ranked.c.key)
    )


def one_group() -> ColumnElement[int]:
    """A constant key, for :func:`medians` of a single group."""
    return literal(0).label("key")


def as_float(value: object) -> float | None:
    """A database number (PostgreSQL gives Decimal for averages) as a float; None stays None."""
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        return float(value)
    raise TypeError(f"not a number: {value!r}")


def as_int(value: object) -> int:
    """A database count or sum as an int; NULL (an empty sum) is 0."""
    if value is None:
        return 0
    if isinstance(value, Decimal | int | float):
        return int(value)
    raise TypeError(f"not a number: {value!r}")
