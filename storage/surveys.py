"""Answering a survey: the survey version, where a participant is, and their stored answers.

Everything about where a participant is in the survey lives in the database, not in a process:
the answers (one row per question, written with an upsert), the questions passed over, and the
response's ``cursor`` (the question the participant went back to). :class:`SurveyState` is
that, read afresh for every message or page; :mod:`storage.invitations` loads it with the
invitation row locked, so two processes handling one participant take turns.

Free-text answers are stored with personnummer, phone numbers, e-mail addresses and names
removed (:func:`core.redact.redact`), encrypted, and coded into themes (``AnswerTheme``,
source ``auto``) when they are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, null, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core import survey_flow as flow
from core import surveys as core
from core.clock import utcnow
from core.errors import NotAllowed
from core.i18n import DEFAULT_LANGUAGE, N_
from core.themes import code_text, default_codebook
from storage.models import (
    Answer,
    AnswerTheme,
    Invitation,
    Participant,
    Response,
    SurveyVersion,
    Team,
)

TELEGRAM, WEB = "telegram", "web"


def dialect_insert(session: AsyncSession | Session, entity: Any) -> Any:
    """An INSERT that takes ``ON CONFLICT`` clauses, on PostgreSQL and SQLite alike."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(entity)


# --- Survey versions and the team's survey -------------------------------------------------

_surveys_by_hash: dict[str, core.Survey] = {}


def survey_files(surveys_dir: Path | None) -> list[str]:
    """The survey definitions a team can choose: the built-in ones and those in ``surveys_dir``."""
    return core.survey_file_names(surveys_dir)


def team_survey(team: Team, surveys_dir: Path | None) -> core.Survey:
    """The team's survey as its file reads now (the default survey when it has none).

    ``surveys_dir`` is the förbund's own survey folder; a file there wins over a built-in one.
    """
    if not team.survey_file:
        return core.load_default_survey()
    return core.load_team_survey(core.survey_file_path(team.survey_file, surveys_dir))


async def register_survey_version(session: AsyncSession, survey: core.Survey) -> SurveyVersion:
    """The stored version of ``survey`` (by content hash), stored now if it is new."""
    return await session.run_sync(register_survey_version_sync, survey)


def register_survey_version_sync(session: Session, survey: core.Survey) -> SurveyVersion:
    """:func:`register_survey_version` for synchronous code (``Database.run_transaction``)."""
    values = {"code": survey.code, "version": survey.version, "definition": survey.to_dict()}
    session.execute(
        dialect_insert(session, SurveyVersion)
        .values(content_hash=survey.content_hash, created_at=utcnow(), **values)
        .on_conflict_do_nothing(index_elements=["content_hash"])
    )
    stored = session.scalar(
        select(SurveyVersion).where(SurveyVersion.content_hash == survey.content_hash)
    )
    assert stored is not None
    _surveys_by_hash.setdefault(stored.content_hash, survey)
    return stored


def _parsed_survey(session: Session, version_id: int, content_hash: str) -> core.Survey:
    """The parsed survey of a stored version, read from the database once per process.

    A version never changes, so its parsed survey is kept, by content hash rather than by id:
    ids are reused after a database is emptied (or by another database in this process),
    hashes name the content itself.
    """
    survey = _surveys_by_hash.get(content_hash)
    if survey is None:
        version = session.get_one(SurveyVersion, version_id)
        survey = core.survey_from_dict(version.definition)
        _surveys_by_hash[content_hash] = survey
    return survey


async def set_team_survey(
    session: AsyncSession, team_id: int, file_name: str | None, surveys_dir: Path | None
) -> core.Survey:
    """Switch the team to survey file ``file_name`` (None: the default), if it is valid.

    Raises :class:`core.surveys.SurveyFileError` naming the file, the question and the reason.
    """
    if file_name is not None and file_name not in survey_files(surveys_dir):
        raise core.SurveyFileError(
            N_("enkäten finns inte längre bland förbundets enkäter"), path=file_name
        )
    team = await session.get_one(Team, team_id, with_for_update=True)
    team.survey_file = file_name
    survey = team_survey(team, surveys_dir)
    await register_survey_version(session, survey)
    return survey


# --- Where a participant is ------------------------------------------------------------------


