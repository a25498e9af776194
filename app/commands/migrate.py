"""samverkan migrate: bring the database schema up to date (Alembic)."""

from __future__ import annotations

import argparse

from app.settings import Settings

NAME = "migrate"
HELP = "bring the database schema up to date"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--revision", default="head", help="target revision (default: head)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from app.main import keyring_for
    from storage import migrate  # Alembic is imported only when migrating, not by every command

    # migration 0004 re-redacts encrypted answers: it needs the keys
    migrate.upgrade(settings.database_url.reveal(), args.revision, keyring=keyring_for(settings))
    print(f"database is at revision {args.revision}")
    return 0
