"""The privacy commands as an operator runs them: rotate-key, purge and export-person."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.crypto import Keyring
from storage.db import Database
from storage.models import AuditEntry, Participant
from tests.common.cli import samverkan
from tests.common.people import make_person_with_history
from tests.common.teams import make_team
from tests.conftest import TEST_SECRET

NEW_KEY = "a-brand-new-secret-key-" + "k" * 30


async def test_rotate_key_moves_everything_to_the_new_key(
    db: Database, reopen, settings_env
) -> None:
    await make_team(db)
    person = await make_person_with_history(db)
    rotating = {
        **settings_env,
        "SAMVERKAN_SECRET_KEY": NEW_KEY,
        "SAMVERKAN_PREVIOUS_SECRET_KEYS": TEST_SECRET,
    }
    only_new = {**settings_env, "SAMVERKAN_SECRET_KEY": NEW_KEY}

    refused = await samverkan(only_new, "rotate-key")
    rotated = await samverkan(rotating, "rotate-key", "--batch-size", "2", "--verbose")
    again = await samverkan(only_new, "rotate-key")

    assert refused[0] == 1
    assert refused[2].splitlines() == [
        "note: SAMVERKAN_PREVIOUS_SECRET_KEYS is empty; only checking",
        "samverkan: 10 rows could not be decrypted with the current or previous keys (first: "
        "outbox id 1); add the key they were written with to "
        "SAMVERKAN_PREVIOUS_SECRET_KEYS and run again",
    ]
    assert rotated[0] == 0 and "participants: 1 rows checked" in rotated[2]
    assert "participants.name 1" in rotated[1] and "recomputed 1 blind indexes" in rotated[1]
    assert again[0] == 0 and "re-encrypted 0 values" in again[1]
    db = reopen(Keyring(NEW_KEY))
    async with db.sessions() as session:
        stored = (
            await session.execute(select(Participant.name, Participant.personnummer_hash))
        ).one()
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert tuple(stored) == (person.name, Keyring(NEW_KEY).blind_index(person.personnummer))
    assert actions.count("keys.rotated") == 3


async def test_purge_lists_in_a_dry_run_and_then_purges(db: Database, settings_env) -> None:
    await make_team(db)
    person = await make_person_with_history(db)

    dry = await samverkan(settings_env, "purge", "--dry-run")
    real = await samverkan(settings_env, "purge")

    line = f"participant {person.participant_id} team norr referrals R-SEC001 closed 2019-06-30"
    assert dry[0] == 0 and dry[1].splitlines()[0] == line
    assert "would purge 1 participants" in dry[1]
    assert real[0] == 0 and "purged 1 participants" in real[1]
    assert person.name not in dry[1] + real[1]
    async with db.sessions() as session:
        assert await session.scalar(select(Participant.name)) is None


async def test_export_person_writes_the_extract_as_json(db: Database, settings_env) -> None:
    await make_team(db)
    person = await make_person_with_history(db, 4)

    found = await samverkan(settings_env, "export-person", "--ref", "P-4", "--team", "norr")
    unknown = await samverkan(settings_env, "export-person", "--id", "999999")
    no_team = await samverkan(settings_env, "export-person", "--ref", "P-4")

    assert found[0] == 0 and json.loads(found[1])["person"]["name"] == person.name
    assert unknown == (1, "", "samverkan: no participant id 999999\n")
    assert no_team == (1, "", "samverkan: --ref needs --team CODE\n")
