"""Wiring python-telegram-bot into the aiohttp process: polling or webhook mode.

Webhook mode handles each update inside the request and answers 200 only once it is stored;
on a failure it answers 500 and Telegram delivers the update again (the bot drops an update it
has already applied). So any number of processes behind one URL can share the work, and a
process that dies mid-update loses nothing. Polling mode is for development.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from telegram.ext import AIORateLimiter, Application

from app.settings import Settings
from intake.context import BOT, CONFIG, DB

log = logging.getLogger("samverkan.bot")
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message", "callback_query"]
TelegramApplication = Application[Any, Any, Any, Any, Any, Any]
#: Sends overall, evenly spaced: just under Telegram's ~30 a second in any one-second window.
#: (AIORateLimiter's default bucket lets 30 go at once and then 30 a second, which a sliding
#: one-second window can count as more than 30.)
MESSAGES_PER_SECOND = 29


def build_application(settings: Settings) -> TelegramApplication:
    """A PTB application talking to ``SAMVERKAN_TELEGRAM_API_URL``, rate-limited for Telegram.

    The rate limiter paces every send, reminders included, and waits out a 429 (``retry_after``)
    before trying again, up to three times.

    PTB's own job queue is off: reminders run in :mod:`app.scheduler`, which holds a database
    lease so that only one process sends them.
    """
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # durations as timedelta, without deprecation noise
    builder = (
        Application.builder()
        .token(settings.telegram_token.reveal())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=1, overall_time_period=1 / MESSAGES_PER_SECOND, max_retries=3
            )
        )
        .job_queue(None)
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    return builder.build()


def telegram_context(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that starts the bot with the web app and stops it before the database."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        """Start the bot, yield while the app serves, then stop it."""
        from bot.handlers import register, set_commands

        application = build_application(settings)
        register(application, app[DB])
        await application.initialize()
        app[BOT].application = application
        app[BOT].username = application.bot.username
        await set_commands(application)
        await application.start()
        if application.updater is not None:
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            await application.bot.set_webhook(
                url=settings.public_url + WEBHOOK_PATH,
                secret_token=settings.telegram_webhook_secret.reveal(),
                allowed_updates=ALLOWED_UPDATES,
            )
        log.info("bot.started", extra={"mode": settings.telegram_mode})
        try:
            yield
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
            await application.shutdown()
            app[BOT].application = None
            log.info("bot.stopped")

    return ctx


async def webhook(request: web.Request) -> web.Response:
    """POST /telegram/webhook: check the secret header, handle the update, then answer."""
    from bot.handlers import MalformedUpdate, process_update

    application = request.app[BOT].application
    expected = request.app[CONFIG].telegram_webhook_secret.encode()
    sent = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
    if application is None or not expected or not hmac.compare_digest(sent, expected):
        return web.json_response({"ok": False}, status=403)
    try:
        data = await request.json()
    except ValueError:
        return web.json_response({"ok": False}, status=400)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return web.json_response({"ok": False}, status=400)
    try:
        handled = await process_update(application, data)
    except MalformedUpdate:
        return web.json_response({"ok": False}, status=400)
    return web.json_response({"ok": handled}, status=200 if handled else 500)
