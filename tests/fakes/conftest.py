"""Fixtures for testing against the Bot API test server."""

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from tests.fakes.telegram_api import FakeBotApi


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta durations, or its deprecation warning fails the test."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """A running Bot API test server without flood limits."""
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    """A PTB Bot talking to the test server over HTTP."""
    async with Bot(api.token, base_url=api.base_url) as telegram_bot:
        yield telegram_bot
