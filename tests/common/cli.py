"""The ``samverkan`` command as an operator runs it: a child process, its status and output."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

SAMVERKAN = str(Path(sys.executable).with_name("samverkan"))


async def samverkan(env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    """Run the ``samverkan`` command; its exit status, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        SAMVERKAN,
        *args,
        env={**env, "PATH": os.environ["PATH"]},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin.encode())
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
