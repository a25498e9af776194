"""Recent summaries kept in memory for a minute, with their charts and downloads.

A summaries page is one summary, then five chart images and perhaps a download, all asked for
within seconds; building the summary and drawing the charts once serves them all. Entries are
kept for :attr:`SummaryCache.ttl` seconds, at most :attr:`SummaryCache.size` of them, and the
whole cache is cleared when staff change something the summary shows (a theme correction).
Drawing charts and writing Word and Excel files is CPU work, so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reports.periods import Period
from reports.summary import build_summary, render_summary
from storage.db import Database

#: What a summary depends on: team code (None: the förbund), period, raw figures or not.
Key = tuple[str | None, Period, bool]


@dataclass
class _Entry:
    """One summary, when it was made, and what has been rendered from it."""

    summary: dict[str, Any]
    made: float
    rendered: dict[str, bytes] = field(default_factory=dict)
    charts: dict[str, bytes] | None = None


class SummaryCache:
    """Summaries by team, period and suppression, for a minute."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        ttl: float = 60.0,
        size: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._entries: dict[Key, _Entry] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    async def summary(self, db: Database, key: Key) -> dict[str, Any]:
        """The summary for ``key``: built now, or kept from less than a minute ago."""
        return (await self._entry(db, key)).summary

    async def charts(self, db: Database, key: Key) -> dict[str, bytes]:
        """The charts of the summary for ``key`` as PNG images, by name."""
        from reports.charts import render_charts

        entry = await self._entry(db, key)
        async with self._lock(key):
            if entry.charts is None:
                entry.charts = await asyncio.to_thread(render_charts, entry.summary)
        return entry.charts

    async def rendered(self, db: Database, key: Key, fmt: str) -> bytes:
        """The summary for ``key`` as a ``json``, ``md``, ``docx`` or ``xlsx`` file."""
        entry = await self._entry(db, key)
        if fmt not in entry.rendered:
            charts = await self.charts(db, key) if fmt == "docx" else {}
            entry.rendered[fmt] = await asyncio.to_thread(
                render_summary, entry.summary, fmt, charts
            )
        return entry.rendered[fmt]

    def clear(self) -> None:
        """Forget every summary (after a change they show)."""
        self._entries.clear()

    def _lock(self, key: Key) -> asyncio.Lock:
        """One lock per key, so that simultaneous requests build a summary once."""
        return self._locks.setdefault(key, asyncio.Lock())

    async def _entry(self, db: Database, key: Key) -> _Entry:
        """The fresh entry for ``key``, built when missing or too old."""
        async with self._lock(key):
            entry = self._entries.get(key)
            if entry is None or self.clock() - entry.made > self.ttl:
                team, period, raw = key
                summary = await build_summary(
                    db, period, team_code=team, suppress=not raw, threshold=self.threshold
                )
                entry = _Entry(summary, self.clock())
                self._forget_oldest()
                self._entries[key] = entry
            return entry

    def _forget_oldest(self) -> None:
        """Make room for one more entry."""
        while len(self._entries) >= self.size:
            oldest = min(self._entries, key=lambda k: self._entries[k].made)
            del self._entries[oldest]
            self._locks.pop(oldest, None)
