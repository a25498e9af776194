"""python-telegram-bot's request layer on aiohttp: one client session, PTB's timeouts and errors.

PTB's default layer (``HTTPXRequest``) costs about 1.8 ms of CPU per Bot API call here (httpx,
httpcore and anyio around every request); this one does the same work on the aiohttp client the
service already runs on. It posts the parameters as one JSON object (``application/json``, which
the Bot API takes as it takes a form: measured, encoding the form's fields cost more than the
rest of the call), or as ``multipart/form-data`` when a file is uploaded, as PTB does. Timeouts map to :class:`telegram.error.TimedOut` and every other client error
to :class:`telegram.error.NetworkError`, as PTB's own layer does, so the rate limiter's retries
and the bot's error handling work unchanged. ``read_timeout`` is PTB's, so getUpdates' long
poll (PTB adds its ``timeout`` to the read timeout) is not cut short.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_POOL_TIMEOUT_SECONDS = 1.0
MEDIA_WRITE_TIMEOUT_SECONDS = 20.0


class AiohttpRequest(BaseRequest):
    """A :class:`telegram.request.BaseRequest` on one shared :class:`aiohttp.ClientSession`.

    ``connection_pool_size`` is the most connections open at once (PTB's default for bot
    calls is 256, for getUpdates 1); ``read_timeout``, ``write_timeout``, ``connect_timeout``
    and ``pool_timeout`` are the defaults for calls that do not give their own, in seconds
    (None: no limit). The session is made by :meth:`initialize` and closed by :meth:`shutdown`,
    which PTB calls with the application's own start and stop.
    """

    __slots__ = ("_connection_pool_size", "_session", "_timeouts")

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
        write_timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT_SECONDS,
    ) -> None:
        self._connection_pool_size = connection_pool_size
        self._timeouts = {
            "read": read_timeout,
            "write": write_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
        }
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, which PTB adds getUpdates' ``timeout`` to."""
        return self._timeouts["read"]

    async def initialize(self) -> None:
        """Open the client session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connection_pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        """Close the client session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One call: the HTTP status and the body; TimedOut or NetworkError when it failed."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        uploads = bool(request_data and request_data.contains_files)
        timeout = aiohttp.ClientTimeout(
            sock_read=self._seconds(read_timeout, "read"),
            sock_connect=self._seconds(connect_timeout, "connect"),
            connect=_sum(
                self._seconds(pool_timeout, "pool"), self._seconds(connect_timeout, "connect")
            ),
            total=None,
        )
        write = self._seconds(write_timeout, "write")
        if uploads and isinstance(write_timeout, DefaultValue):
            write = MEDIA_WRITE_TIMEOUT_SECONDS
        try:
            async with asyncio.timeout(_sum(write, timeout.sock_read, timeout.connect)):
                async with self._session.request(
                    method, url, timeout=timeout, **_body(request_data)
                ) as response:
                    return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    def _seconds(self, given: ODVInput[float], name: str) -> float | None:
        """A call's own timeout, or this layer's default when the call gave none."""
        return self._timeouts[name] if isinstance(given, DefaultValue) else given


def _sum(*seconds: float | None) -> float | None:
    """The sum of some timeouts; None (no limit) when any of them is None."""
    total = 0.0
    for part in seconds:
        if part is None:
            return None
        total += part
    return total


def _body(request_data: RequestData | None) -> dict[str, Any]:
    """The body: the parameters as JSON, or a multipart form with the files PTB uploads."""
    if request_data is None:
        return {}
    if not request_data.contains_files:
        return {"json": request_data.parameters}
    form = aiohttp.FormData(request_data.json_parameters, quote_fields=False)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return {"data": form}
