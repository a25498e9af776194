"""samverkan create-user EMAIL --role ROLE: a staff account (password from a prompt or stdin)."""

from __future__ import annotations

import argparse
import getpass
import sys

from app.commands import UserError
from app.main import keyring_for
from app.settings import Settings
from core.codes import ROLES
from storage import users
from storage.crypto import install_keyring
from storage.db import Database

NAME = "create-user"
HELP = "create a staff account"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email")
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument("--team", help="team code (required for staff and coordinators)")
    parser.add_argument("--name", default="", help="display name")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise UserError("the passwords differ")
    return first


async def run(args: argparse.Namespace, settings: Settings) -> int:
    password = _password(args.password_stdin)
    install_keyring(keyring_for(settings))
    db = Database.from_url(settings.database_url.reveal())
    try:
        async with db.transaction() as session:
            user = await users.create_user(
                session,
                args.email,
                password,
                role=args.role,
                team_code=args.team,
                display_name=args.name,
            )
    finally:
        await db.close()
    print(f"created {args.role} {user.email} (id {user.id})")
    return 0