@dataclass
class SurveyState:
    """One invitation being answered: its response (None before the start) and the answers.

    ``answers`` maps question id to the stored value (free text: the redacted text);
    ``skipped`` holds the optional questions passed over, ``redacted`` the free-text answers
    that had personal details removed.
    """

    invitation: Invitation
    response: Response | None = None
    survey: core.Survey | None = None
    answers: dict[str, core.AnswerValue] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    redacted: set[str] = field(default_factory=set)
    #: The participant's own name, removed from free text wherever it stands.
    names: tuple[str, ...] = ()

    @property
    def started(self) -> bool:
        """Whether the participant has chosen a language and begun."""
        return self.response is not None

    @property
    def completed(self) -> bool:
        """Whether the response is complete."""
        return self.response is not None and self.response.completed_at is not None

    @property
    def language(self) -> str:
        """The language the participant chose (Swedish until they have)."""
        return self.invitation.language or DEFAULT_LANGUAGE

    def position(self) -> flow.Position:
        """Where the participant is, for :mod:`core.survey_flow` (a response must exist)."""
        assert self.response is not None and self.survey is not None
        return flow.Position(
            self.survey,
            self.answers,
            self.skipped,
            self.redacted,
            self.response.cursor,
            self.completed,
            self.names,
        )

    def current(self) -> core.Question | None:
        """The question to ask now: the one gone back to, else the first one left."""
        if self.response is None or self.survey is None:
            return None
        return self.position().current()

    def progress(self) -> tuple[int, int]:
        """(number of the current question, questions in the survey), e.g. for "2 av 6"."""
        assert self.survey is not None
        question = self.current()
        total = len(self.survey.questions)
        return (self.survey.index(question.id) + 1 if question else total), total


async def state_of(session: AsyncSession, invitation: Invitation) -> SurveyState:
    """The state of ``invitation``: its response, survey version and answers, in one query.

    Call it after locking the invitation row, so the query sees what the previous holder of
    the lock committed (PostgreSQL takes a new snapshot for each statement).
    """
    return await session.run_sync(state_of_sync, invitation)


#: A response with its survey version, answers and the participant's name (built once).
_STATE = (
    select(Response, SurveyVersion.content_hash, Answer, Participant.name)
    .join(SurveyVersion, SurveyVersion.id == Response.survey_version_id)
    .join(Participant, Participant.id == Response.participant_id)
    .outerjoin(Answer, Answer.response_id == Response.id)
    .where(Response.invitation_id == bindparam("invitation_id"))
)


def state_of_sync(session: Session, invitation: Invitation) -> SurveyState:
    """:func:`state_of` for synchronous code (``Database.run_transaction``)."""
    state = SurveyState(invitation)
    rows = session.execute(_STATE, {"invitation_id": invitation.id}).all()
    if not rows:
        return state
    state.response, content_hash = rows[0][0], rows[0][1]
    state.names = (rows[0][3],) if rows[0][3] else ()
    state.survey = _parsed_survey(session, state.response.survey_version_id, content_hash)
    for _, _, answer, _name in rows:
        if answer is not None:
            _add_stored_answer(state, answer)
    return state


def _add_stored_answer(state: SurveyState, answer: Answer) -> None:
    """Put a stored answer row into ``state``: skipped, free text or a choice."""
    if answer.skipped:
        state.skipped.add(answer.question_id)
    elif answer.text is not None:
        state.answers[answer.question_id] = answer.text
        if answer.redacted:
            state.redacted.add(answer.question_id)
    elif answer.value is not None:
        state.answers[answer.question_id] = answer.value


async def survey_to_start(
    session: AsyncSession, state: SurveyState, surveys_dir: Path | None
) -> core.Survey:
    """The survey the participant answers, or will answer when they start: the team's now."""
    if state.survey is not None:
        return state.survey
    return team_survey(await session.get_one(Team, state.invitation.team_id), surveys_dir)


async def start_response(
    session: AsyncSession,
    state: SurveyState,
    language: str,
    *,
    surveys_dir: Path | None,
    now: datetime | None = None,
) -> None:
    """Choose the language and, unless already started, start a response to the team's survey.

    ``surveys_dir``: the förbund's own survey folder, where the team's survey file may be.
    """
    await session.run_sync(
        lambda sync: start_response_sync(sync, state, language, surveys_dir=surveys_dir, now=now)
    )


