"""The team's pages over HTTP: board, referral, participant, reveal, consent, log."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select

from app.main import create_app
from core.clock import today_in_sweden
from storage.db import Database
from storage.models import AuditEntry, Consent, Referral, ReferralEvent, Team
from tests.common.referrals import make_referral, make_referral_received_on
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team, make_user
from tests.common.web import log_in, table_rows

TODAY = today_in_sweden()


@pytest.fixture
async def app(settings, db):  # type: ignore[no-untyped-def]
    """The app with teams norr and syd, a coordinator and a coach in norr, one in syd."""
    await make_team(db, "norr")
    await make_team(db, "syd", "Resursteam Syd")
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    await make_user(db, "coach@example.se", role="staff", team="norr")
    await make_user(db, "coach@syd.example.se", role="staff", team="syd")
    return create_app(settings, database=db)


@pytest.fixture
async def coordinator(aiohttp_client, app):  # type: ignore[no-untyped-def]
    """A client logged in as the coordinator of norr, and its CSRF token."""
    client = await aiohttp_client(app)
    return client, await log_in(client, "samordnare@example.se")


async def post(client, token: str, path: str, **fields: str):  # type: ignore[no-untyped-def]
    return await client.post(path, data={"_csrf": token, **fields}, allow_redirects=False)


async def through_the_queue(client, token: str, referral_id: int) -> None:  # type: ignore[no-untyped-def]
    for target in ("assessing", "queued", "visit_booked"):
        visit = {"visit_date": TODAY.isoformat()} if target == "visit_booked" else {}
        response = await post(
            client, token, f"/team/remisser/{referral_id}/status", to=target, **visit
        )
        assert response.status == 303


async def test_anonymous_visitors_are_sent_to_the_login_page(aiohttp_client, app) -> None:
    client = await aiohttp_client(app)
    for path in ("/team/remisser", "/team/remisser/1", "/team/deltagare", "/team/logg"):
        response = await client.get(path, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (303, "/team/login")


async def test_the_board_shows_a_new_referral_with_its_days_waiting(coordinator, db) -> None:
    client, _ = coordinator
    submission = await make_referral(db)
    page = await (await client.get("/team/remisser")).text()
    assert f'href="/team/remisser/{submission.referral_id}">{submission.reference}</a>' in page
    assert "Sara Exempel" in page and "Inkommen" in page
    assert 'data-label="Dagar i väntan">0</td>' in page


async def test_staff_never_see_another_teams_referrals(aiohttp_client, app, db) -> None:
    submission = await make_referral(db)
    client = await aiohttp_client(app)
    await log_in(client, "coach@syd.example.se")
    board = await (await client.get("/team/remisser?status=all")).text()
    assert submission.reference not in board
    assert (await client.get(f"/team/remisser/{submission.referral_id}")).status == 404


async def test_a_transition_is_stored_with_who_when_and_the_note(coordinator, db) -> None:
    client, token = coordinator
    submission = await make_referral(db)
    response = await post(
        client,
        token,
        f"/team/remisser/{submission.referral_id}/status",
        to="assessing",
        note="Tas upp tisdag",
    )
    assert response.status == 303
    page = await (await client.get(response.headers["Location"])).text()
    assert "Remissen har nu status ”Under bedömning”." in page and "Tas upp tisdag" in page
    async with db.sessions() as session:
        event = await session.scalar(
            select(ReferralEvent).where(ReferralEvent.to_status == "assessing")
        )
    assert event is not None and event.user_id is not None and event.note == "Tas upp tisdag"


async def test_a_move_the_rules_forbid_explains_itself(coordinator, db) -> None:
    client, token = coordinator
    submission = await make_referral(db)
    response = await post(
        client, token, f"/team/remisser/{submission.referral_id}/status", to="queued"
    )
    assert response.status == 422
    assert "kan inte flyttas till ”I kö”" in await response.text()


async def test_declining_without_a_reason_for_the_referrer_is_refused(coordinator, db) -> None:
    client, token = coordinator
    submission = await make_referral(db)
    response = await post(
        client,
        token,
        f"/team/remisser/{submission.referral_id}/status",
        to="declined",
        note="intern",
    )
    page = await response.text()
    assert response.status == 422
    assert 'href="#declined-decline_reason"' in page and 'id="declined-decline_reason"' in page


async def test_enrolling_shows_the_trial_period_end_and_ending_closes_the_case(
    coordinator, db
) -> None:
    client, token = coordinator
    submission = await make_referral_received_on(db, date(2026, 1, 12))
    await through_the_queue(client, token, submission.referral_id)
    response = await post(
        client,
        token,
        f"/team/remisser/{submission.referral_id}/inskrivning",
        start_date="2026-01-31",
    )
    page = await (await client.get(response.headers["Location"])).text()
    assert "Deltagaren är inskriven. Prövotiden slutar 2026-04-30." in page
    assert "<dt>Prövotiden slutar</dt><dd>2026-04-30</dd>" in page
    participant_id = re.search(r'href="/team/deltagare/(\d+)"', page).group(1)  # type: ignore[union-attr]
    response = await post(
        client,
        token,
        f"/team/deltagare/{participant_id}/avslut",
        referral=str(submission.referral_id),
        end_date=TODAY.isoformat(),
        end_reason="studier",
        income_source_after="studiemedel",
        confirm="ja",
    )
    assert response.status == 303
    async with db.sessions() as session:
        referral = await session.get_one(Referral, submission.referral_id)
    assert (referral.status, referral.end_reason, referral.income_source_after) == (
        "ended",
        "studier",
        "studiemedel",
    )


async def test_the_participant_page_masks_the_personnummer_and_logs_each_view(
    coordinator, db
) -> None:
    client, token = coordinator
    submission = await make_referral(db)
    async with db.sessions() as session:
        participant_id = (await session.get_one(Referral, submission.referral_id)).participant_id
    page = await (await client.get(f"/team/deltagare/{participant_id}")).text()
    assert "19850312-****" in page and "19850312-1231" not in page
    refused = await post(client, token, f"/team/deltagare/{participant_id}/personnummer")
    assert refused.status == 422 and "19850312-1231" not in await refused.text()
    shown = await post(
        client, token, f"/team/deltagare/{participant_id}/personnummer", reason="kontakt_myndighet"
    )
    assert shown.status == 200 and "19850312-1231" in await shown.text()
    async with db.sessions() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action)
                .where(
                    AuditEntry.object_id == participant_id, AuditEntry.object_type == "participant"
                )
                .order_by(AuditEntry.id)
            )
        ).all()
    assert actions == [
        "participant.viewed",
        "participant.viewed",
        "participant.personnummer_revealed",
        "participant.viewed",
    ]


async def test_withdrawing_a_consent_from_the_participant_page(coordinator, db) -> None:
    client, token = coordinator
    await make_referral(db)
    async with db.sessions() as session:
        consent = await session.scalar(select(Consent).where(Consent.party == "af"))
    assert consent is not None
    response = await post(
        client,
        token,
        f"/team/deltagare/{consent.participant_id}/samtycke",
        consent=str(consent.id),
        channel="telefon",
        at=TODAY.isoformat(),
    )
    page = await (await client.get(response.headers["Location"])).text()
    assert "Samtycket är återkallat" in page and "Återkallat" in page
    future = await post(
        client,
        token,
        f"/team/deltagare/{consent.participant_id}/samtycke",
        consent=str(consent.id),
        channel="telefon",
        at=(TODAY + timedelta(days=3)).isoformat(),
    )
    assert future.status == 422


async def test_only_coordinators_print_a_log_extract_and_read_the_log(
    aiohttp_client, app, db
) -> None:
    await make_referral(db)
    client = await aiohttp_client(app)
    await log_in(client, "coach@example.se")
    assert (await client.get("/team/deltagare/1/logg")).status == 403
    assert (await client.get("/team/logg")).status == 403


async def test_only_coordinators_see_the_links_to_the_log_extract_and_the_access_extract(
    coordinator: tuple[TestClient[web.Request, web.Application], str],
    aiohttp_client: AiohttpClient,
    app: web.Application,
    db: Database,
) -> None:
    coordinators_client, _ = coordinator
    await make_referral(db)
    async with db.sessions() as session:
        participant_id = await session.scalar(select(Referral.participant_id))
    page = f"/team/deltagare/{participant_id}"
    links = (f'href="{page}/logg"', f'href="{page}/registerutdrag"')
    coach = await aiohttp_client(app)
    await log_in(coach, "coach@example.se")

    coordinators_page = await (await coordinators_client.get(page)).text()
    coachs_page = await (await coach.get(page)).text()
    access_page = await coordinators_client.get(f"{page}/registerutdrag")

    assert [link in coordinators_page for link in links] == [True, True]
    assert [link in coachs_page for link in links] == [False, False]
    assert access_page.status == 200 and "Registerutdrag" in await access_page.text()


async def test_a_coordinator_prints_the_persons_log_extract(coordinator, db) -> None:
    client, _ = coordinator
    await make_referral(db)
    async with db.sessions() as session:
        participant_id = await session.scalar(select(Referral.participant_id))
    await client.get(f"/team/deltagare/{participant_id}")
    extract = await (await client.get(f"/team/deltagare/{participant_id}/logg")).text()
    assert "Remiss inkom" in extract and "Personens uppgifter visades" in extract


async def test_the_log_exports_as_csv_without_personal_data(coordinator, db) -> None:
    client, _ = coordinator
    await make_referral(db)
    response = await client.get("/team/logg.csv")
    text = (await response.read()).decode("utf-8-sig")
    assert response.status == 200 and response.content_type == "text/csv"
    assert text.splitlines()[0] == "at,by,action,object_type,object_id,detail"
    assert "referral.submitted" in text and "Sara" not in text and "19850312" not in text


async def test_the_participant_list_shows_each_participants_own_trial_period_end(
    coordinator, db
) -> None:
    client, token = coordinator
    for name, personnummer, start in (
        ("Sara Exempel", "19850312-1231", "2026-01-31"),  # norr: three months, to 30 April
        ("Nils Prov", "19900101-0017", "2026-02-10"),
    ):
        submission = await make_referral_received_on(
            db, date(2026, 1, 12), person_name=name, personnummer=personnummer
        )
        await through_the_queue(client, token, submission.referral_id)
        response = await post(
            client, token, f"/team/remisser/{submission.referral_id}/inskrivning", start_date=start
        )
        assert response.status == 303
    page = await (await client.get("/team/deltagare")).text()
    shown = {row["Person"]: (row["Start"], row["Prövotiden slutar"]) for row in table_rows(page)}
    assert shown == {
        "Sara Exempel": ("2026-01-31", "2026-04-30"),
        "Nils Prov": ("2026-02-10", "2026-05-10"),
    }


async def test_the_board_shows_the_teams_places_against_its_active_participants(
    coordinator, db
) -> None:
    client, _ = coordinator
    async with db.transaction() as session:
        norr = await session.scalar(select(Team).where(Team.code == "norr"))
        assert norr is not None
        norr.places = 20
    for n in range(3):
        await make_enrolled_participant(db, f"N-{n}")
    await make_enrolled_participant(db, "N-9", ended=True)  # an ended one holds no place
    page = await (await client.get("/team/remisser")).text()
    assert "3 inskrivna av 20 årsplatser" in page


def section(page: str, start: str, end: str) -> str:
    """The part of ``page`` from ``start`` up to ``end``."""
    return page[page.index(start) : page.index(end, page.index(start))]


async def test_the_next_step_is_at_the_top_with_only_the_moves_possible_now(
    coordinator, db
) -> None:
    client, token = coordinator
    submission = await make_referral(db)
    page = await (await client.get(f"/team/remisser/{submission.referral_id}")).text()
    assert page.index("Nästa steg") < page.index("<h2>Personen</h2>")
    steps = section(page, "Nästa steg", "<h2>Personen</h2>")
    assert 'type="radio"' not in page  # buttons, never a radio group (of one option)
    assert 'name="to" value="assessing"' in steps
    assert 'value="queued"' not in steps and 'value="visit_booked"' not in steps
    assert "Avböj remissen" in steps and "Remissen återtas" in steps

    for target in ("assessing", "queued"):
        await post(client, token, f"/team/remisser/{submission.referral_id}/status", to=target)
    steps = section(
        await (await client.get(f"/team/remisser/{submission.referral_id}")).text(),
        "Nästa steg",
        "<h2>Personen</h2>",
    )
    assert 'name="to" value="visit_booked"' in steps
    assert 'id="visit_booked-visit_date" name="visit_date" type="date"' in steps
    assert 'value="assessing"' not in steps and 'value="queued"' not in steps


async def test_booking_the_visit_needs_its_date_and_shows_it_on_the_page_and_board(
    coordinator, db
) -> None:
    client, token = coordinator
    submission = await make_referral(db)
    path = f"/team/remisser/{submission.referral_id}/status"
    for target in ("assessing", "queued"):
        await post(client, token, path, to=target)

    refused = await post(client, token, path, to="visit_booked", note="Med Lena från AF")
    page = await refused.text()
    assert refused.status == 422
    assert 'href="#visit_booked-visit_date">Ange datum för studiebesöket' in page
    assert "Med Lena från AF</textarea>" in page  # nothing typed is lost
    visit = TODAY + timedelta(days=9)
    booked = await post(
        client, token, path, to="visit_booked", visit_date=visit.isoformat(), note="Med Lena"
    )
    assert booked.status == 303

    page = await (await client.get(f"/team/remisser/{submission.referral_id}")).text()
    assert f"<dt>Studiebesök</dt><dd>{visit.isoformat()}</dd>" in page
    assert f"Studiebesök {visit.isoformat()}" in page  # in the history
    board = table_rows(await (await client.get("/team/remisser")).text())
    assert [row["Studiebesök"] for row in board if "Studiebesök" in row] == [visit.isoformat()]
    async with db.sessions() as session:
        referral = await session.get_one(Referral, submission.referral_id)
        event = await session.scalar(
            select(ReferralEvent).where(ReferralEvent.to_status == "visit_booked")
        )
    assert referral.visit_date == visit and event is not None and event.visit_date == visit

    back = await post(client, token, path, to="queued", note="Inställt")
    assert back.status == 303
    async with db.sessions() as session:
        assert (await session.get_one(Referral, submission.referral_id)).visit_date is None


async def test_a_visit_date_before_the_referral_came_in_is_refused(coordinator, db) -> None:
    client, token = coordinator
    submission = await make_referral_received_on(db, date(2026, 1, 12))
    path = f"/team/remisser/{submission.referral_id}/status"
    for target in ("assessing", "queued"):
        await post(client, token, path, to=target)
    refused = await post(client, token, path, to="visit_booked", visit_date="2026-01-11")
    assert refused.status == 422
    assert "kan inte vara före remissen kom in (2026-01-12)" in await refused.text()


async def test_historik_appears_once_on_the_referral_page(coordinator, db) -> None:
    client, token = coordinator
    submission = await make_referral(db)
    await post(client, token, f"/team/remisser/{submission.referral_id}/status", to="assessing")
    page = await (await client.get(f"/team/remisser/{submission.referral_id}")).text()
    assert page.count("Historik") == 1
    assert "Inkommen → Under bedömning" in page


async def enrolled_participant(client, token: str, db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A referral taken through the queue and enrolled on the web pages: (referral, person)."""
    submission = await make_referral_received_on(db, date(2026, 1, 12))
    await through_the_queue(client, token, submission.referral_id)
    await post(
        client,
        token,
        f"/team/remisser/{submission.referral_id}/inskrivning",
        start_date="2026-01-31",
    )
    async with db.sessions() as session:
        referral = await session.get_one(Referral, submission.referral_id)
    return referral.id, referral.participant_id


