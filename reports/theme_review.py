"""Reviewing the themes of free-text answers: the answers to look at, and staff corrections.

The automatic coding (:func:`core.themes.code_text`) is a first guess. Staff review the answers
of a period — above all those that matched no theme — and correct an answer's themes; the
correction is stored as ``AnswerTheme`` rows with ``source='staff'`` and the answer's
``themes_corrected_at``, and from then on only the staff's rows count for that answer, also
when the automatic coding runs again (it replaces only its own rows). A correction to "no
theme" is kept the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.clock import local_date, utcnow
from core.errors import DomainError, NotFound
from core.i18n import N_
from core.surveys import Q_USEFUL
from core.themes import Codebook
from reports.periods import Period
from reports.scope import Scope
from reports.survey_figures import (
    STAFF,
    completed_in,
    effective_theme,
    free_text_answered,
    unthemed,
)
from storage import audit
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
        select(Answer.id, Team.code, Response.completed_at, Answer.text, Answer.themes_corrected_at)
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
        )  # fmt: skip
        for answer_id, team, done, text, fixed in found
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


async def correct_themes(
    session: AsyncSession,
    answer_id: int,
    themes: Collection[str],
    *,
    codebook: Codebook,
    user_id: int,
    team_ids: Collection[int] | None,
) -> None:
    """Set an answer's themes as staff decided (none is a decision too), and audit it.

    ``team_ids`` are the teams the member of staff may see (None: all); an answer of another
    team, or one that is not to "what has been most useful", is NotFound. A theme not in the
    codebook is a DomainError.
    """
    unknown = sorted(set(themes) - set(codebook.codes))
    if unknown:
        raise DomainError(N_("Okänt tema: {theme}."), field="themes", theme=unknown[0])
    answer = await session.get(Answer, answer_id)
    team_id = await session.scalar(
        select(Response.team_id)
        .join(Answer, Answer.response_id == Response.id)
        .where(Answer.id == answer_id)
    )
    visible = team_id is not None and (team_ids is None or team_id in team_ids)
    if answer is None or answer.question_id != Q_USEFUL or not visible:
        raise NotFound(N_("Svaret finns inte."))
    await session.execute(
        delete(AnswerTheme).where(AnswerTheme.answer_id == answer_id, AnswerTheme.source == STAFF)
    )
    chosen = [code for code in codebook.codes if code in themes]
    session.add_all(AnswerTheme(answer_id=answer_id, theme=code, source=STAFF) for code in chosen)
    answer.themes_corrected_at, answer.themes_corrected_by = utcnow(), user_id
    await audit.record(
        session, "answer.themes_corrected", actor=f"user:{user_id}", user_id=user_id,
        object_type="answer", object_id=answer_id, team_id=team_id, detail={"themes": chosen},
    )  # fmt: skip