def start_response_sync(
    session: Session,
    state: SurveyState,
    language: str,
    *,
    surveys_dir: Path | None,
    now: datetime | None = None,
) -> None:
    """:func:`start_response` for synchronous code (``Database.run_transaction``)."""
    now = now or utcnow()
    state.invitation.language = language
    if state.response is not None:
        state.response.language, state.response.updated_at = language, now
        return
    team = session.get_one(Team, state.invitation.team_id)
    version = register_survey_version_sync(session, team_survey(team, surveys_dir))
    state.response = Response(
        invitation_id=state.invitation.id,
        participant_id=state.invitation.participant_id,
        team_id=team.id,
        survey_version_id=version.id,
        language=language,
        channel=WEB if state.invitation.telegram_chat_id is None else TELEGRAM,
        started_at=now,
        updated_at=now,
    )
    session.add(state.response)
    session.flush()
    state.survey = _parsed_survey(session, version.id, version.content_hash)


# --- Answers ---------------------------------------------------------------------------------


def _response(state: SurveyState) -> Response:
    """The response being answered; NotAllowed when there is none or it is complete."""
    if state.response is None or state.survey is None or state.completed:
        raise NotAllowed(N_("Enkäten är inte påbörjad eller redan avslutad."))
    return state.response


def _has_themes(state: SurveyState, question: core.Question) -> bool:
    """Whether the stored answer to ``question`` may have automatic themes: free text only.

    Themes are coded when a free-text answer is stored and removed when it is replaced or
    skipped, so only a question with a text answer in ``state`` (read in this transaction,
    with the invitation locked) can have them.
    """
    return question.kind == core.TEXT and question.id in state.answers


_ANSWER_UPSERTS: dict[tuple[str, bool, bool], Any] = {}


def _answer_upsert(dialect: str, *, has_text: bool, has_value: bool) -> Any:
    """The answer's INSERT … ON CONFLICT DO UPDATE … RETURNING id, built once per shape.

    Building the statement costs more than running it; the values are bound at execution.
    An absent text or value is SQL NULL (not JSON ``null``).
    """
    key = (dialect, has_text, has_value)
    if key not in _ANSWER_UPSERTS:
        table: Table = Answer.__table__  # type: ignore[assignment]
        columns = ("response_id", "question_id", "answered_at", "redacted", "skipped")
        values: dict[str, Any] = {
            name: bindparam(name, type_=table.c[name].type) for name in columns
        }
        for name, present in (("text", has_text), ("value", has_value)):
            values[name] = bindparam(name, type_=table.c[name].type) if present else null()
        stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(
            values
        )
        changed = {name: stmt.excluded[name] for name in values if name not in columns[:2]}
        stmt = stmt.on_conflict_do_update(index_elements=list(columns[:2]), set_=changed)
        _ANSWER_UPSERTS[key] = stmt.returning(table.c.id)
    return _ANSWER_UPSERTS[key]


def _upsert_answer(
    session: Session,
    state: SurveyState,
    question: core.Question,
    now: datetime,
    *,
    text: str | None = None,
    value: Any = None,
    redacted: bool = False,
    skipped: bool = False,
) -> None:
    """Insert or replace the answer to ``question``; free ``text`` is coded into themes.

    Earlier automatic themes of the answer are removed first, when it can have any.
    """
    response = _response(state)
    connection = session.connection()
    stmt = _answer_upsert(
        connection.dialect.name, has_text=text is not None, has_value=value is not None
    )
    params = {
        "response_id": response.id,
        "question_id": question.id,
        "answered_at": now,
        "redacted": redacted,
        "skipped": skipped,
    }
    params |= ({"text": text} if text is not None else {}) | (
        {"value": value} if value is not None else {}
    )
    answer_id: int = connection.execute(stmt, params).scalar_one()
    if _has_themes(state, question):
        session.execute(
            delete(AnswerTheme).where(
                AnswerTheme.answer_id == answer_id, AnswerTheme.source == "auto"
            )
        )
    themes = code_text(text, default_codebook()) if text is not None else []
    if themes:
        rows = [{"answer_id": answer_id, "theme": theme, "source": "auto"} for theme in themes]
        session.execute(insert(AnswerTheme).values(rows))
    response.updated_at = now


async def store_change(
    session: AsyncSession, state: SurveyState, change: flow.Change, *, now: datetime | None = None
) -> None:
    """Store what :mod:`core.survey_flow` decided for one question: a value, a skip, or nothing."""
    _response(state)  # refuse before any work when not started or complete
    await session.run_sync(lambda sync: store_change_sync(sync, state, change, now=now))


