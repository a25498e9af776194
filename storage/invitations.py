"""Survey invitations: creating them, claiming them, reminders, and Telegram update records.

An *invitation* is a single-use, expiring token handed to one participant as a Telegram deep
link, a QR code and a web link; only its SHA-256 is stored, so the link is shown once. The first
Telegram chat, or the web page, that uses it *claims* it; a second chat is refused politely. The
chat is linked to the participant only through the token. Loading an invitation locks its row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions begin IMMEDIATE), so processes that
handle the same participant at once take turns and no answer is lost.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    bindparam,
    column,
    delete,
    exists,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.errors import NotFound
from core.i18n import DEFAULT_LANGUAGE, N_
from core.invitations import InvitationError, NewInvitation
from core.invitations import check_usable as check_invitation
from storage.db import SyncExecutor
from storage.models import Invitation, Participant, ProcessedUpdate, Referral, Response, Team
from storage.surveys import (
    INVITATION_COLUMNS,
    InvitationRow,
    SurveyState,
    connection_of,
    invitation_row,
    invitations_with_states_statement,
    list_value,
    save_state_sync,
    state_of_sync,
    states_in_rows,
    states_of_sync,
)

MAX_REMINDERS = 2
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def hash_token(token: str) -> str:
    """The SHA-256 (hex) stored in place of an invitation token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


# --- Creating ----------------------------------------------------------------------------------


async def create_invitations(
    session: AsyncSession,
    participants: Sequence[Participant],
    *,
    channel: str,
    days: int,
    user_id: int | None = None,
    now: datetime | None = None,
) -> list[NewInvitation]:
    """One new invitation per participant; their older unfinished invitations stop working."""
    now = now or utcnow()
    finished = exists().where(
        Response.invitation_id == Invitation.id, Response.completed_at.is_not(None)
    )
    await session.execute(
        update(Invitation)
        .where(Invitation.participant_id.in_([p.id for p in participants]))
        .where(Invitation.revoked_at.is_(None), ~finished)
        .values(revoked_at=now)
    )
    return [
        await _create(session, participant, channel, now + timedelta(days=days), user_id, now)
        for participant in participants
    ]


async def _create(
    session: AsyncSession,
    participant: Participant,
    channel: str,
    expires_at: datetime,
    user_id: int | None,
    now: datetime,
) -> NewInvitation:
    """Store one invitation (its token's hash); :mod:`services.invitations` audits it."""
    token = secrets.token_urlsafe(24)
    invitation = Invitation(
        participant_id=participant.id,
        team_id=participant.team_id,
        channel=channel,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=expires_at,
        created_by_user_id=user_id,
    )
    session.add(invitation)
    await session.flush()
    return NewInvitation(invitation.id, participant.id, participant.person_ref, token, expires_at)


async def active_participants(session: AsyncSession, team_id: int) -> list[Participant]:
    """The team's participants whose enrolment has not ended, by ``person_ref``."""
    enrolled = exists().where(
        Referral.participant_id == Participant.id,
        Referral.status == "enrolled",
        Referral.end_date.is_(None),
    )
    query = select(Participant).where(Participant.team_id == team_id, enrolled)
    query = query.where(Participant.purged_at.is_(None)).order_by(Participant.person_ref)
    return list(await session.scalars(query))


async def find_participant(
    session: AsyncSession, person_ref: str, team_code: str | None = None
) -> Participant:
    """The participant with ``person_ref`` (in team ``team_code``); NotFound if none or unclear."""
    query = select(Participant).where(Participant.person_ref == person_ref)
    if team_code is not None:
        query = query.join(Team, Team.id == Participant.team_id).where(Team.code == team_code)
    found = list(await session.scalars(query))
    if len(found) == 1:
        return found[0]
    if found:
        message = N_("Deltagaren {ref} finns i flera team: ange teamet.")
        raise NotFound(message, field="team", ref=person_ref)
    raise NotFound(N_("Ingen deltagare har referensen {ref}."), field="person_ref", ref=person_ref)


async def latest_invitations(
    session: AsyncSession, participant_ids: Iterable[int]
) -> dict[int, tuple[Invitation, Response | None]]:
    """Each participant's newest invitation and its response, if any."""
    rows = await session.execute(
        select(Invitation, Response)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.participant_id.in_(list(participant_ids)))
        .order_by(Invitation.created_at, Invitation.id)
    )
    return {invitation.participant_id: (invitation, response) for invitation, response in rows}


