"""Specification of the referral use cases: intake, lifecycle, participation, consent, audit."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from core.access import Staff
from core.clock import today_in_sweden
from core.consent import current_text
from core.errors import FormErrors, NotAllowed, NotFound
from core.referral_form import parse_referral_form
from core.referrals import Status, TransitionNotAllowed
from services.board import Period, participant_list, referral_board
from services.participants import record_step, reveal_personnummer, withdraw_consent
from services.records import participant_record, person_log_extract, referral_record, team_log
from services.referrals import (
    end_participation,
    enrol_participant,
    move_referral,
    submit_referral,
)
from storage import audit
from storage import referrals as referrals_module
from storage.crypto import Keyring
from storage.db import Database
from storage.models import (
    AuditEntry,
    Consent,
    Participant,
    ProgressStep,
    Referral,
    ReferralEvent,
    StaffUser,
)
from tests.common.mail import queued_mail
from tests.common.referrals import make_referral, referral_form
from tests.common.teams import make_team, make_user
from tests.conftest import TEST_SECRET

TODAY = today_in_sweden()


@pytest.fixture
async def teams(db):  # type: ignore[no-untyped-def]
    """Two teams, norr (trial period 3 months) and syd."""
    return await make_team(db, "norr", trial_months=3), await make_team(db, "syd", "Resursteam Syd")


@pytest.fixture
async def coordinator(db, teams) -> Staff:  # type: ignore[no-untyped-def]
    user = await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    return Staff(user.id, "coordinator", frozenset({teams[0].id}))


@pytest.fixture
async def other_team_staff(db, teams) -> Staff:  # type: ignore[no-untyped-def]
    user = await make_user(db, "coach@syd.example.se", role="staff", team="syd")
    return Staff(user.id, "staff", frozenset({teams[1].id}))


async def count(db, model) -> int:  # type: ignore[no-untyped-def]
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def move(db, staff, referral_id, *targets: Status) -> None:  # type: ignore[no-untyped-def]
    for target in targets:
        visit = TODAY if target is Status.VISIT_BOOKED else None
        await move_referral(db, staff, referral_id, target, visit_date=visit, today=TODAY)


async def enrolled(db, staff, start: date = TODAY) -> int:  # type: ignore[no-untyped-def]
    """A referral moved through the queue and enrolled from ``start``; its id."""
    submission = await make_referral(db)
    await move(
        db, staff, submission.referral_id, Status.ASSESSING, Status.QUEUED, Status.VISIT_BOOKED
    )
    async with db.transaction() as session:  # as if it had come in before the start
        referral = await session.get_one(Referral, submission.referral_id)
        referral.received_date = min(referral.received_date, start)
    await enrol_participant(db, staff, submission.referral_id, start_date=start)
    return submission.referral_id


async def test_a_submitted_referral_stores_person_case_event_consents_and_audit(db, teams) -> None:
    submission = await make_referral(db)
    async with db.sessions() as session:
        referral = await session.get_one(Referral, submission.referral_id)
        person = referral.participant
        events = (await session.scalars(select(ReferralEvent))).all()
        consents = (await session.scalars(select(Consent).order_by(Consent.id))).all()
        entries = (await session.scalars(select(AuditEntry))).all()
    assert submission.created and submission.reference == referral.reference
    assert (referral.status, referral.referrer_code, referral.income_source) == (
        "received",
        "af",
        "forsorjningsstod",
    )
    assert (person.name, person.personnummer, person.gender) == (
        "Sara Exempel",
        "198503121231",
        "man",
    )
    assert person.personnummer_hash == db.keyring.blind_index("198503121231")
    assert [(e.from_status, e.to_status) for e in events] == [(None, "received")]
    assert [(c.kind, c.party) for c in consents] == [
        ("information_sharing", "af"),
        ("information_sharing", "kommun"),
        ("follow_up", None),
    ]
    assert [e.action for e in entries] == ["referral.submitted"]


async def test_each_consent_record_keeps_version_hash_language_method_and_who(db, teams) -> None:
    await make_referral(db, consent_method="verbal")
    async with db.sessions() as session:
        consent = await session.scalar(select(Consent).where(Consent.kind == "follow_up"))
    text = current_text("follow_up", "sv")
    assert consent is not None
    assert (consent.text_version, consent.text_hash, consent.language) == (
        str(text.version),
        hashlib.sha256(text.text.encode()).hexdigest(),
        "sv",
    )
    assert (consent.method, consent.recorded_by) == ("verbal", "remittent:af")
    assert consent.given_at.tzinfo is not None and consent.withdrawn_at is None


async def test_personal_data_is_encrypted_at_rest(db, teams) -> None:
    await make_referral(db)
    async with db.engine.connect() as conn:
        raw = (await conn.exec_driver_sql("SELECT name, personnummer FROM participants")).one()
    assert all(value.startswith("enc1:") for value in raw)
    assert "Sara" not in str(raw) and "19850312" not in str(raw)


async def test_sending_the_same_form_twice_stores_one_referral(db, teams) -> None:
    first = await make_referral(db, key="same-key-0123456789abcdef")
    again = await make_referral(db, key="same-key-0123456789abcdef")
    assert (again.referral_id, again.reference, again.created) == (
        first.referral_id,
        first.reference,
        False,
    )
    assert await count(db, Referral) == 1 and await count(db, Consent) == 3


async def test_a_key_reused_with_other_content_stores_the_new_referral(db, teams) -> None:
    """Never a receipt with the first referral's reference for a second, different form."""
    first = await make_referral(db, key="reused-key-0123456789abcdef")
    other = await make_referral(
        db, key="reused-key-0123456789abcdef", help_wanted="Stöd att hitta en praktikplats."
    )
    assert other.created and other.referral_id != first.referral_id
    assert other.reference != first.reference
    assert await count(db, Referral) == 2