def store_change_sync(
    session: Session, state: SurveyState, change: flow.Change, *, now: datetime | None = None
) -> None:
    """:func:`store_change` for synchronous code (``Database.run_transaction``)."""
    _response(state)  # refuse before any work when not started or complete
    question, now = _survey(state).question(change.qid), now or utcnow()
    if change.kind == flow.CLEAR:
        session.execute(
            delete(Answer).where(
                Answer.response_id == _response(state).id, Answer.question_id == change.qid
            )
        )
    elif change.kind == flow.PASS_OVER:
        _upsert_answer(session, state, question, now, skipped=True)
    elif question.kind == core.TEXT:
        _upsert_answer(
            session, state, question, now, text=str(change.value), redacted=change.redacted
        )
    else:
        _upsert_answer(session, state, question, now, value=change.value)
    after = flow.apply(state.position(), flow.Outcome(change))
    state.answers, state.skipped = dict(after.answers), set(after.skipped)
    state.redacted = set(after.redacted)


def _survey(state: SurveyState) -> core.Survey:
    """The survey being answered."""
    assert state.survey is not None
    return state.survey


async def record_answer(
    session: AsyncSession,
    state: SurveyState,
    question: core.Question,
    value: core.AnswerValue,
    *,
    now: datetime | None = None,
) -> flow.Notice | None:
    """Store a parsed answer; free text is redacted, encrypted and coded into themes.

    Returns the notice when personal details were removed from a free-text answer, so the
    participant can be told why.
    """
    _response(state)
    change, notice = flow.answer_change(state.position(), question, value)
    await store_change(session, state, change, now=now)
    return notice


async def skip_question(
    session: AsyncSession,
    state: SurveyState,
    question: core.Question,
    *,
    now: datetime | None = None,
) -> None:
    """Pass over an optional question (any earlier answer to it is removed)."""
    core.check_can_skip(question)
    await store_change(session, state, flow.Change(flow.PASS_OVER, question.id), now=now)


async def toggle_choice(
    session: AsyncSession, state: SurveyState, question: core.Question, code: str
) -> list[str]:
    """Tick or untick one option of a ``multiple`` question; the choices ticked now."""
    _response(state)
    change = flow.toggle_change(state.position(), question, code)
    await store_change(session, state, change)
    return list(change.value) if isinstance(change.value, list) else []


async def move_cursor(
    session: AsyncSession, state: SurveyState, qid: str | None, *, now: datetime | None = None
) -> None:
    """Go to question ``qid`` (going back), or with None on to the first question left."""
    move_cursor_sync(state, qid, now=now)


def move_cursor_sync(state: SurveyState, qid: str | None, *, now: datetime | None = None) -> None:
    """:func:`move_cursor` for synchronous code: the change is flushed with the transaction."""
    response = _response(state)
    response.cursor, response.updated_at = qid, now or utcnow()


async def complete_response(
    session: AsyncSession, state: SurveyState, *, now: datetime | None = None
) -> None:
    """Mark the response complete; whether quoting is allowed comes from the ``citat`` answer."""
    complete_response_sync(state, now=now)


def complete_response_sync(state: SurveyState, *, now: datetime | None = None) -> None:
    """:func:`complete_response` for synchronous code: flushed with the transaction."""
    response = _response(state)
    assert state.survey is not None
    if not core.is_complete(state.survey, state.answers):
        raise NotAllowed(N_("Några frågor behöver fortfarande ett svar."))
    quote = state.answers.get(core.Q_QUOTE)
    response.quote_allowed = quote if isinstance(quote, bool) else None
    response.completed_at = response.updated_at = now or utcnow()
    response.cursor = None


async def delete_response(session: AsyncSession, state: SurveyState) -> int | None:
    """Delete the response and its answers; no more reminders. The deleted response's id."""
    return await session.run_sync(delete_response_sync, state)


def delete_response_sync(session: Session, state: SurveyState) -> int | None:
    """:func:`delete_response` for synchronous code (``Database.run_transaction``)."""
    invitation, response_id = state.invitation, state.response.id if state.response else None
    if state.response is not None:
        session.delete(state.response)
    invitation.language, invitation.reminders_stopped = None, True
    state.response, state.survey, state.answers, state.skipped = None, None, {}, set()
    return response_id


async def stop_reminders(session: AsyncSession, state: SurveyState) -> None:
    """The participant wants no more reminders."""
    state.invitation.reminders_stopped = True
