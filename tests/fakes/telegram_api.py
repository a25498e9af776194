"""A Telegram Bot API test server on 127.0.0.1, for running the bot through PTB's real HTTP stack.

`FakeBotApi` answers the Bot API methods the bot uses with the documented JSON, validates their
parameters with Telegram's error descriptions, records what the bot sends (`sent`), plays a user
(`user_text`, `user_presses`) through `getUpdates` or a webhook (`deliver_webhook`) and, when
configured, applies Telegram's flood limits with HTTP 429 and `retry_after`.

Deliberate differences from Telegram: plain `http://` webhook URLs are accepted (tests listen on
loopback); `text` in `sent` is the raw text as the bot sent it, markup included; HTML is checked for
Telegram's tag set and balance, Markdown is not parsed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji".split()
)
BUTTON_ACTIONS = frozenset(
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat"
    " switch_inline_query_chosen_chat copy_text callback_game pay".split()
)
COMMAND_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
Json = dict[str, Any]


@dataclass(frozen=True)
class SentMessage:
    """One message or edit the server accepted from the bot."""

    method: str
    chat_id: int
    text: str | None
    reply_markup: Json | None
    message_id: int
    at: float
    parse_mode: str | None = None
    photo: bytes | str | None = None

    @property
    def button_data(self) -> list[str]:
        """The callback_data of every inline button, row by row."""
        return _callback_data(self.reply_markup)


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional response parameters."""

    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def response(self) -> web.Response:
        """The JSON error answer Telegram gives."""
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.status)


def bad_request(description: str) -> ApiError:
    """A 400 error with Telegram's `Bad Request: ` prefix."""
    return ApiError(400, f"Bad Request: {description}")


