"""Reading and checking Bot API requests the way Telegram does, for the Bot API test server.

PTB posts form-encoded fields, or multipart when it uploads a file: strings raw, everything else
(numbers, booleans, reply_markup, commands) as JSON. The Bot API also takes query strings and JSON
bodies; `RequestParams` reads all of these. The checks raise `ApiError` with Telegram's own error
descriptions, so the bot meets the errors it would meet in production.

HTML (parse_mode HTML) is checked for Telegram's tag set, nesting and unescaped '<'; Markdown is
not parsed, so its length is counted with the markup included.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

Json = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100
PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"code", "pre", "blockquote", "tg-emoji"}
)
BUTTON_ACTIONS = frozenset(
    {"url", "callback_data", "web_app", "login_url", "copy_text", "callback_game", "pay"}
    | {"switch_inline_query", "switch_inline_query_current_chat", "switch_inline_query_chosen_chat"}
)
COMMAND_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional response parameters."""

    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        """The JSON error answer Telegram gives."""
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.status)


def bad_request(description: str) -> ApiError:
    """A 400 error with Telegram's `Bad Request: ` prefix."""
    return ApiError(400, f"Bad Request: {description}")


class RequestParams:
    """The parameters of one call, from the query string and the form, multipart or JSON body."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._fields = fields

    @classmethod
    async def read(cls, request: web.Request) -> RequestParams:
        """Collect the parameters of a request in any of the encodings the Bot API accepts."""
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
        """A string; `missing` is the error description when it is absent, else None."""
        value = self._fields.get(name)
        if value is None or value == "" or isinstance(value, web.FileField):
            if missing:
                raise bad_request(missing)
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def required_text(self, name: str, *, missing: str) -> str:
        """A string that must be present."""
        value = self.text(name, missing=missing)
        assert value is not None
        return value

    def integer(self, name: str, *, missing: str | None = None, invalid: str = "") -> int | None:
        """An integer, sent as a decimal string or a JSON number."""
        value = self.text(name, missing=missing)
        try:
            return None if value is None else int(value)
        except ValueError:
            raise bad_request(invalid or f"invalid {name} specified") from None

    def seconds(self, name: str) -> float:
        """A non-negative number of seconds, 0 when absent or invalid."""
        try:
            return max(0.0, float(self.text(name) or 0))
        except ValueError:
            return 0.0

    def flag(self, name: str) -> bool:
        """A boolean, sent as `true` or `false`."""
        return (self.text(name) or "").lower() in {"true", "1"}

    def decoded(self, name: str, *, invalid: str) -> Any:
        """A JSON object or array, None when absent."""
        value = self._fields.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(invalid) from None

    def upload(self, name: str) -> bytes | str | None:
        """A file: the uploaded bytes (as a part of its own or via attach://), a file_id or URL."""
        value = self._fields.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self._fields.get(value.removeprefix("attach://"))
        if isinstance(value, web.FileField):
            return value.file.read()
        return value or None


class SlidingWindow:
    """A flood limit: at most `rate` events per second, counted over a sliding window.

    Rates below one per second count over a longer window: 1/3 allows one event in any 3 seconds.
    """

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
            raise bad_request("can't parse entities: Unescaped '<', use &lt;")
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        """A named entity is one character."""
        self.visible.append("&")

    def handle_charref(self, name: str) -> None:
        """A numeric entity is one character."""
        self.visible.append("&")


def check_text(text: str, parse_mode: str | None, limit: int, too_long: str) -> None:
    """Raise Telegram's error for malformed HTML or text over `limit` UTF-16 code units."""
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


def read_parse_mode(params: RequestParams) -> str | None:
    """The parse_mode, lower-cased, if any."""
    mode = params.text("parse_mode")
    if mode is not None and mode.lower() not in PARSE_MODES:
        raise bad_request("unsupported parse_mode")
    return mode.lower() if mode else None


def read_reply_markup(params: RequestParams) -> Json | None:
    """The reply_markup, its inline keyboard checked as Telegram checks it."""
    invalid = "can't parse reply keyboard markup JSON object"
    markup = params.decoded("reply_markup", invalid=invalid)
    if markup is not None and not isinstance(markup, dict):
        raise bad_request(invalid)
    rows = (markup or {}).get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not BUTTON_ACTIONS & button.keys():
            raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    return markup


def callback_data(markup: Json | None) -> list[str]:
    """The callback_data of every button of an inline keyboard, row by row."""
    rows = (markup or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row if "callback_data" in button]


def read_commands(params: RequestParams) -> list[Json]:
    """The commands of setMyCommands: 1–32 of [a-z0-9_] each, with a 1–256 character description."""
    commands = params.decoded("commands", invalid="can't parse commands JSON object")
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise bad_request('parameter "commands" is required')
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("BOT_COMMAND_INVALID")
        if not COMMAND_PATTERN.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return [{"command": c["command"], "description": c["description"]} for c in commands]


def commands_key(params: RequestParams) -> tuple[str, str]:
    """Commands are kept per scope and language_code."""
    scope = params.decoded("scope", invalid="can't parse BotCommandScope JSON object")
    scope_key = json.dumps(scope or {"type": "default"}, sort_keys=True)
    return scope_key, params.text("language_code") or ""


def read_secret_token(params: RequestParams) -> str | None:
    """setWebhook's secret_token: 1–256 characters of A-Z, a-z, 0-9, _ and -."""
    secret = params.text("secret_token")
    if secret is not None and not SECRET_TOKEN_PATTERN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    return secret
