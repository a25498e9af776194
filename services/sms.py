"""SMS: a provider behind a small interface (46elks first), sent from the outbox by a job.

An operation queues an SMS in its own transaction (:func:`queue_sms`; the outbox row has
``channel`` ``sms``), never during quiet hours: a message queued between 20:00 and 08:00 is due
at 08:00. :func:`deliver_sms_outbox` (the ``sms.outbox`` job) claims due messages and sends each
through the :class:`SmsProvider`; a failure is retried with the e-mail's backoff (30 s doubling
to 2 h, 10 attempts, pushed past quiet hours) and a refusal of the message itself (HTTP 400,
404, 422) is given up at once. The provider's id and status are stored; its delivery report
(``whendelivered``, POSTed to ``/sms/status/{token}``) stores ``delivered`` or ``failed``. The
token in that address is a keyed hash of the outbox id: unguessable, and no personal data.

46elks: ``POST {SAMVERKAN_SMS_URL}`` (``https://api.46elks.com/a1/sms``) with HTTP Basic auth
(API username and password) and the form fields ``from``, ``to`` (E.164), ``message``,
``whendelivered`` and ``dontlog=message`` (46elks keeps no copy of the text, which holds the
survey link). The answer is JSON with ``id`` and ``status`` (``created``, ``sent``,
``delivered`` or ``failed``); errors are HTTP 4xx/5xx with a text body, never stored (it may
repeat the number).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.quiet_hours import in_quiet_hours, outside_quiet_hours
from services.mail import Delivery, retry_delay
from storage import outbox
from storage.crypto import Keyring
from storage.db import Database
from storage.outbox import SMS, Mail

log = logging.getLogger("samverkan.sms")
#: Answers that refuse the message itself: trying again cannot help.
PERMANENT_STATUSES = frozenset({400, 404, 422})
STATUS_PATH = "/sms/status/"
REPORTED = frozenset({"delivered", "failed"})


class SmsError(Exception):
    """The provider could not be reached or did not take the message; ``permanent``: never will."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class SmsReceipt:
    """What the provider answered for a message it took: its id and status."""

    provider_id: str
    status: str


class SmsProvider(Protocol):
    """Sends one SMS. Implementations: :class:`Elks46` (and tests' own)."""

    @property
    def enabled(self) -> bool:
        """False when SMS is off: messages stay queued and nothing is sent."""
        ...

    async def send(self, to: str, text: str, *, status_url: str | None) -> SmsReceipt:
        """Send ``text`` to ``to`` (E.164); the delivery report goes to ``status_url``.

        Raises :class:`SmsError` when that fails.
        """
        ...


@dataclass(frozen=True)
class Elks46:
    """The 46elks SMS API: ``SAMVERKAN_SMS_URL`` with its user and secret (empty URL: off)."""

    url: str
    user: str
    secret: str = field(repr=False)
    sender: str = "Samverkan"
    timeout: float = 15.0

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    async def send(self, to: str, text: str, *, status_url: str | None) -> SmsReceipt:
        """POST the message; the JSON answer's ``id`` and ``status``."""
        fields = {"from": self.sender, "to": to, "message": text, "dontlog": "message"}
        if status_url:
            fields["whendelivered"] = status_url
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.url, data=fields, auth=(self.user, self.secret))
        except httpx.HTTPError as error:
            raise SmsError(type(error).__name__) from error
        if response.status_code >= 400:
            code = response.status_code
            raise SmsError(f"HTTP {code}", permanent=code in PERMANENT_STATUSES)
        try:
            answer = response.json()
            receipt = SmsReceipt(str(answer["id"]), str(answer.get("status", "created")))
        except (ValueError, KeyError, TypeError) as error:
            raise SmsError("unreadable answer") from error
        if receipt.status == "failed":
            raise SmsError("provider status failed")
        return receipt


