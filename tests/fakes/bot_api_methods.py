"""The Telegram side of one bot for the Bot API test server: chats, updates and the API methods.

`BotApiMethods` keeps what Telegram keeps for a bot (messages per chat, pending updates, the
webhook, the command lists), implements the Bot API methods over it as `api_<method>` coroutines
and plays the user (`user_text`, `user_presses`). The HTTP server around it is
`tests.fakes.telegram_api.FakeBotApi`.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from tests.fakes.bot_api_requests import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    ApiError,
    Json,
    RequestParams,
    SlidingWindow,
    bad_request,
    callback_data,
    check_text,
    commands_key,
    read_commands,
    read_parse_mode,
    read_reply_markup,
    read_secret_token,
)

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the"
    " same as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete"
    " the webhook first"
)


@dataclass(frozen=True)
class SentMessage:
    """One message or edit accepted from the bot; `at` is its `time.monotonic()`."""

    method: str
    chat_id: int
    text: str | None
    reply_markup: Json | None
    message_id: int
    at: float
    parse_mode: str | None = None

    @property
    def button_data(self) -> list[str]:
        """The callback_data of every inline button, row by row."""
        return callback_data(self.reply_markup)


class BotApiMethods:
    """The Bot API methods of one bot, over the state Telegram keeps for it.

    Chats with a positive id are private chats with the user of that id; negative ids are groups.
    Sends and edits pass the flood limits (`global_rate` over all chats and `per_chat_rate` per
    chat, in messages per second) or fail with 429 and `retry_after`, counted in `rejected_429`.
    Accepted ones are appended to `sent`. Chats in `blocked` answer 403, as when the user has
    blocked the bot.
    """

    def __init__(
        self,
        *,
        token: str,
        username: str,
        global_rate: float | None,
        per_chat_rate: float | None,
        retry_after: int,
    ) -> None:
        self._token, self._username, self._retry_after = token, username, retry_after
        self._global_window = SlidingWindow(global_rate) if global_rate else None
        self._per_chat_rate = per_chat_rate
        self._chat_windows: dict[int, SlidingWindow] = {}
        self.sent: list[SentMessage] = []
        self.rejected_429 = 0
        self.blocked: set[int] = set()
        self.deleted: list[tuple[int, int]] = []
        self.callback_answers: dict[str, str | None] = {}
        self._pending: list[Json] = []
        self._next_update_id = 1
        self._last_message_id: defaultdict[int, int] = defaultdict(int)
        self._messages: dict[tuple[int, int], Json] = {}
        self._users: dict[int, Json] = {}
        self._open_queries: set[str] = set()
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._webhook: Json | None = None
        self._changed = asyncio.Event()
        self._closing = False

    def user_text(
        self, chat_id: int, text: str, *, first_name: str = "Test", language_code: str = "sv"
    ) -> Json:
        """Queue and return a Message update: the user writes `text` in their private chat."""
        user = {"id": chat_id, "is_bot": False, "first_name": first_name}
        self._users[chat_id] = user | {"language_code": language_code}
        content: Json = {"text": text}
        if text.startswith("/"):
            length = _utf16_length(text.split(maxsplit=1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message = self._new_message(chat_id, self._users[chat_id], content)
        return self._queue_update({"message": message})

    def user_presses(self, chat_id: int, message_id: int, data: str) -> Json:
        """Queue and return a CallbackQuery update: the user presses a button the bot sent."""
        message = self._messages.get((chat_id, message_id))
        if message is None or not message["from"]["is_bot"]:
            raise LookupError(f"the bot has no message {message_id} in chat {chat_id}")
        buttons = callback_data(message.get("reply_markup"))
        if data not in buttons:
            raise LookupError(f"message {message_id} has no button {data!r}, only {buttons}")
        query_id = f"{chat_id}-{self._next_update_id}"
        self._open_queries.add(query_id)
        user = self._users.get(chat_id, {"id": chat_id, "is_bot": False, "first_name": "Test"})
        query = {"id": query_id, "from": user, "message": message, "data": data}
        return self._queue_update({"callback_query": query | {"chat_instance": str(chat_id)}})

    def _notify(self) -> None:
        """Wake everything waiting for a new update or message."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, condition: Callable[[], bool], seconds: float) -> bool:
        """Wait up to `seconds` for `condition`; False if it does not hold by then."""
        deadline = time.monotonic() + seconds
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return condition()
        return True

    def _queue_update(self, payload: Json) -> Json:
        """Give the payload the next update_id and queue it for getUpdates."""
        update = {"update_id": self._next_update_id} | payload
        self._next_update_id += 1
        self._pending.append(update)
        self._notify()
        return update

    def _bot_user(self) -> Json:
        """The bot as the `from` of its messages."""
        bot_id = int(self._token.split(":", 1)[0])
        return {"id": bot_id, "is_bot": True, "first_name": "Test bot", "username": self._username}

    def _chat(self, chat_id: int) -> Json:
        """The Chat object for an id."""
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": "Test group"}
        first_name = self._users.get(chat_id, {}).get("first_name", "Test")
        return {"id": chat_id, "type": "private", "first_name": first_name}

    def _new_message(self, chat_id: int, sender: Json, content: Json) -> Json:
        """Store and return a new message with the chat's next message_id."""
        self._last_message_id[chat_id] += 1
        message_id = self._last_message_id[chat_id]
        envelope = {"message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id)}
        self._messages[chat_id, message_id] = envelope | {"from": sender} | content
        return self._messages[chat_id, message_id]

    def _admit(self, chat_id: int) -> None:
        """Let one outgoing message through, or raise 403 (blocked) or 429 (flood limit)."""
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        windows = [self._global_window] if self._global_window else []
        if self._per_chat_rate:
            windows.append(
                self._chat_windows.setdefault(chat_id, SlidingWindow(self._per_chat_rate))
            )
        now = time.monotonic()
        if not all(window.admits(now) for window in windows):
            self.rejected_429 += 1
            description = f"Too Many Requests: retry after {self._retry_after}"
            raise ApiError(429, description, {"retry_after": self._retry_after})
        for window in windows:
            window.add(now)

    def _record(self, method: str, message: Json, parse_mode: str | None) -> Json:
        """Record an accepted message or edit in `sent`; return the Message object."""
        text = message.get("text", message.get("caption"))
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        markup = message.get("reply_markup")
        at = time.monotonic()
        self.sent.append(SentMessage(method, chat_id, text, markup, message_id, at, parse_mode))
        self._notify()
        return message

    def _send(self, method: str, chat_id: int, content: Json, params: RequestParams) -> Json:
        """Send a new bot message with the request's reply_markup, after the flood limits."""
        parse_mode, markup = read_parse_mode(params), read_reply_markup(params)
        self._admit(chat_id)
        content |= {"reply_markup": markup} if markup else {}
        message = self._new_message(chat_id, self._bot_user(), content)
        return self._record(method, message, parse_mode)

    def _edit(self, method: str, message: Json, changes: Json, params: RequestParams) -> Json:
        """Apply an edit to a bot message, unless it changes nothing (Telegram refuses those)."""
        parse_mode, markup = read_parse_mode(params), read_reply_markup(params)
        if not message["from"]["is_bot"]:
            raise bad_request("message can't be edited")
        unchanged = {key: message.get(key) for key in changes}
        if unchanged == changes and markup == message.get("reply_markup"):
            raise bad_request(NOT_MODIFIED)
        self._admit(message["chat"]["id"])
        edited = {key: value for key, value in message.items() if key != "reply_markup"}
        edited |= changes | {"edit_date": int(time.time())}
        edited |= {"reply_markup": markup} if markup else {}
        self._messages[edited["chat"]["id"], edited["message_id"]] = edited
        return self._record(method, edited, parse_mode)

    def _chat_id(self, params: RequestParams) -> int:
        """The chat_id parameter; usernames (@name) are unknown here."""
        chat_id = params.integer("chat_id", missing="chat_id is empty", invalid="chat not found")
        assert chat_id is not None
        return chat_id

    def _stored_message(self, params: RequestParams, not_found: str) -> Json:
        """The message that chat_id and message_id point to."""
        chat_id = self._chat_id(params)
        message_id = params.integer("message_id", missing="message identifier is not specified")
        message = self._messages.get((chat_id, message_id or 0))
        if message is None:
            raise bad_request(not_found)
        return message

    async def api_getme(self, params: RequestParams) -> Json:
        """getMe: the bot's User."""
        return self._bot_user() | {"can_join_groups": True, "supports_inline_queries": False}

    async def api_getupdates(self, params: RequestParams) -> list[Json]:
        """getUpdates: confirm updates below offset, then wait up to timeout seconds for one."""
        if self._webhook:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        await self._wait_until(lambda: bool(self._pending), params.seconds("timeout"))
        return self._pending[:limit]

    async def api_setwebhook(self, params: RequestParams) -> bool:
        """setWebhook; an empty url removes the webhook. Plain http:// is accepted for tests."""
        url, secret = params.text("url"), read_secret_token(params)
        if url and not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self._webhook = {"url": url, "secret_token": secret} if url else None
        return True

    async def api_deletewebhook(self, params: RequestParams) -> bool:
        """deleteWebhook, optionally dropping pending updates."""
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self._webhook = None
        return True

    async def api_getwebhookinfo(self, params: RequestParams) -> Json:
        """getWebhookInfo: the url ('' when polling) and the number of pending updates."""
        url = (self._webhook or {}).get("url", "")
        pending = len(self._pending)
        return {"url": url, "has_custom_certificate": False, "pending_update_count": pending}

    async def api_sendmessage(self, params: RequestParams) -> Json:
        """sendMessage: text of up to 4096 characters, parse_mode, reply_markup."""
        chat_id = self._chat_id(params)
        text = params.required_text("text", missing="message text is empty")
        check_text(text, read_parse_mode(params), MAX_TEXT_LENGTH, "message is too long")
        return self._send("sendMessage", chat_id, {"text": text}, params)

    async def api_sendphoto(self, params: RequestParams) -> Json:
        """sendPhoto: an upload, file_id or URL, with an optional caption."""
        chat_id = self._chat_id(params)
        if params.upload("photo") is None:
            raise bad_request("there is no photo in the request")
        caption = params.text("caption")
        check_text(
            caption or "",
            read_parse_mode(params),
            MAX_CAPTION_LENGTH,
            "message caption is too long",
        )
        file_id = f"photo-{chat_id}-{self._last_message_id[chat_id] + 1}"
        size = {"file_id": file_id, "file_unique_id": file_id, "width": 640, "height": 480}
        content = {"photo": [size]} | ({"caption": caption} if caption else {})
        return self._send("sendPhoto", chat_id, content, params)

    async def api_editmessagetext(self, params: RequestParams) -> Json:
        """editMessageText of a message the bot sent."""
        message = self._stored_message(params, "message to edit not found")
        text = params.required_text("text", missing="message text is empty")
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        check_text(text, read_parse_mode(params), MAX_TEXT_LENGTH, "message is too long")
        return self._edit("editMessageText", message, {"text": text}, params)

    async def api_editmessagereplymarkup(self, params: RequestParams) -> Json:
        """editMessageReplyMarkup: a new inline keyboard, or none."""
        message = self._stored_message(params, "message to edit not found")
        return self._edit("editMessageReplyMarkup", message, {}, params)

    async def api_answercallbackquery(self, params: RequestParams) -> bool:
        """answerCallbackQuery, once per query; the answer text goes to `callback_answers`."""
        query_id = params.required_text("callback_query_id", missing="query id is empty")
        if query_id not in self._open_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_queries.remove(query_id)
        self.callback_answers[query_id] = params.text("text")
        return True

    async def api_deletemessage(self, params: RequestParams) -> bool:
        """deleteMessage; the (chat_id, message_id) goes to `deleted`."""
        message = self._stored_message(params, "message to delete not found")
        key = (message["chat"]["id"], message["message_id"])
        del self._messages[key]
        self.deleted.append(key)
        return True

    async def api_setmycommands(self, params: RequestParams) -> bool:
        """setMyCommands for a scope and language."""
        self._commands[commands_key(params)] = read_commands(params)
        return True

    async def api_getmycommands(self, params: RequestParams) -> list[Json]:
        """getMyCommands for a scope and language."""
        return self._commands.get(commands_key(params), [])

    async def api_deletemycommands(self, params: RequestParams) -> bool:
        """deleteMyCommands for a scope and language."""
        self._commands.pop(commands_key(params), None)
        return True

    async def api_close(self, params: RequestParams) -> bool:
        """close: before moving the bot to another server; always succeeds here."""
        return True

    async def api_logout(self, params: RequestParams) -> bool:
        """logOut: before using a local Bot API server; always succeeds here."""
        return True


def _utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2
