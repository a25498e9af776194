"""Reviewing the themes of free-text answers: the answers to look at (read only).

The automatic coding (:func:`core.themes.code_text`) is a first guess. Staff review the answers
of a period — above all those that matched no theme — and correct an answer's themes
(:func:`services.themes.correct_theme`); from then on only the staff's rows count for that
answer. An answer in another language than Swedish shows its language, and staff may write a
Swedish gloss for it (:func:`services.themes.set_quote_gloss`) that reports show beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import local_date, utcnow
from core.themes import Codebook
from reports.periods import Period
from reports.scope import Scope
from reports.survey_figures import (
    completed_in,
    effective_theme,
    free_text_answered,
    unthemed,
)
from storage.models import Answer, AnswerTheme, Response, Team

#: Answers shown on one review page.
PAGE_SIZE = 50


@dataclass(frozen=True)
class ReviewAnswer:
    """A free-text answer as staff review it: its text and the themes that count now."""

    answer_id: int
    team_code: str
    completed_on: date
    text: str
    themes: tuple[str, ...]
    corrected: bool
    language: str = "sv"
    gloss: str = ""


async def answers_for_review(
    conn: AsyncConnection,
    scope: Scope,
    period: Period,
    codebook: Codebook,
    *,
    unthemed_only: bool,
    page: int = 0,
) -> tuple[list[ReviewAnswer], int]:
    """One page of the period's answers to "what has been most useful", newest first, and
    how many there are in all; only those without a theme when ``unthemed_only``."""
    conditions = [completed_in(scope, period), free_text_answered()]
    if unthemed_only:
        conditions.append(unthemed())
    total = await conn.scalar(
        select(func.count()).select_from(Answer).join(Response).where(*conditions)
    )
    rows = await conn.execute(
        select(
            Answer.id,
            Team.code,
            Response.completed_at,
            Answer.text,
            Answer.themes_corrected_at,
            Response.language,
            Answer.gloss_sv,
        )
        .join(Response, Response.id == Answer.response_id)
        .join(Team, Team.id == Response.team_id)
        .where(*conditions)
        .order_by(Response.completed_at.desc(), Answer.id.desc())
        .limit(PAGE_SIZE)
        .offset(page * PAGE_SIZE)
    )
    found = rows.all()
    themes = await _themes_of(conn, [row[0] for row in found], codebook)
    answers = [
        ReviewAnswer(
            answer_id,
            team,
            local_date(done or utcnow()),
            text or "",
            themes.get(answer_id, ()),
            bool(fixed),
            language or "sv",
            gloss or "",
        )
        for answer_id, team, done, text, fixed, language, gloss in found
    ]
    return answers, int(total or 0)


async def _themes_of(
    conn: AsyncConnection, answer_ids: Sequence[int], codebook: Codebook
) -> dict[int, tuple[str, ...]]:
    """The themes that count for each answer, in codebook order."""
    if not answer_ids:
        return {}
    rows = await conn.execute(
        select(AnswerTheme.answer_id, AnswerTheme.theme)
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .where(AnswerTheme.answer_id.in_(answer_ids), effective_theme())
    )
    order = {code: n for n, code in enumerate(codebook.codes)}
    found: dict[int, list[str]] = {}
    for answer_id, theme in rows.all():
        found.setdefault(answer_id, []).append(theme)
    return {
        answer_id: tuple(sorted(themes, key=lambda t: order.get(t, len(order))))
        for answer_id, themes in found.items()
    }
