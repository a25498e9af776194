"""samverkan demo-data: fictional, deterministic demo data in an empty database."""

from __future__ import annotations

import argparse
from datetime import date

from app.main import keyring_for
from app.settings import Settings
from storage.db import Database
from storage.demo import DEMO_PASSWORD, DEMO_USERS, load_demo_data

NAME = "demo-data"
HELP = "load fictional demo data into an empty database and print the demo logins"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--anchor", type=date.fromisoformat, help="the demo's 'today' (default: today)"
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
    try:
        counts = await load_demo_data(db, anchor=args.anchor, seed=args.seed)
    except ValueError:
        print("demo data: the database already has data; keeping it as it is")
        counts = None
    finally:
        await db.close()
    if counts:
        print("demo data loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    print(
        f"Open {settings.public_url}/team/login and log in as one of (password: {DEMO_PASSWORD}):"
    )
    for email, role, team, _ in DEMO_USERS:
        print(f"  {email}  ({role}{', team ' + team if team else ', all teams'})")
    print(f"The referral form: {settings.public_url}/remiss")
    return 0
