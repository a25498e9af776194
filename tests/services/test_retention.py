"""Retention: personal data goes once a person's last referral closed long ago; counts stay."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from reports.periods import Period
from reports.summary import build_summary
from services.retention import find_expired, purge_expired, retention_cutoff
from storage.db import Database
from storage.models import (
    Answer,
    AnswerTheme,
    AuditEntry,
    Consent,
    Invitation,
    Participant,
    ProgressStep,
    Referral,
    ReferralEvent,
)
from tests.common.people import make_person_with_history
from tests.common.teams import make_team

TODAY = date(2026, 11, 22)  # the cutoff for 5 years is 2021-11-22


async def purge(db: Database, **options: object):  # type: ignore[no-untyped-def]
    return await purge_expired(db, today=TODAY, retention_years=5, **options)  # type: ignore[arg-type]


async def participant(db: Database, participant_id: int) -> Participant:
    async with db.sessions() as session:
        return await session.get_one(Participant, participant_id)


@given(st.dates(min_value=date(1950, 1, 1)), st.integers(min_value=1, max_value=50))
def test_the_cutoff_is_the_same_day_the_given_number_of_years_earlier(today, years) -> None:
    cutoff = retention_cutoff(today, years)
    assert cutoff.year == today.year - years
    leap_day_lost = (today.month, today.day) == (2, 29) and not calendar.isleap(cutoff.year)
    assert (cutoff.month, cutoff.day) == ((2, 28) if leap_day_lost else (today.month, today.day))


async def test_a_person_who_ended_over_five_years_ago_is_anonymised(db: Database) -> None:
    await make_team(db)
    person = await make_person_with_history(db, ended_on=date(2019, 6, 30))

    report = await purge(db)

    assert [p.participant_id for p in report.people] == [person.participant_id]
    after = await participant(db, person.participant_id)
    identity = (
        after.name,
        after.personnummer,
        after.personnummer_hash,
        after.phone,
        after.language,
        after.contact_channel,
        after.birth_date,
    )
    assert identity == (None,) * 7
    assert (after.person_ref, after.gender, after.birth_year) == (
        f"raderad-{person.participant_id}",
        "kvinna",
        1985,
    )
    assert after.purged_at is not None
    async with db.sessions() as session:
        referral = await session.get_one(Referral, person.referral_id)
        texts = [
            referral.referrer_name, referral.referrer_email, referral.referrer_phone,
            referral.help_wanted, referral.practical_needs,
            *(await session.scalars(select(ReferralEvent.note))).all(),
            *(await session.scalars(select(ReferralEvent.referrer_message))).all(),
            *(await session.scalars(select(ProgressStep.note))).all(),
            *(await session.scalars(select(Answer.text))).all(),
            *(await session.scalars(select(Invitation.telegram_chat_id))).all(),
        ]  # fmt: skip
        kept = (
            referral.status,
            referral.start_date,
            referral.end_date,
            referral.end_reason,
            referral.referrer_code,
            referral.received_date,
        )
        choices = (
            await session.scalars(select(Answer.value).where(Answer.value.is_not(None)))
        ).all()
        themes = (await session.scalars(select(AnswerTheme.theme))).all()
        consents = (await session.scalars(select(Consent.kind))).all()
    assert texts == [None] * len(texts) and referral.contacts == []
    assert kept == ("ended", date(2018, 2, 9), date(2019, 6, 30), "arbete", "af", date(2018, 1, 10))
    assert (choices, themes, consents) == (["bra"], ["grupp"], ["follow_up"])


@pytest.mark.parametrize(
    ("ended_on", "purged"),
    [(date(2021, 11, 21), True), (date(2021, 11, 22), False), (date(2024, 1, 1), False)],
)
async def test_only_endings_before_the_cutoff_are_purged(db: Database, ended_on, purged) -> None:
    await make_team(db)
    person = await make_person_with_history(db, ended_on=ended_on)

    await purge(db)

    after = await participant(db, person.participant_id)
    assert (after.name is None, after.purged_at is not None) == (purged, purged)


@pytest.mark.parametrize("status", ["declined", "withdrawn"])
async def test_side_exits_count_from_the_day_the_status_changed(db: Database, status) -> None:
    await make_team(db)
    old = await make_person_with_history(db, 1, status=status, received_on=date(2020, 3, 1))
    recent = await make_person_with_history(db, 2, status=status, received_on=date(2023, 3, 1))

    report = await purge(db)

    assert [p.participant_id for p in report.people] == [old.participant_id]
    assert (await participant(db, recent.participant_id)).name == recent.name


async def test_someone_with_an_open_referral_keeps_their_data(db: Database) -> None:
    team = await make_team(db)
    person = await make_person_with_history(db, ended_on=date(2015, 5, 5))
    async with db.transaction() as session:
        session.add(
            Referral(
                reference="R-OPEN01",
                team_id=team.id,
                status="queued",
                participant_id=person.participant_id,
                referrer_code="fk",
                received_date=date(2026, 10, 1),
            )
        )

    report = await purge(db)

    assert report.people == []
    assert (await participant(db, person.participant_id)).personnummer == person.personnummer


async def test_a_dry_run_lists_who_would_go_and_changes_nothing(db: Database) -> None:
    await make_team(db)
    person = await make_person_with_history(db, ended_on=date(2019, 6, 30))

    report = await find_expired(db, today=TODAY, retention_years=5)

    assert [(p.participant_id, p.team_code, p.references, p.closed_on) for p in report.people] == [
        (person.participant_id, "norr", ("R-SEC001",), date(2019, 6, 30))
    ]
    assert (await participant(db, person.participant_id)).name == person.name
    async with db.sessions() as session:
        assert (await session.scalars(select(AuditEntry.action))).all() == []


async def test_the_purge_is_audited_per_team_with_counts_only(db: Database) -> None:
    north = await make_team(db)
    south = await make_team(db, "syd", "Samverkansteam Syd")
    people = [
        await make_person_with_history(db, n, team="norr" if n < 3 else "syd") for n in range(1, 5)
    ]

    await purge(db, batch_size=10, actor="cli")

    async with db.sessions() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.team_id))).all()
    assert [(e.action, e.actor, e.team_id) for e in entries] == [
        ("retention.purged", "cli", north.id), ("retention.purged", "cli", south.id),
    ]  # fmt: skip
    assert entries[1].detail == {
        "participants": 2, "referrals": 2, "notes": 6, "answers": 2, "invitations": 2,
        "mail": 2, "cutoff": "2021-11-22", "retention_years": 5,
    }  # fmt: skip
    logged = str([e.detail for e in entries])
    assert not any(value in logged for p in people for value in p.clear_texts().values())


async def test_a_second_purge_finds_nothing_more(db: Database) -> None:
    await make_team(db)
    for n in range(1, 4):
        await make_person_with_history(db, n, ended_on=date(2018, 12, 1))

    first = await purge(db, batch_size=2)
    second = await purge(db, batch_size=2)

    assert (first.counts["participants"], second.people) == (3, [])


async def test_the_summary_figures_are_the_same_after_the_purge(db: Database) -> None:
    await make_team(db)
    for n in range(1, 8):
        await make_person_with_history(db, n, ended_on=date(2019, 1, 1) + timedelta(days=40 * n))
    async with db.transaction() as session:  # one without a birth date, only a birth year
        await session.execute(
            update(Participant)
            .where(Participant.person_ref == "P-1")
            .values(birth_date=None, birth_year=1990)
        )
    # All seven are active at the end of 2018 (ages) and end during 2019 (outcomes).
    periods = [
        Period(date(2018, 1, 1), date(2018, 12, 31)),
        Period(date(2019, 1, 1), date(2019, 12, 31)),
    ]

    async def summaries() -> list[dict]:
        found = []
        for period in periods:
            summary = await build_summary(db, period, team_code="norr", suppress=False)
            summary.pop("generated_at")
            summary["survey"].pop("quotes")  # quotes are free text: they go with the purge
            found.append(summary)
        return found

    before = await summaries()
    report = await purge(db)
    after = await summaries()

    assert report.counts["participants"] == 7
    assert (before[0]["participants"]["active_at_end"], before[1]["outcomes"]["ended"]) == (7, 7)
    assert before[0]["participants"]["mean_age_at_end"] is not None
    assert after == before


async def test_a_person_without_any_referral_goes_once_created_long_ago(db: Database) -> None:
    team = await make_team(db)
    async with db.transaction() as session:
        session.add_all(
            [
                Participant(
                    team_id=team.id,
                    person_ref="OLD",
                    name="Gammal Post",
                    created_at=datetime(2019, 1, 1, tzinfo=UTC),
                ),
                Participant(team_id=team.id, person_ref="NEW", name="Ny Post"),
            ]
        )

    report = await purge(db)

    assert [(p.references, p.closed_on) for p in report.people] == [((), None)]
    async with db.sessions() as session:
        names = set((await session.scalars(select(Participant.name))).all())
    assert names == {None, "Ny Post"}
