"""The steps of the survey conversation, one per thing a participant can do.

Each step gets a :class:`~bot.conversation.Turn`: the chat's state as the database has it now,
and what the participant sent. It changes the state through :mod:`storage.surveys` and queues
the replies. Where the participant is comes from the stored answers alone: the current question
is the one they went back to, or else the first one neither answered nor skipped.
"""

from __future__ import annotations

from bot import texts
from bot.conversation import Turn
from bot.questions import (
    DELETE_NO,
    DELETE_YES,
    RESUME,
    answered_message,
    language_keyboard,
    one_button,
    question_message,
    two_buttons,
)
from core import surveys as core
from core.i18n import LANGUAGES
from storage import invitations, surveys
from storage.surveys import SurveyState


async def start(turn: Turn) -> None:
    """/start TOKEN: claim the invitation of the link, greet, and ask for the language."""
    if turn.text:
        turn.state = await invitations.claim_invitation(
            turn.session, turn.text.strip(), chat_id=turn.chat_id
        )
    await show_where_we_are(turn, returning=True)


async def resume(turn: Turn) -> None:
    """Fortsätt: show where the participant is (language, the current question, or thanks)."""
    turn.rebutton(None)
    await show_where_we_are(turn, returning=False)


async def choose_language(turn: Turn) -> None:
    """A language button: start the survey in that language, with its introduction."""
    state = _usable_state(turn)
    assert turn.press is not None
    language = turn.press.qid  # the button data is "lang:<code>"
    if language not in LANGUAGES or state.completed:
        await show_where_we_are(turn, returning=False)
        return
    first_time = not state.started
    await surveys.start_response(turn.session, state, language)
    assert state.survey is not None
    turn.rebutton(None)
    if first_time:
        turn.say(state.survey.intro_in(language))
    await _ask_or_finish(turn, state)


async def answer_button(turn: Turn) -> None:
    """A choice button (an option, yes or no, a number): store it and ask the next question."""
    state, question = _pressed_question(turn)
    if question is None:
        return
    assert turn.press is not None
    value = core.parse_answer(question, turn.press.value)
    await surveys.record_answer(turn.session, state, question, value)
    turn.rewrite(answered_message(state, question))
    await _move_on(turn, state)


async def tick(turn: Turn) -> None:
    """An option of a several-choice question pressed: tick or untick it, and stay."""
    state, question = _pressed_question(turn)
    if question is None:
        return
    assert turn.press is not None
    option = core.parse_answer(question, turn.press.value)
    assert isinstance(option, list)
    await surveys.toggle_choice(turn.session, state, question, option[0])
    await surveys.move_cursor(turn.session, state, question.id)
    turn.rebutton(question_message(state, question)[1])


async def done(turn: Turn) -> None:
    """Klar: the ticked options are the answer; ask the next question."""
    state, question = _pressed_question(turn)
    if question is None:
        return
    ticked = state.answers.get(question.id)
    core.parse_answer(question, ticked if isinstance(ticked, list) else [])  # at least one
    turn.rewrite(answered_message(state, question))
    await _move_on(turn, state)


async def skip(turn: Turn) -> None:
    """Hoppa över: pass over an optional question and ask the next one."""
    state, question = _pressed_question(turn)
    if question is None:
        return
    await surveys.skip_question(turn.session, state, question)
    turn.rewrite(question.text_in(state.language))
    await _move_on(turn, state)


async def keep(turn: Turn) -> None:
    """Behåll svaret: leave the answer as it is and go on."""
    state, question = _pressed_question(turn)
    if question is None:
        return
    turn.rewrite(answered_message(state, question))
    await _move_on(turn, state)


async def back(turn: Turn) -> None:
    """Tillbaka: go to the question before and ask it again, showing the answer given."""
    state, question = _pressed_question(turn)
    if question is None or state.survey is None:
        return
    previous = core.previous_question(state.survey, question.id)
    if previous is None:
        return
    await surveys.move_cursor(turn.session, state, previous.id)
    turn.rebutton(None)
    turn.say(*question_message(state, previous))


