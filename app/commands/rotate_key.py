"""samverkan rotate-key: re-encrypt personal data under the current SAMVERKAN_SECRET_KEY.

Run it after a key change, with the old key in SAMVERKAN_PREVIOUS_SECRET_KEYS, while the app
keeps serving (see docs/security.md). It can be interrupted and started again.
"""

from __future__ import annotations

import argparse
import sys

from app.commands import UserError
from app.main import keyring_for
from app.settings import Settings
from storage import audit
from storage.db import Database
from storage.rotation import DEFAULT_BATCH_SIZE, RotationReport, count_stale, rotate_keys

NAME = "rotate-key"
HELP = "re-encrypt personal data under the current secret key (after a key change)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"rows per transaction (default {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument("--verbose", action="store_true", help="print progress per batch")


def _print_progress(table: str, rows: int) -> None:
    print(f"{table}: {rows} rows checked", file=sys.stderr)


def _summary(report: RotationReport) -> str:
    """One line of counts (no values)."""
    columns = ", ".join(f"{name} {n}" for name, n in sorted(report.reencrypted.items()))
    return (
        f"checked {report.rows_checked} rows in {report.passes} passes; "
        f"re-encrypted {report.total_reencrypted} values ({columns or 'none'}); "
        f"recomputed {sum(report.reindexed.values())} blind indexes; "
        f"{report.changed_meanwhile} rows changed by the app meanwhile"
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch_size < 1:
        raise UserError("--batch-size: must be at least 1")
    ring = keyring_for(settings)
    if not settings.previous_secret_keys:
        print("note: SAMVERKAN_PREVIOUS_SECRET_KEYS is empty; only checking", file=sys.stderr)
    db = Database.from_url(settings.database_url.reveal(), ring)
    try:
        report = await rotate_keys(
            db,
            ring,
            batch_size=args.batch_size,
            progress=_print_progress if args.verbose else None,
        )
        stale = await count_stale(db, ring)
        async with db.transaction() as session:
            await audit.record(
                session,
                "keys.rotated",
                actor="cli",
                detail={
                    "reencrypted": report.total_reencrypted,
                    "unreadable": len(report.unreadable),
                    "still_stale": sum(stale.values()),
                    "key_id": ring.current.key_id,
                },
            )
    finally:
        await db.close()
    print(_summary(report))
    if report.unreadable:
        table, row_id = report.unreadable[0]
        raise UserError(
            f"{len(report.unreadable)} rows could not be decrypted with the current or previous "
            f"keys (first: {table} id {row_id}); add the key they were written with to "
            "SAMVERKAN_PREVIOUS_SECRET_KEYS and run again"
        )
    if stale:
        raise UserError(
            f"{sum(stale.values())} values are still under an old key (is an app process still "
            "running with the old key as current?); restart it and run rotate-key again"
        )
    print("every value is under the current key; SAMVERKAN_PREVIOUS_SECRET_KEYS can be removed")
    return 0
