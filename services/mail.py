"""E-mail: operations queue it in their own transaction; a job sends it with retries.

An operation calls :func:`queue_mail` inside its transaction, so the message is stored if
and only if the change it tells about is. :func:`deliver_outbox` (a scheduled job, and
woken at once after a commit that queued mail) claims due messages and sends them through
:class:`Mailer`. A failed attempt is retried with a growing delay; after
:data:`MAX_ATTEMPTS` the message is given up, shown on its record's page and counted in
``/metrics``. No request ever waits for the mail server.

E-mails carry no personal data about participants: they say that something happened and
link to the team pages, where a login is needed.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from storage import outbox
from storage.db import Database
from storage.outbox import Mail

log = logging.getLogger("samverkan.mail")
#: Attempts before a message is given up (about eight hours of retries in all).
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=2)


class MailError(Exception):
    """The mail server could not be reached or refused the message."""


@dataclass(frozen=True)
class Mailer:
    """Sends plain-text e-mail through ``SAMVERKAN_SMTP_URL``: smtp:// (STARTTLS when offered)
    or smtps://. With no URL, mail is off: messages stay queued and nothing is sent."""

    smtp_url: str
    sender: str
    timeout: float = 15.0

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_url)

    async def deliver(self, mail: Mail) -> None:
        """Send one message; raises :class:`MailError` when that fails."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(mail.recipients)
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        try:
            await asyncio.to_thread(self._deliver, message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(type(error).__name__) from error

    def _deliver(self, message: EmailMessage) -> None:
        url = urlsplit(self.smtp_url)
        host, port = url.hostname or "localhost", url.port
        if url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port or 465, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port or 25, timeout=self.timeout)
        with client:
            client.ehlo()
            if url.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)


async def queue_mail(
    session: AsyncSession,
    kind: str,
    mail: Mail,
    *,
    team_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    now: datetime | None = None,
) -> int | None:
    """Queue ``mail`` in the caller's transaction (nothing when it has no recipients)."""
    recipients = tuple(address for address in mail.recipients if address)
    if not recipients:
        return None
    return await outbox.add(
        session,
        kind,
        Mail(recipients, mail.subject, mail.body),
        now=now or utcnow(),
        team_id=team_id,
        object_type=object_type,
        object_id=object_id,
    )


def retry_delay(attempts: int) -> timedelta | None:
    """How long to wait after the ``attempts``-th failed attempt; None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay: timedelta = FIRST_RETRY * 2 ** (attempts - 1)
    return min(delay, LONGEST_WAIT)


@dataclass(frozen=True)
class Delivery:
    """What one run of :func:`deliver_outbox` did."""

    sent: int = 0
    retried: int = 0
    given_up: int = 0


async def deliver_outbox(
    db: Database, mailer: Mailer, *, holder: str, now: datetime | None = None
) -> Delivery:
    """Send the due messages once each; a failure is retried later or given up."""
    if not mailer.enabled:
        return Delivery()
    now = now or utcnow()
    lease = timedelta(seconds=mailer.timeout * 2 + 30)
    sent = retried = given_up = 0
    for message in await outbox.claim_due(db, holder, now=now, lease=lease):
        try:
            await mailer.deliver(message.mail)
        except MailError as error:
            delay = retry_delay(message.attempts + 1)
            retry_at = None if delay is None else now + delay
            await outbox.mark_failed(
                db, message.id, holder, error=str(error), retry_at=retry_at, now=now
            )
            given_up, retried = given_up + (delay is None), retried + (delay is not None)
            log.warning(
                "mail.failed",
                extra={
                    "mail_id": message.id,
                    "kind": message.kind,
                    "error": str(error),
                    "given_up": delay is None,
                },
            )
            continue
        await outbox.mark_sent(db, message.id, holder, now=utcnow())
        sent += 1
        log.info("mail.sent", extra={"mail_id": message.id, "kind": message.kind})
    return Delivery(sent, retried, given_up)


async def mail_outbox_counts(db: Database) -> dict[str, int]:
    """Messages in the outbox by state: ``pending``, ``sent`` and ``failed`` (given up)."""
    return await outbox.counts(db)


#: How long a sent (or given-up) message is kept, for the record's page; then it is deleted.
KEEP_DONE_MAIL = timedelta(days=30)


async def forget_old_mail(db: Database, *, now: datetime | None = None) -> int:
    """Delete messages done more than :data:`KEEP_DONE_MAIL` ago; how many."""
    return await outbox.forget_done(db, before=(now or utcnow()) - KEEP_DONE_MAIL)
