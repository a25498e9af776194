"""Monitoring: ``/healthz`` (are the database and the bot up) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web

from intake.context import BOT, CONFIG, DB, METRICS
from intake.metrics import Metrics
from intake.ratelimit import client_address
from services.mail import mail_outbox_counts
from services.sms import sms_outbox_counts
from storage.db import DATABASE_ERRORS

__all__ = ["Metrics", "healthz", "metrics", "setup"]


async def healthz(request: web.Request) -> web.Response:
    """200 with ``database: ok`` when the database answers, else 503; ``bot`` says how the bot is.

    ``bot`` is ``ok``, ``off`` (no token) or ``degraded`` (the Bot API cannot be reached yet;
    start-up keeps retrying). A degraded bot alone keeps 200: the web service itself is up.
    """
    bot = request.app[BOT].status
    if await request.app[DB].ping():
        return web.json_response({"status": "ok", "database": "ok", "bot": bot})
    return web.json_response({"status": "error", "database": "unreachable", "bot": bot}, status=503)


def may_read_metrics(request: web.Request) -> bool:
    """True for the configured bearer token, or (with none set) a client on this machine."""
    config = request.app[CONFIG]
    if config.metrics_token:
        sent = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
        return hmac.compare_digest(sent, f"Bearer {config.metrics_token}".encode())
    client = client_address(request, config.trusted_proxies)
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition format (the outbox counts read now, when the database is up)."""
    if not may_read_metrics(request):
        return web.Response(status=403, text="forbidden\n")
    outbox: dict[str, int] | None
    sms: dict[str, int] | None
    try:
        outbox = await mail_outbox_counts(request.app[DB])
        sms = await sms_outbox_counts(request.app[DB]) if request.app[CONFIG].sms_on else None
    except DATABASE_ERRORS:
        outbox = sms = None
    return web.Response(
        body=request.app[METRICS].render(outbox, bot=request.app[BOT].status, sms_outbox=sms),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