async def test_a_double_click_sent_at_the_same_moment_stores_one_referral(db, teams) -> None:
    results = await asyncio.gather(
        *[make_referral(db, key="double-click-key-0123456789") for _ in range(4)]
    )
    assert len({r.referral_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert await count(db, Referral) == 1 and await count(db, Participant) == 1


async def test_a_new_referral_comes_with_its_teams_active_coordinators_only(db, teams) -> None:
    for email, role, team in [
        ("b@norr.se", "coordinator", "norr"),
        ("a@norr.se", "coordinator", "norr"),
        ("coach@norr.se", "staff", "norr"),
        ("c@syd.se", "coordinator", "syd"),
    ]:
        await make_user(db, email, role=role, team=team)
    gone = await make_user(db, "slutat@norr.se", role="coordinator", team="norr")
    async with db.transaction() as session:
        (await session.get_one(StaffUser, gone.id)).active = False
    first = await make_referral(db, key="coordinators-key-0123456789")
    again = await make_referral(db, key="coordinators-key-0123456789")
    to_syd = await make_referral(db, team="syd")
    assert not again.created
    assert [(m.object_id, m.recipients) for m in await queued_mail(db)] == [
        (first.referral_id, ("a@norr.se", "b@norr.se")),
        (to_syd.referral_id, ("c@syd.se",)),
    ]


async def test_a_team_without_coordinators_gets_a_referral_and_no_one_to_tell(db, teams) -> None:
    submission = await make_referral(db, team="syd")
    assert submission.created and await queued_mail(db) == []
    assert submission.team_name == "Resursteam Syd"


async def test_a_reference_code_already_taken_is_drawn_again(
    db, teams, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    taken = await make_referral(db)
    drawn = iter([taken.reference, "R-NEW234"])
    monkeypatch.setattr(referrals_module, "new_reference", lambda: next(drawn))
    submission = await make_referral(db)
    assert (submission.created, submission.reference) == (True, "R-NEW234")
    assert await count(db, Referral) == 2 and await count(db, Participant) == 2


async def test_protected_identity_stores_no_name_personnummer_or_phone(db, teams) -> None:
    await make_referral(
        db,
        protected_identity="ja",
        person_name="",
        personnummer="",
        person_phone="",
        contact_channel="via_remittent",
        birth_year="1990",
    )
    async with db.sessions() as session:
        person = await session.scalar(select(Participant))
    assert person is not None and person.protected_identity
    assert (person.name, person.personnummer, person.personnummer_hash, person.phone) == (
        None,
        None,
        None,
        None,
    )
    assert (person.birth_year, person.contact_channel) == (1990, "via_remittent")


async def test_a_failure_halfway_stores_nothing(db, teams, monkeypatch) -> None:
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    # after the person, the referral, its event and consents, before the audit entry and mail
    monkeypatch.setattr(audit, "record_sync", broken)
    with pytest.raises(RuntimeError):
        await make_referral(db)
    for model in (Participant, Referral, ReferralEvent, Consent):
        assert await count(db, model) == 0


async def test_a_referral_to_an_unknown_team_is_refused(db, teams) -> None:
    draft = parse_referral_form(referral_form(team="ost"), team_codes=("ost",), today=TODAY)
    with pytest.raises(NotFound):
        await submit_referral(
            db,
            draft,
            submission_key="k" * 30,
            language="sv",
            consent_language="sv",
            public_url="http://127.0.0.1:8080",
        )


async def test_each_transition_is_stored_with_who_when_and_note(db, coordinator) -> None:
    submission = await make_referral(db)
    await move_referral(
        db, coordinator, submission.referral_id, Status.ASSESSING, note="Tas upp på teammötet"
    )
    async with db.sessions() as session:
        event = await session.scalar(
            select(ReferralEvent).where(ReferralEvent.to_status == "assessing")
        )
        referral = await session.get_one(Referral, submission.referral_id)
    assert event is not None
    assert (event.from_status, event.user_id, event.note) == (
        "received",
        coordinator.user_id,
        "Tas upp på teammötet",
    )
    assert referral.status == "assessing" and referral.status_changed_at == event.at


async def test_a_move_the_lifecycle_does_not_allow_is_refused(db, coordinator) -> None:
    submission = await make_referral(db)
    with pytest.raises(TransitionNotAllowed):
        await move_referral(db, coordinator, submission.referral_id, Status.QUEUED)
    assert await count(db, ReferralEvent) == 1


async def test_declining_keeps_the_team_note_apart_from_the_referrers_message(
    db, coordinator
) -> None:
    submission = await make_referral(db)
    await move_referral(
        db,
        coordinator,
        submission.referral_id,
        Status.DECLINED,
        note="Intern: diskuterat med FK",
        decline_reason="Personen behöver först medicinsk vård.",
    )
    decline = [m for m in await queued_mail(db) if m.kind == "referral.declined"]
    assert [m.recipients for m in decline] == [("lena.handlaggare@arbetsformedlingen.se",)]
    assert "Personen behöver först medicinsk vård." in decline[0].body
    # The note's words (not "FK" alone: a reference number such as R-7DFKX2 may hold it).
    assert "Intern" not in decline[0].body and "diskuterat med FK" not in decline[0].body
    async with db.sessions() as session:
        event = await session.scalar(
            select(ReferralEvent).where(ReferralEvent.to_status == "declined")
        )
    assert event is not None and (event.note, event.referrer_message) == (
        "Intern: diskuterat med FK",
        "Personen behöver först medicinsk vård.",
    )


async def test_staff_of_another_team_cannot_touch_the_referral(
    db, coordinator, other_team_staff
) -> None:
    submission = await make_referral(db)
    with pytest.raises(NotFound):
        await move_referral(db, other_team_staff, submission.referral_id, Status.ASSESSING)
    with pytest.raises(NotFound):
        await referral_record(db, other_team_staff, submission.referral_id, today=TODAY)
    board = await referral_board(db, other_team_staff, today=TODAY)
    assert board.rows == ()


@pytest.mark.parametrize(
    ("start", "trial_end"),
    [
        (date(2026, 11, 16), date(2027, 2, 16)),  # the same day three months later
        (date(2026, 11, 30), date(2027, 2, 28)),  # February has no 30th: its last day
    ],
)
async def test_enrolment_sets_start_and_the_teams_trial_period(
    db, coordinator, start: date, trial_end: date
) -> None:
    submission = await make_referral(db)
    await move(
        db,
        coordinator,
        submission.referral_id,
        Status.ASSESSING,
        Status.QUEUED,
        Status.VISIT_BOOKED,
    )
    async with db.transaction() as session:  # as if it had come in before the start
        (await session.get_one(Referral, submission.referral_id)).received_date = date(2026, 11, 2)
    ends = await enrol_participant(
        db, coordinator, submission.referral_id, start_date=start, today=start
    )
    async with db.sessions() as session:
        referral = await session.get_one(Referral, submission.referral_id)
    assert (referral.status, referral.start_date, referral.trial_months) == ("enrolled", start, 3)
    assert ends == trial_end


async def test_enrolment_needs_the_introductory_visit_and_a_plausible_start(
    db, coordinator
) -> None:
    submission = await make_referral(db)
    await move(db, coordinator, submission.referral_id, Status.ASSESSING, Status.QUEUED)
    with pytest.raises(TransitionNotAllowed):
        await enrol_participant(db, coordinator, submission.referral_id, start_date=TODAY)
    await move(db, coordinator, submission.referral_id, Status.VISIT_BOOKED)
    with pytest.raises(FormErrors) as failed:
        await enrol_participant(
            db, coordinator, submission.referral_id, start_date=TODAY - timedelta(days=400)
        )
    assert list(failed.value.errors) == ["start_date"]


async def test_ending_stores_end_date_reason_and_income_after(db, coordinator) -> None:
    referral_id = await enrolled(db, coordinator, TODAY - timedelta(days=200))
    await end_participation(
        db,
        coordinator,
        referral_id,
        end_date=TODAY,
        end_reason="arbete",
        income_source_after="lon",
        note="Fick anställning",
    )
    async with db.sessions() as session:
        referral = await session.get_one(Referral, referral_id)
    assert (
        referral.status,
        referral.end_date,
        referral.end_reason,
        referral.income_source_after,
    ) == ("ended", TODAY, "arbete", "lon")


async def test_ending_without_reason_or_with_an_end_before_the_start_names_each_field(
    db, coordinator
) -> None:
    referral_id = await enrolled(db, coordinator, TODAY - timedelta(days=10))
    with pytest.raises(FormErrors) as failed:
        await end_participation(
            db,
            coordinator,
            referral_id,
            end_date=TODAY - timedelta(days=30),
            end_reason=None,
            income_source_after="",
        )
    assert set(failed.value.errors) == {"end_reason", "end_date", "income_source_after"}


async def test_progress_is_recorded_over_time_for_enrolled_participants(db, coordinator) -> None:
    referral_id = await enrolled(db, coordinator, TODAY - timedelta(days=60))
    await record_step(
        db, coordinator, referral_id, step="kartlaggning", recorded_on=TODAY - timedelta(days=50)
    )
    await record_step(db, coordinator, referral_id, step="arbetstraning", recorded_on=TODAY)
    rows = await participant_list(db, coordinator)
    assert [(row.referral_id, row.latest_step) for row in rows] == [(referral_id, "arbetstraning")]
    with pytest.raises(FormErrors):
        await record_step(db, coordinator, referral_id, step="okant", recorded_on=TODAY)
    assert await count(db, ProgressStep) == 2


async def test_withdrawing_consent_stops_sharing_at_once_and_is_audited(db, coordinator) -> None:
    submission = await make_referral(db)
    async with db.sessions() as session:
        af = await session.scalar(select(Consent).where(Consent.party == "af"))
        follow_up = await session.scalar(select(Consent).where(Consent.kind == "follow_up"))
    assert af is not None and follow_up is not None
    now = datetime.now(UTC)
    await withdraw_consent(db, coordinator, af.id, channel="telefon", at=now)
    await withdraw_consent(db, coordinator, follow_up.id, channel="brev", at=now)
    record = await referral_record(db, coordinator, submission.referral_id, today=TODAY)
    assert record.sharing_parties == ("kommun",)
    assert not record.participant.follow_up_consent
    with pytest.raises(NotAllowed):
        await withdraw_consent(db, coordinator, af.id, channel="telefon", at=now)
    async with db.sessions() as session:
        details = (
            await session.scalars(
                select(AuditEntry.detail).where(AuditEntry.action == "consent.withdrawn")
            )
        ).all()
    assert [d["party"] for d in details] == ["af", None]


async def test_revealing_the_personnummer_needs_a_reason_and_is_audited(db, coordinator) -> None:
    submission = await make_referral(db)
    record = await referral_record(db, coordinator, submission.referral_id, today=TODAY)
    assert record.masked_personnummer == "19850312-****"
    with pytest.raises(FormErrors):
        await reveal_personnummer(db, coordinator, record.participant.id, reason="")
    shown = await reveal_personnummer(db, coordinator, record.participant.id, reason="identitet")
    assert shown == "19850312-1231"
    async with db.sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "participant.personnummer_revealed")
        )
    assert entry is not None and entry.detail == {"reason": "identitet"}
    assert entry.actor_user_id == coordinator.user_id


async def test_every_view_of_a_persons_record_is_audited(db, coordinator) -> None:
    submission = await make_referral(db)
    record = await referral_record(db, coordinator, submission.referral_id, today=TODAY)
    await participant_record(db, coordinator, record.participant.id, today=TODAY)
    async with db.sessions() as session:
        views = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "participant.viewed")
            )
        ).all()
    assert [(v.object_id, v.detail["page"], v.actor_user_id) for v in views] == [
        (record.participant.id, "referral", coordinator.user_id),
        (record.participant.id, "participant", coordinator.user_id),
    ]


