"""The composition root: builds the database, the web app, the bot and the scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from app import jobs, routes
from app.scheduler import Scheduler
from app.settings import Settings
from intake.context import BOT, DB, METRICS, BotInfo, WebConfig
from intake.web import build_web_app
from services.mail import Mailer
from storage.crypto import Keyring
from storage.db import Database


def keyring_for(settings: Settings) -> Keyring:
    """The keyring of the current and previous secret keys."""
    return Keyring(
        settings.secret_key.reveal(), [k.reveal() for k in settings.previous_secret_keys]
    )


def web_config(settings: Settings) -> WebConfig:
    return WebConfig(
        public_url=settings.public_url,
        session_minutes=settings.session_minutes,
        secure_cookies=settings.public_url.startswith("https://"),
        production=settings.production,
        suppression_threshold=settings.suppression_threshold,
        invitation_days=settings.invitation_days,
        reinvite_after_days=settings.reinvite_after_days,
        completed_link_days=settings.completed_link_days,
        telegram_webhook_secret=settings.telegram_webhook_secret.reveal(),
        referral_rate_per_hour=settings.referral_rate_per_hour,
        trusted_proxies=settings.trusted_proxies,
        metrics_token=settings.metrics_token.reveal(),
        totp_for_everyone=settings.totp_for_everyone,
        surveys_dir=settings.surveys_dir,
        sms_on=settings.sms_enabled,
        mail_on=bool(settings.smtp_url),
    )


def create_app(settings: Settings, *, database: Database | None = None) -> web.Application:
    """The whole service as one aiohttp application (web, bot when a token is set, jobs)."""
    keys = keyring_for(settings)
    db = database or Database.from_url(settings.database_url.reveal(), keys)
    bot = BotInfo()
    app = build_web_app(
        web_config(settings),
        db,
        session_key=keys.session_key,
        bot=bot,
        routes=routes.ROUTES,
    )
    app.cleanup_ctx.append(_database_context)
    if settings.telegram_enabled:
        from app.telegram import WEBHOOK_PATH, telegram_context, webhook

        app.router.add_post(WEBHOOK_PATH, webhook)
        app.cleanup_ctx.append(telegram_context(settings))
    if settings.scheduler:
        app.cleanup_ctx.append(_scheduler_context(settings))
    return app


async def _database_context(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[DB].close()


def _scheduler_context(settings: Settings):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        mailer = Mailer(settings.smtp_url.reveal(), settings.smtp_from)
        scheduler = Scheduler(
            app[DB], jobs.scheduled_jobs(settings, app[DB], app[BOT], mailer, app[METRICS])
        )
        scheduler.start()
        yield
        await scheduler.stop()

    return ctx