async def test_ending_asks_for_a_confirmation_with_the_chosen_end_date(coordinator, db) -> None:
    client, token = coordinator
    referral_id, person = await enrolled_participant(client, token, db)
    page = await (await client.get(f"/team/deltagare/{person}")).text()
    assert 'id="end-end_date" name="end_date" type="date" class="narrow" value=""' in page

    end = f"/team/deltagare/{person}/avslut"
    fields = {
        "referral": str(referral_id),
        "end_date": "2026-03-20",
        "end_reason": "studier",
        "income_source_after": "studiemedel",
        "note": "Börjar på Komvux",
    }
    asked = await post(client, token, end, **fields)
    page = await asked.text()
    assert asked.status == 200 and "<h1>Bekräfta avslut</h1>" in page
    assert "<dt>Slutdatum</dt><dd>2026-03-20</dd>" in page
    assert "<dt>Avslutsanledning</dt><dd>Studier</dd>" in page
    assert 'name="confirm" value="ja"' in page
    async with db.sessions() as session:
        assert (await session.get_one(Referral, referral_id)).status == "enrolled"

    changed = await post(client, token, end, **fields, change="1")
    page = await changed.text()
    assert (
        changed.status == 200
        and 'name="end_date" type="date" class="narrow" value="2026-03-20"' in page
    )
    assert "Börjar på Komvux</textarea>" in page

    done = await post(client, token, end, **fields, confirm="ja")
    assert done.status == 303
    async with db.sessions() as session:
        referral = await session.get_one(Referral, referral_id)
    assert (referral.status, referral.end_date, referral.end_reason) == (
        "ended",
        date(2026, 3, 20),
        "studier",
    )


