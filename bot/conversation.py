"""Each update of the survey conversation: parse it, hand it to the service, render the reply.

:func:`services.survey_chat.handle_chat_update` applies the update in one transaction (a
redelivered update is dropped) and says what to show; only after its commit does this module
send the messages and edits, so what the participant sees never runs ahead of what is stored.

One Bot API call per answer: a pressed button's message *becomes* what comes next. When the
service asks to rewrite the pressed message and then to say something (the next question, the
thanks, the question gone back to), the two are one ``editMessageText``: the question just
answered with its answer (``✓ Ja, lite``), then the next question with its buttons. The chat
reads like the web survey, one question at a time in the same place, with the last answer
confirmed above it, and no old buttons left to press. A typed answer is followed by the next
question as a new message (it has to come below what the participant wrote). In webhook mode the
pressed button's ``answerCallbackQuery`` goes back in the webhook's HTTP reply
(:mod:`bot.webhook_reply`) instead of being a call of its own. If the combined edit fails, the
next question is sent as a new message all the same: the answer is stored.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import ContextTypes
from telegram.warnings import PTBUserWarning

from bot import texts, webhook_reply
from bot.questions import (
    DELETE_NO,
    DELETE_YES,
    RESUME,
    Keyboard,
    Press,
    answered_message,
    language_keyboard,
    one_button,
    question_message,
    two_buttons,
)
from core.i18n import SURVEY_LANGUAGES
from services import survey_chat as chat
from services.survey_chat import ChatInput, ChatReply, Show
from storage.db import Database

log = logging.getLogger("samverkan.bot")
#: Between the question just answered and what comes next, in one message.
SEPARATOR = "\n\n"
MAX_MESSAGE_LENGTH = 4096

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
#: What each button sends to the service (see :mod:`bot.questions` for the button data).
PRESSES = {
    "a": "answer",
    "t": "tick",
    "d": "done",
    "s": "skip",
    "b": "back",
    "k": "keep",
    "later": "later",
    "resume": chat.RESUME,
    "lang": chat.LANGUAGE,
    "stop": chat.STOP,
    "del": "del",
}
#: The bot's words for what the service asks to say, by name.
WORDS = {
    "need_link": texts.NEED_LINK,
    "already_answered": texts.ALREADY_ANSWERED,
    "welcome_back": texts.WELCOME_BACK,
    "reminders_stopped": texts.REMINDERS_STOPPED,
    "nothing_to_delete": texts.NOTHING_TO_DELETE,
    "deleted": texts.DELETED,
    "not_deleted": texts.NOT_DELETED,
    "help": texts.HELP,
}


class Conversation:
    """Runs the chat service for each update and sends its replies; see the module docstring."""

    def __init__(
        self,
        db: Database,
        *,
        completed_link_days: int | None = None,
        surveys_dir: Path | None = None,
    ) -> None:
        self.db = db
        self.completed_link_days = completed_link_days
        self.surveys_dir = surveys_dir

    def handler(self, step: str) -> Handler:
        """A python-telegram-bot callback that hands ``step`` (or a button's) to the service."""

        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            """Apply this update, then send what it showed."""
            await self.run(update, context, step)

        handle.__name__ = f"on_{step}"
        return handle

    async def run(self, update: Update, context: ContextTypes.DEFAULT_TYPE, step: str) -> None:
        """Parse the update, apply it in one transaction, then send the replies."""
        chat_id = update.effective_chat.id if update.effective_chat else 0
        user = update.effective_user
        language = texts.guess_language(user.language_code if user else None)
        parsed = parse_input(update, context, step)
        reply = await chat.handle_chat_update(
            self.db,
            update.update_id,
            chat_id,
            language,
            parsed,
            completed_link_days=self.completed_link_days,
            surveys_dir=self.surveys_dir,
        )
        if reply is None:
            log.info("bot.update_repeated", extra={"update": update.update_id})
            return
        try:
            await _send(update, context, chat_id, reply)
        except Exception:
            await chat.reply_failed(self.db, update.update_id)  # the redelivery shows it again
            raise


def parse_input(update: Update, context: ContextTypes.DEFAULT_TYPE, step: str) -> ChatInput:
    """What the participant sent: a command's argument, a message, or a button's data."""
    query = update.callback_query
    if query is not None:
        press = Press.parse(query.data or "")
        if press.action == "lang":
            return ChatInput(chat.LANGUAGE, value=press.qid, pressed=True)
        if press.action == "del":
            kind = chat.DELETE_YES if (query.data or "") == DELETE_YES else chat.DELETE_NO
            return ChatInput(kind, pressed=True)
        kind = PRESSES.get(press.action, press.action)
        return ChatInput(kind, qid=press.qid, value=press.value, pressed=True)
    if context.args is not None:
        return ChatInput(step, text=" ".join(context.args))
    message = update.effective_message
    return ChatInput(step, text=(message.text or "") if message else "")


# The calls below go through Bot.do_api_request, which returns Telegram's JSON as it came
# instead of parsing the sent or edited message (with its keyboard) into PTB objects that
# nothing reads; PTB asks to use its named methods for that, which do parse.
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(editMessageText|editMessageReplyMarkup|sendMessage)'",
    category=PTBUserWarning,
)


