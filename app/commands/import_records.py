"""samverkan import FILE.csv [--team CODE]: historical participant records, all rows or none.

The file is read twice, line by line: first every row is checked (only the rows' keys are
kept), then the rows are stored in batches in one transaction, so memory stays flat however
long the file is. On SQLite that transaction holds the database's only write lock from start
to end, so the import refuses to run while a ``samverkan serve`` is live on the same database.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from app.commands import UserError
from app.main import keyring_for
from app.settings import Settings
from core.clock import today_in_sweden
from services.importing import ImportRejected, check_file, import_records, stream_records
from storage import heartbeats
from storage.csv_stream import shown
from storage.db import Database
from storage.models import Team

NAME = "import"
HELP = "import historical participant records from a CSV file (all rows or none)"

LIVE_SERVER = (
    "samverkan serve kör mot samma SQLite-databas ({names}); stoppa tjänsten medan du "
    "importerar, eller använd PostgreSQL (en tjänst som stoppats oväntat räknas som igång "
    "i högst {seconds} sekunder)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument("file", metavar="FILE.csv", type=Path, help="UTF-8 CSV with a header row")
    parser.add_argument("--team", metavar="CODE", help="the team of rows without a team column")
    parser.add_argument(
        "--all-errors", action="store_true", help="list every problem of the file, one per line"
    )


def _open(path: Path) -> BinaryIO:
    """The file, opened for reading bytes; UserError when it cannot be."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise UserError(f"{shown(str(path), 200)}: filen finns inte") from None
    except OSError as exc:
        raise UserError(f"{shown(str(path), 200)}: kan inte läsas ({exc.strerror})") from None


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check every row, then store them all in one transaction."""
    db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
    try:
        with _open(args.file) as stream:
            await _refuse_beside_live_server(db)
            async with db.sessions() as session:
                team_codes = set((await session.scalars(select(Team.code))).all())
            name, today = shown(args.file.name, 200), today_in_sweden()
            given = {"file": name, "team_codes": team_codes, "default_team": args.team}
            try:
                rows = check_file(stream, **given, today=today)
                stream.seek(0)
                result = await import_records(
                    db, stream_records(stream, **given, today=today), file=name
                )
            except ImportRejected as exc:
                _report(exc, name, all_errors=args.all_errors)
    finally:
        await db.close()
    print(
        f"importerade {rows} rader: {result.created} nya, {result.updated} uppdaterade "
        f"(team {', '.join(result.teams) or '–'})"
    )
    return 0


async def _refuse_beside_live_server(db: Database) -> None:
    """UserError on SQLite when a server is live: the import would block its writes."""
    if db.dialect != "sqlite":
        return
    if live := await heartbeats.live_processes(db):
        names = ", ".join(live)
        raise UserError(LIVE_SERVER.format(names=names, seconds=int(heartbeats.LIFETIME)))


def _report(exc: ImportRejected, name: str, *, all_errors: bool) -> None:
    """Raise the UserError for a rejected file; with ``all_errors``, print every problem first."""
    if not all_errors:
        raise UserError(f"{exc}; inget har sparats") from None
    print("\n".join(str(problem) for problem in exc.problems), file=sys.stderr)
    if exc.total > len(exc.problems):
        print(f"… och {exc.total - len(exc.problems)} fel till", file=sys.stderr)
    raise UserError(f"{exc.total} fel i {name}; inget har sparats") from None
