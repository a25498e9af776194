"""The web app as a browser drives it: CSRF tokens, form fields, table cells, logging in."""

from __future__ import annotations

import html as html_module
import re
from typing import Any

import aiohttp

from tests.common.teams import PASSWORD, next_recovery_code

_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token in a page's form."""
    match = _CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def form_fields(form: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    """A form dict as the (name, value) pairs a browser posts (one pair per ticked box)."""
    return [
        (name, value)
        for name, values in form.items()
        for value in ([values] if isinstance(values, str) else values)
    ]


def hidden_fields(html: str) -> list[tuple[str, str]]:
    """Every hidden input of a page, in order, unescaped."""
    return [
        (html_module.unescape(name), html_module.unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    ]


def table_rows(html: str) -> list[dict[str, str]]:
    """Each body row of the page's tables as {column label: cell text}, tags stripped."""
    rows = []
    for body in re.findall(r"<tbody[^>]*>(.*?)</tbody>", html, flags=re.S):
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
            cells = re.findall(r'<td[^>]*data-label="([^"]*)"[^>]*>(.*?)</td>', row, flags=re.S)
            rows.append(
                {
                    html_module.unescape(label): html_module.unescape(
                        re.sub(r"<[^>]+>", "", cell)
                    ).strip()
                    for label, cell in cells
                }
            )
    return rows


async def pass_second_factor(client, response) -> Any:  # type: ignore[no-untyped-def]
    """After a login answer, enter a recovery code when the code page is asked for.

    ``client`` is an aiohttp test client or ClientSession; ``response`` the login's answer
    (redirects followed or not). Returns the final answer.
    """
    location = response.headers.get("Location", "") if response.status == 303 else str(response.url)
    if not location.endswith("/team/login/kod"):
        return response
    base = "" if hasattr(client, "server") else str(response.url).split("/team/")[0]
    token = csrf_from(await (await client.get(base + "/team/login/kod")).text())
    return await client.post(
        base + "/team/login/kod",
        data={"_csrf": token, "code": next_recovery_code()},
        allow_redirects=response.status != 303,
    )


async def log_in(client, email: str = "coach@example.se", password: str = PASSWORD) -> str:  # type: ignore[no-untyped-def]
    """Log ``email`` in on ``client`` (an aiohttp test client); returns the session's CSRF token."""
    token = csrf_from(await (await client.get("/team/login")).text())
    response = await client.post(
        "/team/login",
        data={"_csrf": token, "email": email, "password": password},
        allow_redirects=False,
    )
    response = await pass_second_factor(client, response)
    assert response.status == 303, f"login of {email} failed with {response.status}"
    return csrf_from(await (await client.get("/team/")).text())


class Browser:
    """One person's browser against a running server: its own cookies and CSRF token."""

    def __init__(self, base_url: str, *, local_address: str | None = None) -> None:
        """``local_address`` (such as 127.0.0.7) makes the browser a different client address."""
        self.base_url = base_url.rstrip("/")
        connector = aiohttp.TCPConnector(local_addr=(local_address, 0) if local_address else None)
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector
        )
        self.csrf = ""

    async def close(self) -> None:
        await self.session.close()

    async def log_in(self, email: str, password: str = PASSWORD) -> None:
        """Log in as ``email`` and keep the new session's CSRF token."""
        page = await self.session.get(f"{self.base_url}/team/login")
        token = csrf_from(await page.text())
        response = await self.session.post(
            f"{self.base_url}/team/login",
            data={"_csrf": token, "email": email, "password": password},
            allow_redirects=False,
        )
        response = await pass_second_factor(self.session, response)
        assert response.status == 303, f"login of {email} failed with {response.status}"
        await self.refresh_csrf()

    async def refresh_csrf(self) -> None:
        """Read this session's CSRF token from a page that has a form."""
        for path in ("/team/", "/remiss"):
            response = await self.session.get(f"{self.base_url}{path}")
            html = await response.text()
            if _CSRF.search(html):
                self.csrf = csrf_from(html)
                return
        raise AssertionError("no page with a CSRF token")

    async def visit(self, method: str, path: str, *, with_csrf: bool = True) -> int | str:
        """The status of one request; redirects as ``"303 /where"``."""
        data = {"_csrf": self.csrf} if method == "POST" and with_csrf else None
        response = await self.session.request(
            method, f"{self.base_url}{path}", data=data, allow_redirects=False
        )
        await response.read()
        if 300 <= response.status < 400:
            return f"{response.status} {response.headers.get('Location', '')}"
        return response.status
