"""Right of access: one participant's extract holds everything about them, and is audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.errors import NotFound
from services.access_export import SCHEMA, export_person, find_participant, may_export
from storage import audit
from storage.db import Database
from storage.models import AuditEntry
from tests.common.people import make_person_with_history
from tests.common.teams import make_team


async def test_the_extract_holds_every_piece_of_personal_data_stored(db: Database) -> None:
    await make_team(db)
    person = await make_person_with_history(db)

    extract = await export_person(db, person.participant_id, actor="cli")

    text = json.dumps(extract, ensure_ascii=False)
    missing = [what for what, value in person.clear_texts().items() if value not in text]
    assert missing == []
    assert extract["schema"] == SCHEMA
    assert extract["person"]["personnummer"] == person.personnummer
    assert [r["reference"] for r in extract["referrals"]] == ["R-SEC001"]
    answers = extract["survey"]["responses"][0]["answers"]
    assert [(a["question_id"], a["value"], a["text"], a["themes"]) for a in answers] == [
        ("nytta", None, person.answer, ["grupp"]), ("halsa", "bra", None, []),
    ]  # fmt: skip


async def test_the_extract_leaves_out_tokens_and_other_people(db: Database) -> None:
    await make_team(db)
    person = await make_person_with_history(db, 1)
    other = await make_person_with_history(db, 2)

    text = json.dumps(await export_person(db, person.participant_id, actor="cli"))

    assert "token" not in text and f"{1:064x}" not in text
    assert not any(value in text for value in other.clear_texts().values())


async def test_the_access_log_lists_who_saw_the_person_and_the_export_is_audited(
    db: Database,
) -> None:
    team = await make_team(db)
    person = await make_person_with_history(db, 1)
    other = await make_person_with_history(db, 2)
    async with db.transaction() as session:
        for pid in (person.participant_id, other.participant_id):
            await audit.record(
                session,
                "participant.viewed",
                actor="user:7",
                object_type="participant",
                object_id=pid,
                team_id=team.id,
            )

    first = await export_person(db, person.participant_id, actor="user:9", user_id=None)
    second = await export_person(db, person.participant_id, actor="user:9")

    assert [(e["action"], e["by"]) for e in first["access_log"]] == [
        ("participant.viewed", "user:7")
    ]
    assert [e["action"] for e in second["access_log"]] == [
        "participant.viewed",
        "participant.exported",
    ]
    async with db.sessions() as session:
        exported = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "participant.exported")
            )
        ).all()
    assert [(e.actor, e.object_id, e.detail) for e in exported] == [
        ("user:9", person.participant_id, {"referrals": 1, "responses": 1})
    ] * 2


async def test_another_teams_participant_cannot_be_exported(db: Database) -> None:
    north = await make_team(db)
    south = await make_team(db, "syd", "Samverkansteam Syd")
    person = await make_person_with_history(db, team="syd")

    with pytest.raises(NotFound):
        await export_person(db, person.participant_id, actor="user:1", team_ids={north.id})
    assert not await may_export(db, person.participant_id, {north.id})
    assert await may_export(db, person.participant_id, {south.id})
    assert await may_export(db, person.participant_id, None)
    assert not await may_export(db, person.participant_id + 1000, None)


async def test_a_participant_is_found_by_the_teams_own_reference(db: Database) -> None:
    await make_team(db)
    person = await make_person_with_history(db, 3)

    async with db.sessions() as session:
        found = await find_participant(session, person_ref="P-3", team_code="norr")
        with pytest.raises(NotFound):
            await find_participant(session, person_ref="P-3", team_code="syd")
    assert found == person.participant_id
