"""Malformed request bodies on every POST route: a 4xx with a message, never a 500.

Each route gets bodies that no browser sends but a broken client or a fuzzer does: invalid
percent-encoding and bytes that are not UTF-8, a multipart body without a boundary or with a
broken one, and a CSRF token that is not ASCII. The session's token travels in the header, so
the body reaches the form parser (and the views) and is not refused for the token alone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from app.main import create_app
from tests.common.teams import make_team, make_user
from tests.common.web import Browser

FORM = "application/x-www-form-urlencoded"
BODIES = {
    "percent-encoding that is not UTF-8": (FORM, b"team=%ff%fe&note=%C3%28"),
    "raw bytes that are not UTF-8": (FORM, b"\xff\xfe=\xfa\xfb&note=\xc3\x28"),
    "multipart without a boundary": ("multipart/form-data", b"--x\r\nnonsense"),
    "multipart with a broken body": (
        "multipart/form-data; boundary=zzz",
        b"--zzz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--zz",
    ),
}


@pytest.fixture
async def browser(aiohttp_server, settings, db) -> AsyncIterator[tuple[web.Application, Browser]]:  # type: ignore[no-untyped-def]
    """The app, and a coordinator's browser with the session's CSRF token."""
    await make_team(db)
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    app = create_app(settings, database=db)
    server = await aiohttp_server(app)
    person = Browser(str(server.make_url("")))
    await person.log_in("samordnare@example.se")
    yield app, person
    await person.close()


def post_paths(app: web.Application) -> list[str]:
    """Every POST route of the app, its path parameters filled in with plausible values."""
    routes = {route.resource.canonical for route in app.router.routes() if route.method == "POST"}
    return sorted(
        re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "id" else "x" * 43, r) for r in routes
    )


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_a_malformed_body_is_a_bad_request_on_every_route(
    browser, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, person = browser
    content_type, body = BODIES[kind]
    caplog.set_level(logging.INFO)
    statuses = {}
    for path in post_paths(app):
        response = await person.session.post(
            f"{person.base_url}{path}",
            data=body,
            allow_redirects=False,
            headers={"Content-Type": content_type, "X-CSRF-Token": person.csrf},
        )
        await response.read()
        statuses[path] = response.status
    assert {path: status for path, status in statuses.items() if status >= 500} == {}
    if "percent" not in kind:  # (bad percent-escapes decode to U+FFFD: a form, read as typed)
        assert set(statuses.values()) == {400}
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"


async def test_a_csrf_token_that_is_not_ascii_is_refused_not_a_crash(browser) -> None:
    app, person = browser
    statuses: dict[str, set[int]] = {}
    for path in ("/remiss", "/team/remisser/1/status", "/team/logout"):
        for token in ("åäö", "токен", "\u200b" * 40):
            response = await person.session.post(
                f"{person.base_url}{path}", data={"_csrf": token}, allow_redirects=False
            )
            statuses.setdefault(path, set()).add(response.status)
            header = await person.session.post(
                f"{person.base_url}{path}",
                headers={"X-CSRF-Token": token.encode().hex()},
                allow_redirects=False,
            )
            statuses[path].add(header.status)
    # The public form keeps what was posted as a draft and shows it again; nothing is sent.
    assert statuses == {"/remiss": {303}, "/team/remisser/1/status": {403}, "/team/logout": {403}}
