"""samverkan serve: the web app, the Telegram bot (with a token) and scheduled jobs."""

from __future__ import annotations

import argparse
import asyncio
import gc

from aiohttp import web

from app.heartbeat import heartbeat_context
from app.main import create_app
from app.settings import Settings
from app.startup import check_before_serving

NAME = "serve"
HELP = "run the web app, the Telegram bot (when a token is set) and scheduled jobs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default SAMVERKAN_HOST)")
    parser.add_argument("--port", type=int, help="port (default SAMVERKAN_PORT)")


async def _freeze_heap(_app: web.Application) -> None:
    """Move what start-up made (modules, templates, mappings) out of the garbage collector's
    way: collections then only look at what requests create (gc.freeze)."""
    gc.collect()
    gc.freeze()


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until SIGTERM/SIGINT; in-flight requests finish before the process stops."""
    hint = asyncio.run(check_before_serving(settings))
    if hint:
        print(hint, flush=True)
    app = create_app(settings)
    app.cleanup_ctx.append(heartbeat_context)
    app.on_startup.append(_freeze_heap)
    web.run_app(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        shutdown_timeout=30,
        access_log=None,
        print=lambda msg: print(msg.splitlines()[0], flush=True),
    )
    return 0
