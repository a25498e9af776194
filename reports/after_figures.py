"""Outcomes after ending and the national head count (DOMAIN.md, "Outcomes after ending").

Since 2023 *Uppföljning Finsam* keeps only head counts by gender, so the team keeps the rest:
income source after ending by the one at start (a transition between report groups), occupation
after ending in SUS's four groups, time in the service in bands, and the share of participants
active in the period who took at least one step forward on the team's ladder. All are counts of
participations ended (or active) in the period; ``felregistrering`` is left out as everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.codes import GENDERS, INCOME_GROUPS, PROGRESS_STEPS, income_group
from reports.figures import DAYS_PER_MONTH, ended_in, throughput_days
from reports.periods import Period
from reports.scope import Scope, not_a_mistake
from reports.sql import as_int, year
from storage.models import Consent, Participant, ProgressStep, Referral, Team

#: Occupation after ending (SUS's four groups), from the end reason; all other reasons: ovrigt.
OCCUPATION_GROUPS = ("arbete", "studier", "arbetssokande", "ovrigt")
#: Time in the service: band key and its upper bound in months (None: no bound).
MONTH_BANDS: tuple[tuple[str, float | None], ...] = (
    ("under_3", 3),
    ("3_6", 6),
    ("6_12", 12),
    ("12_24", 24),
    ("24_plus", None),
)
#: After-ending key for participations whose income after ending was not recorded.
NOT_RECORDED = "saknas"
_LADDER = {code: n for n, code in enumerate(PROGRESS_STEPS)}


async def after_figures(conn: AsyncConnection, scope: Scope, period: Period) -> dict[str, Any]:
    """The ``outcomes.after`` part: transition, occupation, months in service and steps."""
    query = select(
        Referral.income_source,
        Referral.income_source_after,
        Referral.end_reason,
        throughput_days().label("days"),
    ).where(ended_in(period), not_a_mistake(), scope.covers(Referral.team_id))
    transition = {g: dict.fromkeys((*INCOME_GROUPS, NOT_RECORDED), 0) for g in INCOME_GROUPS}
    occupation = dict.fromkeys(OCCUPATION_GROUPS, 0)
    bands = dict.fromkeys((key for key, _ in MONTH_BANDS), 0)
    for row in (await conn.execute(query)).mappings():
        after = row["income_source_after"]
        transition[income_group(row["income_source"])][
            income_group(after) if after else NOT_RECORDED
        ] += 1
        reason = row["end_reason"]
        occupation[reason if reason in OCCUPATION_GROUPS else "ovrigt"] += 1
        bands[month_band(as_int(row["days"]) / DAYS_PER_MONTH)] += 1
    return {
        "income_transition": transition,
        "occupation_after": occupation,
        "months_in_service": bands,
        "steps": await step_figures(conn, scope, period),
    }


def month_band(months: float) -> str:
    """The band of a time in the service: ``under_3``, ``3_6``, … ``24_plus``."""
    return next(key for key, bound in MONTH_BANDS if bound is None or months < bound)


def _active_in(period: Period) -> Any:
    """Started by the period's end and not ended before it began."""
    return and_(
        Referral.start_date <= period.last_day,
        Referral.end_date.is_(None) | (Referral.end_date >= period.first_day),
    )


async def step_figures(conn: AsyncConnection, scope: Scope, period: Period) -> dict[str, Any]:
    """How many active in the period took a step forward on the ladder, and their share."""
    active = and_(_active_in(period), not_a_mistake(), scope.covers(Referral.team_id))
    total = as_int(await conn.scalar(select(func.count()).select_from(Referral).where(active)))
    rows = await conn.execute(
        select(ProgressStep.referral_id, ProgressStep.recorded_on, ProgressStep.step)
        .join(Referral, Referral.id == ProgressStep.referral_id)
        .where(active, ProgressStep.recorded_on <= period.last_day)
        .order_by(ProgressStep.referral_id, ProgressStep.recorded_on, ProgressStep.id)
    )
    forward = _with_step_forward(rows.all(), period.first_day)
    return {"with_step_forward": forward, "share": forward / total if total else None}


def _with_step_forward(rows: Iterable[Any], first_day: date) -> int:
    """Participations with a step in the period higher on the ladder than the one before it."""
    moved: set[int] = set()
    last: dict[int, int] = {}
    for referral_id, recorded_on, step in rows:
        rung = _LADDER.get(step)
        if rung is None:
            continue
        before = last.get(referral_id)
        if recorded_on >= first_day and before is not None and rung > before:
            moved.add(referral_id)
        last[referral_id] = rung
    return len(moved)


async def finsam_figures(conn: AsyncConnection, scope: Scope, year_of: int) -> dict[str, Any]:
    """The *Uppföljning Finsam* head count: participants per team (insats) by gender in a year.

    Everyone in an insats during the calendar year counts, with or without consent to follow-up;
    ``without_consent`` gives those without it by start year and gender, as the national
    system asks for them.
    """
    year_span = Period(date(year_of, 1, 1), date(year_of, 12, 31))
    consented = Participant.follow_up_consent | exists().where(
        Consent.participant_id == Referral.participant_id,
        Consent.kind == "follow_up",
        Consent.withdrawn_at.is_(None),
    )
    query = (
        select(
            Team.code,
            Participant.gender,
            year(Referral.start_date).label("start_year"),
            consented.label("consented"),
            func.count().label("n"),
        )
        .join(Participant, Participant.id == Referral.participant_id)
        .join(Team, Team.id == Referral.team_id)
        .where(_active_in(year_span), not_a_mistake(), scope.covers(Referral.team_id))
        .group_by(Team.code, Participant.gender, year(Referral.start_date), consented)
    )
    by_team: dict[str, dict[str, int]] = {}
    without: dict[str, dict[str, dict[str, int]]] = {}
    for row in (await conn.execute(query)).mappings():
        gender = row["gender"] if row["gender"] in GENDERS else "annat"
        count = as_int(row["n"])
        by_team.setdefault(row["code"], dict.fromkeys(GENDERS, 0))[gender] += count
        if not row["consented"]:
            years = without.setdefault(row["code"], {})
            years.setdefault(str(as_int(row["start_year"])), dict.fromkeys(GENDERS, 0))[gender] += (
                count
            )
    return {"year": year_of, "by_team": by_team, "without_consent": without}
