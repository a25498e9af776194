"""The baseline web server: a plain aiohttp "hello" handler, served as `samverkan serve` serves.

Run: ``python -m bench.hello PORT``. One process, ``web.run_app`` on 127.0.0.1 without an
access log, like the service, so the difference in figures is the service's own work.
"""

from __future__ import annotations

import sys

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    """200 with a short text."""
    return web.Response(text="Hello, world")


def main(port: int) -> None:
    """Serve ``hello`` at / on 127.0.0.1:``port`` until SIGTERM."""
    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        shutdown_timeout=30,
        access_log=None,
        print=lambda msg: print(msg.splitlines()[0], flush=True),
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
