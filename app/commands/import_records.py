"""samverkan import FILE.csv [--team CODE]: historical participant records, all rows or none."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import select

from app.commands import UserError
from app.main import keyring_for
from app.settings import Settings
from core.clock import today_in_sweden
from services.importing import ImportRejected, import_records, read_records
from storage.crypto import install_keyring
from storage.db import Database
from storage.models import Team

NAME = "import"
HELP = "import historical participant records from a CSV file (all rows or none)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument("file", metavar="FILE.csv", type=Path, help="UTF-8 CSV with a header row")
    parser.add_argument("--team", metavar="CODE", help="the team of rows without a team column")
    parser.add_argument(
        "--all-errors", action="store_true", help="list every problem of the file, one per line"
    )


def _read_text(path: Path) -> str:
    """The file's text; UserError when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: filen finns inte") from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: inte UTF-8 (byte {exc.start}); spara filen som CSV UTF-8"
        ) from None
    except OSError as exc:
        raise UserError(f"{path}: kan inte läsas ({exc.strerror})") from None


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check every row, then store them all in one transaction."""
    text = _read_text(args.file)
    install_keyring(keyring_for(settings))
    db = Database.from_url(settings.database_url.reveal())
    try:
        async with db.sessions() as session:
            team_codes = set((await session.scalars(select(Team.code))).all())
        name = args.file.name
        try:
            rows = read_records(
                text, file=name, team_codes=team_codes, default_team=args.team,
                today=today_in_sweden(),
            )  # fmt: skip
            result = await import_records(db, rows, file=name)
        except ImportRejected as exc:
            if not args.all_errors:
                raise UserError(f"{exc}; inget har sparats") from None
            print("\n".join(str(problem) for problem in exc.problems), file=sys.stderr)
            raise UserError(f"{len(exc.problems)} fel i {name}; inget har sparats") from None
    finally:
        await db.close()
    print(
        f"importerade {len(rows)} rader: {result.created} nya, {result.updated} uppdaterade "
        f"(team {', '.join(result.teams) or '–'})"
    )
    return 0