# --- Using ---------------------------------------------------------------------------------------


def check_usable(
    state: SurveyState, now: datetime | None = None, *, completed_link_days: int | None = None
) -> None:
    """Raise :class:`InvitationError` when the invitation was revoked, has expired or is closed
    (completed more than ``completed_link_days`` ago; None: never)."""
    invitation = state.invitation
    check_invitation(
        invitation.revoked_at,
        invitation.expires_at,
        completed=state.completed,
        now=now or utcnow(),
        completed_at=state.response.completed_at if state.response is not None else None,
        completed_link_days=completed_link_days,
    )


_BY_TOKEN = (
    select(*INVITATION_COLUMNS)
    .where(Invitation.token_hash == bindparam("token_hash"))
    .with_for_update()
)


def _locked_by_token(executor: SyncExecutor, token: str) -> InvitationRow:
    """The invitation of ``token``, its row locked; ``unknown`` when there is none."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise InvitationError("unknown")
    row = connection_of(executor).execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None:
        raise InvitationError("unknown")
    return invitation_row(row)


async def team_of_token(session: AsyncSession, token: str) -> Team | None:
    """The team that sent the invitation ``token`` (whether or not it can still be used)."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    return await session.scalar(
        select(Team)
        .join(Invitation, Invitation.team_id == Team.id)
        .where(Invitation.token_hash == hash_token(token))
    )


async def claim_invitation(
    session: AsyncSession,
    token: str,
    *,
    chat_id: int | None = None,
    now: datetime | None = None,
    completed_link_days: int | None = None,
) -> SurveyState:
    """Bind the invitation to a Telegram chat (``chat_id``) or the web page (None), once.

    The chat or page that claimed it may come back; anyone else gets :class:`InvitationError`,
    as does everyone once a completed link has closed (see :func:`check_usable`).
    """

    def claim(sync: Session) -> SurveyState:
        state = claim_invitation_sync(
            sync, token, chat_id=chat_id, now=now, completed_link_days=completed_link_days
        )
        save_state_sync(sync, state)
        return state

    return await session.run_sync(claim)


def claim_invitation_sync(
    executor: SyncExecutor,
    token: str,
    *,
    chat_id: int | None = None,
    now: datetime | None = None,
    completed_link_days: int | None = None,
) -> SurveyState:
    """:func:`claim_invitation` for synchronous code (``Database.run_transaction``); the
    claim is written by :func:`storage.surveys.save_state_sync`."""
    now = now or utcnow()
    state = state_of_sync(executor, _locked_by_token(executor, token))
    check_usable(state, now, completed_link_days=completed_link_days)
    invitation = state.invitation
    if invitation.claimed_at is None:
        invitation.claimed_at, invitation.telegram_chat_id = now, chat_id
    elif invitation.telegram_chat_id != chat_id:
        web_asks, web_has = chat_id is None, invitation.telegram_chat_id is None
        raise InvitationError("in_telegram" if web_asks else "on_web" if web_has else "taken")
    return state


async def load_token_state(
    session: AsyncSession, token: str, *, completed_link_days: int | None = None
) -> SurveyState:
    """The web page's view of an invitation (row locked), without claiming it."""
    state = await session.run_sync(lambda sync: state_of_sync(sync, _locked_by_token(sync, token)))
    check_usable(state, completed_link_days=completed_link_days)
    if state.invitation.telegram_chat_id is not None:
        raise InvitationError("in_telegram")
    return state


# --- Reminders and Telegram updates ----------------------------------------------------------


@dataclass(frozen=True)
class DueReminder:
    """A chat to remind of its unfinished survey, in the participant's language."""

    invitation_id: int
    chat_id: int
    language: str
    last_reminder_at: datetime | None = None


