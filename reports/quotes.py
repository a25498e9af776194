"""A few representative quotes per theme, from participants who allowed quoting.

Only answers to "what has been most useful" of responses with ``quote_allowed`` count. For each
theme the newest :data:`CANDIDATES_PER_THEME` answers are read (only those are decrypted);
answers about that theme alone come first, then those of a readable length. Every quote is
redacted again here — names (the participant's and the staff's too), personnummer, phone
numbers and e-mail addresses are removed — whatever was done when the answer was stored.
A text is quoted once, however many gave it. A quote in another language than Swedish carries
its ``language`` and the Swedish ``gloss`` staff wrote in the theme review (redacted too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.redact import redact
from core.themes import Codebook
from reports.periods import Period
from reports.scope import Scope
from reports.survey_figures import completed_in, effective_theme, free_text_answered
from storage.models import Answer, AnswerTheme, Participant, Response, StaffUser

QUOTES_PER_THEME = 2
CANDIDATES_PER_THEME = 8
#: How many of the period's newest quotable answers the candidates are chosen from.
CANDIDATE_POOL = 2000
#: Quotes shorter or longer than this (in characters, after redaction) come last.
READABLE_LENGTH = (25, 280)


@dataclass(frozen=True)
class _Candidate:
    """A quotable answer: its redacted text and its themes in codebook order."""

    answer_id: int
    text: str
    themes: tuple[str, ...]
    language: str = "sv"
    gloss: str = ""

    def rank(self) -> tuple[int, int, int]:
        """Sort key: fewer themes first, then readable length, then newest (highest id)."""
        low, high = READABLE_LENGTH
        return (len(self.themes), 0 if low <= len(self.text) <= high else 1, -self.answer_id)


async def representative_quotes(
    conn: AsyncConnection, scope: Scope, period: Period, codebook: Codebook
) -> list[dict[str, Any]]:
    """Up to :data:`QUOTES_PER_THEME` quotes per theme: ``[{"themes": [...], "text": ...}]``."""
    themes_of = await _candidate_themes(conn, scope, period, codebook)
    if not themes_of:
        return []
    candidates = await _redacted(conn, scope, themes_of)
    quotes: list[dict[str, Any]] = []
    used: set[str] = set()
    for theme in codebook.codes:
        about = sorted((c for c in candidates if theme in c.themes), key=_Candidate.rank)
        taken = 0
        for candidate in about:  # the same text twice in one theme is quoted once too
            if taken == QUOTES_PER_THEME:
                break
            if _same(candidate.text) not in used:
                used.add(_same(candidate.text))
                quotes.append(_quote(candidate))
                taken += 1
    return quotes


def _same(text: str) -> str:
    """What two texts that are the same quote have in common (case and punctuation aside)."""
    return "".join(c for c in text.casefold() if c.isalnum())


def _quote(candidate: _Candidate) -> dict[str, Any]:
    """The quote as in the summary JSON; language and gloss only for another language."""
    quote: dict[str, Any] = {"themes": list(candidate.themes), "text": candidate.text}
    if candidate.language != "sv":
        quote |= {"language": candidate.language, "gloss": candidate.gloss}
    return quote


async def _candidate_themes(
    conn: AsyncConnection, scope: Scope, period: Period, codebook: Codebook
) -> dict[int, tuple[str, ...]]:
    """The newest quotable answers per theme, each with all its themes (codebook order).

    Candidates come from the newest :data:`CANDIDATE_POOL` quotable answers of the period, so
    the work stays small however many answers there are.
    """
    pool = (
        select(Answer.id)
        .join(Response, Response.id == Answer.response_id)
        .where(completed_in(scope, period), Response.quote_allowed.is_(True), free_text_answered())
        .order_by(Response.completed_at.desc(), Answer.id.desc())
        .limit(CANDIDATE_POOL)
    )
    rows = await conn.execute(
        select(AnswerTheme.answer_id, AnswerTheme.theme)
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .where(AnswerTheme.answer_id.in_(pool.scalar_subquery()), effective_theme())
        .order_by(AnswerTheme.answer_id.desc())
    )
    order = {code: n for n, code in enumerate(codebook.codes)}
    themes_of: dict[int, list[str]] = {}
    for answer_id, theme in rows.all():
        if theme in order:
            themes_of.setdefault(answer_id, []).append(theme)
    chosen: set[int] = set()
    for code in codebook.codes:
        about = [a for a, themes in themes_of.items() if code in themes]
        chosen.update(about[:CANDIDATES_PER_THEME])
    return {a: tuple(sorted(themes_of[a], key=order.__getitem__)) for a in chosen}


async def _redacted(
    conn: AsyncConnection, scope: Scope, themes_of: Mapping[int, tuple[str, ...]]
) -> list[_Candidate]:
    """The candidates' texts, redacted with the participant's and the staff's names."""
    staff_names = await _staff_names(conn, scope)
    rows = await conn.execute(
        select(Answer.id, Answer.text, Participant.name, Response.language, Answer.gloss_sv)
        .join(Response, Response.id == Answer.response_id)
        .join(Participant, Participant.id == Response.participant_id)
        .where(Answer.id.in_(list(themes_of)))
    )
    candidates = []
    for answer_id, text, name, language, gloss in rows.all():
        names = _names(name, staff_names)
        cleaned = _clean(redact(text or "", known_names=names).text)
        glossed = _clean(redact(gloss or "", known_names=names).text)
        if cleaned:
            candidate = _Candidate(
                answer_id, cleaned, themes_of[answer_id], language or "sv", glossed
            )
            candidates.append(candidate)
    return candidates


async def _staff_names(conn: AsyncConnection, scope: Scope) -> list[str]:
    """Display names of the staff of the scope's teams (they must not appear in quotes)."""
    query = select(StaffUser.display_name).where(StaffUser.display_name != "")
    if scope.team is not None:
        query = query.where(StaffUser.team_id == scope.team.id)
    return [name for name in (await conn.scalars(query)).all() if name]


def _names(participant_name: str | None, staff_names: Sequence[str]) -> Iterable[str]:
    """The names to remove from one participant's answer."""
    return [*staff_names, participant_name] if participant_name else staff_names


def _clean(text: str) -> str:
    """The text on one line with single spaces."""
    return " ".join(text.split())