async def test_the_board_shows_queue_positions_and_days_waiting(db, coordinator) -> None:
    first, second, new = [await make_referral(db) for _ in range(3)]
    for submission in (second, first):  # second accepted into the queue first
        await move(db, coordinator, submission.referral_id, Status.ASSESSING, Status.QUEUED)
    async with db.transaction() as session:
        waiting = await session.get_one(Referral, new.referral_id)
        waiting.received_date = TODAY - timedelta(days=12)
    board = await referral_board(db, coordinator, today=TODAY)
    by_id = {row.referral_id: row for row in board.rows}
    assert by_id[second.referral_id].queue_position == 1
    assert by_id[first.referral_id].queue_position == 2
    assert by_id[new.referral_id].queue_position is None
    assert by_id[new.referral_id].days_waiting == 12
    assert board.counts == {"queued": 2, "received": 1}


async def test_the_board_filters_by_status_and_period(db, coordinator) -> None:
    old, recent = await make_referral(db), await make_referral(db)
    async with db.transaction() as session:
        (await session.get_one(Referral, old.referral_id)).received_date = date(2025, 1, 15)
    await move(db, coordinator, recent.referral_id, Status.ASSESSING)
    in_2025 = await referral_board(
        db,
        coordinator,
        status="all",
        period=Period(date(2025, 1, 1), date(2025, 12, 31)),
        today=TODAY,
    )
    assessing = await referral_board(db, coordinator, status="assessing", today=TODAY)
    assert [row.referral_id for row in in_2025.rows] == [old.referral_id]
    assert [row.referral_id for row in assessing.rows] == [recent.referral_id]


