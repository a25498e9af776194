"""Web hardening: security headers everywhere, no inline code, size limits, no personal data
in URLs, and sessions that expire after a warning (WCAG 2.2.1)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.main import create_app
from core.clock import utcnow
from intake.context import CLOCK
from intake.web import MAX_REQUEST_BYTES, TEMPLATES
from tests.common.teams import make_team, make_user
from tests.common.web import csrf_from, log_in

PAGES = ["/remiss", "/team/login", "/healthz", "/metrics", "/sidan-finns-inte", "/static/app.css"]
#: Form fields that hold personal data and so must never travel in a URL (a GET form).
PERSONAL_FIELDS = {
    "name",
    "person_name",
    "personnummer",
    "phone",
    "person_phone",
    "email",
    "referrer_name",
    "referrer_email",
    "referrer_phone",
    "q",
    "search",
    "text",
}


@pytest.mark.parametrize("path", PAGES)
async def test_every_response_carries_the_security_headers(
    aiohttp_client, settings, db, path
) -> None:
    client = await aiohttp_client(create_app(settings, database=db))

    headers = (await client.get(path)).headers

    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert (headers["X-Content-Type-Options"], headers["X-Frame-Options"]) == ("nosniff", "DENY")
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert (headers.get("Cache-Control") == "no-store") == (not path.startswith("/static/"))


async def test_https_deployments_get_hsts_and_secure_cookies(
    aiohttp_client, settings_env, tmp_path, db
) -> None:
    from app.settings import load_settings

    settings_env["SAMVERKAN_PUBLIC_URL"] = "https://samverkan.example.se"
    settings = load_settings(settings_env, dotenv_path=tmp_path / "none")
    client = await aiohttp_client(create_app(settings, database=db))

    response = await client.get("/team/login")

    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


class _InlineCode(HTMLParser):
    """Finds what the CSP would block: inline scripts, style attributes, event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [
            f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")
        ]


def test_no_template_has_inline_scripts_styles_or_event_handlers() -> None:
    problems = {}
    for template in sorted(TEMPLATES.rglob("*.html")):
        parser = _InlineCode()
        parser.feed(template.read_text(encoding="utf-8"))
        if parser.found:
            problems[str(template.relative_to(TEMPLATES))] = parser.found
    assert problems == {}


def test_no_form_sends_personal_data_in_the_url() -> None:
    """GET forms put their fields in the URL (and so in logs and history): filters only."""
    leaking = {}
    for template in sorted(TEMPLATES.rglob("*.html")):
        html = template.read_text(encoding="utf-8")
        for form in re.findall(r'<form[^>]*method="get".*?</form>', html, flags=re.S | re.I):
            names = set(re.findall(r'name="([^"]+)"', form)) & PERSONAL_FIELDS
            if names:
                leaking[str(template.relative_to(TEMPLATES))] = sorted(names)
    assert leaking == {}


async def test_no_route_takes_personal_data_in_its_path(aiohttp_client, settings, db) -> None:
    app = create_app(settings, database=db)
    await aiohttp_client(app)

    variables = set()
    for resource in app.router.resources():
        variables |= set(re.findall(r"{(\w+)", resource.canonical))

    # Record ids, single-use survey tokens, and a chart's name or a download's file format.
    assert variables <= {"id", "token", "name", "format"}


async def test_a_request_over_the_size_limit_is_refused(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    token = csrf_from(await (await client.get("/remiss")).text())

    response = await client.post(
        "/remiss", data={"_csrf": token, "help_wanted": "x" * MAX_REQUEST_BYTES}
    )

    assert response.status == 413
    assert "För mycket data" in await response.text()


class Clock:
    """The application's clock, moved by the test (no global time is patched)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


async def test_a_session_expires_after_the_idle_time(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    app, clock = create_app(settings, database=db), Clock()
    app[CLOCK] = clock
    client = await aiohttp_client(app)
    await log_in(client, "coach@example.se")
    assert (await client.get("/team/remisser", allow_redirects=False)).status == 200
    clock.now += timedelta(minutes=settings.session_minutes, seconds=1)

    response = await client.get("/team/remisser", allow_redirects=False)

    assert (response.status, response.headers["Location"]) == (303, "/team/login")


async def test_staying_active_or_pressing_continue_keeps_the_session(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    app, clock = create_app(settings, database=db), Clock()
    app[CLOCK] = clock
    client = await aiohttp_client(app)
    token = await log_in(client, "coach@example.se")
    start = clock.now
    for minutes in (25, 50, 75):  # each step is within the 30 idle minutes of the one before
        clock.now = start + timedelta(minutes=minutes)
        response = await client.post("/team/keepalive", headers={"X-CSRF-Token": token})
        assert response.status == 200
        assert await response.json() == {"ok": True, "expires_in": settings.session_minutes * 60}


async def test_team_pages_warn_before_the_session_ends(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    await log_in(client, "coach@example.se")

    html = await (await client.get("/team/remisser")).text()

    assert 'id="session-warning"' in html and 'role="alertdialog"' in html
    assert f'data-minutes="{settings.session_minutes}"' in html
    assert '<script src="/static/session-timeout.js' in html
    script = (Path(TEMPLATES).parent / "static" / "session-timeout.js").read_text(encoding="utf-8")
    assert "/team/keepalive" in script
