"""Mail: a real SMTP server's handler on loopback (aiosmtpd), links in messages, the outbox."""

from __future__ import annotations

import asyncio
import json
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import OutboxMessage


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
        # The handler runs in aiosmtpd's own thread and loop, so an asyncio.Event cannot wake us.
        async with asyncio.timeout(5):
            while len(self.messages) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.02)


def link_in(message: EmailMessage, path: str = "/konto/losenord/") -> str:
    """The path of the first link to ``path`` in a plain-text message."""
    body = message.get_content()
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}[A-Za-z0-9_-]+)", body)
    assert match, "no link in the message"
    return match.group(1)


async def queued_mail(db: Database) -> list[Any]:
    """Every message in the e-mail outbox, oldest first (recipients and body decrypted)."""
    async with db.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    return [
        SimpleNamespace(kind=r.kind, recipients=tuple(json.loads(r.recipients)), subject=r.subject,
                        body=r.body, object_id=r.object_id, attempts=r.attempts,
                        sent_at=r.sent_at, failed_at=r.failed_at)
        for r in rows
    ]  # fmt: skip
