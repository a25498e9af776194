"""Structured logs: one JSON object per line, ids and codes only (never personal data)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
#: Libraries whose log arguments and exception texts are never written (they may hold
#: personal data); their message templates and exception types are.
FOREIGN = ("telegram", "httpx", "httpcore", "aiohttp", "aiosqlite", "asyncpg", "sqlalchemy")


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON with its ``extra`` fields; exceptions as type and traceback."""

    def format(self, record: logging.LogRecord) -> str:
        foreign = record.name.startswith(FOREIGN)
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            # A library's arguments may hold what a participant sent (python-telegram-bot logs
            # the update, with name and username, when it cannot parse it): its template only.
            "event": str(record.msg) if foreign else record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "Exception"
            if not foreign:
                entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send JSON logs to stderr; keep chatty libraries at WARNING.

    aiosqlite logs each statement with its parameters at DEBUG (staff e-mail addresses among
    them), so it stays at WARNING even when the service logs at DEBUG.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "httpx", "telegram.ext", "apscheduler", "alembic", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
