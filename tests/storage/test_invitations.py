"""Invitations: tokens, claiming once, revoking, reminders that are due, processed updates."""

import asyncio
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import surveys as core
from storage import invitations, surveys
from storage.db import Database
from storage.invitations import InvitationError
from storage.models import Invitation, ProcessedUpdate
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CHAT, OTHER_CHAT = 1001, 1002


async def invite(db: Database, person_ref: str = "N-001", *, now: datetime = NOW) -> str:
    """A new invitation for the participant (created if needed); its token."""
    async with db.sessions() as session:
        participant = await session.scalar(
            select(invitations.Participant).where(invitations.Participant.person_ref == person_ref)
        )
    participant = participant or await make_enrolled_participant(db, person_ref)
    async with db.transaction() as session:
        [new] = await invitations.create_invitations(
            session, [participant], channel="telegram", days=30, now=now
        )
    return new.token


async def claim(db: Database, token: str, chat_id: int | None = CHAT, now: datetime = NOW):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await invitations.claim_invitation(session, token, chat_id=chat_id, now=now)


async def all_invitations(db: Database) -> list[Invitation]:
    async with db.sessions() as session:
        return list(await session.scalars(select(Invitation).order_by(Invitation.id)))


@pytest.fixture
async def team(db: Database):  # type: ignore[no-untyped-def]
    return await make_team(db)


async def test_only_the_tokens_hash_is_stored_and_the_invitation_expires(
    db: Database, team
) -> None:
    token = await invite(db)

    [stored] = await all_invitations(db)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.expires_at == NOW + timedelta(days=30)  # audited: tests/services


async def test_a_new_invitation_revokes_the_older_unfinished_one(db: Database, team) -> None:
    old = await invite(db)
    await invite(db, now=NOW + timedelta(hours=1))

    first, second = await all_invitations(db)
    assert first.revoked_at == NOW + timedelta(hours=1) and second.revoked_at is None
    with pytest.raises(InvitationError) as refused:
        await claim(db, old)
    assert refused.value.reason == "revoked"


async def test_inviting_a_whole_team_reaches_only_active_participants(db: Database, team) -> None:
    await make_enrolled_participant(db, "N-002")
    await make_enrolled_participant(db, "N-001")
    await make_enrolled_participant(db, "N-003", ended=True)

    async with db.transaction() as session:
        active = await invitations.active_participants(session, team.id)
        created = await invitations.create_invitations(session, active, channel="web", days=7)

    assert [new.person_ref for new in created] == ["N-001", "N-002"]
    assert len({new.token for new in created}) == 2


async def test_a_person_ref_is_found_in_its_team(db: Database, team) -> None:
    await make_team(db, "syd", "Resursteam Syd")
    await make_enrolled_participant(db, "X-1")
    await make_enrolled_participant(db, "X-1", team="syd")

    async with db.sessions() as session:
        with pytest.raises(invitations.NotFound):
            await invitations.find_participant(session, "X-1")
        found = await invitations.find_participant(session, "X-1", "syd")
        with pytest.raises(invitations.NotFound):
            await invitations.find_participant(session, "X-9")
    assert found.person_ref == "X-1" and found.team_id != team.id


async def test_the_first_chat_claims_the_invitation_and_may_come_back(db: Database, team) -> None:
    token = await invite(db)

    await claim(db, token, CHAT)
    again = await claim(db, token, CHAT, NOW + timedelta(days=1))

    assert again.invitation.telegram_chat_id == CHAT
    assert again.invitation.claimed_at == NOW


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [(CHAT, OTHER_CHAT, "taken"), (CHAT, None, "in_telegram"), (None, CHAT, "on_web")],
)
async def test_a_claimed_invitation_is_refused_anywhere_else(
    db: Database, team, first: int | None, second: int | None, reason: str
) -> None:
    token = await invite(db)
    await claim(db, token, first)

    with pytest.raises(InvitationError) as refused:
        await claim(db, token, second)

    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("token", "reason"), [("x" * 32, "unknown"), ("kort", "unknown"), ("../../etc", "unknown")]
)
async def test_an_unknown_token_is_refused(db: Database, team, token: str, reason: str) -> None:
    with pytest.raises(InvitationError) as refused:
        await claim(db, token)

    assert refused.value.reason == reason


