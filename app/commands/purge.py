"""samverkan purge [--dry-run]: remove personal data past its retention period, audited.

Participants whose referrals all closed more than SAMVERKAN_RETENTION_YEARS ago are
anonymised (see storage/retention.py for what is removed and what statistics keep).
``samverkan serve`` runs the same purge once a day.
"""

from __future__ import annotations

import argparse

from app.main import keyring_for
from app.settings import Settings
from core.clock import today_in_sweden
from services.retention import PurgeReport, find_expired, purge_expired
from storage.db import Database

NAME = "purge"
HELP = "remove personal data past its retention period (audited)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="list who would be purged; change nothing"
    )


def _listing(report: PurgeReport) -> list[str]:
    """One line per person: ids, team, references and closing day (no personal data)."""
    return [
        f"participant {p.participant_id} team {p.team_code} "
        f"referrals {', '.join(p.references) or '-'} closed {p.closed_on or '-'}"
        for p in report.people
    ]


async def run(args: argparse.Namespace, settings: Settings) -> int:
    db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
    today, years = today_in_sweden(), settings.retention_years
    try:
        if args.dry_run:
            report = await find_expired(db, today=today, retention_years=years)
        else:
            report = await purge_expired(db, today=today, retention_years=years, actor="cli")
    finally:
        await db.close()
    for line in _listing(report):
        print(line)
    people = report.counts["participants"]
    if args.dry_run:
        print(f"would purge {people} participants closed before {report.cutoff} (dry run)")
    else:
        details = ", ".join(f"{name} {n}" for name, n in sorted(report.counts.items()))
        print(f"purged {people} participants closed before {report.cutoff} ({details})")
    return 0
