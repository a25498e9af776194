"""Staff login: argon2 passwords, CSRF, throttling, audit, session cookie flags."""

from sqlalchemy import select

from app.main import create_app
from storage.models import AuditEntry
from tests.common.teams import PASSWORD, make_team, make_user
from tests.common.web import csrf_from


async def login_page_token(client) -> str:  # type: ignore[no-untyped-def]
    response = await client.get("/team/login")
    assert response.status == 200
    return csrf_from(await response.text())


async def test_healthz_reports_the_database(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok", "bot": "off"}


async def test_login_with_the_right_password_opens_the_team_pages(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    token = await login_page_token(client)
    response = await client.post(
        "/team/login",
        data={"_csrf": token, "email": "Coach@Example.se", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/team/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    async with db.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "login.succeeded" in actions


async def test_a_post_without_the_csrf_token_is_refused(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_user(db)
    client = await aiohttp_client(create_app(settings, database=db))
    await login_page_token(client)
    response = await client.post(
        "/team/login",
        data={"email": "coach@example.se", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 403


async def test_repeated_failures_throttle_the_address_and_are_audited(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db)
    client = await aiohttp_client(create_app(settings, database=db))
    token = await login_page_token(client)
    statuses = []
    for _ in range(6):
        r = await client.post(
            "/team/login",
            data={"_csrf": token, "email": "coach@example.se", "password": "wrong password!!"},
        )
        statuses.append(r.status)
    assert statuses == [401] * 5 + [429]
    right = await client.post(
        "/team/login",
        data={"_csrf": token, "email": "coach@example.se", "password": PASSWORD},
        allow_redirects=False,
    )
    assert right.status == 429
    async with db.sessions() as session:
        failures = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed"))
        ).all()
    assert len(failures) == 5
    assert all("coach" not in str(f.detail) for f in failures)


async def test_anonymous_users_are_sent_to_the_login_page(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    response = await client.get("/team/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/team/login"


async def test_pages_carry_security_headers(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    response = await client.get("/team/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_metrics_count_requests_per_route(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    await client.get("/healthz")
    body = await (await client.get("/metrics")).text()
    assert 'samverkan_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in body
