"""The one Bot API call a webhook may carry in its HTTP reply: answering the pressed button.

Telegram lets a webhook answer an update with one method call in the body of its HTTP reply
(``{"method": "answerCallbackQuery", ...}``); Telegram carries it out and tells the bot nothing
of its outcome. The bot uses that for ``answerCallbackQuery`` only: it stops the button's
spinner and shows a short notice, and nothing is lost if it fails. Messages and edits stay calls
of their own, so a failure is seen and the update retried (:mod:`bot.conversation`).

:func:`bot.handlers.process_update` opens a slot for the update it handles; a handler's
:func:`answer_query` fills it, or calls the Bot API when there is no slot (polling mode, or the
slot is already taken).
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes

SLOTS = "samverkan.webhook_replies"
Json = dict[str, Any]
TelegramApplication = Application[Any, Any, Any, Any, Any, Any]


def open_slot(application: TelegramApplication, update_id: int) -> None:
    """Let the handlers of this update put one method call in the webhook's reply."""
    application.bot_data.setdefault(SLOTS, {})[update_id] = None


def take(application: TelegramApplication, update_id: int) -> Json | None:
    """The method call for this update's webhook reply (None: nothing), and close its slot."""
    slots: dict[int, Json | None] = application.bot_data.get(SLOTS, {})
    return slots.pop(update_id, None)


async def answer_query(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str | None = None
) -> None:
    """Answer the pressed button (``text``: a short notice), in the webhook reply if it can."""
    query = update.callback_query
    assert query is not None
    slots: dict[int, Json | None] = context.application.bot_data.get(SLOTS, {})
    if update.update_id in slots and slots[update.update_id] is None:
        call: Json = {"method": "answerCallbackQuery", "callback_query_id": query.id}
        if text:
            call["text"] = text
        slots[update.update_id] = call
        return
    await query.answer(text)
