"""The scheduled jobs of ``samverkan serve``."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta

from app.scheduler import Job
from app.settings import Settings
from bot.reminders import send_reminders
from core.clock import today_in_sweden, utcnow
from intake.context import BotInfo
from intake.metrics import Metrics
from services.mail import Delivery, Mailer, deliver_outbox, forget_old_mail
from services.referral_drafts import purge_expired_drafts
from services.retention import purge_expired
from services.sms import Elks46, SmsProvider, deliver_sms_outbox
from storage.db import Database
from storage.invitations import forget_processed_updates

log = logging.getLogger("samverkan.jobs")
DAY = 24 * 60 * 60


def scheduled_jobs(
    settings: Settings, db: Database, bot: BotInfo, mailer: Mailer, metrics: Metrics
) -> list[Job]:
    """Every periodic job, built with what it needs."""
    jobs = [retention_job(settings, db), outbox_job(db, mailer, metrics)]
    if settings.sms_enabled:
        jobs.append(sms_outbox_job(db, sms_provider(settings), settings.public_url, metrics))
    if settings.telegram_enabled:
        jobs += [reminder_job(settings, db, bot), processed_updates_job(db)]
    return jobs


def retention_job(settings: Settings, db: Database) -> Job:
    """Once a day: anonymise participants past the retention period (audited)."""

    async def purge() -> None:
        report = await purge_expired(
            db,
            today=today_in_sweden(),
            retention_years=settings.retention_years,
            actor="scheduler",
        )
        forgotten = await forget_old_mail(db)
        log.info(
            "retention.purged",
            extra={"participants": report.counts["participants"], "mail": forgotten},
        )

    return Job("retention.purge", DAY, purge)


OUTBOX_INTERVAL = 5
#: How often the outbox job also deletes the referral form's expired drafts (seconds).
DRAFT_PURGE_INTERVAL = 5 * 60


def outbox_job(
    db: Database, mailer: Mailer, metrics: Metrics, *, clock: Callable[[], float] = time.monotonic
) -> Job:
    """Every 5 seconds: send the e-mail that operations queued (retries with backoff).

    Every 5 minutes it also deletes the referral form's drafts and receipt copies that have
    expired (personal data kept for hours, not until the daily retention run).
    """
    holder = f"{socket.gethostname()}:{os.getpid()}"
    purged_at: list[float] = []

    async def send() -> None:
        delivery = await deliver_outbox(db, mailer, holder=holder)
        metrics.inc("mail_sent", delivery.sent)
        metrics.inc("mail_retried", delivery.retried)
        metrics.inc("mail_given_up", delivery.given_up)
        if delivery != Delivery():
            log.info("mail.outbox", extra=dataclasses.asdict(delivery))
        if not purged_at or clock() - purged_at[0] >= DRAFT_PURGE_INTERVAL:
            purged_at[:] = [clock()]
            if drafts := await purge_expired_drafts(db):
                log.info("referral.drafts_purged", extra={"drafts": drafts})

    return Job("mail.outbox", OUTBOX_INTERVAL, send)


def sms_provider(settings: Settings) -> Elks46:
    """The SMS provider of the settings (46elks' API at ``SAMVERKAN_SMS_URL``)."""
    return Elks46(
        settings.sms_url, settings.sms_user, settings.sms_secret.reveal(), settings.sms_from
    )


def sms_outbox_job(db: Database, provider: SmsProvider, public_url: str, metrics: Metrics) -> Job:
    """Every 5 seconds, outside quiet hours: send the SMS that operations queued (with retries)."""
    holder = f"{socket.gethostname()}:{os.getpid()}"

    async def send() -> None:
        delivery = await deliver_sms_outbox(db, provider, holder=holder, public_url=public_url)
        metrics.inc("sms_sent", delivery.sent)
        metrics.inc("sms_retried", delivery.retried)
        metrics.inc("sms_given_up", delivery.given_up)
        if delivery != Delivery():
            log.info("sms.outbox", extra=dataclasses.asdict(delivery))

    return Job("sms.outbox", OUTBOX_INTERVAL, send)


REMINDER_INTERVAL = 15 * 60


def reminder_job(settings: Settings, db: Database, bot: BotInfo) -> Job:
    """Every 15 minutes: remind participants who have not finished the survey in Telegram."""

    async def remind() -> None:
        if bot.application is not None:
            await send_reminders(db, bot.application.bot, after_days=settings.reminder_after_days)

    return Job("survey.reminders", REMINDER_INTERVAL, remind)


def processed_updates_job(db: Database) -> Job:
    """Once a day: forget Telegram update ids older than a week (redeliveries come sooner)."""

    async def forget() -> None:
        async with db.transaction() as session:
            await forget_processed_updates(session, utcnow() - timedelta(days=7))

    return Job("telegram.processed_updates", DAY, forget)
