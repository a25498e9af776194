"""``samverkan demo-data``, run as a command: fills an empty database, keeps a full one."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Referral, Team

ROOT = Path(__file__).resolve().parents[2]


async def demo_data(settings_env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run ``samverkan demo-data --anchor 2026-11-30``; its exit status and output."""
    env = {**os.environ, **settings_env, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "demo-data",
        "--anchor",
        "2026-11-30",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None, err.decode()
    return process.returncode, out.decode()


async def counts(db: Database) -> tuple[int, int]:
    async with db.sessions() as session:
        teams = await session.scalar(select(func.count()).select_from(Team))
        referrals = await session.scalar(select(func.count()).select_from(Referral))
    return int(teams or 0), int(referrals or 0)


async def test_demo_data_fills_an_empty_database_and_prints_the_logins(
    db: Database, settings_env: dict[str, str], tmp_path: Path
) -> None:
    status, out = await demo_data(settings_env, tmp_path)

    loaded = re.search(r"demo data loaded: 2 teams, 4 users, (\d+) referrals, (\d+) answers", out)
    assert status == 0 and loaded, out
    assert await counts(db) == (2, int(loaded.group(1)))
    assert "samordnare@demo.samverkan.se  (coordinator, team norr)" in out


async def test_demo_data_keeps_a_database_that_has_data_as_it_was(
    db: Database, settings_env: dict[str, str], tmp_path: Path
) -> None:
    await demo_data(settings_env, tmp_path)
    before = await counts(db)

    status, out = await demo_data(settings_env, tmp_path)

    assert status == 0
    assert "demo data: the database already has data; keeping it as it is" in out
    assert "demo data loaded" not in out
    assert await counts(db) == before
