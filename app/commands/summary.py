"""samverkan summary --from DATE --to DATE [--team CODE] [--format F] [--out PATH] [--no-suppress].

The period summary of INTERFACES.md: JSON on stdout by default, or Markdown, Word or Excel.
Small counts are suppressed unless ``--no-suppress`` is given (for the team's own use only).
Word and Excel are binary: they need ``--out`` unless stdout is a file or a pipe. A progress
bar appears on stderr when the summary takes more than a moment and stderr is a terminal.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from app.commands import UserError
from app.main import keyring_for
from app.settings import Settings
from reports.periods import parse_period
from reports.summary import FORMATS, build_summary, render_summary
from storage import audit
from storage.db import Database

NAME = "summary"
HELP = "the summary of a period (JSON, Markdown, Word or Excel)"
BINARY_FORMATS = frozenset({"docx", "xlsx"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument("--from", dest="first", required=True, metavar="DATE", help="YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, metavar="DATE", help="YYYY-MM-DD")
    parser.add_argument("--team", metavar="CODE", help="one team (default: the whole förbund)")
    parser.add_argument("--format", choices=FORMATS, default="json")
    parser.add_argument("--out", type=Path, metavar="PATH", help="write to a file")
    parser.add_argument(
        "--no-suppress", action="store_true", help="raw small numbers: for the team's own use only"
    )
    parser.add_argument(
        "--threshold", type=_threshold, metavar="N", help="suppress counts under N (at least 3)"
    )


def _threshold(text: str) -> int:
    """A suppression threshold: a whole number of at least 3."""
    if not text.isdigit() or int(text) < 3:
        raise argparse.ArgumentTypeError("a whole number of at least 3")
    return int(text)


class ProgressBar:
    """A one-line progress bar on a terminal, drawn once the work takes more than ``delay``."""

    WIDTH = 30

    def __init__(
        self,
        stream: TextIO,
        *,
        delay: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.shown = False

    def update(self, done: int, total: int, step: str) -> None:
        """Redraw the bar: ``done`` of ``total`` steps, the last one ``step``."""
        if self.clock() - self.started < self.delay:
            return
        filled = round(self.WIDTH * done / total) if total else self.WIDTH
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\rsammanställer [{bar}] {done}/{total} {step:<30}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """End the bar's line, if it was drawn."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def check_destination(fmt: str, out: Path | None, stdout_is_terminal: bool) -> None:
    """UserError when a binary format would be written to a terminal."""
    if fmt in BINARY_FORMATS and out is None and stdout_is_terminal:
        raise UserError(f"--format {fmt} är en binär fil: ange --out FIL (t.ex. rapport.{fmt})")


def _write(content: bytes, out: Path | None) -> None:
    """Write to ``out``, or to stdout."""
    if out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise UserError(f"{out}: kan inte skrivas ({exc.strerror})") from None


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build, render and write the summary; the export is recorded in the audit log."""
    period = parse_period(args.first, args.last)
    check_destination(args.format, args.out, sys.stdout.isatty())
    db = Database.from_url(settings.database_url.reveal(), keyring_for(settings))
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        summary = await build_summary(
            db,
            period,
            team_code=args.team,
            suppress=not args.no_suppress,
            threshold=args.threshold or settings.suppression_threshold,
            progress=bar.update if bar else None,
        )
        async with db.transaction() as session:
            await audit.record(
                session,
                "summary.exported",
                actor="cli",
                object_type="summary",
                detail={
                    "format": args.format,
                    "team": args.team,
                    **period.as_json(),
                    "suppressed": not args.no_suppress,
                },
            )
    finally:
        if bar:
            bar.close()
        await db.close()
    _write(render_summary(summary, args.format), args.out)
    return 0
