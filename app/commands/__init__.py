"""Subcommands of ``samverkan``: each module has NAME, HELP, add_arguments(parser), run(args, settings).

``run`` may be a coroutine function; it returns the exit status (None means 0).
"""

from __future__ import annotations


class UserError(Exception):
    """An error the user can fix; the message says what and where (file, line, field)."""
