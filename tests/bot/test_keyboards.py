"""The keyboards the bot builds are the Bot API JSON that python-telegram-bot would send."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardMarkup

from bot import texts
from bot.questions import (
    DELETE_NO,
    DELETE_YES,
    RESUME,
    Keyboard,
    language_keyboard,
    one_button,
    question_message,
    two_buttons,
)
from core import survey_flow as flow
from core.i18n import SURVEY_LANGUAGES
from core.survey_files import load_default_survey

SURVEY = load_default_survey()


def every_keyboard() -> list[Keyboard]:
    """Each question's keyboard in every language, answered and not, and the others."""
    keyboards = [
        language_keyboard(SURVEY_LANGUAGES),
        one_button("sv", texts.CONTINUE, RESUME),
        two_buttons("en", (texts.DELETE_YES, DELETE_YES), (texts.DELETE_NO, DELETE_NO)),
    ]
    for language in SURVEY_LANGUAGES:
        for number, question in enumerate(SURVEY.questions, start=1):
            for answer, flags in ((None, {}), ("x", {"can_go_back": True, "can_keep": True})):
                screen = flow.Screen(question, number, len(SURVEY.questions), answer, **flags)
                keyboards.append(question_message(language, screen)[1])
    return keyboards


@pytest.mark.parametrize("keyboard", every_keyboard())
def test_each_keyboard_is_what_ptb_reads_and_would_send(keyboard: Keyboard) -> None:
    markup = InlineKeyboardMarkup.de_json(keyboard, None)

    assert markup is not None and markup.to_dict() == keyboard
    buttons = [button for row in markup.inline_keyboard for button in row]
    assert buttons and all(isinstance(button.callback_data, str) for button in buttons)
    assert all(len(button.callback_data.encode()) <= 64 for button in buttons)  # type: ignore[union-attr]


def test_a_pressed_buttons_update_is_read_without_its_messages_text_and_keyboard() -> None:
    from telegram.ext import ApplicationBuilder

    from bot.handlers import MalformedUpdate, parse_update

    application = ApplicationBuilder().token("123:abc").updater(None).build()
    chat = {"id": 42, "type": "private"}
    bot = {"id": 1, "is_bot": True, "first_name": "Enkät"}
    message = {
        "message_id": 7, "date": 1_700_000_000, "chat": chat, "from": bot,
        "text": "Fråga 1 av 6", "reply_markup": {"inline_keyboard": [[{"text": "Ja"}]]},
    }  # fmt: skip
    query = {
        "id": "q1",
        "from": {"id": 42, "is_bot": False, "first_name": "A"},
        "chat_instance": "c",
    }
    update = parse_update(
        application,
        {"update_id": 5, "callback_query": {**query, "data": "a:q:1", "message": message}},
    )

    assert update.callback_query is not None and update.callback_query.data == "a:q:1"
    pressed = update.callback_query.message
    assert pressed is not None and (pressed.message_id, pressed.chat.id) == (7, 42)
    assert getattr(pressed, "text", None) is None and getattr(pressed, "reply_markup", None) is None
    assert update.effective_user is not None and update.effective_user.id == 42
    broken = {**message, "chat": "42"}
    with pytest.raises(MalformedUpdate):
        parse_update(application, {"update_id": 6, "callback_query": {**query, "message": broken}})