async def test_an_expired_invitation_is_refused(db: Database, team) -> None:
    token = await invite(db)

    with pytest.raises(InvitationError) as refused:
        await claim(db, token, now=NOW + timedelta(days=30))

    assert refused.value.reason == "expired"


async def test_two_chats_racing_for_one_invitation_one_wins(db: Database, team) -> None:
    token = await invite(db)

    results = await asyncio.gather(
        *(claim(db, token, chat) for chat in range(2000, 2006)), return_exceptions=True
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    refusals = [r.reason for r in results if isinstance(r, InvitationError)]
    assert len(winners) == 1 and refusals == ["taken"] * 5


async def test_the_chat_state_is_the_newest_invitation_the_chat_claimed(db: Database, team) -> None:
    await claim(db, await invite(db, "N-001"), CHAT)
    newer = await invite(db, "N-002")
    await claim(db, newer, CHAT, NOW + timedelta(minutes=5))

    [(_, state), (_, nobody)] = await db.run_transaction(
        lambda c: invitations.mark_updates_and_load_chats_sync(c, [(11, CHAT), (12, OTHER_CHAT)])
    )
    assert state.invitation.token_hash == invitations.hash_token(newer) and nobody is None


async def test_an_update_is_recorded_once_and_loads_the_newest_claimed_invitations_state(
    db: Database, team
) -> None:
    older = await invite(db, "N-001")
    async with db.transaction() as session:
        state = await invitations.claim_invitation(session, older, chat_id=CHAT, now=NOW)
        await surveys.start_response(session, state, "en", surveys_dir=None, now=NOW)
        question = state.survey.question(core.Q_CLOSER)
        await surveys.record_answer(session, state, question, "ja_lite", now=NOW)
    newer = await invite(db, "N-002")
    await claim(db, newer, CHAT, NOW + timedelta(minutes=5))

    def load(update_id: int, chat_id: int):  # type: ignore[no-untyped-def]
        return lambda c: invitations.mark_update_and_load_chat_sync(c, update_id, chat_id)

    fresh, newest = await db.run_transaction(load(1, CHAT))
    again, _ = await db.run_transaction(load(1, CHAT))
    lonely, nobody = await db.run_transaction(load(2, OTHER_CHAT))

    assert (fresh, again, lonely, nobody) == (True, False, True, None)
    assert newest.invitation.token_hash == invitations.hash_token(newer)
    assert not newest.started and newest.answers == {}


async def test_the_loaded_chat_state_holds_the_response_and_its_answers(db: Database, team) -> None:
    token = await invite(db, "N-001")
    async with db.transaction() as session:
        state = await invitations.claim_invitation(session, token, chat_id=CHAT, now=NOW)
        await surveys.start_response(session, state, "en", surveys_dir=None, now=NOW)
        closer = state.survey.question(core.Q_CLOSER)
        useful = state.survey.question(core.Q_USEFUL)
        await surveys.record_answer(session, state, closer, "ja_lite", now=NOW)
        await surveys.record_answer(session, state, useful, "Ring 070-123 45 67", now=NOW)

    _, loaded = await db.run_transaction(
        lambda c: invitations.mark_update_and_load_chat_sync(c, 9, CHAT)
    )

    assert loaded.language == "en" and loaded.response.started_at == NOW
    assert loaded.answers[core.Q_CLOSER] == "ja_lite"
    assert "070" not in loaded.answers[core.Q_USEFUL]
    assert loaded.redacted == {core.Q_USEFUL} and loaded.skipped == set()
    assert loaded.response.changes() == {} and loaded.invitation.changes() == {}


# --- Reminders -------------------------------------------------------------------------------


async def claimed_and_started(db: Database, person_ref: str, chat: int) -> int:
    token = await invite(db, person_ref)
    async with db.transaction() as session:
        state = await invitations.claim_invitation(session, token, chat_id=chat, now=NOW)
        await surveys.start_response(session, state, "ar", surveys_dir=None, now=NOW)
        return state.invitation.id


async def due(db: Database, days_later: float) -> list[invitations.DueReminder]:
    async with db.sessions() as session:
        return await invitations.due_reminders(
            session, now=NOW + timedelta(days=days_later), after_days=3
        )


async def remind(db: Database, invitation_id: int, days_later: float) -> bool:
    async with db.transaction() as session:
        return await invitations.mark_reminder_sent(
            session, invitation_id, now=NOW + timedelta(days=days_later)
        )


async def test_an_unfinished_survey_is_due_a_reminder_after_the_set_days(
    db: Database, team
) -> None:
    invitation_id = await claimed_and_started(db, "N-001", CHAT)

    assert await due(db, 2.9) == []
    assert await due(db, 3) == [invitations.DueReminder(invitation_id, CHAT, "ar")]


async def test_at_most_two_reminders_each_after_the_set_days(db: Database, team) -> None:
    invitation_id = await claimed_and_started(db, "N-001", CHAT)

    assert await remind(db, invitation_id, 3)
    assert await due(db, 5) == []
    assert len(await due(db, 6)) == 1
    assert await remind(db, invitation_id, 6)
    assert await due(db, 20) == []
    assert not await remind(db, invitation_id, 20)


async def test_a_reminder_can_be_counted_only_once_at_a_time(db: Database, team) -> None:
    invitation_id = await claimed_and_started(db, "N-001", CHAT)

    counted = await asyncio.gather(*(remind(db, invitation_id, 3) for _ in range(4)))

    assert sorted(counted) == [False, False, True, True]


async def test_no_reminders_when_stopped_finished_revoked_or_unclaimed(db: Database, team) -> None:
    stopped = await claimed_and_started(db, "N-001", 1)
    await claimed_and_started(db, "N-002", 2)
    await invite(db, "N-002", now=NOW + timedelta(hours=1))  # revokes the one of chat 2
    await invite(db, "N-003")  # never opened: no chat to remind
    async with db.transaction() as session:
        await invitations.stop_reminders_for(session, stopped)

    assert await due(db, 4) == []


async def test_a_reminder_given_back_is_due_again(db: Database, team) -> None:
    invitation_id = await claimed_and_started(db, "N-001", CHAT)
    [reminder] = await due(db, 3)
    await remind(db, invitation_id, 3)
    async with db.transaction() as session:
        await invitations.unmark_reminder(session, invitation_id, reminder.last_reminder_at)

    [invitation] = await all_invitations(db)
    assert invitation.reminders_sent == 0
    assert await due(db, 3.01) == [reminder]  # the next run, 15 minutes later, not days later


# --- Telegram updates ------------------------------------------------------------------------


async def mark(session: AsyncSession, update_id: int) -> bool:
    """Record the update (of a chat with no invitation) in the session's transaction."""
    loaded = await session.run_sync(
        lambda sync: invitations.mark_update_and_load_chat_sync(sync, update_id, OTHER_CHAT)
    )
    return loaded[0]


async def test_an_update_is_processed_once(db: Database) -> None:
    async with db.transaction() as session:
        first = await mark(session, 77)
    async with db.transaction() as session:
        again = await mark(session, 77)

    assert (first, again) == (True, False)


async def test_concurrent_deliveries_of_one_update_are_processed_once(db: Database) -> None:
    async def deliver() -> bool:  # each in a transaction of its own
        async with db.transaction() as session:
            return await mark(session, 78)

    assert sorted(await asyncio.gather(*(deliver() for _ in range(5)))) == [False] * 4 + [True]


async def test_old_update_records_are_forgotten(db: Database) -> None:
    async with db.transaction() as session:
        await mark(session, 1)
        forgotten = await invitations.forget_processed_updates(
            session, datetime.now(UTC) + timedelta(seconds=1)
        )
        left = (await session.scalars(select(ProcessedUpdate))).all()

    assert (forgotten, left) == (1, [])
