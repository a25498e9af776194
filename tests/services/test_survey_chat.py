"""Chat updates that arrive together share one transaction and its statements.

:func:`services.survey_chat.handle_chat_update` is called for several chats at once, as the
webhook does when many participants answer at the same moment: the updates are recorded, the
chats loaded and the answers written with as many statements as for one chat, and every
participant's answer is stored as if they had answered alone.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from core import survey_flow as flow
from core import surveys as core
from services.survey_chat import LANGUAGE, START, ChatInput, ChatReply, handle_chat_update
from storage import invitations
from storage.db import Database
from storage.models import Answer, AnswerTheme, Invitation, Response, Team
from tests.common.surveys import make_enrolled_participant, statements_run
from tests.common.teams import make_team

FIRST_CHAT = 9_100


class Updates:
    """Update ids in order, as Telegram numbers them."""

    def __init__(self) -> None:
        self.last = 1_000

    async def send(self, db: Database, chat_id: int, chat: ChatInput) -> ChatReply | None:
        self.last += 1
        return await handle_chat_update(db, self.last, chat_id, "sv", chat)


async def new_tokens(db: Database, count: int) -> list[str]:
    async with db.sessions() as session:
        has_team = await session.scalar(select(Team.id))
    if not has_team:
        await make_team(db)
    people = [await make_enrolled_participant(db, f"G-{n:03}") for n in range(count)]
    async with db.transaction() as session:
        new = await invitations.create_invitations(session, people, channel="telegram", days=30)
    return [invitation.token for invitation in new]


async def started_chats(db: Database, updates: Updates, count: int) -> list[int]:
    """``count`` chats that opened their link and chose Swedish, one after the other."""
    chats = []
    for n, token in enumerate(await new_tokens(db, count)):
        chat_id = FIRST_CHAT + n
        await updates.send(db, chat_id, ChatInput(START, text=token))
        await updates.send(db, chat_id, ChatInput(LANGUAGE, value="sv", pressed=True))
        chats.append(chat_id)
    return chats


def tick(code: str) -> ChatInput:
    return ChatInput(flow.TICK, qid=core.Q_ACTIVITIES, value=code, pressed=True)


async def stored(db: Database) -> dict[int, object]:
    """Each chat's answer to the activities question."""
    async with db.sessions() as session:
        rows = await session.execute(
            select(Invitation.telegram_chat_id, Answer.value)
            .join(Response, Response.id == Answer.response_id)
            .join(Invitation, Invitation.id == Response.invitation_id)
            .where(Answer.question_id == core.Q_ACTIVITIES)
        )
        return {chat: value for chat, value in rows.all()}


async def test_the_updates_of_six_chats_at_once_take_the_statements_of_one(db: Database) -> None:
    updates = Updates()
    chats = await started_chats(db, updates, 6)

    with statements_run(db) as seen:
        await asyncio.gather(*(updates.send(db, chat, tick("traning")) for chat in chats))

    if db.dialect == "postgresql":  # updates recorded and chats locked; their states; the writes
        assert seen == [
            "WITH INSERT processed_updates",
            "SELECT responses",
            "INSERT answers",
            "UPDATE responses",
        ]
    else:
        assert seen == [
            "INSERT processed_updates",
            "SELECT invitations",
            "INSERT answers",
            "UPDATE responses",
        ]
    assert await stored(db) == {chat: ["traning"] for chat in chats}


async def test_text_answers_of_many_chats_at_once_keep_their_own_themes(db: Database) -> None:
    updates = Updates()
    chats = await started_chats(db, updates, 2)
    for chat in chats:  # on to the free-text question
        await updates.send(db, chat, tick("traning"))
        await updates.send(db, chat, ChatInput(flow.DONE, qid=core.Q_ACTIVITIES, pressed=True))
    texts = ["Samtalen med min coach", "Träningen på gymmet"]

    await asyncio.gather(
        *(updates.send(db, chat, ChatInput("typed", text=text)) for chat, text in zip(chats, texts))
    )
    # Each replaced by the other's text, at once: the old automatic themes go, the new come.
    await asyncio.gather(
        *(
            updates.send(db, chat, ChatInput(flow.BACK, qid=core.Q_CLOSER, pressed=True))
            for chat in chats
        )
    )
    await asyncio.gather(
        *(
            updates.send(db, chat, ChatInput("typed", text=text))
            for chat, text in zip(chats, reversed(texts), strict=True)
        )
    )

    async with db.sessions() as session:
        rows = await session.execute(
            select(Invitation.telegram_chat_id, Answer.text, AnswerTheme.theme)
            .join(Response, Response.id == Answer.response_id)
            .join(Invitation, Invitation.id == Response.invitation_id)
            .join(AnswerTheme, AnswerTheme.answer_id == Answer.id)
            .where(Answer.question_id == core.Q_USEFUL)
        )
        themes = {(chat, text, theme) for chat, text, theme in rows.all()}
    assert themes == {
        (chats[0], "Träningen på gymmet", "motion"),
        (chats[1], "Samtalen med min coach", "samtal"),
    }


async def test_two_updates_of_one_chat_in_one_transaction_both_count(db: Database) -> None:
    updates = Updates()
    [chat, other] = await started_chats(db, updates, 2)

    await asyncio.gather(
        updates.send(db, chat, tick("traning")),
        updates.send(db, other, tick("annat")),
        updates.send(db, chat, tick("studiebesok")),  # read after the first tick is written
    )

    answers = await stored(db)
    assert sorted(answers[chat]) == ["studiebesok", "traning"]  # type: ignore[arg-type]
    assert answers[other] == ["annat"]


async def test_two_chats_opening_one_link_at_once_one_gets_it(db: Database) -> None:
    updates = Updates()
    [token] = await new_tokens(db, 1)

    first, second = await asyncio.gather(
        updates.send(db, FIRST_CHAT, ChatInput(START, text=token)),
        updates.send(db, FIRST_CHAT + 1, ChatInput(START, text=token)),
    )

    assert first is not None and first.error is None
    assert second is not None and second.error is not None
    assert getattr(second.error, "reason", None) == "taken"
    async with db.sessions() as session:
        assert await session.scalar(select(Invitation.telegram_chat_id)) == FIRST_CHAT


async def test_an_update_that_is_refused_leaves_the_others_of_its_transaction(
    db: Database,
) -> None:
    updates = Updates()
    chats = await started_chats(db, updates, 3)
    unknown = FIRST_CHAT + 99  # a chat that never opened a link presses an old button

    replies = await asyncio.gather(
        *(updates.send(db, chat, tick("traning")) for chat in chats),
        updates.send(db, unknown, tick("traning")),
    )

    assert [reply.error is None for reply in replies if reply is not None] == [
        True,
        True,
        True,
        False,
    ]
    assert await stored(db) == {chat: ["traning"] for chat in chats}


async def test_a_redelivered_update_in_the_same_transaction_is_applied_once(
    db: Database,
) -> None:
    updates = Updates()
    [chat] = await started_chats(db, updates, 1)
    updates.last += 1
    again = updates.last

    first, second = await asyncio.gather(
        handle_chat_update(db, again, chat, "sv", tick("traning")),
        handle_chat_update(db, again, chat, "sv", tick("traning")),
    )

    assert (first is not None, second) == (True, None)
    assert await stored(db) == {chat: ["traning"]}
