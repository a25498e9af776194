"""The database goes away and comes back: friendly pages and 503 meanwhile, no restart needed.

PostgreSQL is reached through a TCP proxy that the test cuts (every connection dropped, new
ones refused) and restores on the same port. SQLite is a file inside the app's own process:
there is no server to lose, so that variant is skipped.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.main import create_app
from app.settings import Secret
from storage.db import Database
from storage.models import Referral
from tests.common.referrals import referral_form
from tests.common.teams import make_team
from tests.common.web import csrf_from, hidden_fields
from tests.conftest import PG_ENV
from tests.security.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(
    not os.environ.get(PG_ENV),
    reason="SQLite is a file in the app's own process: there is no database server to lose",
)


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(database_url)
    running = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await running.start()
    yield running
    await running.cut()


@pytest.fixture
async def client(aiohttp_client, settings, db, database_url, proxy):  # type: ignore[no-untyped-def]
    """The app, reaching the test database only through the proxy."""
    await make_team(db)
    through_proxy = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    url = through_proxy.render_as_string(hide_password=False)
    app_settings = dataclasses.replace(settings, database_url=Secret(url))
    return await aiohttp_client(
        create_app(app_settings, database=Database.from_url(url, db.keyring))
    )


async def referral_count(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count(Referral.id))) or 0)


async def send_referral(client, token: str) -> int:  # type: ignore[no-untyped-def]
    """Fill in, review and send the referral form; the status of the last step."""
    review = await client.post("/remiss", data={"_csrf": token, **referral_form()})
    if review.status != 200:
        return review.status
    fields = dict(hidden_fields(await review.text()))
    sent = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    return sent.status


async def test_healthz_says_503_while_down_and_everything_works_again_without_restart(
    client, proxy, db
) -> None:
    token = csrf_from(await (await client.get("/remiss")).text())
    assert (await client.get("/healthz")).status == 200
    review = await client.post("/remiss", data={"_csrf": token, **referral_form()})
    reviewed = dict(hidden_fields(await review.text()))

    await proxy.cut()
    down = await client.get("/healthz")
    page = await client.post("/remiss/skicka", data=reviewed, allow_redirects=False)

    assert down.status == 503
    assert await down.json() == {"status": "error", "database": "unreachable", "bot": "off"}
    assert page.status == 503 and "Försök igen" in await page.text()

    await proxy.start()
    up = await client.get("/healthz")
    status = await send_referral(client, token)

    assert up.status == 200 and status == 303
    assert await referral_count(db) == 1


async def test_the_form_keeps_what_was_typed_while_the_database_is_down(client, proxy, db) -> None:
    """The draft is on the server: sending while the database is down says to try again, and
    once it is back the review page shows every value and sending works."""
    token = csrf_from(await (await client.get("/remiss")).text())
    review = await client.post("/remiss", data={"_csrf": token, **referral_form()})
    fields = dict(hidden_fields(await review.text()))
    await proxy.cut()

    page = await client.post("/remiss/skicka", data=fields, allow_redirects=False)

    html = await page.text()
    assert page.status == 503 and "Försök igen" in html and "Traceback" not in html
    await proxy.start()
    again = await (await client.get(review.url.path)).text()
    assert "Sara Exempel" in again and "struktur i vardagen" in again
    sent = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    assert sent.status == 303 and await referral_count(db) == 1