async def _call(bot: Any, method: str, **params: Any) -> None:
    """One Bot API call whose result is not needed (errors raise as PTB's exceptions)."""
    await bot.do_api_request(method, api_kwargs=params)


async def send_text(bot: Any, chat_id: int, text: str, keyboard: Keyboard | None = None) -> None:
    """``sendMessage``, the sent message not parsed (see :func:`_call`)."""
    params: dict[str, Any] = {"chat_id": chat_id, "text": text}
    if keyboard is not None:
        params["reply_markup"] = keyboard
    await _call(bot, "sendMessage", **params)


async def _edit(query: Any, method: str, **params: Any) -> None:
    """``editMessageText`` or ``editMessageReplyMarkup`` of the pressed button's message."""
    if query.inline_message_id:
        params["inline_message_id"] = query.inline_message_id
    else:
        message = query.message
        params.update(chat_id=message.chat.id, message_id=message.message_id)
    if params.get("reply_markup") is None:  # no buttons: the message keeps none
        params.pop("reply_markup", None)
    await _call(query.get_bot(), method, **params)


async def _send(
    update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: ChatReply
) -> None:
    """Answer the pressed button, then send and edit messages as the service said."""
    query = update.callback_query
    language = reply.language
    if reply.error is not None:
        message = texts.error_text(language, reply.error)
        if query is not None:
            await webhook_reply.answer_query(update, context, message[:200])
        else:
            await send_text(context.bot, chat_id, message)
        return
    if query is not None:
        stale = texts.translate(language, texts.STALE_BUTTON) if reply.stale else None
        await webhook_reply.answer_query(update, context, stale)
    shows = list(reply.shows)
    if query is not None and shows and shows[0].where != chat.SAY:
        rewrite = shows.pop(0)
        then = shows.pop(0) if shows and shows[0].where == chat.SAY else None
        if not await _rewrite(query, language, rewrite, then) and then is not None:
            shows.insert(0, then)  # the rewrite failed: say it as a new message
    for show in shows:
        if show.where == chat.SAY:
            text, keyboard = render(language, show)
            await send_text(context.bot, chat_id, text, keyboard)


async def _rewrite(query: Any, language: str, show: Show, then: Show | None) -> bool:
    """Rewrite the pressed message, and with ``then`` make it that message; False if it failed.

    A failed edit is only logged: it must not keep the next question from being sent.
    """
    try:
        if then is not None:
            text, keyboard = folded(language, show, then)
            await _edit(query, "editMessageText", text=text, reply_markup=keyboard)
        elif show.where == chat.EDIT:
            text, keyboard = render(language, show)
            await _edit(query, "editMessageText", text=text, reply_markup=keyboard)
        elif show.screen is not None:
            keyboard = question_message(language, show.screen)[1]
            await _edit(query, "editMessageReplyMarkup", reply_markup=keyboard)
        else:
            await _edit(query, "editMessageReplyMarkup")
    except BadRequest as error:
        if "not modified" in error.message:
            return True
        log.warning("bot.edit_failed", extra={"reason": error.message})
        return False
    except NetworkError:
        log.warning("bot.edit_failed", extra={"reason": "network"})
        return False
    return True


def folded(language: str, show: Show, then: Show) -> tuple[str, Keyboard | None]:
    """One message for a rewrite followed by a new message: what was answered, then ``then``.

    A rewrite that only removes buttons leaves nothing of the old message; the text is
    ``then``'s alone. Longer than Telegram's 4096 characters, the old part is left out.
    """
    text, keyboard = render(language, then)
    if show.where == chat.EDIT:
        before = render(language, show)[0]
        if len(before) + len(SEPARATOR) + len(text) <= MAX_MESSAGE_LENGTH:
            text = before + SEPARATOR + text
    return text, keyboard


def render(language: str, show: Show) -> tuple[str, Keyboard | None]:
    """The text and buttons of one thing the service asked to show."""
    t = texts.translate
    if show.what == "question" and show.screen is not None:
        return question_message(language, show.screen)
    if show.what == "answered" and show.question is not None:
        return answered_message(language, show.question, show.answer), None
    if show.what == "question_text" and show.question is not None:
        return show.question.text_in(language), None
    if show.what in ("intro", "thanks"):
        return show.text, None
    if show.what == "redacted" and show.notice is not None:
        kinds = texts.removed_kinds(language, show.notice.removed)
        return t(language, texts.REDACTED, kinds=kinds, text=show.notice.text), None
    if show.what == "greeting":
        return t(language, texts.GREETING), language_keyboard(SURVEY_LANGUAGES)
    if show.what == "saved_for_later":
        return t(language, texts.SAVED_FOR_LATER), one_button(language, texts.CONTINUE, RESUME)
    if show.what == "confirm_delete":
        choices = (texts.DELETE_YES, DELETE_YES), (texts.DELETE_NO, DELETE_NO)
        return t(language, texts.CONFIRM_DELETE), two_buttons(language, *choices)
    return t(language, WORDS[show.what]), None