async def queue_sms(
    session: AsyncSession,
    kind: str,
    to: str,
    text: str,
    *,
    now: datetime,
    team_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> tuple[int, datetime]:
    """Queue an SMS in the caller's transaction; its id and when it is due (after quiet hours)."""
    due_at = outside_quiet_hours(now)
    message_id = await outbox.add(
        session, kind, Mail((to,), "", text), now=now, channel=SMS, due_at=due_at,
        team_id=team_id, object_type=object_type, object_id=object_id,
    )  # fmt: skip
    return message_id, due_at


def status_token(keyring: Keyring, message_id: int) -> str:
    """The delivery-report address's token for outbox message ``message_id``."""
    return f"{message_id}-{_mac(keyring.blind_index(f'sms-status:{message_id}'))}"


def _mac(digest: str) -> str:
    return digest[:32]


def message_of_token(keyring: Keyring, token: str) -> int | None:
    """The outbox id a token stands for; None when it is not one of ours (under any key)."""
    number, _, mac = token.partition("-")
    if not number.isascii() or not number.isdigit() or len(number) > 12 or len(mac) != 32:
        return None
    message_id = int(number)
    macs = (_mac(d) for d in keyring.blind_indexes(f"sms-status:{message_id}"))
    return message_id if any(hmac.compare_digest(mac, m) for m in macs) else None


async def deliver_sms_outbox(
    db: Database,
    provider: SmsProvider,
    *,
    holder: str,
    public_url: str,
    now: datetime | None = None,
) -> Delivery:
    """Send the due SMS once each, outside quiet hours; a failure is retried later or given up."""
    now = now or utcnow()
    if not provider.enabled or in_quiet_hours(now):
        return Delivery()
    lease = timedelta(seconds=60)
    sent = retried = given_up = 0
    for message in await outbox.claim_due(db, holder, now=now, lease=lease, channel=SMS):
        status_url = f"{public_url.rstrip('/')}{STATUS_PATH}{status_token(db.keyring, message.id)}"
        try:
            receipt = await provider.send(
                message.mail.recipients[0], message.mail.body, status_url=status_url
            )
        except SmsError as error:
            delay = None if error.permanent else retry_delay(message.attempts + 1)
            retry_at = None if delay is None else outside_quiet_hours(now + delay)
            await outbox.mark_failed(
                db, message.id, holder, error=str(error), retry_at=retry_at, now=now
            )
            given_up, retried = given_up + (delay is None), retried + (delay is not None)
            log.warning(
                "sms.failed",
                extra={"sms_id": message.id, "kind": message.kind, "error": str(error),
                       "given_up": delay is None},
            )  # fmt: skip
            continue
        await outbox.mark_sent(
            db, message.id, holder, now=utcnow(),
            provider_id=receipt.provider_id[:80], delivery_status=receipt.status[:20],
        )  # fmt: skip
        sent += 1
        log.info("sms.sent", extra={"sms_id": message.id, "kind": message.kind})
    return Delivery(sent, retried, given_up)


async def record_sms_report(
    db: Database, token: str, *, provider_id: str, status: str, delivered: str | None = None
) -> bool:
    """Store a delivery report (``delivered`` or ``failed``) for the message of ``token`` and
    the provider's ``provider_id``; False when the token or id is not one of ours."""
    message_id = message_of_token(db.keyring, token)
    if message_id is None or status not in REPORTED or not provider_id:
        return False
    at = _moment(delivered) if status == "delivered" else None
    stored = await outbox.record_delivery_report(
        db, message_id, provider_id[:80], status=status, delivered_at=at
    )
    log.info("sms.report", extra={"sms_id": message_id, "status": status, "stored": stored})
    return stored


def _moment(text: str | None) -> datetime:
    """46elks' delivery time (UTC, ``2018-07-13T13:57:23.741000`` or with a ``Z``); now if none."""
    try:
        moment = datetime.fromisoformat((text or "").replace("Z", "+00:00"))
    except ValueError:
        return utcnow()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def sms_outbox_counts(db: Database) -> dict[str, int]:
    """SMS in the outbox by state: ``pending``, ``sent`` and ``failed`` (given up)."""
    return await outbox.counts(db, SMS)
