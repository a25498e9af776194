"""Servers on loopback: a free port, and ``samverkan serve`` as a child process to kill or stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.common.cli import SAMVERKAN

RETRYABLE = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """``samverkan serve`` as a child process that can be killed and started again."""

    env: dict[str, str]
    port: int
    log: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the server and wait until /healthz answers 200."""
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                SAMVERKAN, "serve", "--port", str(self.port), env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 20
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                with contextlib.suppress(*RETRYABLE):
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.log.read_text()[-2000:]}")

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, in-flight requests cut off."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
