"""The period summary (INTERFACES.md, "Summary JSON"): every figure, the trend, the previous
period, the goals and the quotes, suppressed by default.

:func:`build_summary` is what the command line, the team pages and the benchmark call. Each
group of figures is read on its own short connection, so that on SQLite (where every
transaction takes the write lock) other work waits for one query at most, not a whole summary.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import SWEDEN
from core.themes import Codebook, default_codebook
from reports.after_figures import after_figures, finsam_figures
from reports.figures import outcome_figures, participant_figures, referral_figures
from reports.goals import measure_goals
from reports.periods import Period
from reports.quotes import representative_quotes
from reports.scope import Scope, load_scope, not_a_mistake
from reports.suppression import suppress as suppress_small_counts
from reports.survey_figures import survey_figures
from reports.trend import trend_figures
from storage.db import Database
from storage.models import Referral

SCHEMA = "samverkan.summary/1"
#: The file formats a summary is written in.
FORMATS = ("json", "md", "docx", "xlsx")
#: Called after each step with (steps done, steps in all, what was just done).
Progress = Callable[[int, int, str], None]
_T = TypeVar("_T")


class _Steps:
    """Runs the summary's queries one connection each, reporting progress as it goes."""

    TOTAL = 15

    def __init__(self, db: Database, progress: Progress | None) -> None:
        self.db = db
        self.progress = progress
        self.done = 0

    async def run(self, name: str, step: Callable[[AsyncConnection], Awaitable[_T]]) -> _T:
        """Run ``step`` on a fresh connection, then report it done."""
        async with self.db.engine.connect() as conn:
            result = await step(conn)
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done, self.TOTAL), self.TOTAL, name)
        return result

    def finish(self) -> None:
        """Report every step done (the previous period's steps are skipped when it has none)."""
        if self.progress is not None and self.done < self.TOTAL:
            self.progress(self.TOTAL, self.TOTAL, "klar")


async def build_summary(
    db: Database,
    period: Period,
    *,
    team_code: str | None = None,
    suppress: bool = True,
    threshold: int = 5,
    codebook: Codebook | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The summary of ``period`` for the team ``team_code``, or the whole förbund (None).

    ``suppress`` (the default) hides small counts with ``threshold`` (at least 3, else
    ValueError); raw figures are for the team's own use only. ``codebook`` gives the themes
    (default: the default codebook); ``progress`` is called after each step. Raises
    :class:`core.errors.NotFound` for an unknown team code.
    """
    codebook = codebook or default_codebook()
    steps = _Steps(db, progress)
    scope = await steps.run("team", lambda conn: load_scope(conn, team_code))
    current = await _period_figures(steps, scope, period, codebook)
    current["survey"]["quotes"] = await steps.run(
        "citat", lambda conn: representative_quotes(conn, scope, period, codebook)
    )
    trend = await steps.run("trend", lambda conn: trend_figures(conn, scope, period))
    previous = await _previous(steps, scope, period, codebook)
    year = period.last_day.year
    finsam = await steps.run("uppföljning finsam", lambda conn: finsam_figures(conn, scope, year))
    summary = {
        "schema": SCHEMA,
        "team": scope.team.code if scope.team else None,
        "period": period.as_json(),
        "suppression": {"threshold": None, "suppressed": []},
        **current,
        "trend": trend,
        "previous": previous,
        "finsam": finsam,
        "generated_at": datetime.now(UTC).astimezone(SWEDEN).isoformat(timespec="seconds"),
        "team_name": scope.name,
    }
    summary["goals"] = measure_goals(scope.team.goals if scope.team else (), summary)
    steps.finish()
    return suppress_small_counts(summary, threshold=threshold) if suppress else summary


async def _period_figures(
    steps: _Steps, scope: Scope, period: Period, codebook: Codebook, label: str = ""
) -> dict[str, Any]:
    """The participants, outcomes, referrals and survey parts of one period.

    ``label`` goes before each step's name in the progress report ("föregående period: ").
    """
    run = steps.run
    outcomes = await run(f"{label}avslut", lambda conn: outcome_figures(conn, scope, period))
    outcomes["after"] = await run(
        f"{label}efter avslut", lambda conn: after_figures(conn, scope, period)
    )
    return {
        "participants": await run(
            f"{label}deltagare", lambda conn: participant_figures(conn, scope, period)
        ),
        "outcomes": outcomes,
        "referrals": await run(
            f"{label}remisser", lambda conn: referral_figures(conn, scope, period)
        ),
        "survey": await run(
            f"{label}enkät", lambda conn: survey_figures(conn, scope, period, codebook)
        ),
    }


async def _previous(
    steps: _Steps, scope: Scope, period: Period, codebook: Codebook
) -> dict[str, Any] | None:
    """The previous period of the same length; None when the records begin after it."""
    before = period.previous()
    if not await steps.run("historik", lambda conn: _has_records_by(conn, scope, before)):
        return None
    figures = await _period_figures(steps, scope, before, codebook, "föregående period: ")
    figures["survey"]["quotes"] = []
    return {"period": before.as_json(), **figures}


async def _has_records_by(conn: AsyncConnection, scope: Scope, period: Period) -> bool:
    """True when some referral of the scope was received or started by the period's end."""
    by_end = or_(Referral.received_date <= period.last_day, Referral.start_date <= period.last_day)
    found = await conn.scalar(
        select(exists().where(by_end, not_a_mistake(), scope.covers(Referral.team_id)))
    )
    return bool(found)


def render_summary(
    summary: Mapping[str, Any], fmt: str, charts: Mapping[str, bytes] | None = None
) -> bytes:
    """The summary as a ``json``, ``md``, ``docx`` or ``xlsx`` file.

    JSON and Markdown are UTF-8 text. Word gets the charts (drawn now when ``charts`` is None).
    The renderers are imported when needed: Word and Excel take a moment to load.
    """
    if fmt == "json":
        return (json.dumps(summary, ensure_ascii=False, indent=2) + "\n").encode()
    if fmt == "md":
        from reports.render_md import render_markdown

        return render_markdown(summary).encode()
    if fmt == "docx":
        from reports.charts import render_charts
        from reports.render_docx import render_docx

        return render_docx(summary, render_charts(summary) if charts is None else charts)
    if fmt == "xlsx":
        from reports.render_xlsx import render_xlsx

        return render_xlsx(summary)
    raise ValueError(f"unknown format: {fmt}")
