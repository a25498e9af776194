"""Personal data is encrypted at rest: the raw database holds no name, number or answer in clear.

The data is written through the real use cases (the referral form's ``submit_referral``, the
survey's ``record_answer``) and the models (a person with every kind of encrypted field); then
the SQLite file and its write-ahead log are read as bytes, and every table's rows as text.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core import surveys as core
from storage import invitations, migrate, surveys
from storage.db import Database
from storage.models import Answer, Base, Participant, Referral
from tests.common.people import make_person_with_history
from tests.common.referrals import make_referral
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team
from tests.conftest import PG_ENV, clean_tables

FORM = {
    "person_name": "Ylva Östergårdh", "person_phone": "073-918 27 36",
    "referrer_name": "Henrietta Ståhlberg", "referrer_email": "henrietta.stahlberg@kommunen.se",
    "referrer_phone": "08-765 43 21",
    "help_wanted": "Behöver hjälp att hantera ångesten inför möten på Jobbtorget",
    "practical_needs": "Hörselslinga vid samtal",
}  # fmt: skip
PERSONNUMMER_FORMS = ("198503121231", "19850312-1231", "8503121231", "850312-1231")
ANSWER = "Promenaderna längs Fyrisån med gruppen hjälpte mig mest"


def written_forms(value: str) -> list[bytes]:
    """The ways ``value`` could appear in a file: UTF-8, and escaped as in JSON."""
    return [value.encode("utf-8"), json.dumps(value)[1:-1].encode("ascii")]


@pytest.fixture
async def database(tmp_path: Path, database_url: str, keyring) -> AsyncIterator[Database]:  # type: ignore[no-untyped-def]
    """A fresh SQLite file (no pages from other tests), or the PostgreSQL test database."""
    if os.environ.get(PG_ENV):
        url = database_url
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'at-rest.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
    db = Database.from_url(url, keyring)
    await clean_tables(db)
    yield db
    await db.close()


async def write_everything(db: Database) -> list[str]:
    """Store personal data of every kind through the use cases; the values to look for."""
    await make_team(db)
    await make_referral(db, **FORM)
    await answer_survey(db, ANSWER)
    person = await make_person_with_history(db, 42)
    return [*FORM.values(), *PERSONNUMMER_FORMS, ANSWER, *person.clear_texts().values()]


async def answer_survey(db: Database, free_text: str) -> None:
    """A participant answers the survey's free-text question on the web."""
    participant = await make_enrolled_participant(db, "N-900")
    async with db.transaction() as session:
        [new] = await invitations.create_invitations(session, [participant], channel="web", days=30)
        state = await invitations.claim_invitation(session, new.token)
        await surveys.start_response(session, state, "sv", surveys_dir=None)
        assert state.survey is not None
        question = next(q for q in state.survey.questions if q.kind == core.TEXT)
        await surveys.record_answer(
            session, state, question, core.parse_answer(question, free_text)
        )


async def rows_as_text(db: Database) -> str:
    """Every row of every table, as the database returns it without decrypting anything."""
    parts = []
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if db.dialect == "postgresql":
                query = f"SELECT CAST({table.name} AS text) FROM {table.name}"
            else:
                query = f"SELECT * FROM {table.name}"
            parts += [repr(tuple(row)) for row in await conn.execute(text(query))]
    return "\n".join(parts)


async def test_the_stored_rows_hold_no_personal_data_in_clear(database: Database) -> None:
    secrets = await write_everything(database)

    stored = await rows_as_text(database)

    assert "Samverkansteam Norr" in stored  # the scan sees real rows: team names are not secret
    assert [s for s in secrets if s in stored] == []


async def test_the_sqlite_files_hold_no_personal_data_in_clear(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL's files are not ours to read; the rows are checked above")
    secrets = await write_everything(database)
    path = Path(str(database.engine.url.database))

    raw = await asyncio.to_thread(lambda: path.read_bytes() + Path(f"{path}-wal").read_bytes())

    assert b"Samverkansteam Norr" in raw
    assert [s for s in secrets if any(form in raw for form in written_forms(s))] == []


async def test_the_values_are_stored_and_read_back_decrypted(database: Database) -> None:
    """The scans above would also pass if nothing were stored: read it all back."""
    await write_everything(database)
    async with database.sessions() as session:
        people = set((await session.scalars(select(Participant.name))).all())
        needs = set((await session.scalars(select(Referral.help_wanted))).all())
        answers = set((await session.scalars(select(Answer.text))).all())
    assert {FORM["person_name"], "Karin Fjällström42"} <= people
    assert FORM["help_wanted"] in needs
    assert ANSWER in answers
