"""samverkan export-person: everything stored about one participant, as JSON (right of access).

The extract holds the person's full personnummer: hand it to the person, never by e-mail.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from app.commands import UserError
from app.main import keyring_for
from app.settings import Settings
from core.errors import NotFound
from services.access_export import export_person, find_participant
from storage.db import Database

NAME = "export-person"
HELP = "write everything stored about one participant as JSON (right of access, audited)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, help="the participant's id")
    which.add_argument("--ref", metavar="PERSON_REF", help="the team's own id for the person")
    parser.add_argument("--team", metavar="CODE", help="the team of --ref")
    parser.add_argument("--out", type=Path, help="write to this file (mode 600), not stdout")


def _write(text: str, out: Path | None) -> None:
    """Print ``text``, or write it to ``out`` readable by its owner only."""
    if out is None:
        print(text)
        return
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text + "\n")
    except OSError as exc:
        raise UserError(f"{out}: cannot be written ({exc.strerror})") from None


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.ref is not None and not args.team:
        raise UserError("--ref needs --team CODE")
    db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
    try:
        async with db.sessions() as session:
            participant_id = await find_participant(
                session, participant_id=args.id, person_ref=args.ref, team_code=args.team
            )
        extract = await export_person(db, participant_id, actor="cli")
    except NotFound:
        which = f"id {args.id}" if args.id is not None else f"{args.ref} in team {args.team}"
        raise UserError(f"no participant {which}") from None
    finally:
        await db.close()
    _write(json.dumps(extract, ensure_ascii=False, indent=2), args.out)
    return 0
