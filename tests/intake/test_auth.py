"""Staff login: argon2 passwords, CSRF, throttling, audit, session cookie flags, expiry."""

import html
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.main import create_app
from core.clock import today_in_sweden, utcnow
from intake.context import CLOCK
from storage.models import AuditEntry, ProgressStep, Referral, ReferralEvent
from tests.common.referrals import make_referral
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import PASSWORD, make_team, make_user
from tests.common.web import csrf_from, log_in

TODAY = today_in_sweden()


async def login_page_token(client) -> str:  # type: ignore[no-untyped-def]
    response = await client.get("/team/login")
    assert response.status == 200
    return csrf_from(await response.text())


async def test_healthz_reports_the_database(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok", "bot": "off"}


async def test_login_with_the_right_password_opens_the_team_pages(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    token = await login_page_token(client)
    response = await client.post(
        "/team/login",
        data={"_csrf": token, "email": "Coach@Example.se", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/team/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    async with db.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "login.succeeded" in actions


async def test_a_post_without_the_csrf_token_is_refused(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_user(db)
    client = await aiohttp_client(create_app(settings, database=db))
    await login_page_token(client)
    response = await client.post(
        "/team/login",
        data={"email": "coach@example.se", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 403


async def test_repeated_failures_throttle_the_address_and_are_audited(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db)
    client = await aiohttp_client(create_app(settings, database=db))
    token = await login_page_token(client)
    statuses = []
    for _ in range(6):
        r = await client.post(
            "/team/login",
            data={"_csrf": token, "email": "coach@example.se", "password": "wrong password!!"},
        )
        statuses.append(r.status)
    assert statuses == [401] * 5 + [429]
    right = await client.post(
        "/team/login",
        data={"_csrf": token, "email": "coach@example.se", "password": PASSWORD},
        allow_redirects=False,
    )
    assert right.status == 429
    async with db.sessions() as session:
        failures = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed"))
        ).all()
    assert len(failures) == 5
    assert all("coach" not in str(f.detail) for f in failures)


async def test_anonymous_users_are_sent_to_the_login_page(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    response = await client.get("/team/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/team/login"


async def test_pages_carry_security_headers(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    response = await client.get("/team/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_metrics_count_requests_per_route(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))
    await client.get("/healthz")
    body = await (await client.get("/metrics")).text()
    assert 'samverkan_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in body


class Clock:
    """The application's clock, moved by the test (no global time is patched)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def expiring(aiohttp_client, settings, db):  # type: ignore[no-untyped-def]
    """A coach of norr logged in on an app whose clock the test moves; an enrolled person."""
    await make_team(db)
    await make_user(db, "coach@example.se")
    await make_user(db, "annan@example.se")
    person = await make_enrolled_participant(db)
    app, clock = create_app(settings, database=db), Clock()
    app[CLOCK] = clock
    client = await aiohttp_client(app)
    token = await log_in(client, "coach@example.se")
    async with db.sessions() as session:
        referral_id = await session.scalar(
            select(Referral.id).where(Referral.participant_id == person.id)
        )
    return client, token, clock, person.id, referral_id


def idle_past_the_session(clock: Clock, settings) -> None:  # type: ignore[no-untyped-def]
    clock.now += timedelta(minutes=settings.session_minutes, seconds=1)


async def log_in_again(client, email: str = "coach@example.se"):  # type: ignore[no-untyped-def]
    """The login form sent from the login page the person was sent to; its answer.

    The new session starts by the real clock: set the app's clock back to it first.
    """
    client.app[CLOCK].now = utcnow()
    page = await (await client.get("/team/login")).text()
    return page, await client.post(
        "/team/login",
        data={"_csrf": csrf_from(page), "email": email, "password": PASSWORD},
        allow_redirects=False,
    )


async def steps_with_note(db, note: str) -> int:  # type: ignore[no-untyped-def]
    async with db.sessions() as session:
        notes = (await session.scalars(select(ProgressStep.note))).all()
    return notes.count(note)


async def test_a_step_note_sent_after_the_session_expired_is_kept_and_stored_once(
    expiring, settings, db
) -> None:
    client, token, clock, person, referral = expiring
    note = "Har börjat på arbetsträning\nhos Lagerhuset, tre dagar i veckan"
    step = {"referral": str(referral), "step": "arbetstraning", "note": note}
    idle_past_the_session(clock, settings)

    sent = await client.post(
        f"/team/deltagare/{person}/steg",
        data={"_csrf": token, **step, "recorded_on": TODAY.isoformat()},
        allow_redirects=False,
    )
    assert (sent.status, sent.headers["Location"]) == (303, "/team/login")
    assert await steps_with_note(db, note) == 0
    async with db.sessions() as session:  # kept encrypted, never as typed
        raw = (await session.execute(text("SELECT fields FROM form_drafts"))).scalars().all()
    assert len(raw) == 1 and "arbetsträning" not in raw[0] and "Lagerhuset" not in raw[0]

    login_page, logged_in = await log_in_again(client)
    assert "Du var utloggad. Logga in igen så sparas det du skrev." in login_page
    assert logged_in.headers["Location"] == f"/team/deltagare/{person}"
    page = await (await client.get(f"/team/deltagare/{person}")).text()
    assert f">{html.escape(note)}</textarea>" in page
    assert '<option value="arbetstraning" selected>' in page
    assert "Det du skrev innan du blev utloggad är ifyllt igen nedan." in page

    saved = await client.post(
        f"/team/deltagare/{person}/steg",
        data={"_csrf": csrf_from(page), **step, "recorded_on": TODAY.isoformat()},
        allow_redirects=False,
    )
    assert saved.status == 303 and await steps_with_note(db, note) == 1
    again = await (await client.get(f"/team/deltagare/{person}")).text()
    assert "ifyllt igen" not in again  # the draft is used once
    async with db.sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM form_drafts"))).scalar() == 0


async def test_a_referral_note_sent_after_the_session_expired_comes_back_on_its_page(
    expiring, settings, db
) -> None:
    client, token, clock, _person, _referral = expiring
    submission = await make_referral(db)
    idle_past_the_session(clock, settings)
    sent = await client.post(
        f"/team/remisser/{submission.referral_id}/status",
        data={
            "_csrf": token,
            "to": "withdrawn",
            "note": "Remittenten ringde: personen har flyttat",
        },
        allow_redirects=False,
    )
    assert sent.status == 303
    _page, logged_in = await log_in_again(client)
    assert logged_in.headers["Location"] == f"/team/remisser/{submission.referral_id}"
    page = await (await client.get(logged_in.headers["Location"])).text()
    assert ">Remittenten ringde: personen har flyttat</textarea>" in page
    assert '<details class="consent-text" open>\n  <summary>Remissen återtas' in page
    saved = await client.post(
        f"/team/remisser/{submission.referral_id}/status",
        data={
            "_csrf": csrf_from(page),
            "to": "withdrawn",
            "note": "Remittenten ringde: personen har flyttat",
        },
        allow_redirects=False,
    )
    assert saved.status == 303
    async with db.sessions() as session:
        notes = (
            await session.scalars(
                select(ReferralEvent.note).where(ReferralEvent.to_status == "withdrawn")
            )
        ).all()
    assert notes == ["Remittenten ringde: personen har flyttat"]


async def test_what_one_person_typed_is_never_shown_to_another_who_logs_in(
    expiring, settings, db
) -> None:
    client, token, clock, person, referral = expiring
    idle_past_the_session(clock, settings)
    await client.post(
        f"/team/deltagare/{person}/steg",
        data={"_csrf": token, "referral": str(referral), "step": "aktivitet", "note": "Hemligt"},
        allow_redirects=False,
    )
    _page, logged_in = await log_in_again(client, "annan@example.se")
    page = await (await client.get(logged_in.headers["Location"])).text()
    assert "Hemligt" not in page and "ifyllt igen" not in page
    async with db.sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM form_drafts"))).scalar() == 0


async def test_after_an_expired_session_a_page_opens_again_after_login(expiring, settings) -> None:
    client, _token, clock, person, _referral = expiring
    idle_past_the_session(clock, settings)
    away = await client.get(f"/team/deltagare/{person}?flik=steg", allow_redirects=False)
    assert (away.status, away.headers["Location"]) == (303, "/team/login")
    page, logged_in = await log_in_again(client)
    assert "Du har varit inaktiv en stund och har loggats ut." in page
    assert logged_in.headers["Location"] == f"/team/deltagare/{person}?flik=steg"


@pytest.mark.parametrize(
    "given",
    [
        "https://elak.example/team/",
        "//elak.example/team/",
        "/team/../remiss",
        "/\\elak.example",
        "/team//elak.example",
        "/team/login",
        "/remiss",
        "javascript:alert(1)",
    ],
)
async def test_the_page_to_return_to_is_only_ever_a_team_page(
    aiohttp_client, settings, db, given: str
) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    await client.get("/team/login", params={"next": given})
    _page, logged_in = await log_in_again(client)
    assert logged_in.headers["Location"] == "/team/"


async def test_a_next_team_page_is_where_the_login_goes(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    await client.get("/team/login", params={"next": "/team/remisser?status=all"})
    _page, logged_in = await log_in_again(client)
    assert logged_in.headers["Location"] == "/team/remisser?status=all"


async def test_text_sent_from_any_other_team_page_after_expiry_is_shown_back_to_copy(
    aiohttp_client, settings, db
) -> None:
    team = await make_team(db)
    await make_user(db, "samordnare@example.se", role="coordinator")
    app, clock = create_app(settings, database=db), Clock()
    app[CLOCK] = clock
    client = await aiohttp_client(app)
    token = await log_in(client, "samordnare@example.se")
    idle_past_the_session(clock, settings)
    typed = "Samverkansteam Norr och Öst, med kontor i Kiruna"

    sent = await client.post(
        f"/team/admin/team/{team.id}",
        data={"_csrf": token, "name": typed, "code": "norr", "password": "hemligt ord"},
        allow_redirects=False,
    )
    assert (sent.status, sent.headers["Location"]) == (303, "/team/login")
    _page, logged_in = await log_in_again(client, "samordnare@example.se")
    assert logged_in.headers["Location"] == f"/team/admin/team/{team.id}"
    page = await (await client.get(f"/team/admin/team/{team.id}")).text()
    again = await (await client.get(f"/team/admin/team/{team.id}")).text()

    kept = page[page.index('class="notice kept-text"') :].split("</div>", 1)[0]
    assert "Du var utloggad när du skickade formuläret, så inget sparades." in kept
    assert html.escape(typed) in kept
    # Hidden codes are not shown, secrets are never kept, and the text is shown once.
    assert ">norr<" not in kept and "hemligt" not in kept
    assert "kept-text" not in again
    async with db.sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM form_drafts"))).scalar() == 0
