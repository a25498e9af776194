"""The ``samverkan`` command line: one subcommand per module in :mod:`app.commands`.

Exit status: 0 on success, 1 on an error the user can fix (one line on stderr saying what
and where), 2 for bad usage (argparse).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from app import commands
from app.commands import UserError
from app.logs import configure_logging
from app.settings import SettingsError, load_settings
from core.errors import DomainError


def _command_modules() -> list[ModuleType]:
    names = sorted(
        m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")
    )
    return [importlib.import_module(f"app.commands.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="samverkan",
        description="Referrals, consent, surveys and report summaries for samverkansteam.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules():
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``samverkan`` script."""
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        result = args.run(args, settings)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except (SettingsError, UserError) as exc:
        print(f"samverkan: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"samverkan: {exc.render()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
