"""Two `samverkan serve` processes on one database serve the same data; SIGTERM stops cleanly.

The web tier keeps no state of its own: a session cookie made by one process works on the
other, and what one process stores the other shows at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from tests.common.referrals import referral_form
from tests.common.servers import Server, free_port
from tests.common.teams import make_team, make_user
from tests.common.web import Browser, csrf_from, hidden_fields


@pytest.fixture
async def two_servers(
    db: Database, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Server, Server]]:
    await make_team(db)
    await make_user(db, "samordnare@example.se", role="coordinator")
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path),
        "SAMVERKAN_ENV": "test", "SAMVERKAN_DATABASE_URL": database_url,
        # The same key as the test's own keyring, so both sides read each other's data.
        "SAMVERKAN_SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "SAMVERKAN_DATA_DIR": str(tmp_path / "data"), "SAMVERKAN_SCHEDULER": "off",
        "SAMVERKAN_LOG_LEVEL": "warning",
    }  # fmt: skip
    servers = (
        Server(env, free_port(), tmp_path / "a.log"),
        Server(env, free_port(), tmp_path / "b.log"),
    )
    for server in servers:
        await server.start()
    try:
        yield servers
    finally:
        for server in servers:
            await server.stop()


_REFERENCE = re.compile(r'<span class="reference">([^<]+)</span>')


async def submit_referral(browser: Browser) -> str:
    """Form, review, send, receipt on ``browser``'s server; the reference on the receipt."""
    form = await (await browser.session.get(f"{browser.base_url}/remiss")).text()
    fields = dict(hidden_fields(form))
    review = await browser.session.post(
        f"{browser.base_url}/remiss", data={**referral_form(), **fields, "_csrf": csrf_from(form)}
    )
    hidden = hidden_fields(await review.text())
    sent = await browser.session.post(f"{browser.base_url}/remiss/skicka", data=hidden)
    match = _REFERENCE.search(await sent.text())
    assert sent.status == 200 and match, f"no receipt: {sent.status}"
    return match.group(1)


async def test_what_one_process_stores_the_other_shows_with_the_same_session(two_servers) -> None:
    first, second = two_servers
    case_worker, coordinator = Browser(first.url), Browser(first.url)
    try:
        reference = await submit_referral(case_worker)
        await coordinator.log_in("samordnare@example.se")
        # The session cookie made by the first process, sent to the second: no sticky sessions.
        board = await coordinator.session.get(f"{second.url}/team/remisser", allow_redirects=False)
        assert board.status == 200
        assert reference in await board.text()
    finally:
        await case_worker.close()
        await coordinator.close()


async def test_sigterm_stops_the_server_cleanly(two_servers) -> None:
    first, _ = two_servers
    assert first.process is not None
    first.process.terminate()
    assert await first.process.wait() == 0
