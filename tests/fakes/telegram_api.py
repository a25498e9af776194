"""A Telegram Bot API test server on 127.0.0.1, for running the bot through PTB's real HTTP stack.

Telegram cannot be reached from tests, so the bot talks to `FakeBotApi` instead::

    async with FakeBotApi() as api:
        application = Application.builder().token(api.token).base_url(api.base_url).build()
        ...
        api.user_text(42, "/start")
        replies = await api.wait_for_messages(42, count=1)

It answers the Bot API methods the bot uses with the documented JSON, validates their parameters
with Telegram's error descriptions (`tests.fakes.bot_api_requests`), keeps chats, messages and
updates like Telegram (`tests.fakes.bot_api_methods`), and can apply Telegram's flood limits.
"""

from __future__ import annotations

import json
from collections import Counter
from types import TracebackType

import aiohttp
from aiohttp import web

from tests.fakes.bot_api_methods import BotApiMethods, SentMessage
from tests.fakes.bot_api_requests import ApiError, Json, RequestParams

__all__ = ["FakeBotApi", "SentMessage"]

MAX_UPLOAD_BYTES = 50 * 2**20
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class FakeBotApi(BotApiMethods):
    """A Bot API server for one bot; use as `async with FakeBotApi() as api:`.

    Point PTB at it with `token=api.token` and `base_url=api.base_url`. A wrong token answers 401,
    an unknown method 404. What the bot sends is in `sent` (see `messages_to`,
    `wait_for_messages`); what the user does comes from `user_text` and `user_presses`, fetched
    with getUpdates or posted with `deliver_webhook`. As on Telegram, a webhook may answer an update
    with one method call in its HTTP reply (`apply_webhook_reply`); its result is not returned and
    an error is only counted (`webhook_reply_errors`). `calls` counts the methods called over
    HTTP, `webhook_replies` those carried out from webhook replies. With `global_rate` (messages per second over
    all chats) or `per_chat_rate` (per chat), messages over the limit get HTTP 429 with
    `retry_after` seconds and are counted in `rejected_429` instead of being recorded.
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
        super().__init__(
            token=token,
            username=username,
            global_rate=global_rate,
            per_chat_rate=per_chat_rate,
            retry_after=retry_after,
        )
        self._runner: web.AppRunner | None = None
        self._base_url = ""
        self._failures: dict[str, list[ApiError]] = {}
        self.calls: Counter[str] = Counter()
        self.webhook_replies: Counter[str] = Counter()
        self.webhook_reply_errors: list[str] = []

    def fail_next(
        self, method: str, status: int = 500, description: str = "Internal Server Error"
    ) -> None:
        """Answer the next call of ``method`` (e.g. ``editMessageText``) with this error."""
        self._failures.setdefault(method.lower(), []).append(ApiError(status, description))

    def clear_failures(self) -> None:
        """Forget the errors queued by :meth:`fail_next`: every method answers normally again."""
        self._failures.clear()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port; port 0 picks a free one."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._base_url = f"http://{bound_host}:{bound_port}/bot"

    async def close(self) -> None:
        """Answer the long polls still waiting and stop listening."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """The URL for PTB's `base_url`, such as `http://127.0.0.1:PORT/bot`."""
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
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented interface of this test helper
    ) -> list[SentMessage]:
        """Wait until the chat has at least `count` messages and edits; return them all.

        Raises TimeoutError listing what did arrive, where else the bot wrote and how many
        updates the bot has not fetched.
        """
        if await self._wait_until(lambda: len(self.messages_to(chat_id)) >= count, timeout):
            return self.messages_to(chat_id)
        arrived = [f"{message.method} {message.text!r}" for message in self.messages_to(chat_id)]
        other_chats = sorted({message.chat_id for message in self.sent} - {chat_id})
        raise TimeoutError(
            f"chat {chat_id} got {len(arrived)} of {count} messages in {timeout:g} s: {arrived};"
            f" the bot also wrote to chats {other_chats};"
            f" {len(self._pending)} updates were not fetched by the bot"
        )

    async def deliver_webhook(
        self, update: Json, url: str | None = None, secret: str | None = None
    ) -> int:
        """POST one update to the webhook as Telegram does; return the HTTP status.

        `url` and `secret` default to those the bot gave setWebhook. A 2xx answer confirms the
        update, as on Telegram, so getWebhookInfo no longer counts it as pending.
        """
        webhook = self._webhook or {}
        target = url or webhook.get("url")
        if not target:
            raise RuntimeError("no webhook: the bot has not called setWebhook and no url was given")
        secret = secret if secret is not None else webhook.get("secret_token")
        headers = {SECRET_HEADER: secret} if secret else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, json=update, headers=headers) as response,
        ):
            status, body = response.status, await response.read()
        if 200 <= status < 300:
            confirmed = update.get("update_id")
            self._pending = [u for u in self._pending if u["update_id"] != confirmed]
            if response.content_type == "application/json":
                await self.apply_webhook_reply(json.loads(body))
        return status

    async def apply_webhook_reply(self, reply: object) -> bool:
        """Carry out the method call a webhook answered with, as Telegram does; False if none.

        Telegram tells the bot nothing of the outcome: an error is recorded in
        `webhook_reply_errors` (method and description) and otherwise ignored.
        """
        if not isinstance(reply, dict) or not isinstance(reply.get("method"), str):
            return False
        name = reply["method"]
        fields = {key: value for key, value in reply.items() if key != "method"}
        method = getattr(self, f"api_{name.lower()}", None)
        if method is None:
            self.webhook_reply_errors.append(f"{name}: Not Found")
            return True
        self.webhook_replies[name] += 1
        try:
            await method(RequestParams(fields))
        except ApiError as error:
            self.webhook_reply_errors.append(f"{name}: {error.description}")
        return True

    async def _handle(self, request: web.Request) -> web.Response:
        """Route one call to its method; errors are answered as Telegram answers them."""
        if request.match_info["token"] != self._token:
            return ApiError(401, "Unauthorized").response()
        name = request.match_info["method"].lower()
        method = getattr(self, f"api_{name}", None)
        if method is None:
            return ApiError(404, "Not Found").response()
        self.calls[request.match_info["method"]] += 1
        if self._failures.get(name):
            return self._failures[name].pop(0).response()
        try:
            result = await method(await RequestParams.read(request))
        except ApiError as error:
            return error.response()
        return web.json_response({"ok": True, "result": result})
