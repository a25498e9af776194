"""``samverkan serve`` on a database that was never migrated stops with one line saying what to
do, instead of starting and logging a traceback from every scheduled job."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.commands import UserError
from app.settings import load_settings
from app.startup import check_before_serving
from storage.db import Database
from storage.migrate import current_revision, head_revision


async def test_serve_refuses_a_database_without_tables(settings_env, tmp_path: Path) -> None:
    empty = {**settings_env, "SAMVERKAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/new.db"}

    with pytest.raises(UserError, match=r"no tables yet: run `samverkan migrate` first"):
        await check_before_serving(load_settings(empty, dotenv_path=tmp_path / "no.env"))


async def test_a_migrated_database_is_at_the_newest_migration(db: Database, settings) -> None:
    assert await current_revision(db) == head_revision()
    hint = await check_before_serving(settings)  # no admin yet: a hint, not a refusal
    assert hint is not None and "create-user" in hint
