"""samverkan create-team CODE --name NAME: a new team (insats) with default settings."""

from __future__ import annotations

import argparse

from app.main import keyring_for
from app.settings import Settings
from services.teams import create_team
from storage.db import Database

NAME = "create-team"
HELP = "create a team (an insats); CODE: lower-case letters, digits and -"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code")
    parser.add_argument("--name", required=True, help="the team's name as people see it")
    parser.add_argument("--trial-months", type=int, choices=(2, 3), default=3)
    parser.add_argument("--forbund", default="", help="the samordningsförbund's name")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
    try:
        team = await create_team(
            db,
            None,
            args.code,
            name=args.name,
            trial_months=args.trial_months,
            forbund=args.forbund,
        )
    finally:
        await db.close()
    print(f"created team {team.code} (id {team.id})")
    return 0
