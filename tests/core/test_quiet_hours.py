"""Quiet hours, 20:00–08:00 Swedish time, in winter and summer time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.quiet_hours import in_quiet_hours, outside_quiet_hours


@pytest.mark.parametrize(
    ("moment", "due"),
    [
        # winter (UTC+1): 12:00 stays; 21:30 and 03:00 wait for 08:00 = 07:00 UTC
        (datetime(2026, 3, 10, 11, 0, tzinfo=UTC), datetime(2026, 3, 10, 11, 0, tzinfo=UTC)),
        (datetime(2026, 3, 10, 20, 30, tzinfo=UTC), datetime(2026, 3, 11, 7, 0, tzinfo=UTC)),
        (datetime(2026, 3, 11, 2, 0, tzinfo=UTC), datetime(2026, 3, 11, 7, 0, tzinfo=UTC)),
        # 19:59 is not quiet, 20:00 is
        (datetime(2026, 3, 10, 18, 59, tzinfo=UTC), datetime(2026, 3, 10, 18, 59, tzinfo=UTC)),
        (datetime(2026, 3, 10, 19, 0, tzinfo=UTC), datetime(2026, 3, 11, 7, 0, tzinfo=UTC)),
        # summer (UTC+2): 22:00 waits for 08:00 = 06:00 UTC
        (datetime(2026, 6, 10, 20, 0, tzinfo=UTC), datetime(2026, 6, 11, 6, 0, tzinfo=UTC)),
        # the night summer time begins (29 March 2026): 08:00 is then UTC+2
        (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
    ],
)
def test_a_moment_in_quiet_hours_moves_to_the_0800_that_ends_them(
    moment: datetime, due: datetime
) -> None:
    assert outside_quiet_hours(moment) == due
    assert in_quiet_hours(moment) is (moment != due)
    assert not in_quiet_hours(due)
