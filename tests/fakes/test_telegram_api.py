"""The Bot API test server, exercised through python-telegram-bot's real HTTP stack."""

import asyncio
import bisect
import datetime as dt
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakes.telegram_api import FakeBotApi, SentMessage

CHAT = 42


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons from (text, callback_data) pairs."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data)] for text, data in buttons]
    )


@asynccontextmanager
async def polling_application(
    api: FakeBotApi, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A PTB Application with the handlers, polling the test server."""
    application = Application.builder().token(api.token).base_url(api.base_url).build()
    application.add_handlers(handlers)
    updater = application.updater
    assert updater is not None
    async with application:
        await updater.start_polling(poll_interval=0)
        await application.start()
        yield application
        await updater.stop()
        await application.stop()


def busiest_second(messages: Sequence[SentMessage]) -> int:
    """The most messages recorded within any one-second window."""
    times = sorted(message.at for message in messages)
    return max(
        (bisect.bisect_left(times, start + 1) - i for i, start in enumerate(times)), default=0
    )


async def test_get_me_reports_the_configured_username(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.username, me.id, me.is_bot) == ("samverkan_test_bot", 123456, True)


async def test_send_message_with_inline_keyboard_is_recorded_with_its_keyboard(
    api: FakeBotApi, bot: Bot
) -> None:
    message = await bot.send_message(CHAT, "Hur mår du?", reply_markup=keyboard(("Bra", "q1:bra")))

    assert message.reply_markup == keyboard(("Bra", "q1:bra"))
    [sent] = api.sent
    assert (sent.method, sent.chat_id, sent.text, sent.message_id) == (
        "sendMessage",
        CHAT,
        "Hur mår du?",
        message.message_id,
    )
    assert sent.reply_markup == {"inline_keyboard": [[{"text": "Bra", "callback_data": "q1:bra"}]]}
    assert sent.button_data == ["q1:bra"]


async def test_callback_data_over_64_bytes_is_button_data_invalid(
    api: FakeBotApi, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "Fråga", reply_markup=keyboard(("Ja", "å" * 33)))

    assert api.sent == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.text(min_size=1, max_size=70))
async def test_callback_data_is_accepted_exactly_up_to_64_bytes(
    api: FakeBotApi, bot: Bot, data: str
) -> None:
    try:
        await bot.send_message(CHAT, "Fråga", reply_markup=keyboard(("Ja", data)))
        accepted = True
    except BadRequest:
        accepted = False

    assert accepted == (len(data.encode()) <= 64)


async def test_wrong_token_raises_invalid_token(api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG-token", base_url=api.base_url):
            pass


@pytest.mark.parametrize(
    ("token", "method", "status", "description"),
    [
        ("123456:WRONG-token", "getMe", 401, "Unauthorized"),
        ("123456:TEST-token", "sendDice", 404, "Not Found"),
    ],
)
async def test_wrong_token_or_unknown_method_answers_telegrams_error(
    api: FakeBotApi, token: str, method: str, status: int, description: str
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.base_url}{token}/{method}", data={"chat_id": "1"}) as response,
    ):
        answer = (response.status, await response.json())

    assert answer == (status, {"ok": False, "error_code": status, "description": description})


@pytest.mark.parametrize(
    ("text", "parse_mode", "description"),
    [
        ("", None, "message text is empty"),
        ("x" * 4097, None, "message is too long"),
        ("😀" * 2049, None, "message is too long"),
        ("rad 1<br>rad 2", "HTML", 'Unsupported start tag "br"'),
        ("<b>fet", "HTML", 'Can\'t find end tag for "b"'),
        ("<b>fet</i>", "HTML", 'Unmatched end tag "i"'),
        ("3 < 4", "HTML", "Unescaped '<'"),
        ("hej", "XML", "unsupported parse_mode"),
    ],
)
async def test_invalid_text_is_bad_request_with_telegrams_description(
    api: FakeBotApi, bot: Bot, text: str, parse_mode: str | None, description: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){re.escape(description)}"):
        await bot.send_message(CHAT, text, parse_mode=parse_mode)

    assert api.sent == []


async def test_valid_html_counts_only_visible_text(api: FakeBotApi, bot: Bot) -> None:
    text = "<b>" + "x" * 4090 + "</b> &lt;3"

    await bot.send_message(CHAT, text, parse_mode="HTML")

    assert [(m.text, m.parse_mode) for m in api.sent] == [(text, "html")]


async def test_message_ids_increase_per_chat(api: FakeBotApi, bot: Bot) -> None:
    first = await bot.send_message(1, "a")
    second = await bot.send_message(1, "b")
    other_chat = await bot.send_message(2, "c")
    from_user = api.user_text(1, "d")

    ids = [first.message_id, second.message_id, other_chat.message_id]
    assert ids + [from_user["message"]["message_id"]] == [1, 2, 1, 3]


async def test_edit_that_changes_nothing_is_not_modified(api: FakeBotApi, bot: Bot) -> None:
    question = keyboard(("Ja", "ja"))
    message = await bot.send_message(CHAT, "Fråga 1", reply_markup=question)

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Fråga 1", CHAT, message.message_id, reply_markup=question)
    edited = await bot.edit_message_reply_markup(CHAT, message.message_id)

    assert isinstance(edited, Message)
    assert (edited.text, edited.reply_markup) == ("Fråga 1", None)
    assert [(m.method, m.reply_markup) for m in api.sent] == [
        ("sendMessage", question.to_dict()),
        ("editMessageReplyMarkup", None),
    ]


async def test_deleting_a_message_twice_is_not_found(api: FakeBotApi, bot: Bot) -> None:
    message = await bot.send_message(CHAT, "Påminnelse")

    assert await bot.delete_message(CHAT, message.message_id) is True
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(CHAT, message.message_id)
    assert api.deleted == [(CHAT, message.message_id)]


async def test_uploaded_photo_is_recorded_with_its_caption(api: FakeBotApi, bot: Bot) -> None:
    message = await bot.send_photo(CHAT, photo=b"\x89PNG\r\n\x1a\n" + bytes(100), caption="Diagram")

    assert (message.caption, message.photo[0].width) == ("Diagram", 640)
    assert [(m.method, m.text) for m in api.sent] == [("sendPhoto", "Diagram")]


async def test_commands_are_kept_per_language(bot: Bot) -> None:
    await bot.set_my_commands([("start", "Börja"), ("hjalp", "Hjälp")])
    await bot.set_my_commands([("start", "Start")], language_code="en")

    swedish = [(c.command, c.description) for c in await bot.get_my_commands()]
    english = [(c.command, c.description) for c in await bot.get_my_commands(language_code="en")]
    await bot.delete_my_commands()

    assert swedish == [("start", "Börja"), ("hjalp", "Hjälp")]
    assert english == [("start", "Start")]
    assert await bot.get_my_commands() == ()


async def test_command_with_capitals_is_invalid(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Start", "Börja")])


async def test_get_updates_waits_for_an_update_and_offset_confirms_it(
    api: FakeBotApi, bot: Bot
) -> None:
    long_poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not long_poll.done()

    update = api.user_text(CHAT, "hej")
    [received] = await asyncio.wait_for(long_poll, 1)
    again = await bot.get_updates(timeout=0)
    after_confirming = await bot.get_updates(offset=received.update_id + 1, timeout=0)

    assert received.message is not None
    assert (received.update_id, received.message.text) == (update["update_id"], "hej")
    assert [u.update_id for u in again] == [received.update_id]
    assert after_confirming == ()


async def test_get_updates_returns_empty_after_its_timeout(bot: Bot) -> None:
    started = time.monotonic()

    updates = await bot.get_updates(timeout=dt.timedelta(seconds=0.3))

    assert updates == ()
    assert 0.3 <= time.monotonic() - started < 1.5


async def test_get_updates_while_a_webhook_is_set_is_a_conflict(bot: Bot) -> None:
    await bot.set_webhook("https://example.org/telegram/webhook")

    with pytest.raises(Exception, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates(timeout=0)


async def test_user_text_reaches_a_polling_handler_and_its_reply_arrives(api: FakeBotApi) -> None:
    async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_user is not None
        await update.message.reply_text(f"Hej {update.effective_user.first_name}! {context.args}")

    async with polling_application(api, CommandHandler("start", greet)):
        api.user_text(CHAT, "/start abc123", first_name="Lina")
        replies = await api.wait_for_messages(CHAT, 1)

    assert [(m.method, m.text) for m in replies] == [("sendMessage", "Hej Lina! ['abc123']")]


async def test_button_press_arrives_as_a_callback_query(api: FakeBotApi) -> None:
    async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Tack")
        await query.edit_message_text(f"Du valde {query.data}")

    async with polling_application(api, CallbackQueryHandler(choose)) as application:
        question = keyboard(("Bra", "q1:bra"), ("Dåligt", "q1:daligt"))
        message = await application.bot.send_message(CHAT, "Hur mår du?", reply_markup=question)
        api.user_presses(CHAT, message.message_id, "q1:daligt")
        messages = await api.wait_for_messages(CHAT, 2)

    assert [(m.method, m.text, m.reply_markup) for m in messages] == [
        ("sendMessage", "Hur mår du?", question.to_dict()),
        ("editMessageText", "Du valde q1:daligt", None),
    ]
    assert list(api.callback_answers.values()) == ["Tack"]


async def test_pressing_a_button_the_message_lacks_is_refused(api: FakeBotApi, bot: Bot) -> None:
    message = await bot.send_message(CHAT, "Fråga", reply_markup=keyboard(("Ja", "ja")))

    with pytest.raises(LookupError, match=r"has no button 'nej', only \['ja'\]"):
        api.user_presses(CHAT, message.message_id, "nej")


async def test_burst_over_global_rate_gets_retry_after_without_rate_limiter() -> None:
    api = FakeBotApi(global_rate=30, retry_after=3)
    async with api, Bot(api.token, base_url=api.base_url) as bot:
        for n in range(30):
            await bot.send_message(1000 + n, f"{n}")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(2000, "one too many")

    assert caught.value.retry_after == dt.timedelta(seconds=3)
    assert (len(api.sent), api.rejected_429) == (30, 1)


async def test_per_chat_rate_limits_each_chat_on_its_own() -> None:
    async with FakeBotApi(per_chat_rate=1) as api, Bot(api.token, base_url=api.base_url) as bot:
        await bot.send_message(1, "a")
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "b")
        await bot.send_message(2, "c")

    assert [(m.chat_id, m.text) for m in api.sent] == [(1, "a"), (2, "c")]


async def test_rate_limiter_delivers_every_message_once_within_global_rate() -> None:
    async with FakeBotApi(global_rate=30) as api:
        builder = Application.builder().token(api.token).base_url(api.base_url)
        application = builder.rate_limiter(AIORateLimiter(max_retries=3)).updater(None).build()
        async with application:
            sends = (application.bot.send_message(100 + n % 7, f"{n}") for n in range(60))
            await asyncio.gather(*sends)

    assert sorted(int(m.text or "") for m in api.sent) == list(range(60))
    assert api.rejected_429 > 0
    assert busiest_second(api.sent) <= 30


async def test_webhook_delivery_posts_the_update_with_the_secret_header(
    api: FakeBotApi, bot: Bot, aiohttp_server: Any
) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/telegram/webhook", webhook)
    server = await aiohttp_server(receiver)
    await bot.set_webhook(str(server.make_url("/telegram/webhook")), secret_token="hemligt-123")

    update = api.user_text(CHAT, "hej")
    status = await api.deliver_webhook(update)
    info = await bot.get_webhook_info()

    assert status == 200
    assert received == [("hemligt-123", update)]
    assert info.pending_update_count == 0


async def test_wait_for_messages_timeout_tells_what_arrived(api: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(7, "till någon annan")
    api.user_text(CHAT, "/start")

    with pytest.raises(TimeoutError) as caught:
        await api.wait_for_messages(CHAT, 1, timeout=0.1)

    assert str(caught.value) == (
        "chat 42 got 0 of 1 messages in 0.1 s: []; the bot also wrote to chats [7];"
        " 1 updates were not fetched by the bot"
    )


async def test_chat_that_blocked_the_bot_is_forbidden(api: FakeBotApi, bot: Bot) -> None:
    api.blocked.add(CHAT)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "Påminnelse")
