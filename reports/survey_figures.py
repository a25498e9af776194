"""The survey figures of a period: response rate, themes, closer to work, health, activities.

Survey figures count responses *completed* in the period; ``invited`` counts the participants
invited in it (distinct: a new invitation replaces an unanswered one, and must not count twice). A participant whose only referral was ended as *felregistrering* is left out.
Free-text themes follow the staff: once an answer's themes have been corrected (a row with
``source='staff'``, or ``themes_corrected_at`` set for a correction to "no theme"), only the
staff's rows count for it.

Choice answers are JSON; they are grouped in the database by their JSON text, which gives one
row per distinct answer (for the several-choice question, per combination of options), and
only those few groups are decoded in Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    outerjoin,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from core.codes import MISTAKE_REASON
from core.surveys import (
    CLOSER_OPTIONS,
    CLOSER_TO_WORK,
    GOOD_HEALTH,
    HEALTH_OPTIONS,
    Q_ACTIVITIES,
    Q_CLOSER,
    Q_HEALTH,
    Q_USEFUL,
)
from core.themes import Codebook
from reports.format import DEFAULT_ACTIVITY_LABELS
from reports.periods import Period
from reports.scope import Scope, not_a_mistake
from reports.sql import as_int
from storage.models import (
    Answer,
    AnswerTheme,
    Invitation,
    Referral,
    Response,
    SurveyVersion,
)

STAFF = "staff"


def counted_participant(participant_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """Not a participant whose only referrals were ended as *felregistrering*."""
    mistaken = select(Referral.participant_id).where(Referral.end_reason == MISTAKE_REASON)
    genuine = select(Referral.participant_id).where(not_a_mistake())
    return participant_id.not_in(mistaken.except_(genuine))


def completed_in(scope: Scope, period: Period) -> ColumnElement[bool]:
    """Responses completed in the period, of the scope's teams, from counted participants."""
    start, end = period.utc_bounds()
    return and_(
        Response.completed_at >= start,
        Response.completed_at < end,
        scope.covers(Response.team_id),
        counted_participant(Response.participant_id),
    )


def effective_theme() -> ColumnElement[bool]:
    """An ``AnswerTheme`` row that counts: staff rows, or automatic ones never corrected."""
    staff_row = aliased(AnswerTheme)
    has_staff_rows = (
        exists()
        .where(staff_row.answer_id == Answer.id, staff_row.source == STAFF)
        .correlate(Answer)
    )
    corrected = Answer.themes_corrected_at.is_not(None) | has_staff_rows
    return (AnswerTheme.source == STAFF) | ~corrected


def free_text_answered() -> ColumnElement[bool]:
    """An answer to "what has been most useful" with text in it."""
    return and_(Answer.question_id == Q_USEFUL, ~Answer.skipped, Answer.text.is_not(None))


def unthemed() -> ColumnElement[bool]:
    """The answer has no theme that counts."""
    return ~exists().where(AnswerTheme.answer_id == Answer.id, effective_theme())


@dataclass
class _AnswerCounts:
    """What one pass over the period's answers gives: choices, themes and unthemed texts."""

    choices: dict[str, dict[str, int]] = field(default_factory=dict)
    themes: dict[str, int] = field(default_factory=dict)
    unthemed: int = 0

    def add(
        self, question: str, value: str | None, theme: str | None, rows: int, texts: int
    ) -> None:
        """Count one group of the pass: answers to ``question`` with ``value`` and ``theme``."""
        if question == Q_USEFUL:
            if theme is None:
                self.unthemed += texts
            else:
                self.themes[theme] = self.themes.get(theme, 0) + texts
            return
        chosen = self.choices.setdefault(question, {})
        for code in _codes(value):
            chosen[code] = chosen.get(code, 0) + rows


async def survey_figures(
    conn: AsyncConnection, scope: Scope, period: Period, codebook: Codebook
) -> dict[str, Any]:
    """The ``survey`` part, without quotes (see :mod:`reports.quotes`)."""
    start, end = period.utc_bounds()
    invited = as_int(
        await conn.scalar(
            select(func.count(distinct(Invitation.participant_id)))
            .where(Invitation.created_at >= start, Invitation.created_at < end)
            .where(scope.covers(Invitation.team_id), counted_participant(Invitation.participant_id))
        )
    )
    by_version = await _responses_by_version(conn, scope, period)
    responses = sum(by_version.values())
    counts = await _answer_counts(conn, scope, period)
    return {
        "invited": invited,
        "responses": responses,
        "response_rate": responses / invited if invited else None,
        "themes": {code: counts.themes.get(code, 0) for code in codebook.codes},
        "themes_labels": {code: codebook.label(code) for code in codebook.codes},
        "unthemed": counts.unthemed,
        "closer_to_work": _scale(
            counts.choices.get(Q_CLOSER, {}), CLOSER_OPTIONS, CLOSER_TO_WORK, ("closer", "share")
        ),
        "health": _scale(
            counts.choices.get(Q_HEALTH, {}), HEALTH_OPTIONS, GOOD_HEALTH, ("good", "share_good")
        ),
        "activities": _activities(counts.choices.get(Q_ACTIVITIES, {})),
        "activities_labels": await _activity_labels(conn, list(by_version)),
    }


