"""samverkan check-survey [FILE]: check a survey file and say what it holds.

FILE is a path, or the name of a survey file a team can choose (built in, or in
``SAMVERKAN_SURVEYS_DIR``; default ``default.yaml``). Prints the survey's code,
version and number of questions, its languages, and the languages its ``review_needed`` marks as
drafted and awaiting review by a native speaker. A file that cannot be used exits 1 with the file,
question and reason (as when a team switches it on).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.settings import Settings
from core.surveys import (
    Survey,
    default_survey_path,
    load_team_survey,
    survey_file_names,
    survey_file_path,
)
from core.translations import language_name

NAME = "check-survey"
HELP = "check a survey file and list its languages and those awaiting a native speaker's review"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The survey file."""
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="a survey file (default: the built-in default.yaml)"
    )


def describe(survey: Survey) -> list[str]:
    """What ``check-survey`` prints about ``survey``, line by line (Swedish, like the CLI)."""
    lines = [
        f"{survey.code}, version {survey.version}: {len(survey.questions)} frågor",
        f"språk: {', '.join(survey.languages())}",
    ]
    if survey.review_needed:
        named = ", ".join(f"{code} ({language_name(code)})" for code in survey.review_needed)
        lines.append(f"väntar på granskning av en modersmålstalare: {named}")
    return lines


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Read and check the file, then print what it holds."""
    path = Path(args.file) if args.file else default_survey_path()
    if args.file and not path.exists() and args.file in survey_file_names(settings.surveys_dir):
        path = survey_file_path(args.file, settings.surveys_dir)
    print("\n".join(describe(load_team_survey(path))))
    return 0