async def test_ending_without_an_end_date_names_the_field_and_keeps_the_rest(
    coordinator, db
) -> None:
    client, token = coordinator
    referral_id, person = await enrolled_participant(client, token, db)
    refused = await post(
        client,
        token,
        f"/team/deltagare/{person}/avslut",
        referral=str(referral_id),
        end_reason="arbete",
        income_source_after="lon",
        note="Anställd på lager",
        confirm="ja",
    )
    page = await refused.text()
    assert refused.status == 422
    assert 'href="#end-end_date">Ange slutdatum' in page
    assert "Anställd på lager</textarea>" in page and '<option value="arbete" selected>' in page
    async with db.sessions() as session:
        assert (await session.get_one(Referral, referral_id)).status == "enrolled"


async def test_an_admin_sees_team_names_on_the_board_and_participant_list(
    aiohttp_client, app, db
) -> None:
    await make_user(db, "admin@example.se", role="admin", team=None)
    await make_referral(db, team="syd")
    await make_enrolled_participant(db, team="syd")
    client = await aiohttp_client(app)
    await log_in(client, "admin@example.se")
    board = table_rows(await (await client.get("/team/remisser")).text())
    participants = table_rows(await (await client.get("/team/deltagare")).text())
    assert [row["Team"] for row in board] == ["Resursteam Syd"]
    assert [row["Team"] for row in participants] == ["Resursteam Syd"]
