"""Migration 0004: answers stored before redaction held are redacted again, on both databases."""

from __future__ import annotations

import asyncio
from functools import partial

from storage import migrate
from storage.crypto import Keyring
from storage.db import Database
from storage.models import Answer, Participant
from tests.common.surveys import make_enrolled_participant, make_survey_response
from tests.common.teams import make_team

LEAKING = (
    "Anna Svensson ringde 070.123.45.67 och mejlade åsa.ström@kommun.se, "
    "mitt nummer är 19850312–1234 och ١٩٨٥٠٣١٢-١٢٣٤, hälsningar Zoltan"
)


async def test_stored_answers_are_redacted_again_and_marked(
    db: Database, database_url: str, keyring: Keyring
) -> None:
    await make_team(db, "norr")
    participant = await make_enrolled_participant(db, "N-1")
    async with db.transaction() as session:
        stored = await session.get(Participant, participant.id)
        assert stored is not None
        stored.name = "Zoltan Kovacs"
    answer_id = await make_survey_response(db, participant.id, completed=None, useful=LEAKING)
    await asyncio.to_thread(migrate.downgrade, database_url, "0002")
    try:
        await asyncio.to_thread(partial(migrate.upgrade, database_url, keyring=keyring))
    finally:  # head again for other tests
        await asyncio.to_thread(partial(migrate.upgrade, database_url, keyring=keyring))

    async with db.sessions() as session:
        answer = await session.get(Answer, answer_id)
    assert answer is not None
    assert answer.text == (
        "[namn] ringde [telefon] och mejlade [e-post], mitt nummer är [personnummer] och "
        "[personnummer], hälsningar [namn]"
    )
    assert answer.redacted is True
