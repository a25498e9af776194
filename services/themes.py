"""Theme review operations: staff correct an answer's themes and gloss a quote in Swedish.

Each is one transaction: the answer must be to "what has been most useful" and of a team the
member of staff sees (else NotFound), the write, and an audit entry with ids and codes only
(never the answer's text or the gloss).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.clock import utcnow
from core.errors import DomainError, NotFound
from core.i18n import N_
from core.redact import redact
from core.surveys import Q_USEFUL
from core.themes import Codebook
from reports.survey_figures import STAFF
from storage import audit
from storage.db import Database
from storage.models import Answer, AnswerTheme, Response

#: The longest Swedish gloss of a quote, in characters.
MAX_GLOSS = 1000


async def correct_theme(
    db: Database, staff: Staff, answer_id: int, themes: Collection[str], *, codebook: Codebook
) -> None:
    """Set an answer's themes as staff decided (none is a decision too), and audit it.

    A theme not in the codebook is a DomainError; an answer the member of staff may not see,
    or one that is not to "what has been most useful", is NotFound.
    """
    unknown = sorted(set(themes) - set(codebook.codes))
    if unknown:
        raise DomainError(N_("Okänt tema: {theme}."), field="themes", theme=unknown[0])
    async with db.transaction() as session:
        answer, team_id = await _visible_answer(session, staff, answer_id)
        await session.execute(
            delete(AnswerTheme).where(
                AnswerTheme.answer_id == answer_id, AnswerTheme.source == STAFF
            )
        )
        chosen = [code for code in codebook.codes if code in themes]
        session.add_all(
            AnswerTheme(answer_id=answer_id, theme=code, source=STAFF) for code in chosen
        )
        answer.themes_corrected_at, answer.themes_corrected_by = utcnow(), staff.user_id
        await audit.record(
            session,
            "answer.themes_corrected",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="answer",
            object_id=answer_id,
            team_id=team_id,
            detail={"themes": chosen},
        )


async def set_quote_gloss(db: Database, staff: Staff, answer_id: int, gloss: str) -> None:
    """Store (or, when empty, remove) the Swedish gloss of a quote, redacted, and audit it."""
    text = " ".join(gloss.split())
    if len(text) > MAX_GLOSS:
        raise DomainError(
            N_("Översättningen får vara högst {limit} tecken."), field="gloss", limit=MAX_GLOSS
        )
    async with db.transaction() as session:
        answer, team_id = await _visible_answer(session, staff, answer_id)
        answer.gloss_sv = redact(text).text if text else None
        await audit.record(
            session,
            "answer.gloss_set",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="answer",
            object_id=answer_id,
            team_id=team_id,
            detail={"removed": not text},
        )


async def _visible_answer(
    session: AsyncSession, staff: Staff, answer_id: int
) -> tuple[Answer, int]:
    """The answer to "what has been most useful" and its team; NotFound when not visible."""
    answer = await session.get(Answer, answer_id)
    team_id = await session.scalar(
        select(Response.team_id)
        .join(Answer, Answer.response_id == Response.id)
        .where(Answer.id == answer_id)
    )
    if answer is None or team_id is None or answer.question_id != Q_USEFUL:
        raise NotFound(N_("Svaret finns inte."))
    if not staff.sees(team_id):
        raise NotFound(N_("Svaret finns inte."))
    return answer, team_id
