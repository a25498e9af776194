"""Report periods: ``[from, to]`` with both dates inclusive (DOMAIN.md, "Definitions").

Dates are Swedish calendar dates. Timestamps in the database are UTC, so a period's instants
(:meth:`Period.utc_bounds`) run from midnight Swedish time on ``from`` to midnight after ``to``.
The previous period "of the same length" is the previous run of whole months when the period
is whole months (a half-year before a half-year, a year before a year), otherwise the same
number of days right before it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.clock import local_midnight
from core.errors import DomainError
from core.i18n import N_
from reports.format import period_label

#: The time zone of the teams' calendar dates.
#: How many half-years the throughput trend covers.
TREND_HALF_YEARS = 6


class PeriodError(DomainError):
    """A period cannot be read: the message names the date field and what is wrong."""


@dataclass(frozen=True, order=True)
class Period:
    """The dates ``first_day`` to ``last_day``, both included."""

    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise PeriodError(
                N_("Slutdatumet {to} ligger före startdatumet {first}."),
                field="to",
                to=self.last_day.isoformat(),
                first=self.first_day.isoformat(),
            )

    @property
    def days(self) -> int:
        """The number of days in the period."""
        return (self.last_day - self.first_day).days + 1

    @property
    def label(self) -> str:
        """A short name: ``2025 H1``, ``2025`` or the two dates."""
        return period_label(self.first_day, self.last_day)

    def as_json(self) -> dict[str, str]:
        """The period as in the summary JSON: ``{"from": ..., "to": ...}``."""
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """The period's instants in UTC: [midnight on ``from``, midnight after ``to``)."""
        return local_midnight(self.first_day), local_midnight(self.last_day + timedelta(days=1))

    def whole_months(self) -> int | None:
        """How many calendar months the period covers exactly; None when it is not whole months."""
        if self.first_day.day != 1 or self.last_day != last_of_month(self.last_day):
            return None
        return _month_index(self.last_day) - _month_index(self.first_day) + 1

    def previous(self) -> Period:
        """The period of the same length right before this one."""
        months = self.whole_months()
        if months is None:
            last = self.first_day - timedelta(days=1)
            return Period(last - timedelta(days=self.days - 1), last)
        first = _month_start(_month_index(self.first_day) - months)
        return Period(first, self.first_day - timedelta(days=1))


def last_of_month(day: date) -> date:
    """The last day of the month ``day`` is in."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _month_index(day: date) -> int:
    """Months since year 0: comparable and subtractable."""
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    """The first day of the month with ``_month_index`` ``index``."""
    return date(index // 12, index % 12 + 1, 1)


def half_year_of(day: date) -> Period:
    """The calendar half-year (1 January–30 June or 1 July–31 December) ``day`` is in."""
    if day.month <= 6:
        return Period(date(day.year, 1, 1), date(day.year, 6, 30))
    return Period(date(day.year, 7, 1), date(day.year, 12, 31))


def trend_half_years(period: Period, count: int = TREND_HALF_YEARS) -> list[Period]:
    """The ``count`` whole half-years that end before ``period`` begins, oldest first."""
    half_years = [half_year_of(period.first_day - timedelta(days=1))]
    while len(half_years) < count:
        half_years.append(half_year_of(half_years[-1].first_day - timedelta(days=1)))
    return half_years[::-1]


def last_half_year(today: date) -> Period:
    """The last whole half-year before ``today``: the preset "senaste halvåret"."""
    return half_year_of(half_year_of(today).first_day - timedelta(days=1))


def this_year(today: date) -> Period:
    """1 January up to and including ``today``: the preset "i år"."""
    return Period(date(today.year, 1, 1), today)


def parse_date(text: str, *, field: str) -> date:
    """A ``YYYY-MM-DD`` date; PeriodError naming ``field`` when it is not one."""
    cleaned = text.strip()
    try:
        if len(cleaned) != 10:
            raise ValueError(cleaned)
        return date.fromisoformat(cleaned)
    except ValueError:
        raise PeriodError(
            N_("{name}: {text} är inte ett datum på formen ÅÅÅÅ-MM-DD."),
            field=field,
            name=field,
            text=cleaned[:20],
        ) from None


def parse_period(first: str, last: str) -> Period:
    """The period from two ``YYYY-MM-DD`` texts (``from`` and ``to``)."""
    return Period(parse_date(first, field="from"), parse_date(last, field="to"))