async def due_reminders(
    session: AsyncSession, *, now: datetime, after_days: int, max_reminders: int = MAX_REMINDERS
) -> list[DueReminder]:
    """Unfinished Telegram invitations idle ``after_days`` since the last answer or reminder."""
    cutoff = now - timedelta(days=after_days)
    rows = await session.execute(
        select(Invitation, Response.updated_at)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.telegram_chat_id.is_not(None), Invitation.claimed_at <= cutoff)
        .where(Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .where(~Invitation.reminders_stopped, Invitation.reminders_sent < max_reminders)
        .where(Response.completed_at.is_(None))
        .order_by(Invitation.id)
    )
    due = []
    for invitation, answered_at in rows:
        moments = (invitation.claimed_at, answered_at, invitation.last_reminder_at)
        if max(moment for moment in moments if moment is not None) <= cutoff:
            chat_id, language = invitation.telegram_chat_id, invitation.language
            assert chat_id is not None
            due.append(
                DueReminder(
                    invitation.id,
                    chat_id,
                    language or DEFAULT_LANGUAGE,
                    invitation.last_reminder_at,
                )
            )
    return due


async def mark_reminder_sent(
    session: AsyncSession, invitation_id: int, *, now: datetime, max_reminders: int = MAX_REMINDERS
) -> bool:
    """Count a reminder before it is sent; False when it is no longer due (taken or stopped)."""
    result = await session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.reminders_sent < max_reminders)
        .where(~Invitation.reminders_stopped)
        .values(reminders_sent=Invitation.reminders_sent + 1, last_reminder_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def unmark_reminder(
    session: AsyncSession, invitation_id: int, last_reminder_at: datetime | None = None
) -> None:
    """Give back a reminder that could not be sent, so the next run tries again.

    ``last_reminder_at`` is the time of the reminder before it (None: there was none); it is
    put back, so the reminder is due again at once rather than after the set days.
    """
    await session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.reminders_sent > 0)
        .values(reminders_sent=Invitation.reminders_sent - 1, last_reminder_at=last_reminder_at)
    )


async def stop_reminders_for(session: AsyncSession, invitation_id: int) -> None:
    """No more reminders for an invitation (the participant blocked the bot)."""
    await session.execute(
        update(Invitation).where(Invitation.id == invitation_id).values(reminders_stopped=True)
    )


def _newest_of_chat(chat_id: Any) -> Any:
    """The newest invitation the chat ``chat_id`` claimed."""
    return (
        select(*INVITATION_COLUMNS)
        .where(Invitation.telegram_chat_id == chat_id)
        .order_by(Invitation.claimed_at.desc(), Invitation.id.desc())
        .limit(1)
    )


_LOAD_CHATS: dict[str, tuple[Any, Any]] = {}


def _load_chats_statements(dialect: str) -> tuple[Any, Any]:
    """The statements of :func:`mark_updates_and_load_chats_sync`, built once per dialect.

    PostgreSQL: ``WITH marked AS (INSERT … SELECT FROM unnest(:update_ids) ON CONFLICT DO
    NOTHING RETURNING update_id) SELECT given.update_id, marked.update_id, invitation… FROM
    unnest(:update_ids, :chat_ids) AS given LEFT JOIN marked … LEFT JOIN LATERAL (the chat's
    newest invitation … FOR UPDATE) ON true``: every update recorded and every chat's
    invitation locked (in the order of the chats given), one row per update; then the states
    are read by :func:`storage.surveys.states_of_sync`. SQLite: the updates recorded (``…
    RETURNING update_id``: the new ones), then the newest invitation of each chat with its
    whole state in one SELECT.
    """
    if dialect in _LOAD_CHATS:
        return _LOAD_CHATS[dialect]
    table: Table = ProcessedUpdate.__table__  # type: ignore[assignment]
    at = bindparam("at", type_=table.c.at.type)
    insert: Any
    if dialect == "postgresql":
        ids = bindparam("update_ids", type_=postgresql.ARRAY(BigInteger()))
        chats = bindparam("chat_ids", type_=postgresql.ARRAY(BigInteger()))
        new_ids = func.unnest(ids).table_valued("update_id").render_derived()
        rows = select(new_ids.c.update_id, at, false())
        insert = postgresql.insert(table)
    else:
        each = func.json_each(bindparam("update_ids", type_=String())).table_valued("value")
        # "WHERE true": SQLite would read the ON of "ON CONFLICT" as a join's.
        rows = select(each.c.value, at, false()).where(true())
        insert = sqlite.insert(table)
    mark = (
        insert.from_select(["update_id", "at", "reply_failed"], rows)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(table.c.update_id)
    )
    if dialect != "postgresql":
        each = func.json_each(bindparam("chat_ids", type_=String())).table_valued("value")
        other = cast(Table, Invitation.__table__).alias("chat_invitation")
        newest_id = (
            select(other.c.id)
            .where(other.c.telegram_chat_id == each.c.value)
            .order_by(other.c.claimed_at.desc(), other.c.id.desc())
            .limit(1)
            .correlate(each)
            .scalar_subquery()
        )
        load = invitations_with_states_statement(
            Invitation.id.in_(select(newest_id).select_from(each))
        )
        _LOAD_CHATS[dialect] = (mark, load)
        return mark, load
    marked = mark.cte("marked")
    given = (
        func.unnest(ids, chats)
        .table_valued(column("update_id", BigInteger()), column("chat_id", BigInteger()))
        .render_derived(name="given")
    )
    newest = _newest_of_chat(given.c.chat_id).with_for_update().lateral("newest")
    locked = select(given.c.update_id, marked.c.update_id, *newest.c).select_from(
        given.outerjoin(marked, marked.c.update_id == given.c.update_id).outerjoin(newest, true())
    )
    _LOAD_CHATS[dialect] = (locked, None)
    return locked, None


