"""Request, event and outbox metrics for ``/metrics``, through ``prometheus-client``.

Each application has its own registry (so two apps in one process, as in tests, never mix
their counts). Labels are route patterns and fixed event names, never paths or anything a
client sent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: Event names the service counts (``samverkan_events_total{event=...}``).
EVENTS = (
    "referral_submitted",
    "referral_moved",
    "participant_enrolled",
    "participant_ended",
    "mail_sent",
    "mail_retried",
    "mail_given_up",
    "sms_sent",
    "sms_retried",
    "sms_given_up",
    "survey_answered",
    "login_failed",
)


class Metrics:
    """Request counters and latency histograms per route, event counters, outbox gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "samverkan_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "samverkan_http_request_duration_seconds",
            "Request latency by route.",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "samverkan_events",
            "Operations and deliveries, by event.",
            ["event"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "samverkan_mail_outbox",
            "E-mail in the outbox by state (failed: given up).",
            ["state"],
            registry=self.registry,
        )
        self.sms_outbox = Gauge(
            "samverkan_sms_outbox",
            "SMS in the outbox by state (failed: given up).",
            ["state"],
            registry=self.registry,
        )
        self.bot = Gauge(
            "samverkan_bot_up",
            "1 when the Telegram bot is started; 0 while start-up is"
            " retrying (degraded) or when the bot is off.",
            registry=self.registry,
        )
        started = Gauge(
            "samverkan_process_start_time_seconds",
            "When this process started.",
            registry=self.registry,
        )
        started.set(time.time())

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one request and its duration."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def inc(self, event: str, amount: int = 1) -> None:
        """Count an event of :data:`EVENTS` (exported as ``samverkan_events_total``)."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}")
        if amount:
            self.events.labels(event).inc(amount)

    def render(
        self,
        outbox: Mapping[str, int] | None = None,
        bot: str = "off",
        sms_outbox: Mapping[str, int] | None = None,
    ) -> bytes:
        """The Prometheus text exposition, with the outbox counts and the bot's state of now."""
        for state, count in (outbox or {}).items():
            self.outbox.labels(state).set(count)
        for state, count in (sms_outbox or {}).items():
            self.sms_outbox.labels(state).set(count)
        self.bot.set(1 if bot == "ok" else 0)
        return generate_latest(self.registry)
