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

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import (
    Connection,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core import survey_flow as flow
from core import surveys as core
from core.clock import utcnow
from core.errors import NotAllowed
from core.i18n import DEFAULT_LANGUAGE, N_
from core.themes import code_text, default_codebook
from storage.db import SyncExecutor
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


# --- Survey versions and the team's survey -------------------------------------------------

_surveys_by_hash: dict[str, core.Survey] = {}


def survey_files(surveys_dir: Path | None) -> list[str]:
    """The survey definitions a team can choose: the built-in ones and those in ``surveys_dir``."""
    return core.survey_file_names(surveys_dir)


def team_survey(team: Team, surveys_dir: Path | None) -> core.Survey:
    """The team's survey as its file reads now (the default survey when it has none).

    ``surveys_dir`` is the förbund's own survey folder; a file there wins over a built-in one.
    """
    return _survey_of_file(team.survey_file, surveys_dir)


def _survey_of_file(survey_file: str | None, surveys_dir: Path | None) -> core.Survey:
    """The survey in a team's ``survey_file`` (None or empty: the default survey)."""
    if not survey_file:
        return core.load_default_survey()
    return core.load_team_survey(core.survey_file_path(survey_file, surveys_dir))


async def register_survey_version(session: AsyncSession, survey: core.Survey) -> SurveyVersion:
    """The stored version of ``survey`` (by content hash), stored now if it is new."""
    version_id = await session.run_sync(_version_id, survey)
    return await session.get_one(SurveyVersion, version_id)


_VERSION_ID = select(SurveyVersion.id).where(
    SurveyVersion.content_hash == bindparam("content_hash")
)


_NEW_VERSIONS: dict[str, Any] = {}


def _new_version_statement(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (content_hash) DO NOTHING`` of a survey version, built once."""
    if dialect not in _NEW_VERSIONS:
        table = cast(Table, SurveyVersion.__table__)
        columns = ("content_hash", "code", "version", "definition", "created_at")
        values = {name: bindparam(name, type_=table.c[name].type) for name in columns}
        insert_new = postgresql.insert if dialect == "postgresql" else sqlite.insert
        _NEW_VERSIONS[dialect] = (
            insert_new(table).values(values).on_conflict_do_nothing(index_elements=["content_hash"])
        )
    return _NEW_VERSIONS[dialect]


def _version_id(executor: SyncExecutor, survey: core.Survey) -> int:
    """The id of the stored version of ``survey``, stored now if it is new.

    A version is stored once and read by its hash ever after: the common case is one SELECT,
    without serialising the definition.
    """
    connection = connection_of(executor)
    by_hash = {"content_hash": survey.content_hash}
    version_id: int | None = connection.execute(_VERSION_ID, by_hash).scalar()
    if version_id is None:
        values = {"code": survey.code, "version": survey.version, "definition": survey.to_dict()}
        connection.execute(
            _new_version_statement(connection.dialect.name),
            {**by_hash, **values, "created_at": utcnow()},
        )
        version_id = connection.execute(_VERSION_ID, by_hash).scalar_one()
    _surveys_by_hash.setdefault(survey.content_hash, survey)
    return version_id


_DEFINITION = select(SurveyVersion.definition).where(SurveyVersion.id == bindparam("version_id"))


def _parsed_survey(executor: SyncExecutor, version_id: int, content_hash: str) -> core.Survey:
    """The parsed survey of a stored version, read from the database once per process.

    A version never changes, so its parsed survey is kept, by content hash rather than by id:
    ids are reused after a database is emptied (or by another database in this process),
    hashes name the content itself.
    """
    survey = _surveys_by_hash.get(content_hash)
    if survey is None:
        definition = (
            connection_of(executor).execute(_DEFINITION, {"version_id": version_id}).scalar_one()
        )
        survey = core.survey_from_dict(definition)
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


@dataclass(eq=False)
class _Row:
    """A row read with a Core statement, its columns as attributes.

    ``MUTABLE`` names the columns answering the survey changes; :meth:`changes` says which of
    them differ from what is stored, and :func:`save_state_sync` writes just those.
    """

    MUTABLE: ClassVar[tuple[str, ...]] = ()
    _stored: tuple[Any, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._stored = tuple(getattr(self, name) for name in self.MUTABLE)

    def mark_stored(self, *names: str) -> None:
        """What the attributes ``names`` (all without) hold now is what the database holds."""
        self._stored = tuple(
            getattr(self, name) if not names or name in names else stored
            for name, stored in zip(self.MUTABLE, self._stored, strict=True)
        )

    def changes(self) -> dict[str, Any]:
        """The changed columns and their new values."""
        return {
            name: getattr(self, name)
            for name, stored in zip(self.MUTABLE, self._stored, strict=True)
            if getattr(self, name) != stored
        }


@dataclass(eq=False)
class InvitationRow(_Row):
    """The invitation being answered (``invitations``), as the survey needs it."""

    MUTABLE: ClassVar[tuple[str, ...]] = (
        "claimed_at",
        "telegram_chat_id",
        "language",
        "reminders_stopped",
    )
    id: int
    participant_id: int
    team_id: int
    token_hash: str
    expires_at: datetime
    revoked_at: datetime | None
    claimed_at: datetime | None
    telegram_chat_id: int | None
    language: str | None
    reminders_stopped: bool


@dataclass(eq=False)
class ResponseRow(_Row):
    """The invitation's response (``responses``), once the participant has started."""

    MUTABLE: ClassVar[tuple[str, ...]] = (
        "language",
        "cursor",
        "updated_at",
        "completed_at",
        "quote_allowed",
    )
    id: int
    survey_version_id: int
    language: str
    channel: str
    cursor: str | None
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    quote_allowed: bool | None


_INVITATIONS = cast(Table, Invitation.__table__)
_RESPONSES = cast(Table, Response.__table__)
_ANSWERS = cast(Table, Answer.__table__)
_THEMES = cast(Table, AnswerTheme.__table__)
_VERSIONS = cast(Table, SurveyVersion.__table__)
_ROW_FIELDS = {
    table: [f.name for f in fields(row) if f.init]
    for table, row in ((_INVITATIONS, InvitationRow), (_RESPONSES, ResponseRow))
}
#: The invitation's columns, for :mod:`storage.invitations` to read one with.
INVITATION_COLUMNS = tuple(_INVITATIONS.c[name] for name in _ROW_FIELDS[_INVITATIONS])


def connection_of(executor: SyncExecutor) -> Connection:
    """The connection under ``executor``: Core statements run there without the ORM's work."""
    return executor.connection() if isinstance(executor, Session) else executor


@dataclass(frozen=True)
class AnswerWrite:
    """An answer changed in a :class:`SurveyState` and not yet written: its new value (text,
    value, or neither when ``skipped``), or ``deleted``; its automatic themes, and whether the
    stored answer may have automatic themes to remove first."""

    at: datetime
    text: str | None = None
    value: Any = None
    redacted: bool = False
    skipped: bool = False
    deleted: bool = False
    themes: tuple[str, ...] = ()
    replaces_themes: bool = False


@dataclass
class SurveyState:
    """One invitation being answered: its response (None before the start) and the answers.

    ``answers`` maps question id to the stored value (free text: the redacted text);
    ``skipped`` holds the optional questions passed over, ``redacted`` the free-text answers
    that had personal details removed. The synchronous functions here change ``invitation``,
    ``response`` and the answers in place; :func:`save_state_sync` writes what changed (the
    async functions do so before they return), and :func:`save_states_sync` what changed in
    many states, a statement for each kind of change.
    """

    invitation: InvitationRow
    response: ResponseRow | None = None
    survey: core.Survey | None = None
    answers: dict[str, core.AnswerValue] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    redacted: set[str] = field(default_factory=set)
    #: The participant's own name, removed from free text wherever it stands.
    names: tuple[str, ...] = ()
    #: The answers changed since the state was read or saved, by question id.
    unsaved_answers: dict[str, AnswerWrite] = field(default_factory=dict)

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


def invitation_row(values: Sequence[Any]) -> InvitationRow:
    """The invitation in a row of :data:`INVITATION_COLUMNS`."""
    return InvitationRow(*values)


_RESPONSE_COLUMNS = tuple(_RESPONSES.c[name] for name in _ROW_FIELDS[_RESPONSES])
#: A response with its survey version, the participant's name and the answers (built once).
_STATE_COLUMNS = (
    select(
        *_RESPONSE_COLUMNS,
        _VERSIONS.c.content_hash,
        Participant.name,
        _ANSWERS.c.question_id,
        _ANSWERS.c.value,
        _ANSWERS.c.text,
        _ANSWERS.c.redacted,
        _ANSWERS.c.skipped,
    )
    .select_from(_RESPONSES)
    .join(_VERSIONS, _VERSIONS.c.id == _RESPONSES.c.survey_version_id)
    .join(Participant, Participant.id == _RESPONSES.c.participant_id)
    .outerjoin(_ANSWERS, _ANSWERS.c.response_id == _RESPONSES.c.id)
)
_R = len(_RESPONSE_COLUMNS)  # where the version's hash stands in a row of _STATE_COLUMNS


def state_of_sync(executor: SyncExecutor, invitation: InvitationRow) -> SurveyState:
    """The state of ``invitation``: its response, survey version and answers, in one query.

    Call it after locking the invitation row, so the query sees what the previous holder of
    the lock committed (PostgreSQL takes a new snapshot for each statement).
    """
    return states_of_sync(executor, [invitation])[0]


def _state_in(
    connection: Connection, invitation: InvitationRow, rows: Sequence[Sequence[Any]]
) -> SurveyState:
    """The state in rows of :data:`_STATE_COLUMNS` (a response's columns all NULL: not started)."""
    state = SurveyState(invitation)
    if not rows or rows[0][0] is None:
        return state
    first = rows[0]
    state.response = ResponseRow(*first[:_R])
    name = first[_R + 1]
    state.names = (name,) if name else ()
    state.survey = _parsed_survey(connection, state.response.survey_version_id, first[_R])
    answers, skipped, redacted = state.answers, state.skipped, state.redacted
    for row in rows:
        question_id, value, text, was_redacted, was_skipped = row[_R + 2 :]
        if question_id is None:  # no answers yet (the outer join's empty row)
            continue
        if was_skipped:
            skipped.add(question_id)
        elif text is not None:
            answers[question_id] = text
            if was_redacted:
                redacted.add(question_id)
        elif value is not None:
            answers[question_id] = value
    return state


def in_list(column: Any, name: str, dialect: str) -> Any:
    """``column`` is one of the values bound to ``name``, a list bound as :func:`list_value`
    gives it: ``= ANY(:name)`` on PostgreSQL, ``IN (SELECT value FROM json_each(:name))`` on
    SQLite. One statement (and one prepared statement) for any number of values."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    each = func.json_each(bindparam(name, type_=String())).table_valued("value")
    return column.in_(select(each.c.value))


def list_value(values: Iterable[Any], dialect: str) -> Any:
    """A list of values to bind to a parameter of :func:`in_list`."""
    return list(values) if dialect == "postgresql" else json.dumps(list(values))


_STATES: dict[str, Any] = {}


def _states_statement(dialect: str) -> Any:
    """The rows of :data:`_STATE_COLUMNS` for a list of invitations, each led by its invitation's id."""
    if dialect not in _STATES:
        invitation_id = _RESPONSES.c.invitation_id
        _STATES[dialect] = _STATE_COLUMNS.with_only_columns(
            invitation_id, *_STATE_COLUMNS.selected_columns
        ).where(in_list(invitation_id, "invitation_ids", dialect))
    return _STATES[dialect]


def states_of_sync(
    executor: SyncExecutor, invitations: Sequence[InvitationRow]
) -> list[SurveyState]:
    """:func:`state_of_sync` for many invitations, in one query; in the same order."""
    connection = connection_of(executor)
    dialect = connection.dialect.name
    ids = list_value((invitation.id for invitation in invitations), dialect)
    rows_of: dict[int, list[Sequence[Any]]] = {}
    for row in connection.execute(_states_statement(dialect), {"invitation_ids": ids}):
        rows_of.setdefault(row[0], []).append(row[1:])
    return [_state_in(connection, each, rows_of.get(each.id, [])) for each in invitations]


def invitations_with_states_statement(where: Any) -> Any:
    """One SELECT of the invitations ``where`` picks, each with its response, survey version,
    the participant's name and the answers: rows of :data:`INVITATION_COLUMNS` followed by
    those of :data:`_STATE_COLUMNS`. For SQLite, where the transaction holds the write lock from its
    start: on PostgreSQL the invitation rows must be locked first, in a statement of their
    own (a statement that waited for a lock reads with its older snapshot)."""
    return (
        select(*INVITATION_COLUMNS, *_STATE_COLUMNS.selected_columns)
        .select_from(_INVITATIONS)
        .outerjoin(_RESPONSES, _RESPONSES.c.invitation_id == _INVITATIONS.c.id)
        .outerjoin(_VERSIONS, _VERSIONS.c.id == _RESPONSES.c.survey_version_id)
        .outerjoin(Participant, Participant.id == _RESPONSES.c.participant_id)
        .outerjoin(_ANSWERS, _ANSWERS.c.response_id == _RESPONSES.c.id)
        .where(where)
    )


def states_in_rows(executor: SyncExecutor, rows: Sequence[Sequence[Any]]) -> list[SurveyState]:
    """The states in the rows of an :func:`invitations_with_states_statement`, in the order
    their invitations first appear."""
    width = len(INVITATION_COLUMNS)
    rows_of: dict[int, list[Sequence[Any]]] = {}
    for row in rows:
        rows_of.setdefault(row[0], []).append(row)
    connection = connection_of(executor)
    return [
        _state_in(connection, invitation_row(rows[0][:width]), [row[width:] for row in rows])
        for rows in rows_of.values()
    ]


_UPDATES: dict[tuple[str, tuple[str, ...]], Any] = {}


def _update_of(table: Table, columns: tuple[str, ...]) -> Any:
    """``UPDATE table SET columns… WHERE id = :row_id``, built once per set of columns."""
    key = (table.name, columns)
    if key not in _UPDATES:
        values = {name: bindparam(name, type_=table.c[name].type) for name in columns}
        _UPDATES[key] = update(table).where(table.c.id == bindparam("row_id")).values(values)
    return _UPDATES[key]


def save_state_sync(executor: SyncExecutor, state: SurveyState | None) -> None:
    """Write what changed in the state: its answers, its invitation and its response."""
    if state is not None:
        save_states_sync(executor, [state])


def save_states_sync(executor: SyncExecutor, states: Sequence[SurveyState]) -> None:
    """Write what changed in ``states``: each kind of statement once, for all their rows.

    In order: answers removed; answers inserted or replaced (a statement per shape: text,
    value, or skipped); automatic themes removed from replaced answers, and the new ones
    added (found by response and question: no ids are read back); then the responses and the
    invitations, a statement per set of changed columns. The states must be of different
    invitations.
    """
    connection = connection_of(executor)
    dialect = connection.dialect.name
    removed: list[dict[str, Any]] = []
    upserts: dict[tuple[bool, bool], list[dict[str, Any]]] = {}
    old_themes: list[dict[str, Any]] = []
    new_themes: list[dict[str, Any]] = []
    for state in states:
        if not state.unsaved_answers:
            continue
        assert state.response is not None, "answers of a response that was deleted"
        response_id = state.response.id
        for question_id, write in state.unsaved_answers.items():
            key = {"response_id": response_id, "question_id": question_id}
            if write.deleted:
                removed.append(key)
                continue
            row = key | {
                "answered_at": write.at,
                "redacted": write.redacted,
                "skipped": write.skipped,
            }
            if write.text is not None:
                row["text"] = write.text
            if write.value is not None:
                row["value"] = write.value
            upserts.setdefault((write.text is not None, write.value is not None), []).append(row)
            if write.replaces_themes:
                old_themes.append(key)
            new_themes.extend(key | {"theme": theme, "source": "auto"} for theme in write.themes)
    if removed:
        connection.execute(_DELETE_ANSWER, removed)
    for (has_text, has_value), rows in upserts.items():
        connection.execute(_answer_upsert(dialect, has_text=has_text, has_value=has_value), rows)
    if old_themes:
        connection.execute(_DELETE_AUTO_THEMES, old_themes)
    if new_themes:
        connection.execute(_INSERT_THEME, new_themes)
    responses = [state.response for state in states if state.response is not None]
    invitations = [state.invitation for state in states]
    tables: tuple[tuple[Table, Sequence[ResponseRow | InvitationRow]], ...] = (
        (_RESPONSES, responses),
        (_INVITATIONS, invitations),
    )
    for table, records in tables:
        changed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for record in records:
            if changes := record.changes():
                changed.setdefault(tuple(changes), []).append({"row_id": record.id, **changes})
        for columns, values in changed.items():
            connection.execute(_update_of(table, columns), values)
    for state in states:
        state.unsaved_answers.clear()
        state.invitation.mark_stored()
        if state.response is not None:
            state.response.mark_stored()


async def save_state(session: AsyncSession, state: SurveyState) -> None:
    """:func:`save_state_sync` for async code."""
    await session.run_sync(save_state_sync, state)


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

    def start(sync: Session) -> None:
        start_response_sync(sync, state, language, surveys_dir=surveys_dir, now=now)
        save_state_sync(sync, state)

    await session.run_sync(start)


_TEAM_SURVEY_FILE = select(Team.survey_file).where(Team.id == bindparam("team_id"))
_NEW_RESPONSE = insert(_RESPONSES).returning(_RESPONSES.c.id)


def start_response_sync(
    executor: SyncExecutor,
    state: SurveyState,
    language: str,
    *,
    surveys_dir: Path | None,
    now: datetime | None = None,
) -> None:
    """:func:`start_response` for synchronous code: the response is inserted now, the
    language stored by :func:`save_state_sync`."""
    now = now or utcnow()
    invitation = state.invitation
    invitation.language = language
    if state.response is not None:
        state.response.language, state.response.updated_at = language, now
        return
    connection = connection_of(executor)
    survey_file = connection.execute(_TEAM_SURVEY_FILE, {"team_id": invitation.team_id}).scalar()
    survey = _survey_of_file(survey_file, surveys_dir)
    version_id = _version_id(connection, survey)
    channel = WEB if invitation.telegram_chat_id is None else TELEGRAM
    values = {
        "invitation_id": invitation.id,
        "participant_id": invitation.participant_id,
        "team_id": invitation.team_id,
        "survey_version_id": version_id,
        "language": language,
        "channel": channel,
        "cursor": None,
        "started_at": now,
        "updated_at": now,
        "completed_at": None,
        "quote_allowed": None,
    }
    response_id = connection.execute(_NEW_RESPONSE, values).scalar_one()
    state.response = ResponseRow(
        response_id, version_id, language, channel, None, now, now, None, None
    )
    state.survey = _parsed_survey(connection, version_id, survey.content_hash)


# --- Answers ---------------------------------------------------------------------------------


def _response(state: SurveyState) -> ResponseRow:
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
    """The answer's INSERT … ON CONFLICT DO UPDATE, built once per shape.

    Building the statement costs more than running it; the values are bound at execution
    (many rows at once: see :func:`save_states_sync`). An absent text or value is SQL NULL
    (not JSON ``null``).
    """
    key = (dialect, has_text, has_value)
    if key not in _ANSWER_UPSERTS:
        table = _ANSWERS
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
        _ANSWER_UPSERTS[key] = stmt.on_conflict_do_update(
            index_elements=list(columns[:2]), set_=changed
        )
    return _ANSWER_UPSERTS[key]


#: The answer of one response (``response_id``) to one question (``question_id``).
_THE_ANSWER = and_(
    _ANSWERS.c.response_id == bindparam("response_id"),
    _ANSWERS.c.question_id == bindparam("question_id"),
)
_ANSWER_ID = select(_ANSWERS.c.id).where(_THE_ANSWER).scalar_subquery()
#: The automatic themes of one answer, removed before it is replaced (built once).
_DELETE_AUTO_THEMES = delete(_THEMES).where(
    _THEMES.c.answer_id == _ANSWER_ID, _THEMES.c.source == "auto"
)
#: One automatic theme of one answer.
_INSERT_THEME = insert(_THEMES).from_select(
    ["answer_id", "theme", "source"],
    select(
        _ANSWERS.c.id,
        bindparam("theme", type_=_THEMES.c.theme.type),
        bindparam("source", type_=_THEMES.c.source.type),
    ).where(_THE_ANSWER),
)
_DELETE_ANSWER = delete(_ANSWERS).where(_THE_ANSWER)


def _record_answer(
    state: SurveyState,
    question: core.Question,
    now: datetime,
    *,
    text: str | None = None,
    value: Any = None,
    redacted: bool = False,
    skipped: bool = False,
    deleted: bool = False,
) -> None:
    """Insert, replace or (``deleted``) remove the answer to ``question`` when the state is
    saved; free ``text`` is coded into themes now. Earlier automatic themes of the answer are
    removed first, when it can have any."""
    response = _response(state)
    earlier = state.unsaved_answers.get(question.id)
    state.unsaved_answers[question.id] = AnswerWrite(
        at=now,
        text=text,
        value=value,
        redacted=redacted,
        skipped=skipped,
        deleted=deleted,
        themes=tuple(code_text(text, default_codebook())) if text is not None else (),
        replaces_themes=_has_themes(state, question)
        or (earlier is not None and earlier.replaces_themes),
    )
    response.updated_at = now


async def store_change(
    session: AsyncSession, state: SurveyState, change: flow.Change, *, now: datetime | None = None
) -> None:
    """Store what :mod:`core.survey_flow` decided for one question: a value, a skip, or nothing."""
    store_change_sync(state, change, now=now)
    await save_state(session, state)


def store_change_sync(
    state: SurveyState, change: flow.Change, *, now: datetime | None = None
) -> None:
    """:func:`store_change` for synchronous code (``Database.run_transaction``): the change is
    made in ``state`` and written by :func:`save_state_sync`."""
    _response(state)  # refuse before any work when not started or complete
    question, now = _survey(state).question(change.qid), now or utcnow()
    if change.kind == flow.CLEAR:
        _record_answer(state, question, now, deleted=True)
    elif change.kind == flow.PASS_OVER:
        _record_answer(state, question, now, skipped=True)
    elif question.kind == core.TEXT:
        _record_answer(state, question, now, text=str(change.value), redacted=change.redacted)
    else:
        _record_answer(state, question, now, value=change.value)
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
    await save_state(session, state)


def move_cursor_sync(state: SurveyState, qid: str | None, *, now: datetime | None = None) -> None:
    """:func:`move_cursor` for synchronous code: written by :func:`save_state_sync`."""
    response = _response(state)
    if response.cursor != qid:  # moving on from an answer leaves it None: nothing to write
        response.cursor, response.updated_at = qid, now or utcnow()


async def complete_response(
    session: AsyncSession, state: SurveyState, *, now: datetime | None = None
) -> None:
    """Mark the response complete; whether quoting is allowed comes from the ``citat`` answer."""
    complete_response_sync(state, now=now)
    await save_state(session, state)


def complete_response_sync(state: SurveyState, *, now: datetime | None = None) -> None:
    """:func:`complete_response` for synchronous code: written by :func:`save_state_sync`."""
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

    def delete_now(sync: Session) -> int | None:
        response_id = delete_response_sync(sync, state)
        save_state_sync(sync, state)
        return response_id

    return await session.run_sync(delete_now)


_DELETE_RESPONSE = delete(_RESPONSES).where(_RESPONSES.c.id == bindparam("response_id"))


def delete_response_sync(executor: SyncExecutor, state: SurveyState) -> int | None:
    """:func:`delete_response` for synchronous code: the response and its answers (and their
    themes, by the foreign keys' cascade) are deleted now, the invitation's change is written
    by :func:`save_state_sync`."""
    invitation, response_id = state.invitation, state.response.id if state.response else None
    if response_id is not None:
        connection_of(executor).execute(_DELETE_RESPONSE, {"response_id": response_id})
    invitation.language, invitation.reminders_stopped = None, True
    state.response, state.survey, state.answers, state.skipped = None, None, {}, set()
    state.redacted, state.unsaved_answers = set(), {}
    return response_id


async def stop_reminders(session: AsyncSession, state: SurveyState) -> None:
    """The participant wants no more reminders."""
    state.invitation.reminders_stopped = True
    await save_state(session, state)
