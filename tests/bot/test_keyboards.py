"""The keyboards the bot sends are the Bot API JSON that python-telegram-bot would send."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.conversation import keyboard_json
from bot.questions import (
    DELETE_NO,
    DELETE_YES,
    RESUME,
    language_keyboard,
    one_button,
    question_message,
    two_buttons,
)
from core import survey_flow as flow
from core.i18n import SURVEY_LANGUAGES
from core.survey_files import load_default_survey

SURVEY = load_default_survey()


def every_keyboard() -> list[InlineKeyboardMarkup]:
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
def test_each_keyboard_is_what_ptb_would_send(keyboard: InlineKeyboardMarkup) -> None:
    assert keyboard_json(keyboard) == keyboard.to_dict()


def test_a_button_that_is_not_a_callback_is_sent_whole() -> None:
    link = InlineKeyboardButton("Läs mer", url="https://example.se/mer")
    keyboard = InlineKeyboardMarkup([[link, InlineKeyboardButton("Ja", callback_data="a:q:ja")]])
    assert keyboard_json(keyboard) == keyboard.to_dict()
    assert keyboard_json(keyboard)["inline_keyboard"][0][0]["url"] == "https://example.se/mer"
