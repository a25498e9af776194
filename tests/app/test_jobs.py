"""The scheduled jobs of ``samverkan serve``: what each run does."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.jobs import DRAFT_PURGE_INTERVAL, outbox_job
from core.clock import utcnow
from intake.metrics import Metrics
from services import referral_drafts
from services.mail import Mailer
from storage.db import Database
from storage.models import ReferralFormDraft


async def drafts(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ReferralFormDraft)) or 0)


async def test_the_outbox_job_deletes_expired_referral_drafts_every_five_minutes(
    db: Database,
) -> None:
    long_ago = utcnow() - referral_drafts.DRAFT_LIFETIME - timedelta(minutes=1)
    await referral_drafts.save_draft(db, {"values": {"person_name": "Sara"}}, now=long_ago)
    await referral_drafts.save_draft(db, {"values": {"person_name": "Amal"}})  # still current
    now = [1000.0]
    job = outbox_job(db, Mailer("", "samverkan@example.se"), Metrics(), clock=lambda: now[0])

    await job.run()
    assert await drafts(db) == 1

    await referral_drafts.save_draft(db, {"values": {}}, now=long_ago)
    now[0] += DRAFT_PURGE_INTERVAL - 1
    await job.run()
    assert await drafts(db) == 2  # not yet: five minutes have not passed
    now[0] += 1
    await job.run()
    assert await drafts(db) == 1
