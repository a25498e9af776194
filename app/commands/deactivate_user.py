"""samverkan deactivate-user EMAIL: the account cannot log in and its sessions end at once."""

from __future__ import annotations

import argparse

from app.main import keyring_for
from app.settings import Settings
from services.staff import deactivate_user
from storage.db import Database

NAME = "deactivate-user"
HELP = "deactivate a staff account and end its open sessions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
    try:
        user_id = await deactivate_user(db, None, email=args.email)
    finally:
        await db.close()
    print(f"deactivated user id {user_id}")
    return 0
