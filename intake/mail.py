"""Sending e-mail through ``SAMVERKAN_SMTP_URL`` (smtp:// with STARTTLS when offered, smtps://).

E-mails never carry personal data: they say that something happened and link to the team
pages, where a login is needed.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

log = logging.getLogger("samverkan.mail")


@dataclass(frozen=True)
class Mailer:
    """Sends plain-text e-mail; with no SMTP URL it logs that mail is off and sends nothing."""

    smtp_url: str
    sender: str
    timeout: float = 15.0

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_url)

    async def send(self, to: list[str], subject: str, body: str) -> bool:
        """Send one message; False (logged) when mail is off or the server refused it."""
        if not self.enabled:
            log.info("mail.disabled", extra={"recipients": len(to)})
            return False
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        try:
            await asyncio.to_thread(self._deliver, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail.failed", extra={"error": type(exc).__name__, "recipients": len(to)})
            return False
        log.info("mail.sent", extra={"recipients": len(to)})
        return True

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
