"""The bot's request layer on aiohttp, through python-telegram-bot's real Bot against test servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.http import AiohttpRequest
from tests.common.servers import free_port
from tests.fakes.telegram_api import FakeBotApi

TOKEN = "123456:TEST-token"


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta durations, or its deprecation warning fails the test."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@asynccontextmanager
async def bot_on(base_url: str, **timeouts: float) -> AsyncIterator[Bot]:
    """A PTB Bot whose calls go through AiohttpRequest."""
    request = AiohttpRequest(**timeouts)  # type: ignore[arg-type]
    bot = Bot(TOKEN, base_url=base_url, request=request, get_updates_request=request)
    async with bot:
        yield bot


async def test_messages_with_buttons_go_out_as_ptb_posts_them(api: FakeBotApi) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja, lite", callback_data="a:q:1")]])
    async with bot_on(api.base_url) as bot:
        sent = await bot.send_message(42, "Fråga 1 av 6 – åäö", reply_markup=keyboard)
        edited = await bot.edit_message_text("Ändrad", chat_id=42, message_id=sent.message_id)

    assert bot.username == api.username  # getMe, at initialize
    [message, edit] = api.messages_to(42)
    assert (message.text, message.button_data) == ("Fråga 1 av 6 – åäö", ["a:q:1"])
    assert (edit.method, edit.text, edited.text) == ("editMessageText", "Ändrad", "Ändrad")
    assert api.calls["sendMessage"] == 1 and api.calls["editMessageText"] == 1


async def test_a_call_posts_its_parameters_as_one_json_object() -> None:
    seen: list[tuple[str, object]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.content_type, await request.json()))
        result = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "x"}
        return web.json_response({"ok": True, "result": result})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/{{method}}", record)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja, lite", callback_data="a:q:1")]])
    async with TestServer(app) as server:
        request = AiohttpRequest()
        await request.initialize()
        try:
            bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{server.port}/bot", request=request)
            await bot.send_message(42, "Fråga – åäö", reply_markup=keyboard)
        finally:
            await request.shutdown()

    [(content_type, body)] = seen
    assert content_type == "application/json"
    assert body == {
        "chat_id": 42,
        "text": "Fråga – åäö",
        "reply_markup": {"inline_keyboard": [[{"text": "Ja, lite", "callback_data": "a:q:1"}]]},
    }


async def test_a_file_is_uploaded_as_multipart(api: FakeBotApi) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    async with bot_on(api.base_url) as bot:
        await bot.send_photo(42, png, caption="QR-kod", filename="qr.png")

    [photo] = api.messages_to(42)
    assert (photo.method, photo.text) == ("sendPhoto", "QR-kod")


async def test_api_errors_become_ptbs_errors() -> None:
    async with FakeBotApi(per_chat_rate=0.5) as api, bot_on(api.base_url) as bot:
        api.fail_next("sendMessage", 400, "Bad Request: chat not found")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(42, "hej")
        await bot.send_message(43, "hej")
        with pytest.raises(RetryAfter):  # a second message to the chat within two seconds
            await bot.send_message(43, "igen")


async def test_a_slow_answer_times_out_and_an_unreachable_server_is_a_network_error() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/{{method}}", slow)
    async with TestServer(app) as server:
        request = AiohttpRequest(read_timeout=0.2)
        await request.initialize()
        began = time.monotonic()
        with pytest.raises(TimedOut):
            await request.post(str(server.make_url(f"/bot{TOKEN}/getMe")))
        assert time.monotonic() - began < 1.5
        with pytest.raises(NetworkError) as refused:
            await request.post(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe")
        assert not isinstance(refused.value, TimedOut)
        await request.shutdown()


async def test_a_long_poll_waits_past_the_read_timeout(api: FakeBotApi) -> None:
    async with bot_on(api.base_url, read_timeout=0.2) as bot:
        began = time.monotonic()
        updates = await bot.get_updates(timeout=1)
        waited = time.monotonic() - began
        api.user_text(42, "hej")
        [update] = await bot.get_updates(timeout=1)

    assert updates == () and waited >= 0.9
    assert update.message is not None and update.message.text == "hej"


async def test_it_can_be_started_again_after_a_shutdown(api: FakeBotApi) -> None:
    request = AiohttpRequest()
    for _ in range(2):
        await request.initialize()
        await request.post(f"{api.base_url}{TOKEN}/getMe")
        await request.shutdown()
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{api.base_url}{TOKEN}/getMe")
    assert api.calls["getMe"] == 2