def mark_updates_and_load_chats_sync(
    executor: SyncExecutor, updates: Sequence[tuple[int, int]]
) -> list[tuple[bool, SurveyState | None]]:
    """Record Telegram updates as handled; the state of the newest invitation each update's
    chat claimed, its row locked. ``updates``: (update id, chat id), of different chats.

    For each update, in order: (whether it is new (False: a redelivery), the state or None).
    Two statements for them all: on PostgreSQL the updates are recorded and the invitations
    locked in one (the chats in ascending order, so that two transactions locking some of the
    same chats cannot wait for each other), their states read in the next (which sees what a
    lock's previous holder committed); on SQLite, whose transaction holds the write lock from
    its start, the updates are recorded, then the invitations and their states read in one.
    """
    connection = connection_of(executor)
    dialect = connection.dialect.name
    first, second = _load_chats_statements(dialect)
    by_chat = sorted(updates, key=lambda update: update[1])
    params = {
        "update_ids": list_value((update_id for update_id, _ in by_chat), dialect),
        "chat_ids": list_value((chat_id for _, chat_id in by_chat), dialect),
        "at": utcnow(),
    }
    if dialect != "postgresql":
        fresh = set(connection.execute(first, params).scalars())
        loaded = states_in_rows(connection, connection.execute(second, params).all())
        state_of = {state.invitation.telegram_chat_id: state for state in loaded}
        return [(update_id in fresh, state_of.get(chat_id)) for update_id, chat_id in updates]
    rows = {row[0]: row for row in connection.execute(first, params)}
    claimed = [invitation_row(row[2:]) for row in rows.values() if row[2] is not None]
    state_of = {
        state.invitation.telegram_chat_id: state for state in states_of_sync(connection, claimed)
    }
    return [
        (rows[update_id][1] is not None, state_of.get(chat_id)) for update_id, chat_id in updates
    ]


def mark_update_and_load_chat_sync(
    executor: SyncExecutor, update_id: int, chat_id: int
) -> tuple[bool, SurveyState | None]:
    """:func:`mark_updates_and_load_chats_sync` for one update."""
    return mark_updates_and_load_chats_sync(executor, [(update_id, chat_id)])[0]


async def mark_reply_failed(session: AsyncSession, update_id: int) -> None:
    """The update was applied but its replies could not be sent."""
    await session.execute(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.update_id == update_id)
        .values(reply_failed=True)
    )


_TAKE_FAILED_REPLY = (
    update(ProcessedUpdate)
    .where(ProcessedUpdate.update_id == bindparam("the_update"), ProcessedUpdate.reply_failed)
    .values(reply_failed=False)
)


def take_failed_reply_sync(executor: SyncExecutor, update_id: int) -> bool:
    """Whether the replies to this (applied) update failed; the mark is cleared."""
    result = connection_of(executor).execute(_TAKE_FAILED_REPLY, {"the_update": update_id})
    return bool(result.rowcount)


async def forget_processed_updates(session: AsyncSession, before: datetime) -> int:
    """Remove the records of updates handled before ``before``; how many were removed."""
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
