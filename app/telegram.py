"""Wiring python-telegram-bot into the aiohttp process: polling or webhook mode."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from telegram import Update
from telegram.ext import AIORateLimiter, Application

from app.settings import Settings
from intake.context import BOT, DB

log = logging.getLogger("samverkan.bot")
WEBHOOK_PATH = "/telegram/webhook"


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """A PTB application talking to ``SAMVERKAN_TELEGRAM_API_URL``, rate-limited for Telegram."""
    builder = (
        Application.builder()
        .token(settings.telegram_token.reveal())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .rate_limiter(AIORateLimiter(max_retries=3))
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    return builder.build()


def telegram_context(settings: Settings):  # type: ignore[no-untyped-def]
    """A cleanup context that starts the bot with the web app and stops it before the database."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        application = build_application(settings)
        from bot.handlers import register  # the bot's conversation

        register(application, app[DB], settings)
        await application.initialize()
        app[BOT].application = application
        app[BOT].username = application.bot.username
        await application.start()
        if settings.telegram_mode == "polling":
            assert application.updater is not None
            await application.updater.start_polling(drop_pending_updates=False)
        else:
            await application.bot.set_webhook(
                url=settings.public_url + WEBHOOK_PATH,
                secret_token=settings.telegram_webhook_secret.reveal(),
                allowed_updates=Update.ALL_TYPES,
            )
        log.info("bot.started", extra={"mode": settings.telegram_mode})
        try:
            yield
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
            await application.shutdown()
            log.info("bot.stopped")

    return ctx


async def webhook(request: web.Request) -> web.Response:
    """POST /telegram/webhook: check the secret header, queue the update, answer at once."""
    application = request.app[BOT].application
    expected = request.app[BOT].extra.get("webhook_secret", "")
    sent = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if application is None or not expected or not hmac.compare_digest(sent, expected):
        return web.json_response({"ok": False}, status=403)
    try:
        data = await request.json()
    except ValueError:
        return web.json_response({"ok": False}, status=400)
    await application.update_queue.put(Update.de_json(data, application.bot))
    return web.json_response({"ok": True})
