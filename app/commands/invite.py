"""samverkan invite PERSON_REF [--channel telegram|web] [--team CODE]: a survey invitation.

Prints the link on stdout, one line: ``https://t.me/BOTNAME?start=TOKEN`` for Telegram (BOTNAME
from the Bot API's getMe, at SAMVERKAN_TELEGRAM_API_URL) or ``PUBLIC_URL/enkat/TOKEN`` for the
web. ``--all-active --team CODE`` invites every active participant of the team, one
``PERSON_REF<TAB>LINK`` line each. A new invitation makes the person's unfinished older one stop
working. The link is shown only now: the database keeps a hash of the token.
"""

from __future__ import annotations

import argparse

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from app.commands import UserError
from app.main import keyring_for
from app.settings import Settings
from core.invitations import NewInvitation
from intake.invitations import telegram_link, web_link
from services import invitations
from services.invitations import TeamNotAllowed
from storage.db import Database

NAME = "invite"
HELP = "create a survey invitation and print its link"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PERSON_REF or --all-active, --channel and --team."""
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "person_ref", nargs="?", metavar="PERSON_REF", help="the team's id of the person"
    )
    who.add_argument("--all-active", action="store_true", help="every active participant of --team")
    parser.add_argument(
        "--channel", choices=("telegram", "web"), help="default: telegram when the bot is on"
    )
    parser.add_argument(
        "--team", metavar="CODE", help="the team (needed when the id is in several)"
    )


async def bot_username(settings: Settings) -> str:
    """The bot's username, from getMe at the configured Bot API URL (UserError when it fails)."""
    where = settings.telegram_api_url
    try:
        async with Bot(settings.telegram_token.reveal(), base_url=where) as bot:
            return str(bot.username)
    except InvalidToken:  # its message holds the token: never print it
        problem = f"Telegrams Bot API på {where} godtar inte SAMVERKAN_TELEGRAM_TOKEN"
    except NetworkError as error:
        problem = f"Telegrams Bot API på {where} svarar inte ({error})"
    except (TelegramError, OSError) as error:
        problem = f"Telegrams Bot API på {where} svarade med ett fel ({error})"
    problem = " ".join(problem.replace(settings.telegram_token.reveal(), "***").split())
    raise UserError(f"{problem}; ingen inbjudan skapades (försök igen, eller --channel web)")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Create the invitations and print their links."""
    channel = args.channel or ("telegram" if settings.telegram_enabled else "web")
    if channel == "telegram" and not settings.telegram_enabled:
        raise UserError(
            "SAMVERKAN_TELEGRAM_TOKEN is not set, so there is no bot: use --channel web"
        )
    if args.all_active and not args.team:
        raise UserError("--all-active needs --team CODE")
    username = await bot_username(settings) if channel == "telegram" else ""
    db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
    try:
        created = await _invite(db, args, channel, settings.invitation_days)
    finally:
        await db.close()
    for new in created:
        link = (
            telegram_link(username, new.token)
            if username
            else web_link(settings.public_url, new.token)
        )
        print(f"{new.person_ref}\t{link}" if args.all_active else link)
    return 0


async def _invite(
    db: Database, args: argparse.Namespace, channel: str, days: int
) -> list[NewInvitation]:
    """Invite the one participant named, or every active one of the team."""
    if not args.all_active:
        new = await invitations.invite_participant(
            db, None, person_ref=args.person_ref, team_code=args.team, channel=channel, days=days
        )
        return [new]
    try:
        return await invitations.invite_active_participants(
            db, None, args.team, channel=channel, days=days
        )
    except TeamNotAllowed:
        raise UserError(f"--team {args.team}: no such team") from None
