"""The JSON log: our own events with their fields; a library's arguments never written."""

from __future__ import annotations

import json
import logging
import sys

from app.logs import JsonFormatter

UPDATE = {"message": {"from": {"first_name": "Karin", "username": "karin88"}, "text": "hej"}}


def formatted(name: str, message: str, *args: object, error: BaseException | None = None) -> str:
    """One record of logger ``name`` as the service writes it."""
    exc_info = None
    if error is not None:
        try:
            raise error
        except type(error):
            exc_info = sys.exc_info()
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, exc_info)
    return JsonFormatter().format(record)


def test_a_librarys_arguments_and_exception_texts_are_left_out() -> None:
    line = formatted(
        "telegram.ext.Application", "Error while processing %s", UPDATE,
        error=ValueError("could not parse {'first_name': 'Karin'}"),
    )  # fmt: skip
    entry = json.loads(line)
    assert "Karin" not in line and "karin88" not in line and "hej" not in line
    assert entry["event"] == "Error while processing %s" and entry["error"] == "ValueError"


def test_our_own_events_keep_their_fields_and_traceback() -> None:
    entry = json.loads(formatted("samverkan.mail", "mail.failed %s", 7, error=OSError("down")))
    assert entry["event"] == "mail.failed 7" and "OSError: down" in entry["traceback"]
