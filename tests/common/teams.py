"""Teams and staff accounts: the factories, the test password and the second factor."""

from __future__ import annotations

import itertools
from typing import Any

from core.access import Staff
from core.clock import utcnow
from services.two_factor import hash_recovery_code
from storage import users
from storage.db import Database
from storage.models import StaffUser, Team

PASSWORD = "correct horse battery staple"

#: Admins log in with a second factor: the factory enrols them with this TOTP secret and
#: recovery codes ``test-0000`` … (each works once; :func:`next_recovery_code` hands them out).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_recovery = itertools.count()


def next_recovery_code() -> str:
    return f"test-{next(_recovery) % 500:04}"


async def make_team(
    db: Database, code: str = "norr", name: str = "Samverkansteam Norr", **fields: object
) -> Team:
    async with db.transaction() as session:
        team = Team(code=code, name=name, forbund="Samordningsförbundet Exempel", **fields)
        session.add(team)
    return team


async def make_user(
    db: Database,
    email: str = "coach@example.se",
    *,
    role: str = "staff",
    team: str | None = "norr",
    password: str = PASSWORD,
    two_factor: bool | None = None,
) -> StaffUser:
    """A staff account; admins (or ``two_factor=True``) come with TOTP enrolled."""
    async with db.transaction() as session:
        user = await users.create_user(session, email, password, role=role, team_code=team)
        if two_factor if two_factor is not None else role == "admin":
            user.totp_secret = TOTP_SECRET
            user.totp_enabled_at = utcnow()
            user.recovery_codes = [hash_recovery_code(f"test-{n:04}") for n in range(500)]
        return user


async def staff_for(db: Database, email: str, *, role: str = "staff", team: str = "norr") -> Any:
    """A new member of staff of ``team``, as the operations see them (a core.access.Staff)."""
    user = await make_user(db, email, role=role, team=team)
    async with db.sessions() as session:
        team_id = (await session.get_one(StaffUser, user.id)).team_id
    return Staff(user.id, role, None if role == "admin" else frozenset({team_id}))
