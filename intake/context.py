"""What the web adapters get from the composition root, as typed application keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from intake.metrics import Metrics
from storage.db import Database


@dataclass(frozen=True)
class WebConfig:
    """The settings the web layer needs (built from app.settings.Settings by app.main)."""

    public_url: str
    session_minutes: int = 30
    secure_cookies: bool = False
    production: bool = False
    suppression_threshold: int = 5
    invitation_days: int = 30
    #: "Invite all" skips those invited, or who answered, fewer days ago than this.
    reinvite_after_days: int = 30
    #: Days after completion that a survey link still shows the thanks (then: closed).
    completed_link_days: int = 7
    telegram_webhook_secret: str = ""
    referral_rate_per_hour: int = 30
    trusted_proxies: tuple[str, ...] = ()
    metrics_token: str = ""
    totp_for_everyone: bool = False
    #: The förbund's own survey files, offered along with the built-in ones (None: built-in only).
    surveys_dir: Path | None = None
    #: Survey invitations can be sent by SMS (``SAMVERKAN_SMS_URL`` set) / e-mail (SMTP set).
    sms_on: bool = False
    mail_on: bool = False


@dataclass
class BotInfo:
    """Filled in at start-up when the bot is on: its username, for t.me deep links.

    ``status`` is ``off`` (no bot token), ``degraded`` (starting, or the Bot API cannot be
    reached yet: start-up keeps retrying) or ``ok`` (started; ``application`` is set).
    """

    username: str | None = None
    application: Any = None
    status: str = "off"


#: The time now, timezone-aware; the composition root gives the real clock, tests their own.
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
DB = web.AppKey("db", Database)
CONFIG = web.AppKey("config", WebConfig)
BOT = web.AppKey("bot", BotInfo)
METRICS = web.AppKey("metrics", Metrics)
