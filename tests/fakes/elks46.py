"""A 46elks SMS API test server on 127.0.0.1, speaking the documented ``POST /a1/sms``.

46elks cannot be reached from tests, so the SMS provider talks to :class:`FakeElks` instead::

    async with FakeElks() as elks:
        provider = Elks46(elks.url, elks.user, elks.password, "Samverkan")
        ...
        [sms] = elks.sent

As documented (https://46elks.com/docs/send-sms): HTTP Basic auth with the API username and
password (else 401 with a text body); form-encoded ``from`` (a text sender ID of 3-11 letters
and digits beginning with a letter, or an E.164 number), ``to`` (E.164), ``message``, and the
optional ``whendelivered`` (a URL) and ``dontlog`` (``message``). A missing or bad field
answers 400 with a text body. A message taken answers 200 with JSON: ``id`` (``s`` and 32 hex
digits), ``status`` ``created``, ``from``, ``to``, ``message`` (left out with
``dontlog=message``), ``created``, ``cost`` and ``parts``. :meth:`report` POSTs the delivery
report 46elks sends to ``whendelivered`` (form fields ``id``, ``status``, ``delivered``).
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import aiohttp
from aiohttp import web

_SENDER = re.compile(r"[A-Za-z][A-Za-z0-9]{2,10}|\+[1-9]\d{6,14}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


@dataclass(frozen=True)
class ElksSms:
    """One SMS the server took."""

    id: str
    sender: str
    to: str
    message: str
    whendelivered: str | None
    dontlog: str | None


class FakeElks:
    """The 46elks SMS API for one account; use as ``async with FakeElks() as elks:``.

    :meth:`fail_next` makes the next requests answer an error (5xx, 401, 400 …) instead.
    """

    def __init__(
        self, user: str = "u0123456789abcdef", password: str = "TEST-api-password"
    ) -> None:
        self.user, self.password = user, password
        self.sent: list[ElksSms] = []
        self.requests = 0
        self._failures: list[tuple[int, str]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    def fail_next(
        self, count: int = 1, status: int = 503, text: str = "Service Unavailable"
    ) -> None:
        """Answer the next ``count`` requests with HTTP ``status`` and a text body."""
        self._failures += [(status, text)] * count

    async def __aenter__(self) -> FakeElks:
        app = web.Application()
        app.router.add_post("/a1/sms", self._send)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/a1/sms"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _authorised(self, request: web.Request) -> bool:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(user, self.user) and secrets.compare_digest(
            password, self.password
        )

    async def _send(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self._failures:
            status, text = self._failures.pop(0)
            return web.Response(status=status, text=text)
        if not self._authorised(request):
            return web.Response(status=401, text="API authentication failed")
        if request.content_type != "application/x-www-form-urlencoded":
            return web.Response(status=400, text="Expected form-encoded data")
        form = await request.post()
        fields = {key: str(form[key]) for key in form}
        problem = _check(fields)
        if problem:
            return web.Response(status=400, text=problem)
        sms = ElksSms(
            "s" + secrets.token_hex(16), fields["from"], fields["to"], fields["message"],
            fields.get("whendelivered"), fields.get("dontlog"),
        )  # fmt: skip
        self.sent.append(sms)
        answer = {"id": sms.id, "status": "created", "from": sms.sender, "to": sms.to,
                  "created": datetime.now(UTC).isoformat(), "direction": "outgoing",
                  "cost": 3500, "parts": 1 + len(sms.message) // 160}  # fmt: skip
        if sms.dontlog != "message":
            answer["message"] = sms.message
        return web.json_response(answer)

    async def report(self, sms: ElksSms, status: str = "delivered") -> int:
        """POST the delivery report to the message's ``whendelivered``; the HTTP status."""
        assert sms.whendelivered, "the message asked for no delivery report"
        fields = {"id": sms.id, "status": status}
        if status == "delivered":
            fields["delivered"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        async with (
            aiohttp.ClientSession() as session,
            session.post(sms.whendelivered, data=fields) as response,
        ):
            return response.status


def _check(fields: dict[str, str]) -> str:
    """The documented checks of the fields; the error text, or '' when they are fine."""
    for name in ("from", "to", "message"):
        if not fields.get(name):
            return f"Missing key {name}"
    if not _SENDER.fullmatch(fields["from"]):
        return "Invalid from"
    if not _E164.fullmatch(fields["to"]):
        return "Invalid to number"
    if fields.get("dontlog") not in (None, "message"):
        return "Invalid dontlog"
    url = fields.get("whendelivered")
    if url is not None and not re.match(r"https?://", url):
        return "Invalid whendelivered"
    return ""
