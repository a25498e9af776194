"""Time as the service reckons it: instants in UTC, dates as they are in Sweden.

Dates of referrals, participation and reports are Swedish calendar dates; every stored
instant is timezone-aware UTC. This module is the one place that names the time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SWEDEN = ZoneInfo("Europe/Stockholm")


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today_in_sweden() -> date:
    """Today's date in Sweden (dates of referrals and participation are Swedish dates)."""
    return datetime.now(SWEDEN).date()


def local_midnight(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in Sweden."""
    return datetime.combine(day, time(), tzinfo=SWEDEN).astimezone(UTC)


def local_date(instant: datetime) -> date:
    """The Swedish calendar date of a UTC instant."""
    return instant.astimezone(SWEDEN).date()
