"""Reading the team's summaries as operations: each export and each answer review is audited.

The figures themselves come from :mod:`reports` (read-only); what a person does with them —
downloading a report, reading free-text answers in the theme review — is written to the audit
log with ids and codes only.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.access import Staff
from core.themes import Codebook
from reports.periods import Period
from reports.scope import load_scope
from reports.theme_review import ReviewAnswer, answers_for_review
from storage import audit
from storage.db import Database


async def record_summary_export(
    db: Database, staff: Staff, *, team: str | None, period: Period, fmt: str, raw: bool
) -> None:
    """Audit that ``staff`` downloaded the summary of ``period`` (one team or all) as ``fmt``."""
    async with db.transaction() as session:
        scope = await load_scope(await session.connection(), team)
        await audit.record(
            session,
            "summary.exported",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="summary",
            team_id=scope.team.id if scope.team else None,
            detail={"format": fmt, "team": team, **period.as_json(), "suppressed": not raw},
        )


@dataclass(frozen=True)
class AnswersToReview:
    """A page of free-text answers for the theme review, and how many there are in all."""

    answers: list[ReviewAnswer]
    total: int


async def review_answers(
    db: Database,
    staff: Staff,
    *,
    team: str | None,
    period: Period,
    codebook: Codebook,
    unthemed_only: bool,
    page: int,
) -> AnswersToReview:
    """One page of answers to review; the answers shown are audited as viewed by ``staff``."""
    async with db.engine.connect() as conn:
        scope = await load_scope(conn, team)
        answers, total = await answers_for_review(
            conn, scope, period, codebook, unthemed_only=unthemed_only, page=page
        )
    async with db.transaction() as session:
        await audit.record(
            session,
            "survey.answers_viewed",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="answer",
            team_id=scope.team.id if scope.team else None,
            detail={"answers": [a.answer_id for a in answers]},
        )
    return AnswersToReview(list(answers), total)
