"""The scheduled jobs of ``samverkan serve``."""

from __future__ import annotations

from app.scheduler import Job
from app.settings import Settings
from intake.context import BotInfo
from storage.db import Database


def scheduled_jobs(settings: Settings, db: Database, bot: BotInfo) -> list[Job]:
    """Every periodic job, built with what it needs."""
    return []
