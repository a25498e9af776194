"""Quiet hours: no reminder or SMS reaches a participant between 20:00 and 08:00 Swedish time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from core.clock import SWEDEN

QUIET_FROM, QUIET_UNTIL = clock_time(20, 0), clock_time(8, 0)


def in_quiet_hours(moment: datetime) -> bool:
    """Whether ``moment`` is between 20:00 and 08:00 in Europe/Stockholm."""
    local = moment.astimezone(SWEDEN).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def outside_quiet_hours(moment: datetime) -> datetime:
    """``moment`` itself, or when it falls in quiet hours, the 08:00 (Swedish time) that ends them."""
    if not in_quiet_hours(moment):
        return moment
    local = moment.astimezone(SWEDEN)
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=SWEDEN).astimezone(UTC)
