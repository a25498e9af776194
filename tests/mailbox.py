"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests."""

from __future__ import annotations

import asyncio
import re
from email import message_from_bytes, policy
from email.message import EmailMessage

from tests.servers import free_port

__all__ = ["Inbox", "free_port", "link_in"]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    async def wait_for(self, count: int) -> None:
        """Wait (at most five seconds) until ``count`` messages have arrived."""
        async with asyncio.timeout(5):
            while len(self.messages) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.02)


def link_in(message: EmailMessage, path: str = "/konto/losenord/") -> str:
    """The path of the first link to ``path`` in a plain-text message."""
    body = message.get_content()
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}[A-Za-z0-9_-]+)", body)
    assert match, "no link in the message"
    return match.group(1)
