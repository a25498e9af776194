"""Browser tests: a real samverkan app on 127.0.0.1 and Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from app.main import create_app
from app.settings import Settings, load_settings
from storage.db import Database
from tests.e2e.axe import AXE_SOURCE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("SAMVERKAN_REQUIRE_BROWSER"):
        raise pytest.UsageError(f"Chromium not found at {CHROMIUM}; install Debian's chromium")
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@dataclass
class LiveServer:
    """The running app: its base URL, settings and database."""

    url: str
    settings: Settings
    db: Database
    app: web.Application


@pytest.fixture
async def live_server(
    settings_env: dict[str, str], db: Database, tmp_path: Any
) -> AsyncIterator[LiveServer]:
    """samverkan served on a free port of 127.0.0.1 in the test's event loop."""
    settings = load_settings(settings_env, dotenv_path=tmp_path / "none.env")
    app = create_app(settings, database=db)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, db, app)
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Debian Chromium (never a downloaded browser)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def phone_page(browser: Any) -> AsyncIterator[Any]:
    """A page in a 375 px wide phone viewport, Swedish locale."""
    context = await browser.new_context(
        viewport=PHONE, locale="sv-SE", device_scale_factor=2, is_mobile=True, has_touch=True
    )
    await context.add_init_script(AXE_SOURCE)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def desktop_page(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport=DESKTOP, locale="sv-SE")
    await context.add_init_script(AXE_SOURCE)
    page = await context.new_page()
    yield page
    await context.close()
