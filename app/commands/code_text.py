"""samverkan code-text [--codebook FILE]: code answers, one per line on stdin, into themes.

Writes one JSON object per line on stdout: ``{"text": ..., "themes": [codes]}``, in the order
read. Empty lines are coded too (they have no themes), so output lines match input lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from app.commands import UserError
from app.settings import Settings
from core.themes import Codebook, code_text, default_codebook, load_codebook

NAME = "code-text"
HELP = "code free-text answers (one per line on stdin) into themes, as JSON lines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument(
        "--codebook",
        type=Path,
        metavar="FILE",
        help="a codebook (default: the built-in codebook.yaml)",
    )


def code_lines(lines: TextIO, out: TextIO, codebook: Codebook) -> int:
    """Code every line of ``lines`` into ``out``; the number of lines coded."""
    count = 0
    for line in lines:
        text = line.rstrip("\r\n")
        out.write(
            json.dumps({"text": text, "themes": code_text(text, codebook)}, ensure_ascii=False)
        )
        out.write("\n")
        count += 1
    return count


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Read stdin to its end, writing each line's themes as it goes."""
    if args.codebook is not None and not args.codebook.is_file():
        raise UserError(f"{args.codebook}: filen finns inte")
    codebook = load_codebook(args.codebook) if args.codebook else default_codebook()
    code_lines(sys.stdin, sys.stdout, codebook)
    sys.stdout.flush()
    return 0