async def later(turn: Turn) -> None:
    """Fortsätt senare: the answers are already saved; say how to come back."""
    turn.rebutton(None)
    turn.say(turn.t(texts.SAVED_FOR_LATER), one_button(turn.language, texts.CONTINUE, RESUME))


async def typed_answer(turn: Turn) -> None:
    """A typed message: the answer to the current question (choices by number or name too)."""
    state = turn.state
    question = state.current() if state is not None else None
    if state is None or question is None:
        await show_where_we_are(turn, returning=False)
        return
    invitations.check_usable(state)
    redaction = await surveys.record_answer(
        turn.session, state, question, core.parse_answer(question, turn.text)
    )
    if redaction is not None:
        kinds = texts.removed_kinds(turn.language, redaction.removed)
        turn.say(turn.t(texts.REDACTED, kinds=kinds, text=redaction.text))
    await _move_on(turn, state)


async def stop_reminders(turn: Turn) -> None:
    """/stopp (or its button): no more reminders; answering stays possible."""
    if turn.state is not None:
        await surveys.stop_reminders(turn.session, turn.state)
    turn.rebutton(None)
    turn.say(turn.t(texts.REMINDERS_STOPPED))


async def ask_to_delete(turn: Turn) -> None:
    """/radera: ask whether to delete all the participant's answers."""
    if turn.state is None or not turn.state.started:
        turn.say(turn.t(texts.NOTHING_TO_DELETE))
        return
    buttons = two_buttons(
        turn.language, (texts.DELETE_YES, DELETE_YES), (texts.DELETE_NO, DELETE_NO)
    )
    turn.say(turn.t(texts.CONFIRM_DELETE), buttons)


async def delete_confirmed(turn: Turn) -> None:
    """Ja, ta bort: delete the participant's response and answers, and stop reminders."""
    if turn.state is None or not turn.state.started:
        turn.rewrite(turn.t(texts.NOTHING_TO_DELETE))
        return
    language = turn.language
    await surveys.delete_answers(turn.session, turn.state)
    turn.rewrite(texts.translate(language, texts.DELETED))


async def delete_cancelled(turn: Turn) -> None:
    """Nej, behåll dem: keep the answers."""
    turn.rewrite(turn.t(texts.NOT_DELETED))


async def show_help(turn: Turn) -> None:
    """/hjalp: how the survey works and the commands."""
    turn.say(turn.t(texts.HELP))


# --- Shared moves ------------------------------------------------------------------------------


async def show_where_we_are(turn: Turn, *, returning: bool) -> None:
    """Ask what comes next for this chat: the link, the language, a question, or nothing."""
    state = turn.state
    if state is None:
        turn.say(turn.t(texts.NEED_LINK))
        return
    if state.completed:
        turn.say(turn.t(texts.ALREADY_ANSWERED))
        return
    invitations.check_usable(state)
    if not state.started:
        turn.say(turn.t(texts.GREETING), language_keyboard(LANGUAGES))
        return
    if returning:
        turn.say(turn.t(texts.WELCOME_BACK))
    await _ask_or_finish(turn, state)


def _usable_state(turn: Turn) -> SurveyState:
    """The chat's state, when its invitation can still be used."""
    if turn.state is None:
        raise invitations.InvitationError("unknown")
    invitations.check_usable(turn.state)
    return turn.state


def _pressed_question(turn: Turn) -> tuple[SurveyState, core.Question | None]:
    """The question a button belongs to, if it is the current one; else a note and None."""
    state = _usable_state(turn)
    question = state.current()
    assert turn.press is not None
    if question is None or question.id != turn.press.qid:
        turn.toast = turn.t(texts.STALE_BUTTON)
        turn.rebutton(None)
        return state, None
    return state, question


async def _move_on(turn: Turn, state: SurveyState) -> None:
    """Leave the question gone back to, and ask the first one left."""
    await surveys.move_cursor(turn.session, state, None)
    await _ask_or_finish(turn, state)


async def _ask_or_finish(turn: Turn, state: SurveyState) -> None:
    """Ask the current question, or complete the response and thank the participant."""
    question = state.current()
    if question is not None:
        turn.say(*question_message(state, question))
        return
    await surveys.complete_response(turn.session, state)
    assert state.survey is not None
    turn.say(state.survey.thanks_in(state.language))
