"""Whose records a summary counts: one team, or every team of the förbund.

Each team brings the settings that the definitions depend on (DOMAIN.md): its trial period
(*prövotid*) for dropouts, its result reasons, and its goals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from core.codes import DEFAULT_RESULT_REASONS, MISTAKE_REASON
from core.errors import NotFound
from core.i18n import N_
from storage.models import Referral, Team


@dataclass(frozen=True)
class TeamSettings:
    """A team's code, name and the settings its figures are computed with."""

    id: int
    code: str
    name: str
    forbund: str
    trial_months: int
    result_reasons: frozenset[str]
    goals: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Scope:
    """The teams a summary covers; ``team`` is None for the whole förbund."""

    teams: Mapping[int, TeamSettings]
    team: TeamSettings | None

    @property
    def name(self) -> str:
        """The team's name, or the förbund's for the whole förbund."""
        if self.team is not None:
            return self.team.name
        forbund = sorted({t.forbund for t in self.teams.values() if t.forbund})
        return forbund[0] if len(forbund) == 1 else "Alla team"

    def covers(self, team_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
        """A condition on a ``team_id`` column: the row belongs to this scope."""
        return true() if self.team is None else team_id == self.team.id

    def result_reasons(self, team_id: int) -> frozenset[str]:
        """The end reasons that count as a result for ``team_id``."""
        settings = self.teams.get(team_id)
        return settings.result_reasons if settings else frozenset(DEFAULT_RESULT_REASONS)


def not_a_mistake() -> ColumnElement[bool]:
    """Referrals not ended as *felregistrering*: the only ones that count anywhere."""
    return Referral.end_reason.is_(None) | (Referral.end_reason != MISTAKE_REASON)


async def load_scope(conn: AsyncConnection, team_code: str | None) -> Scope:
    """The scope for ``team_code`` (None: the whole förbund); NotFound for an unknown code."""
    rows = (await conn.execute(select(Team))).mappings().all()
    teams = {row["id"]: _settings(dict(row)) for row in rows}
    if team_code is None:
        return Scope(teams, None)
    chosen = next((t for t in teams.values() if t.code == team_code), None)
    if chosen is None:
        raise NotFound(N_("Det finns inget team med koden {code}."), field="team", code=team_code)
    return Scope(teams, chosen)


def _settings(row: Mapping[str, Any]) -> TeamSettings:
    """A team row as settings, with defaults for settings that are missing."""
    reasons = row["result_reasons"]
    goals = row["goals"]
    return TeamSettings(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        forbund=row["forbund"] or "",
        trial_months=row["trial_months"] or 3,
        result_reasons=frozenset(reasons if _is_list(reasons) else DEFAULT_RESULT_REASONS),
        goals=tuple(g for g in goals if isinstance(g, Mapping)) if _is_list(goals) else (),
    )


def _is_list(value: object) -> bool:
    """True for a JSON list."""
    return isinstance(value, Sequence) and not isinstance(value, str)