async def _responses_by_version(
    conn: AsyncConnection, scope: Scope, period: Period
) -> dict[int, int]:
    """How many responses were completed in the period, per survey version answered."""
    query = (
        select(Response.survey_version_id, func.count())
        .where(completed_in(scope, period))
        .group_by(Response.survey_version_id)
    )
    return {version: as_int(n) for version, n in (await conn.execute(query)).all()}


async def _answer_counts(conn: AsyncConnection, scope: Scope, period: Period) -> _AnswerCounts:
    """Choices, themes and unthemed texts of the period's answers, in one pass over them.

    The free-text answers are joined to the theme rows that count (none: the theme is NULL), so
    grouping by question, JSON value and theme gives every count at once.
    """
    value = cast(Answer.value, String).label("value")
    theme = outerjoin(
        Answer,
        AnswerTheme,
        and_(AnswerTheme.answer_id == Answer.id, Answer.question_id == Q_USEFUL, effective_theme()),
    )
    query = (
        select(
            Answer.question_id,
            value,
            AnswerTheme.theme,
            func.count().label("rows"),
            func.coalesce(func.sum(case((Answer.text.is_not(None), 1), else_=0)), 0).label("texts"),
        )
        .select_from(theme)
        .join(Response, Response.id == Answer.response_id)
        .where(completed_in(scope, period), ~Answer.skipped)
        .where(Answer.question_id.in_((Q_ACTIVITIES, Q_CLOSER, Q_HEALTH, Q_USEFUL)))
        .group_by(Answer.question_id, value, AnswerTheme.theme)
    )
    counts = _AnswerCounts()
    for row in (await conn.execute(query)).all():
        counts.add(row.question_id, row.value, row.theme, as_int(row.rows), as_int(row.texts))
    return counts


def _codes(stored: str | None) -> list[str]:
    """The option codes in a stored JSON answer: one for a single choice, several for many."""
    value = json.loads(stored) if stored else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return list(dict.fromkeys(v for v in value if isinstance(v, str)))
    return []


def _scale(
    counts: Mapping[str, int], options: Iterable[str], good: Iterable[str], names: tuple[str, str]
) -> dict[str, Any]:
    """Respondents, how many chose a good answer (``names``: its key and its share's key),
    that share, and every option's count."""
    by_answer = {option: counts.get(option, 0) for option in options}
    respondents = sum(by_answer.values())
    positive = sum(by_answer[option] for option in good)
    count_key, share_key = names
    return {
        "respondents": respondents,
        count_key: positive,
        share_key: positive / respondents if respondents else None,
        "by_answer": by_answer,
    }


def _activities(counts: Mapping[str, int]) -> dict[str, int]:
    """How many chose each activity: the default options first, then any a team added."""
    known = {code: counts.get(code, 0) for code in DEFAULT_ACTIVITY_LABELS}
    return known | {code: n for code, n in sorted(counts.items()) if code not in known}


async def _activity_labels(conn: AsyncConnection, versions: list[int]) -> dict[str, str]:
    """Swedish labels of the activity options, from the survey versions answered."""
    labels = dict(DEFAULT_ACTIVITY_LABELS)
    if versions:
        query = select(SurveyVersion.definition).where(SurveyVersion.id.in_(versions))
        for definition in (await conn.scalars(query)).all():
            labels |= _option_labels(definition, Q_ACTIVITIES)
    return labels


def _option_labels(definition: object, question_id: str) -> dict[str, str]:
    """``{option code: Swedish text}`` of one question in a stored survey definition."""
    questions = definition.get("questions") if isinstance(definition, Mapping) else None
    for question in questions if isinstance(questions, list) else []:
        if isinstance(question, Mapping) and question.get("id") == question_id:
            options = question.get("options")
            return {
                str(o["code"]): str(o["text"]["sv"])
                for o in (options if isinstance(options, list) else [])
                if isinstance(o, Mapping)
                and isinstance(o.get("text"), Mapping)
                and "sv" in o["text"]
                and "code" in o
            }
    return {}
