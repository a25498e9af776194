"""Monitoring: ``/healthz`` (is the database reachable) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

from aiohttp import web

from intake.context import DB, METRICS
from intake.metrics import Metrics
from services.mail import mail_outbox_counts
from storage.db import DATABASE_ERRORS

__all__ = ["Metrics", "healthz", "metrics", "setup"]


async def healthz(request: web.Request) -> web.Response:
    """200 with ``database: ok`` when the database answers, else 503."""
    if await request.app[DB].ping():
        return web.json_response({"status": "ok", "database": "ok"})
    return web.json_response({"status": "error", "database": "unreachable"}, status=503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition format (the outbox counts read now, when the database is up)."""
    try:
        outbox = await mail_outbox_counts(request.app[DB])
    except DATABASE_ERRORS:
        outbox = None
    return web.Response(
        body=request.app[METRICS].render(outbox),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
