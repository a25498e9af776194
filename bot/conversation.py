"""The plumbing around every step of the conversation: one update, one transaction, then replies.

For each update, :class:`Conversation` opens a transaction, records the update id (a redelivered
update is dropped, so nothing is applied twice), reads the chat's :class:`SurveyState` with its
invitation row locked, and lets the step change it and queue replies on a :class:`Turn`. Only
after the commit are the replies sent, so what the participant sees never runs ahead of what is
stored. A :class:`DomainError` (a wrong answer, an invitation that cannot be used) rolls the step
back and becomes the reply. Nothing about the participant stays in this process between updates.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import texts
from bot.questions import Press
from core.errors import DomainError
from storage import invitations
from storage.db import Database
from storage.surveys import SurveyState

log = logging.getLogger("samverkan.bot")

Step = Callable[["Turn"], Awaitable[None]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Reply:
    """A message to send (``send``), the pressed message to rewrite (``edit``) or re-button."""

    kind: str
    text: str | None = None
    keyboard: InlineKeyboardMarkup | None = None


@dataclass
class Turn:
    """One update being handled: what the participant did, their state, the replies to send."""

    session: AsyncSession
    chat_id: int
    state: SurveyState | None
    fallback_language: str
    text: str = ""
    press: Press | None = None
    replies: list[Reply] = field(default_factory=list)
    toast: str | None = None

    @property
    def language(self) -> str:
        """The language the participant chose, else their Telegram app's."""
        if self.state is not None and self.state.invitation.language:
            return self.state.language
        return self.fallback_language

    def t(self, message: str, **params: object) -> str:
        """``message`` in the participant's language."""
        return texts.translate(self.language, message, **params)

    def say(self, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Send a new message."""
        self.replies.append(Reply("send", text, keyboard))

    def rewrite(self, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Replace the text (and buttons) of the message whose button was pressed."""
        if self.press is not None:
            self.replies.append(Reply("edit", text, keyboard))

    def rebutton(self, keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Replace the buttons of the message whose button was pressed (None removes them)."""
        if self.press is not None:
            self.replies.append(Reply("markup", None, keyboard))


class Conversation:
    """Runs steps against the database and sends their replies; see the module docstring."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def handler(self, step: Step) -> Handler:
        """A python-telegram-bot callback that runs ``step`` for each update."""

        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            """Run the step for this update."""
            await self.run(update, context, step)

        handle.__doc__ = step.__doc__
        handle.__name__ = step.__name__
        return handle

    async def run(self, update: Update, context: ContextTypes.DEFAULT_TYPE, step: Step) -> None:
        """Apply ``step`` to the update in one transaction, then send what it queued."""
        chat = update.effective_chat
        assert chat is not None
        user = update.effective_user
        language = texts.guess_language(user.language_code if user else None)
        turn: Turn | None = None
        try:
            async with self.db.transaction() as session:
                if not await invitations.mark_processed_update(session, update.update_id):
                    log.info("bot.update_repeated", extra={"update": update.update_id})
                    return
                state = await invitations.load_chat_state(session, chat.id)
                turn = Turn(session, chat.id, state, language, **_input(update, context))
                language = turn.language  # (the state is gone after a rollback)
                await step(turn)
        except DomainError as error:
            message = texts.error_text(language, error)
            if update.callback_query is not None:
                await _send(update, context, chat.id, [], message[:200])
            else:
                await _send(update, context, chat.id, [Reply("send", message)], None)
            return
        if turn is not None:
            await _send(update, context, chat.id, turn.replies, turn.toast)


def _input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    """What the participant sent: a command's argument or a message, or a button's data."""
    if update.callback_query is not None:
        return {"press": Press.parse(update.callback_query.data or "")}
    if context.args is not None:
        return {"text": " ".join(context.args)}
    message = update.effective_message
    return {"text": (message.text or "") if message else ""}


async def _send(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    replies: list[Reply],
    toast: str | None,
) -> None:
    """Answer the pressed button, then send and edit messages as the step said."""
    query = update.callback_query
    if query is not None:
        await query.answer(toast)
    for reply in replies:
        try:
            if reply.kind == "send":
                assert reply.text is not None
                await context.bot.send_message(chat_id, reply.text, reply_markup=reply.keyboard)
            elif query is not None and reply.kind == "edit":
                assert reply.text is not None
                await query.edit_message_text(reply.text, reply_markup=reply.keyboard)
            elif query is not None:
                await query.edit_message_reply_markup(reply.keyboard)
        except BadRequest as error:
            if "not modified" not in error.message:
                raise
