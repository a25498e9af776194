"""samverkan create-user EMAIL --role ROLE: a staff account.

The password comes from a prompt or stdin, or, with ``--invite``, the person sets it through a
single-use link (72 hours) that is e-mailed, and printed when no SMTP server is set.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from app.commands import UserError
from app.main import keyring_for
from app.settings import Settings
from core.codes import ROLES
from core.passwords import password_problem
from services.mail import Mailer, deliver_outbox
from services.staff import invite_staff
from storage import users
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
    parser.add_argument(
        "--invite", action="store_true", help="e-mail a link to set the password instead"
    )


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise UserError("the passwords differ")
    return first


async def _invite(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    mailer = Mailer(settings.smtp_url.reveal(), settings.smtp_from)
    invited = await invite_staff(
        db,
        None,
        args.email,
        role=args.role,
        team_code=args.team,
        public_url=settings.public_url,
        display_name=args.name,
    )
    if not mailer.enabled:
        print(f"invited {args.role} (id {invited.user_id}); no SMTP is set, give them this link:")
        print(invited.link)
        return 0
    await deliver_outbox(db, mailer, holder="create-user")
    print(f"invited {args.role} (id {invited.user_id}); the link was e-mailed")
    return 0


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.invite:
        db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
        try:
            return await _invite(args, settings, db)
        finally:
            await db.close()
    password = _password(args.password_stdin)
    problem = password_problem(password, args.email)
    if problem is not None:
        raise UserError(problem.render())
    db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
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
