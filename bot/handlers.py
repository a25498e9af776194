"""The survey bot's handlers: which update runs which step (:mod:`bot.steps`).

``register(application, db, completed_link_days=...)`` is called by the composition root (``app.telegram``).
Only private chats are served; the bot never asks who a participant is, the invitation token of
the deep link (``/start TOKEN``) is the only link between a chat and a participant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import texts, webhook_reply
from bot.conversation import Conversation
from bot.questions import (
    ANSWER,
    BACK,
    DELETE_NO,
    DELETE_YES,
    DONE,
    KEEP,
    LANGUAGE_PREFIX,
    LATER,
    RESUME,
    SKIP,
    STOP,
    TICK,
)
from core.i18n import SURVEY_LANGUAGES
from services import survey_chat as chat
from storage.db import Database

log = logging.getLogger("samverkan.bot")
FAILED_UPDATES = "samverkan.failed_updates"
BUTTON_PATTERN = (
    f"^({LANGUAGE_PREFIX}|{ANSWER}:|{TICK}:|{DONE}:|{SKIP}:|{BACK}:|{KEEP}:"
    f"|{LATER}$|{RESUME}$|{STOP}$|{DELETE_YES}$|{DELETE_NO}$)"
)
COMMANDS = (
    ("start", texts.START_COMMAND),
    ("hjalp", texts.HELP_COMMAND),
    ("stopp", texts.STOP_REMINDERS),
    ("radera", texts.DELETE_COMMAND),
)


def register(
    application: Application[Any, Any, Any, Any, Any, Any],
    db: Database,
    *,
    completed_link_days: int | None = None,
    surveys_dir: Path | None = None,
) -> None:
    """Add the survey's handlers and the error handler to ``application``.

    ``completed_link_days``: days after completion that a survey's link still works in the chat;
    ``surveys_dir``: the förbund's own survey folder, where a team's survey file may be.
    """
    conversation = Conversation(
        db, completed_link_days=completed_link_days, surveys_dir=surveys_dir
    )
    private = filters.ChatType.PRIVATE
    on = conversation.handler

    button = on(chat.RESUME)  # every button: its data says what it does

    application.add_handlers(
        [
            CommandHandler("start", on(chat.START), filters=private),
            CommandHandler("stopp", on(chat.STOP), filters=private),
            CommandHandler("radera", on(chat.ASK_DELETE), filters=private),
            CommandHandler(["hjalp", "help"], on(chat.HELP), filters=private),
            CallbackQueryHandler(button, pattern=BUTTON_PATTERN),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, on(chat.TYPED)),
        ]
    )
    application.add_error_handler(on_error)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a failed update by id only; in webhook mode, remember it so Telegram retries it."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("bot.update_failed", exc_info=context.error, extra={"update": update_id})
    if update_id is not None and context.application.updater is None:
        context.application.bot_data.setdefault(FAILED_UPDATES, set()).add(update_id)


#: What the bot reads of the message a pressed button was on.
PRESSED_MESSAGE_KEYS = frozenset({"message_id", "date", "chat", "message_thread_id"})


class MalformedUpdate(ValueError):
    """The JSON is not a Telegram update python-telegram-bot can read."""


def parse_update(
    application: Application[Any, Any, Any, Any, Any, Any], data: dict[str, Any]
) -> Update:
    """The update in ``data``; MalformedUpdate when a field has the wrong shape.

    A pressed button's update carries the whole message the button was on, text, keyboard and
    all; the bot needs only which message it was (to edit it), so only its id, date and chat
    are parsed (measured: parsing the rest cost more than the bot's own work on the update).
    """
    query = data.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        message = {k: v for k, v in query["message"].items() if k in PRESSED_MESSAGE_KEYS}
        data = {**data, "callback_query": {**query, "message": message}}
    try:
        return Update.de_json(data, application.bot)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise MalformedUpdate(type(exc).__name__) from None


@dataclass(frozen=True)
class Processed:
    """How handling a webhook update went: ``ok`` (False: Telegram should retry it), and the
    method call to put in the HTTP reply (:mod:`bot.webhook_reply`), if any."""

    ok: bool
    reply: dict[str, Any] | None = None


async def process_update(
    application: Application[Any, Any, Any, Any, Any, Any], data: dict[str, Any]
) -> Processed:
    """Handle one update from the webhook now; not ``ok`` when it failed (to be retried)."""
    update = parse_update(application, data)
    webhook_reply.open_slot(application, update.update_id)
    try:
        await application.process_update(update)
    finally:
        reply = webhook_reply.take(application, update.update_id)
    failed: set[int] = application.bot_data.get(FAILED_UPDATES, set())
    if update.update_id in failed:
        failed.discard(update.update_id)
        return Processed(ok=False)
    return Processed(ok=True, reply=reply)


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu in each language the bot speaks (Swedish for everyone else)."""
    for language in SURVEY_LANGUAGES:
        commands = [BotCommand(name, texts.translate(language, text)) for name, text in COMMANDS]
        code = None if language == "sv" else language
        await application.bot.set_my_commands(commands, language_code=code)
