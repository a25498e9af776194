"""Who acts on records, and what they may see: a member of staff limited to their teams."""

from __future__ import annotations

from dataclasses import dataclass

#: Roles from least to most: staff (coaches, agency representatives), coordinator, admin.
ROLE_RANK = {"staff": 0, "coordinator": 1, "admin": 2}


@dataclass(frozen=True)
class Staff:
    """A member of staff acting on records: ``team_ids`` None means every team (admin)."""

    user_id: int
    role: str
    team_ids: frozenset[int] | None

    @property
    def actor(self) -> str:
        """The audit log's name for this person."""
        return f"user:{self.user_id}"

    def sees(self, team_id: int) -> bool:
        """True when this person may see records of ``team_id``."""
        return self.team_ids is None or team_id in self.team_ids

    def has_role(self, role: str) -> bool:
        """True when this person's role is ``role`` or above it."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]
