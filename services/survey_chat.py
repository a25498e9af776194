"""The survey in a Telegram chat: one update, one transaction, and what to show afterwards.

:func:`handle_chat_update` records the update id (a redelivered update is dropped, so nothing
is applied twice), reads the chat's state with its invitation row locked, applies what the
participant did (a :class:`ChatInput`) through :mod:`core.survey_flow`, and commits. The whole
update is synchronous SQLAlchemy Core run by :meth:`storage.db.Database.run_transaction`:
updates of other chats that arrive meanwhile share its transaction and its statements (two to
record all the updates and load all the chats, one for each kind of change they make), and on
SQLite the group takes one thread hop rather than one or more per statement. It returns a
:class:`ChatReply`: a list of :class:`Show` (what to say, which pressed message to rewrite)
that :mod:`bot` renders and sends after the commit, so what the participant sees never runs
ahead of what is stored. If sending fails (:func:`reply_failed`), Telegram's redelivery of the
update shows where the participant is instead of being dropped. A DomainError (a wrong answer,
an unusable link) rolls the update back, and the reply carries it; nothing about the
participant stays in the process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection

from core import survey_flow as flow
from core.clock import utcnow
from core.errors import DomainError
from core.i18n import SURVEY_LANGUAGES
from core.invitations import InvitationError, is_closed
from core.survey_model import AnswerValue, Question
from services.surveys import apply_action_sync, delete_state_answers_sync
from storage import invitations, surveys
from storage.db import BatchedWork, Database
from storage.surveys import SurveyState

# What a participant can do in the chat besides the survey flow's own actions (core.survey_flow).
START, RESUME, LANGUAGE, TYPED, STOP = "start", "resume", "language", "typed", "stop"
ASK_DELETE, DELETE_YES, DELETE_NO, HELP = "ask_delete", "delete_yes", "delete_no", "help"
# Where a Show goes: a new message, the pressed message's text, or its buttons only.
SAY, EDIT, BUTTONS = "say", "edit", "buttons"


@dataclass(frozen=True)
class ChatInput:
    """What arrived: ``step`` (a command, typed text, or a button's action), for ``qid``."""

    step: str
    text: str = ""
    qid: str = ""
    value: str = ""
    pressed: bool = False


@dataclass(frozen=True)
class Show:
    """One thing to show: ``what`` (e.g. ``question``, ``greeting``) and ``where`` it goes.

    ``screen`` belongs to a question, ``text`` to the survey's own texts (intro, thanks),
    ``notice`` to a redaction, ``question`` and ``answer`` to a pressed question's message.
    """

    where: str
    what: str
    screen: flow.Screen | None = None
    text: str = ""
    notice: flow.Notice | None = None
    question_text: str = ""
    question: Question | None = None
    answer: AnswerValue | None = None


@dataclass
class ChatReply:
    """What to send after the commit, in ``language``; ``stale`` marks an old button pressed."""

    language: str
    shows: list[Show] = field(default_factory=list)
    stale: bool = False
    error: DomainError | None = None

    def add(self, where: str, what: str, **details: object) -> None:
        """Queue one thing to show."""
        self.shows.append(Show(where, what, **details))  # type: ignore[arg-type]


@dataclass
class _Turn:
    """One update being applied: the connection, the chat, its state, and the reply being built.

    ``save_others`` writes what the updates applied before it in the transaction changed.
    """

    connection: Connection
    chat_id: int
    state: SurveyState | None
    chat: ChatInput
    reply: ChatReply
    save_others: Callable[[], None]
    completed_link_days: int | None = None
    surveys_dir: Path | None = None


@dataclass
class _Group:
    """What the updates of one transaction share: each one's loaded chat, and the states
    changed and not yet written (:func:`storage.surveys.save_states_sync` writes them all)."""

    loaded: dict[int, tuple[bool, SurveyState | None]]
    unsaved: list[SurveyState] = field(default_factory=list)

    def save(self, connection: Connection) -> None:
        """Write the changed states now."""
        surveys.save_states_sync(connection, self.unsaved)
        self.unsaved.clear()


@dataclass(eq=False)
class _ChatUpdate(BatchedWork[ChatReply | None]):
    """One update of a chat, as a work of :meth:`storage.db.Database.run_transaction`.

    The updates of different chats in one transaction are recorded and their chats loaded in
    two statements for all of them, and what they changed is written a statement per kind of
    change (:func:`storage.invitations.mark_updates_and_load_chats_sync`,
    :func:`storage.surveys.save_states_sync`). A second update of the same chat in the
    transaction first writes what the others changed, then loads its chat on its own.
    """

    update_id: int
    chat_id: int
    fallback_language: str
    chat: ChatInput
    completed_link_days: int | None
    surveys_dir: Path | None
    #: The reply of the last run (a grouped write may run it twice), for an error's language.
    reply: ChatReply | None = None

    @classmethod
    def start(cls, connection: Connection, works: Sequence[_ChatUpdate]) -> _Group:
        firsts = list({work.chat_id: work for work in reversed(works)}.values())
        loaded = invitations.mark_updates_and_load_chats_sync(
            connection, [(work.update_id, work.chat_id) for work in firsts]
        )
        return _Group({id(work): each for work, each in zip(firsts, loaded, strict=True)})

    @classmethod
    def finish(cls, connection: Connection, shared: _Group) -> None:
        shared.save(connection)

    def run(self, connection: Connection, shared: _Group) -> ChatReply | None:
        """The update applied, and its reply; None when it was applied before."""
        self.reply = reply = ChatReply(self.fallback_language)
        step = STEPS[self.chat.step]
        if id(self) in shared.loaded:
            fresh, state = shared.loaded.pop(id(self))
        else:  # the chat's second update in this transaction: after the first is written
            shared.save(connection)
            fresh, state = invitations.mark_update_and_load_chat_sync(
                connection, self.update_id, self.chat_id
            )
        if not fresh:
            if not invitations.take_failed_reply_sync(connection, self.update_id):
                return None
            step = _resend  # applied before, but the participant never saw the reply
        if state is not None and state.invitation.language:
            reply.language = state.language
        turn = _Turn(
            connection,
            self.chat_id,
            state,
            self.chat,
            reply,
            lambda: shared.save(connection),
            self.completed_link_days,
            self.surveys_dir,
        )
        step(turn)
        if turn.state is not None:  # what the step changed, written with the others'
            shared.unsaved.append(turn.state)
        return reply


async def handle_chat_update(
    db: Database,
    update_id: int,
    chat_id: int,
    fallback_language: str,
    chat: ChatInput,
    *,
    completed_link_days: int | None = None,
    surveys_dir: Path | None = None,
) -> ChatReply | None:
    """Apply one update of a chat in one transaction; None when it was already applied.

    A survey completed more than ``completed_link_days`` ago is closed: the chat says so and
    how to have the answers deleted (by the team), and shows none of them. ``surveys_dir`` is the
    förbund's own survey folder, where the team's survey file may be.
    """
    work = _ChatUpdate(
        update_id, chat_id, fallback_language, chat, completed_link_days, surveys_dir
    )
    try:
        return await db.run_transaction(work)
    except DomainError as error:
        language = work.reply.language if work.reply is not None else fallback_language
        return ChatReply(language, error=error)


async def reply_failed(db: Database, update_id: int) -> None:
    """The replies to an applied update could not be sent: a redelivery shows where we are."""
    async with db.transaction() as session:
        await invitations.mark_reply_failed(session, update_id)


def _resend(turn: _Turn) -> None:
    """A redelivered update whose replies failed: show where the participant is now."""
    _where_we_are(turn, returning=False)


def _start(turn: _Turn) -> None:
    """/start TOKEN: claim the invitation of the link, greet, and ask for the language."""
    if turn.chat.text.strip():
        token = turn.chat.text.strip()
        turn.save_others()  # another chat's update here may have claimed the same link
        turn.state = invitations.claim_invitation_sync(
            turn.connection,
            token,
            chat_id=turn.chat_id,
            completed_link_days=turn.completed_link_days,
        )
        if turn.state.invitation.language:
            turn.reply.language = turn.state.language
    _where_we_are(turn, returning=True)


def _resume(turn: _Turn) -> None:
    """Fortsätt: show where the participant is (language, the current question, or thanks)."""
    turn.reply.add(BUTTONS, "none")
    _where_we_are(turn, returning=False)


def _choose_language(turn: _Turn) -> None:
    """A language button: start the survey in that language, with its introduction."""
    state = _usable(turn)
    language = turn.chat.value
    if language not in SURVEY_LANGUAGES or state.completed:
        _where_we_are(turn, returning=False)
        return
    first_time = not state.started
    surveys.start_response_sync(turn.connection, state, language, surveys_dir=turn.surveys_dir)
    turn.reply.language = language
    assert state.survey is not None
    turn.reply.add(BUTTONS, "none")
    if first_time:
        turn.reply.add(SAY, "intro", text=state.survey.intro_in(language))
    _ask_or_thank(turn, state)


def _act(turn: _Turn) -> None:
    """A question's button or a typed answer: let the survey flow decide, then show what's next."""
    state = turn.state
    if not turn.chat.pressed and (state is None or state.current() is None):
        _where_we_are(turn, returning=False)
        return
    state = _usable(turn)
    question = state.current()
    if question is None:
        _stale(turn)
        return
    kind = flow.ANSWER if turn.chat.step == TYPED else turn.chat.step
    qid = question.id if turn.chat.step == TYPED else turn.chat.qid
    value = turn.chat.text if turn.chat.step == TYPED else turn.chat.value
    outcome = apply_action_sync(state, flow.Action(kind, qid, value))
    if outcome.stale:
        _stale(turn)
        return
    _show_outcome(turn, state, outcome)


def _show_outcome(turn: _Turn, state: SurveyState, outcome: flow.Outcome) -> None:
    """Rewrite the pressed question's message, then tell of a redaction and ask what's next."""
    assert state.survey is not None
    kind, question = turn.chat.step, state.survey.question(turn.chat.qid) if turn.chat.qid else None
    if kind == flow.TICK:
        turn.reply.add(BUTTONS, "question", screen=flow.screen_of(state.position()))
        return
    if kind == flow.BACK:
        if outcome.moved:
            turn.reply.add(BUTTONS, "none")
            turn.reply.add(SAY, "question", screen=flow.screen_of(state.position()))
        return
    if question is not None and kind == flow.SKIP:
        turn.reply.add(EDIT, "question_text", question=question)
    elif question is not None:
        turn.reply.add(EDIT, "answered", question=question, answer=state.answers.get(question.id))
    if outcome.notice is not None:
        turn.reply.add(SAY, "redacted", notice=outcome.notice)
    _ask_or_thank_now(turn, state)


def _later(turn: _Turn) -> None:
    """Fortsätt senare: the answers are already saved; say how to come back."""
    turn.reply.add(BUTTONS, "none")
    turn.reply.add(SAY, "saved_for_later")


def _stop_reminders(turn: _Turn) -> None:
    """/stopp (or its button): no more reminders; answering stays possible."""
    if turn.state is not None:
        turn.state.invitation.reminders_stopped = True
    turn.reply.add(BUTTONS, "none")
    turn.reply.add(SAY, "reminders_stopped")


def _ask_to_delete(turn: _Turn) -> None:
    """/radera: ask whether to delete all the participant's answers."""
    _refuse_when_closed(turn)
    started = turn.state is not None and turn.state.started
    turn.reply.add(SAY, "confirm_delete" if started else "nothing_to_delete")


def _delete_confirmed(turn: _Turn) -> None:
    """Ja, ta bort: delete the participant's response and answers, and stop reminders."""
    _refuse_when_closed(turn)
    if turn.state is None or not turn.state.started:
        turn.reply.add(EDIT, "nothing_to_delete")
        return
    delete_state_answers_sync(turn.connection, turn.state)
    turn.reply.add(EDIT, "deleted")


def _delete_cancelled(turn: _Turn) -> None:
    """Nej, behåll dem: keep the answers."""
    turn.reply.add(EDIT, "not_deleted")


def _help(turn: _Turn) -> None:
    """/hjalp: how the survey works and the commands."""
    turn.reply.add(SAY, "help")


# --- Shared moves ------------------------------------------------------------------------------


def _where_we_are(turn: _Turn, *, returning: bool) -> None:
    """What comes next for this chat: the link, the language, a question, or nothing."""
    state = turn.state
    if state is None:
        turn.reply.add(SAY, "need_link")
        return
    _refuse_when_closed(turn)
    if state.completed:
        turn.reply.add(SAY, "already_answered")
        return
    invitations.check_usable(state)
    if not state.started:
        turn.reply.add(SAY, "greeting")
        return
    if returning:
        turn.reply.add(SAY, "welcome_back")
    _ask_or_thank(turn, state)


def _ask_or_thank(turn: _Turn, state: SurveyState) -> None:
    """Ask the current question, or complete the response and thank the participant."""
    if flow.should_complete(state.position()):
        surveys.complete_response_sync(state)
    _ask_or_thank_now(turn, state)


def _ask_or_thank_now(turn: _Turn, state: SurveyState) -> None:
    """Ask the current question, or thank the participant (the response is complete)."""
    assert state.survey is not None
    screen = flow.screen_of(state.position())
    if screen.finished:
        turn.reply.add(SAY, "thanks", text=state.survey.thanks_in(state.language))
    else:
        turn.reply.add(SAY, "question", screen=screen)


def _usable(turn: _Turn) -> SurveyState:
    """The chat's state, when its invitation can still be used."""
    if turn.state is None:
        raise InvitationError("unknown")
    invitations.check_usable(turn.state, completed_link_days=turn.completed_link_days)
    return turn.state


def _refuse_when_closed(turn: _Turn) -> None:
    """InvitationError ``closed`` when the chat's survey was completed too long ago."""
    response = turn.state.response if turn.state is not None else None
    completed_at = response.completed_at if response is not None else None
    if is_closed(completed_at, turn.completed_link_days, utcnow()):
        raise InvitationError("closed")


def _stale(turn: _Turn) -> None:
    """An old button was pressed: say so and remove its buttons."""
    turn.reply.stale = True
    turn.reply.add(BUTTONS, "none")


STEPS = {
    START: _start,
    RESUME: _resume,
    LANGUAGE: _choose_language,
    TYPED: _act,
    **{action: _act for action in flow.ACTIONS},
    flow.LATER: _later,
    STOP: _stop_reminders,
    ASK_DELETE: _ask_to_delete,
    DELETE_YES: _delete_confirmed,
    DELETE_NO: _delete_cancelled,
    HELP: _help,
}