async def test_the_same_personnummer_twice_is_flagged_as_a_possible_duplicate(
    db, coordinator
) -> None:
    first = await make_referral(db)
    second = await make_referral(db, personnummer="198503121231")
    board = await referral_board(db, coordinator, today=TODAY)
    assert all(row.possible_duplicate for row in board.rows)
    record = await referral_record(db, coordinator, second.referral_id, today=TODAY)
    assert record.duplicates == (first.reference,)


async def test_a_duplicate_split_across_the_old_and_new_key_is_flagged_during_a_rotation(
    db: Database, reopen, coordinator: Staff
) -> None:
    first = await make_referral(db)  # under the key in use before the rotation
    db = reopen(Keyring("the-new-secret-key-" + "n" * 40, [TEST_SECRET]))
    second = await make_referral(db, personnummer="198503121231")
    other_person = await make_referral(db, personnummer="19900214-1233")
    await make_referral(db, team="syd")  # the same person in another team is not a duplicate
    async with db.sessions() as session:
        indexes = set((await session.scalars(select(Participant.personnummer_hash))).all())
    assert len(indexes) == 3  # one number under each key, and the other person's

    board = await referral_board(db, coordinator, today=TODAY)
    flagged = {row.reference: row.possible_duplicate for row in board.rows}
    old_record = await referral_record(db, coordinator, first.referral_id, today=TODAY)
    new_record = await referral_record(db, coordinator, second.referral_id, today=TODAY)

    expected = {first.reference: True, second.reference: True, other_person.reference: False}
    assert flagged == expected
    assert old_record.duplicates == (second.reference,)
    assert new_record.duplicates == (first.reference,)


