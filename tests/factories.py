"""Factories for test data, in one place (teams, staff users)."""

from __future__ import annotations

from storage import users
from storage.db import Database
from storage.models import StaffUser, Team

PASSWORD = "correct horse battery staple"


async def make_team(db: Database, code: str = "norr", name: str = "Samverkansteam Norr", **fields: object) -> Team:
    async with db.transaction() as session:
        team = Team(code=code, name=name, forbund="Samordningsförbundet Exempel", **fields)
        session.add(team)
    return team


async def make_user(
    db: Database, email: str = "coach@example.se", *, role: str = "staff", team: str | None = "norr",
    password: str = PASSWORD,
) -> StaffUser:
    async with db.transaction() as session:
        return await users.create_user(session, email, password, role=role, team_code=team)
