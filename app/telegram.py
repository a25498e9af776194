"""Wiring python-telegram-bot into the aiohttp process: polling or webhook mode.

Webhook mode handles each update inside the request and answers 200 only once it is stored
(with ``answerCallbackQuery`` for a pressed button in the reply's body, which Telegram carries
out); on a failure it answers 500 and Telegram delivers the update again (the bot drops an update it
has already applied). So any number of processes behind one URL can share the work, and a
process that dies mid-update loses nothing. Polling mode is for development.

Telegram being down does not take the service down: the bot starts in a background task
(getMe, setMyCommands, then polling or setWebhook) and, when a call fails, tries again after
2 s, 4 s, 8 s … at most every 5 minutes. Until it is ready ``/healthz`` reports the bot as
``degraded`` and the webhook answers 503, so Telegram delivers the update again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from telegram.error import InvalidToken
from telegram.ext import AIORateLimiter, Application

from app.settings import Settings
from bot.http import AiohttpRequest
from intake.context import BOT, CONFIG, DB, BotInfo

log = logging.getLogger("samverkan.bot")
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message", "callback_query"]
TelegramApplication = Application[Any, Any, Any, Any, Any, Any]
#: Sends overall, evenly spaced: just under Telegram's ~30 a second in any one-second window.
#: (AIORateLimiter's default bucket lets 30 go at once and then 30 a second, which a sliding
#: one-second window can count as more than 30.)
MESSAGES_PER_SECOND = 29
#: The wait before the first retry of a failed start; it doubles up to RETRY_MAX_SECONDS.
RETRY_FIRST_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0
START_TASK = "samverkan.bot.start"


def build_application(settings: Settings) -> TelegramApplication:
    """A PTB application talking to ``SAMVERKAN_TELEGRAM_API_URL``, rate-limited for Telegram.

    The rate limiter paces every send, reminders included, and waits out a 429 (``retry_after``)
    before trying again, up to three times.

    PTB's own job queue is off: reminders run in :mod:`app.scheduler`, which holds a database
    lease so that only one process sends them. Bot API calls go through
    :class:`bot.http.AiohttpRequest` (aiohttp's client), about four times cheaper than PTB's
    default httpx layer (see README, Performance).
    """
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # durations as timedelta, without deprecation noise
    builder = (
        Application.builder()
        .token(settings.telegram_token.reveal())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
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
    """A cleanup context that starts the bot in the background and stops it before the database.

    The context yields at once, so the web app serves while the Bot API is unreachable; the
    start-up task retries with backoff until it succeeds or the app shuts down.
    """

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        """Start the bot in a task, yield while the app serves, then cancel or stop it."""
        from bot.handlers import register

        application = build_application(settings)
        register(
            application,
            app[DB],
            completed_link_days=settings.completed_link_days,
            surveys_dir=settings.surveys_dir,
        )
        info = app[BOT]
        info.status = "degraded"
        task = asyncio.create_task(start_with_retries(application, settings, info), name=START_TASK)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if info.application is not None:
                info.application = None
                await stop_application(application)
                log.info("bot.stopped")
            info.status = "off"

    return ctx


async def start_with_retries(
    application: TelegramApplication, settings: Settings, info: BotInfo
) -> None:
    """Start the bot; on a failure wait (2 s doubling to 5 min) and try again, until it works."""
    delay = RETRY_FIRST_SECONDS
    attempt = 1
    while True:
        try:
            await start_application(application, settings)
        except Exception as error:  # noqa: BLE001 - whatever failed, the web app keeps serving
            # InvalidToken's message contains the token: never log it.
            reason = "the token was rejected" if isinstance(error, InvalidToken) else str(error)
            reason = reason.replace(settings.telegram_token.reveal(), "***")
            log.warning(
                "bot.start_failed",
                extra={
                    "attempt": attempt,
                    "error": type(error).__name__,
                    "reason": reason,
                    "retry_in": delay,
                },
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
            attempt += 1
            continue
        info.username = application.bot.username
        info.application = application
        info.status = "ok"
        log.info("bot.started", extra={"mode": settings.telegram_mode, "attempt": attempt})
        return


async def start_application(application: TelegramApplication, settings: Settings) -> None:
    """getMe, setMyCommands, start, then polling or setWebhook; undone when a step fails."""
    from bot.handlers import set_commands

    try:
        await application.initialize()
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
    except BaseException:
        await stop_application(application)
        raise


async def stop_application(application: TelegramApplication) -> None:
    """Stop polling and the application, and close its HTTP clients, whatever had started."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    await application.bot.shutdown()  # also when getMe failed inside initialize()


async def webhook(request: web.Request) -> web.Response:
    """POST /telegram/webhook: check the secret, handle the update, answer (503 while starting)."""
    from bot.handlers import MalformedUpdate, process_update

    application = request.app[BOT].application
    expected = request.app[CONFIG].telegram_webhook_secret.encode()
    sent = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
    if not expected or not hmac.compare_digest(sent, expected):
        return web.json_response({"ok": False}, status=403)
    if application is None:  # still starting: Telegram delivers the update again later
        return web.json_response({"ok": False}, status=503)
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
    if not handled.ok:
        return web.json_response({"ok": False}, status=500)
    # Telegram carries out a method call in the reply (answering the pressed button).
    return web.json_response(handled.reply or {"ok": True}, status=200)