async def test_a_coordinators_log_extract_lists_everything_about_the_person(
    db, coordinator
) -> None:
    referral_id = await enrolled(db, coordinator, TODAY - timedelta(days=5))
    record = await referral_record(db, coordinator, referral_id, today=TODAY)
    _, lines = await person_log_extract(db, coordinator, record.participant.id)
    assert [line.action for line in lines] == [
        "referral.submitted",
        "referral.transitioned",
        "referral.transitioned",
        "referral.transitioned",
        "participant.enrolled",
        "participant.viewed",
    ]
    assert lines[-1].by == "samordnare"


async def test_only_coordinators_read_the_log(db, teams) -> None:
    user = await make_user(db, "coach@example.se", role="staff", team="norr")
    staff = Staff(user.id, "staff", frozenset({teams[0].id}))
    with pytest.raises(NotAllowed):
        await team_log(db, staff)


async def test_the_team_log_shows_only_the_own_teams_entries(
    db, coordinator, other_team_staff
) -> None:
    await make_referral(db)
    await make_referral(db, team="syd")
    lines = await team_log(db, coordinator, action="referral.")
    assert len(lines) == 1 and lines[0].action == "referral.submitted"


async def test_the_persons_email_from_the_form_is_stored_encrypted_on_the_participant(
    db, teams
) -> None:
    await make_referral(db, person_email="anna.a@exempel.se")
    async with db.sessions() as session:
        person = await session.scalar(select(Participant))
        raw = (await session.execute(text("SELECT email FROM participants"))).scalar_one()
    assert person is not None and person.email == "anna.a@exempel.se"
    assert raw is not None and "anna" not in raw