class _Params:
    """The fields of one call: query string plus form, multipart or JSON body."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._fields = fields

    @classmethod
    async def read(cls, request: web.Request) -> _Params:
        """Collect the fields of a request the way the Bot API accepts them."""
        fields: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            fields.update(body if isinstance(body, dict) else {})
        elif request.body_exists:
            fields.update(await request.post())
        return cls(fields)

    def text(self, name: str, *, missing: str | None = None) -> str | None:
        """A string field; `missing` is the description of the error when it is absent."""
        value = self._fields.get(name)
        if value is None or value == "" or isinstance(value, web.FileField):
            if missing:
                raise bad_request(missing)
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, *, missing: str | None = None, invalid: str = "") -> int | None:
        """An integer field, sent as a decimal string or a JSON number."""
        value = self.text(name, missing=missing)
        try:
            return None if value is None else int(value)
        except ValueError:
            raise bad_request(invalid or f"invalid {name} specified") from None

    def number(self, name: str) -> float:
        """A non-negative number field, 0 when absent or invalid."""
        try:
            return max(0.0, float(self.text(name) or 0))
        except ValueError:
            return 0.0

    def flag(self, name: str) -> bool:
        """A boolean field, sent as `true`/`false`."""
        return (self.text(name) or "").lower() in {"true", "1"}

    def decoded(self, name: str, *, invalid: str) -> Any:
        """A field holding a JSON object or array, None when absent."""
        value = self._fields.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(invalid) from None

    def upload(self, name: str) -> bytes | str | None:
        """A file field: uploaded bytes (directly or via attach://), or a file_id or URL."""
        value = self._fields.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self._fields.get(value.removeprefix("attach://"))
        if isinstance(value, web.FileField):
            return value.file.read()
        return value or None


class _SlidingWindow:
    """Admits at most `rate` events per second, counted over a sliding window."""

    def __init__(self, rate: float) -> None:
        self._span = max(1.0, 1.0 / rate)
        self._capacity = rate * self._span
        self._times: deque[float] = deque()

    def admits(self, now: float) -> bool:
        """Whether one more event at `now` stays within the rate."""
        while self._times and self._times[0] <= now - self._span:
            self._times.popleft()
        return len(self._times) + 1 <= self._capacity

    def add(self, now: float) -> None:
        """Count an event at `now`."""
        self._times.append(now)


class _TelegramHtml(HTMLParser):
    """Checks text with parse_mode HTML against Telegram's rules and collects its visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.visible: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Only Telegram's tags may open."""
        if tag not in HTML_TAGS:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """An end tag must close the innermost open tag."""
        if not self.open_tags or self.open_tags[-1] != tag:
            raise bad_request(f'can\'t parse entities: Unmatched end tag "{tag}"')
        self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        """Plain text may not contain an unescaped '<'."""
        if "<" in data:
            raise bad_request("can't parse entities: Unescaped '<' (use &lt;)")
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        """Named entities count as one character."""
        self.visible.append("&")

    def handle_charref(self, name: str) -> None:
        """Numeric entities count as one character."""
        self.visible.append("&")


def _check_text(text: str, parse_mode: str | None, limit: int, too_long: str) -> None:
    """Raise Telegram's error when text is malformed HTML or longer than `limit` characters."""
    visible = text
    if parse_mode == "html":
        parser = _TelegramHtml()
        parser.feed(text)
        parser.close()
        if parser.open_tags:
            tag = parser.open_tags[-1]
            raise bad_request(f"can't parse entities: Can't find end tag for \"{tag}\"")
        visible = "".join(parser.visible)
    if len(visible.encode("utf-16-le")) // 2 > limit:
        raise bad_request(too_long)


def _parse_mode(params: _Params) -> str | None:
    """The parse_mode, lower-cased, if any."""
    mode = params.text("parse_mode")
    if mode is not None and mode.lower() not in PARSE_MODES:
        raise bad_request("unsupported parse_mode")
    return mode.lower() if mode else None


def _reply_markup(params: _Params) -> Json | None:
    """The reply_markup object, with its inline keyboard checked as Telegram does."""
    invalid = "can't parse reply keyboard markup JSON object"
    markup = params.decoded("reply_markup", invalid=invalid)
    if markup is not None and not isinstance(markup, dict):
        raise bad_request(invalid)
    rows = (markup or {}).get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" must be an Array of Arrays')
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not BUTTON_ACTIONS & button.keys():
            raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    return markup


def _callback_data(markup: Json | None) -> list[str]:
    """The callback_data of every button of an inline keyboard."""
    rows = (markup or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row if "callback_data" in button]


class FakeBotApi:
    """A Bot API server for one bot on 127.0.0.1; use as `async with FakeBotApi() as api:`.

    Point PTB at it with `base_url=api.base_url` and `token=api.token`. `global_rate` and
    `per_chat_rate` (messages per second, None for no limit) make sends and edits over the limit
    fail with HTTP 429 and `retry_after`; those are counted in `rejected_429`, not recorded in
    `sent`. Chats are private chats whose id is the user's id; negative ids are groups.
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST-token",
        username: str = "samverkan_test_bot",
        global_rate: float | None = None,
        per_chat_rate: float | None = None,
        retry_after: int = 1,
    ) -> None:
        self._token, self._username, self._retry_after = token, username, retry_after
        self._global_window = _SlidingWindow(global_rate) if global_rate else None
        self._chat_windows: defaultdict[int, _SlidingWindow] | None = (
            defaultdict(lambda: _SlidingWindow(per_chat_rate)) if per_chat_rate else None
        )
        self.sent: list[SentMessage] = []
        self.rejected_429 = 0
        self.deleted: list[tuple[int, int]] = []
        self.callback_answers: dict[str, str | None] = {}
        self.blocked: set[int] = set()
        self._pending: list[Json] = []
        self._next_update_id = 1
        self._last_message_id: defaultdict[int, int] = defaultdict(int)
        self._messages: dict[tuple[int, int], Json] = {}
        self._users: dict[int, Json] = {}
        self._open_queries: dict[str, int] = {}
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._webhook: Json | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._base_url = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 picks a free port)."""
        app = web.Application(client_max_size=50 * 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._base_url = "http://{}:{}/bot".format(*self._runner.addresses[0][:2])

    async def close(self) -> None:
        """Answer waiting long polls and stop listening."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """The URL for PTB's `base_url`: PTB appends the token and `/method`."""
        return self._base_url

    @property
    def token(self) -> str:
        """The one token this server accepts."""
        return self._token

    @property
    def username(self) -> str:
        """The bot's username, as getMe reports it."""
        return self._username

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Every message and edit the bot sent to one chat, in order."""
        return [message for message in self.sent if message.chat_id == chat_id]

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the chat has at least `count` messages and edits; return them all."""
        if await self._wait_until(lambda: len(self.messages_to(chat_id)) >= count, timeout):
            return self.messages_to(chat_id)
        arrived = "; ".join(f"{m.method} {m.text!r}" for m in self.messages_to(chat_id))
        others = sorted({m.chat_id for m in self.sent} - {chat_id})
        raise TimeoutError(
            f"chat {chat_id} got {len(self.messages_to(chat_id))} of {count} messages in"
            f" {timeout:g} s: [{arrived}]; other chats with messages: {others};"
            f" updates not yet fetched by the bot: {len(self._pending)}"
        )

    def user_text(
        self, chat_id: int, text: str, *, first_name: str = "Test", language_code: str = "sv"
    ) -> Json:
        """Queue and return a Message update: the user writes `text` in their private chat."""
        user = {"id": chat_id, "is_bot": False, "first_name": first_name}
        self._users[chat_id] = user | {"language_code": language_code}
        message = self._new_message(chat_id, self._users[chat_id], {"text": text})
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            length = len(command.encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._queue_update({"message": message})

    def user_presses(self, chat_id: int, message_id: int, data: str) -> Json:
        """Queue and return a CallbackQuery update: the user presses a button the bot sent."""
        message = self._messages.get((chat_id, message_id))
        if message is None or not message["from"]["is_bot"]:
            raise LookupError(f"the bot has no message {message_id} in chat {chat_id}")
        buttons = _callback_data(message.get("reply_markup"))
        if data not in buttons:
            raise LookupError(f"message {message_id} has no button {data!r}; it has {buttons}")
        query_id = f"{chat_id}-{self._next_update_id}"
        self._open_queries[query_id] = chat_id
        user = self._users.get(chat_id, {"id": chat_id, "is_bot": False, "first_name": "Test"})
        query = {"id": query_id, "from": user, "message": message, "data": data}
        return self._queue_update({"callback_query": query | {"chat_instance": str(chat_id)}})

    async def deliver_webhook(
        self, update: Json, url: str | None = None, secret: str | None = None
    ) -> int:
        """POST one update to the webhook as Telegram does; return the HTTP status."""
        webhook = self._webhook or {}
        target = url or webhook.get("url")
        if not target:
            raise RuntimeError("no webhook: the bot has not called setWebhook and no url given")
        token = secret if secret is not None else webhook.get("secret_token")
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, json=update, headers=headers) as response,
        ):
            status = response.status
        if 200 <= status < 300:
            self._pending = [u for u in self._pending if u["update_id"] != update["update_id"]]
        return status

    def _notify(self) -> None:
        """Wake everything waiting for a new update or message."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait up to `timeout` seconds for `condition`; False if it never held."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass
        return True

    def _queue_update(self, payload: Json) -> Json:
        """Give the payload the next update_id and queue it for getUpdates."""
        update = {"update_id": self._next_update_id} | payload
        self._next_update_id += 1
        self._pending.append(update)
        self._notify()
        return update

    def _chat(self, chat_id: int) -> Json:
        """The Chat object for an id."""
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": "Test group"}
        first_name = self._users.get(chat_id, {}).get("first_name", "Test")
        return {"id": chat_id, "type": "private", "first_name": first_name}

    def _new_message(self, chat_id: int, sender: Json, content: Json) -> Json:
        """Store and return a new message in the chat with the chat's next message_id."""
        self._last_message_id[chat_id] += 1
        message_id = self._last_message_id[chat_id]
        message = {"message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id)}
        self._messages[chat_id, message_id] = message | {"from": sender} | content
        return self._messages[chat_id, message_id]

    async def _handle(self, request: web.Request) -> web.Response:
        """Route one call to its method, answering errors as Telegram does."""
        if request.match_info["token"] != self._token:
            return ApiError(401, "Unauthorized").response()
        method = getattr(self, f"_api_{request.match_info['method'].lower()}", None)
        if method is None:
            return ApiError(404, "Not Found").response()
        try:
            result = await method(await _Params.read(request))
        except ApiError as error:
            return error.response()
        return web.json_response({"ok": True, "result": result})

    def _admit(self, chat_id: int) -> None:
        """Let one outgoing message through, or raise 403 (blocked) or 429 (flood limit)."""
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        now = time.monotonic()
        windows = [self._global_window] if self._global_window else []
        windows += [self._chat_windows[chat_id]] if self._chat_windows is not None else []
        if not all(window.admits(now) for window in windows):
            self.rejected_429 += 1
            description = f"Too Many Requests: retry after {self._retry_after}"
            raise ApiError(429, description, {"retry_after": self._retry_after})
        for window in windows:
            window.add(now)

    def _record(self, method: str, message: Json, parse_mode: str | None, **extra: Any) -> Json:
        """Record an accepted message or edit in `sent` and return the Message object."""
        text = message.get("text", message.get("caption"))
        markup = message.get("reply_markup")
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        self.sent.append(
            SentMessage(method, chat_id, text, markup, message_id, time.monotonic(), parse_mode)
        )
        self._notify()
        return message

    def _chat_id(self, params: _Params) -> int:
        """The chat_id parameter; usernames are unknown here."""
        chat_id = params.integer("chat_id", missing="chat_id is empty", invalid="chat not found")
        assert chat_id is not None
        return chat_id

    def _stored_message(self, params: _Params, not_found: str) -> Json:
        """The message that chat_id and message_id point to."""
        chat_id = self._chat_id(params)
        message_id = params.integer("message_id", missing="message identifier is not specified")
        message = self._messages.get((chat_id, message_id or 0))
        if message is None:
            raise bad_request(not_found)
        return message

    async def _api_getme(self, params: _Params) -> Json:
        """getMe: the bot's User."""
        return self._bot_user() | {"can_join_groups": True, "supports_inline_queries": False}

    def _bot_user(self) -> Json:
        """The bot as the `from` of its messages."""
        bot_id = int(self._token.split(":", 1)[0])
        return {"id": bot_id, "is_bot": True, "first_name": "Test bot", "username": self._username}

    async def _api_getupdates(self, params: _Params) -> list[Json]:
        """getUpdates: confirm updates below offset, then long-poll up to timeout seconds."""
        if self._webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        await self._wait_until(lambda: bool(self._pending), params.number("timeout"))
        return self._pending[:limit]

    async def _api_setwebhook(self, params: _Params) -> bool:
        """setWebhook: an empty url removes the webhook."""
        url, secret = params.text("url"), params.text("secret_token")
        if secret is not None and not SECRET_TOKEN_PATTERN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        if url and not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self._webhook = {"url": url, "secret_token": secret} if url else None
        return True

    async def _api_deletewebhook(self, params: _Params) -> bool:
        """deleteWebhook, optionally dropping pending updates."""
        return await self._api_setwebhook(
            _Params({"drop_pending_updates": params.flag("drop_pending_updates")})
        )

    async def _api_getwebhookinfo(self, params: _Params) -> Json:
        """getWebhookInfo: the url ('' in polling mode) and the pending update count."""
        url = (self._webhook or {}).get("url", "")
        return {
            "url": url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _api_sendmessage(self, params: _Params) -> Json:
        """sendMessage: text up to 4096 characters, parse_mode, reply_markup."""
        chat_id = self._chat_id(params)
        text = params.text("text", missing="message text is empty")
        assert text is not None
        parse_mode = _parse_mode(params)
        _check_text(text, parse_mode, MAX_TEXT_LENGTH, "message is too long")
        markup = _reply_markup(params)
        self._admit(chat_id)
        content = {"text": text} | ({"reply_markup": markup} if markup else {})
        return self._record(
            "sendMessage", self._new_message(chat_id, self._bot_user(), content), parse_mode
        )

    async def _api_sendphoto(self, params: _Params) -> Json:
        """sendPhoto: an upload, file_id or URL with an optional caption."""
        chat_id = self._chat_id(params)
        photo = params.upload("photo")
        if photo is None:
            raise bad_request("there is no photo in the request")
        caption, parse_mode = params.text("caption"), _parse_mode(params)
        _check_text(caption or "", parse_mode, MAX_CAPTION_LENGTH, "message caption is too long")
        markup = _reply_markup(params)
        self._admit(chat_id)
        size = {
            "file_id": f"photo-{len(self.sent)}",
            "file_unique_id": f"p{len(self.sent)}",
            "width": 640,
            "height": 480,
        }
        content = (
            {"photo": [size]}
            | ({"caption": caption} if caption else {})
            | ({"reply_markup": markup} if markup else {})
        )
        return self._record(
            "sendPhoto", self._new_message(chat_id, self._bot_user(), content), parse_mode
        )

    async def _api_editmessagetext(self, params: _Params) -> Json:
        """editMessageText of a message the bot sent."""
        message = self._stored_message(params, "message to edit not found")
        text = params.text("text", missing="message text is empty")
        assert text is not None
        parse_mode = _parse_mode(params)
        _check_text(text, parse_mode, MAX_TEXT_LENGTH, "message is too long")
        return self._edit("editMessageText", message, text, _reply_markup(params), parse_mode)

    async def _api_editmessagereplymarkup(self, params: _Params) -> Json:
        """editMessageReplyMarkup: a new inline keyboard, or none."""
        message = self._stored_message(params, "message to edit not found")
        return self._edit(
            "editMessageReplyMarkup", message, message.get("text"), _reply_markup(params), None
        )

    def _edit(
        self,
        method: str,
        message: Json,
        text: str | None,
        markup: Json | None,
        parse_mode: str | None,
    ) -> Json:
        """Apply an edit unless it changes nothing, as Telegram refuses those."""
        if not message["from"]["is_bot"]:
            raise bad_request("message can't be edited")
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        self._admit(message["chat"]["id"])
        edited = {k: v for k, v in message.items() if k != "reply_markup"} | {
            "text": text,
            "edit_date": int(time.time()),
        }
        edited |= {"reply_markup": markup} if markup else {}
        self._messages[edited["chat"]["id"], edited["message_id"]] = edited
        return self._record(method, edited, parse_mode)

    async def _api_answercallbackquery(self, params: _Params) -> bool:
        """answerCallbackQuery, once per query."""
        query_id = params.text("callback_query_id", missing="query id is empty")
        if query_id not in self._open_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        del self._open_queries[query_id]
        self.callback_answers[query_id] = params.text("text")
        return True

    async def _api_deletemessage(self, params: _Params) -> bool:
        """deleteMessage."""
        message = self._stored_message(params, "message to delete not found")
        key = (message["chat"]["id"], message["message_id"])
        del self._messages[key]
        self.deleted.append(key)
        return True

    async def _api_setmycommands(self, params: _Params) -> bool:
        """setMyCommands for a scope and language."""
        commands = params.decoded("commands", invalid="can't parse commands JSON object")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request('parameter "commands" is required')
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_PATTERN.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._command_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _api_getmycommands(self, params: _Params) -> list[Json]:
        """getMyCommands for a scope and language."""
        return self._commands.get(self._command_key(params), [])

    async def _api_deletemycommands(self, params: _Params) -> bool:
        """deleteMyCommands for a scope and language."""
        self._commands.pop(self._command_key(params), None)
        return True

    def _command_key(self, params: _Params) -> tuple[str, str]:
        """Commands are kept per scope and language_code."""
        scope = params.decoded("scope", invalid="can't parse BotCommandScope JSON object")
        return json.dumps(scope or {"type": "default"}, sort_keys=True), params.text(
            "language_code"
        ) or ""

    async def _api_close(self, params: _Params) -> bool:
        """close: always succeeds here."""
        return True

    async def _api_logout(self, params: _Params) -> bool:
        """logOut: always succeeds here."""
        return True
