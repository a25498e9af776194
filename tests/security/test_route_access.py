"""Every registered route, visited by every role, answers exactly as the table below says.

The table is the access specification: a route without an entry (or an entry without a route)
fails the test, so a new page cannot be added without deciding who may use it. Two rules are
also checked for every route, whatever the table says: anonymous visitors never get past
``/team/`` pages, and staff of another team never get a record of team A.

Roles: ``anonymous``; ``staff_a`` and ``coordinator_a`` of team A (norr), whose records the
paths point at; ``staff_b`` of team B (syd); ``admin`` (förbund-wide). POSTs carry the
session's CSRF token and an empty form, so a permitted POST fails validation (400/422) or
does a harmless step; the CSRF check itself has its own test at the end.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import pytest
from aiohttp import web
from sqlalchemy import select

from app.main import create_app
from app.settings import Secret
from storage import invitations
from storage.db import Database
from storage.models import Answer, Referral, StaffUser, Team
from tests.bot.conftest import bot_ready
from tests.common.people import make_person_with_history
from tests.common.referrals import make_referral
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team, make_user
from tests.common.web import Browser
from tests.fakes.telegram_api import FakeBotApi

ROLES = ("anonymous", "staff_a", "coordinator_a", "staff_b", "admin")
USERS = {
    "staff_a": ("a.staff@example.se", "staff", "norr"),
    "coordinator_a": ("a.coordinator@example.se", "coordinator", "norr"),
    "staff_b": ("b.staff@example.se", "staff", "syd"),
    "admin": ("admin@example.se", "admin", None),
}
LOGIN = "303 /team/login"
Outcome = int | str
#: The public form keeps what was posted as a draft and shows it (its token replaced here).
KEPT_AS_DRAFT = "303 /remiss/utkast/DRAFT"
#: Without the CSRF token the public form keeps what was posted and shows it again, nothing
#: sent (intake.referral_form.recover_expired); a review page without its draft is gone.
RECOVERED: Mapping[str, Outcome] = {
    "/remiss": KEPT_AS_DRAFT,
    "/remiss/andra": KEPT_AS_DRAFT,
    "/remiss/skicka": 410,
}


def everyone(outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(ROLES, outcome)


def staff_page(ok: Outcome, *, other_team: Outcome = 404) -> dict[str, Outcome]:
    """Staff of the record's team (and admins) get ``ok``; another team's staff do not."""
    return {
        "anonymous": LOGIN,
        "staff_a": ok,
        "coordinator_a": ok,
        "staff_b": other_team,
        "admin": ok,
    }


def coordinator_page(ok: Outcome) -> dict[str, Outcome]:
    """Coordinators of the record's team and admins get ``ok``; staff get 403."""
    return {"anonymous": LOGIN, "staff_a": 403, "coordinator_a": ok, "staff_b": 403, "admin": ok}


def logged_in(anonymous: Outcome, member: Outcome) -> dict[str, Outcome]:
    return {"anonymous": anonymous, **dict.fromkeys(ROLES[1:], member)}


#: (method, route as registered) -> (path to visit, expected outcome per role).
#: ``{id}``, ``{token}`` and ``{answer}`` are filled in with team A's records (a fresh
#: invitation token per role, since a participant may delete their answers).
EXPECTED: Mapping[tuple[str, str], tuple[str, Mapping[str, Outcome]]] = {
    ("GET", "/healthz"): ("/healthz", everyone(200)),
    ("GET", "/metrics"): ("/metrics", everyone(200)),
    ("GET", "/static"): ("/static/app.css", everyone(200)),
    ("POST", "/telegram/webhook"): ("/telegram/webhook", everyone(403)),  # no secret header
    # Staff login
    ("GET", "/team/login"): ("/team/login", logged_in(200, "303 /team/")),
    ("POST", "/team/login"): ("/team/login", everyone(401)),  # an empty form
    ("POST", "/team/logout"): ("/team/logout", everyone(LOGIN)),
    ("POST", "/team/keepalive"): ("/team/keepalive", logged_in(LOGIN, 200)),
    ("GET", "/team/"): ("/team/", logged_in(LOGIN, "303 /team/remisser")),
    # The public referral form
    ("GET", "/remiss"): ("/remiss", everyone(200)),
    ("POST", "/remiss"): ("/remiss", everyone(KEPT_AS_DRAFT)),
    ("GET", "/remiss/utkast/{token}"): ("/remiss/utkast/" + "A" * 43, everyone(410)),
    ("GET", "/remiss/granska/{token}"): ("/remiss/granska/" + "A" * 43, everyone(410)),
    ("POST", "/remiss/andra"): ("/remiss/andra", everyone(200)),
    ("POST", "/remiss/skicka"): ("/remiss/skicka", everyone(410)),
    ("GET", "/remiss/kvitto"): ("/remiss/kvitto", everyone("303 /remiss")),
    ("GET", "/remiss/samtycke"): ("/remiss/samtycke", everyone(200)),
    # The referral board
    ("GET", "/team/remisser"): ("/team/remisser", staff_page(200, other_team=200)),
    ("GET", "/team/remisser/{id}"): ("/team/remisser/{referral}", staff_page(200)),
    ("POST", "/team/remisser/{id}/status"): (  # no status chosen: a bad request
        "/team/remisser/{referral}/status", staff_page(400, other_team=400)),
    ("POST", "/team/remisser/{id}/inskrivning"): (
        "/team/remisser/{referral}/inskrivning", staff_page(422)),
    # Participants
    ("GET", "/team/deltagare"): ("/team/deltagare", staff_page(200, other_team=200)),
    ("GET", "/team/deltagare/{id}"): ("/team/deltagare/{participant}", staff_page(200)),
    ("POST", "/team/deltagare/{id}/personnummer"): (
        "/team/deltagare/{participant}/personnummer", staff_page(422)),
    ("POST", "/team/deltagare/{id}/samtycke"): (  # no consent chosen: none found
        "/team/deltagare/{participant}/samtycke", staff_page(404)),
    ("POST", "/team/deltagare/{id}/steg"): (  # no referral chosen: a bad request
        "/team/deltagare/{participant}/steg", staff_page(400, other_team=400)),
    ("POST", "/team/deltagare/{id}/avslut"): (
        "/team/deltagare/{participant}/avslut", staff_page(400, other_team=400)),
    ("GET", "/team/deltagare/{id}/logg"): (
        "/team/deltagare/{participant}/logg", coordinator_page(200)),
    ("GET", "/team/deltagare/{id}/registerutdrag"): (
        "/team/deltagare/{participant}/registerutdrag", coordinator_page(200)),
    ("POST", "/team/deltagare/{id}/registerutdrag"): (
        "/team/deltagare/{participant}/registerutdrag", coordinator_page(200)),
    # The audit log
    ("GET", "/team/logg"): ("/team/logg", coordinator_page(200)),
    ("GET", "/team/logg.csv"): ("/team/logg.csv", coordinator_page(200)),
    # The participant's web survey: the token is the key, for that survey only
    ("GET", "/enkat/{token}"): ("/enkat/{token}", everyone(200)),
    ("POST", "/enkat/{token}"): ("/enkat/{token}", everyone("303 /enkat/{token}")),
    ("GET", "/enkat/{token}/radera"): ("/enkat/{token}/radera", everyone(200)),
    ("POST", "/enkat/{token}/radera"): ("/enkat/{token}/radera", everyone(200)),
    # Survey invitations (staff of team B see their own team's page instead)
    ("GET", "/team/enkater"): ("/team/enkater?team=norr", staff_page(200, other_team=403)),
    ("POST", "/team/enkater/deltagare/{id}"): (
        "/team/enkater/deltagare/{participant}", staff_page(200)),
    ("POST", "/team/enkater/sok"): (  # the search words into the session, back to the list
        "/team/enkater/sok", staff_page("303 /team/enkater", other_team="303 /team/enkater")),
    ("GET", "/team/enkater/alla"): ("/team/enkater/alla?team=norr", coordinator_page(200)),
    ("POST", "/team/enkater/alla"): (  # not confirmed: back to the confirmation
        "/team/enkater/alla", coordinator_page("303 /team/enkater/alla")),
    ("POST", "/team/enkater/brev"): (  # no tokens: no letters
        "/team/enkater/brev", staff_page(410, other_team=410)),
    ("POST", "/team/enkater/enkat"): (
        "/team/enkater/enkat", coordinator_page("303 /team/enkater?team=norr")),
    # Invitations by SMS and e-mail (neither is set up here: a 422 naming the channel)
    ("POST", "/team/deltagare/{id}/inbjudan/sms"): (
        "/team/deltagare/{participant}/inbjudan/sms", staff_page(422)),
    ("POST", "/team/deltagare/{id}/inbjudan/epost"): (
        "/team/deltagare/{participant}/inbjudan/epost", staff_page(422)),
    ("POST", "/team/enkater/skicka"): (  # no channel chosen: back with a message
        "/team/enkater/skicka", coordinator_page("303 /team/enkater?team=")),
    # The SMS provider's delivery report: no session, the token in the address is the key
    ("POST", "/sms/status/{token}"): ("/sms/status/1-" + "0" * 32, everyone(403)),
    # Summaries of team A
    ("GET", "/team/sammanstallning"): ("/team/sammanstallning?team=norr", staff_page(200)),
    ("GET", "/team/sammanstallning/diagram/{name}.png"): (
        "/team/sammanstallning/diagram/end_reasons.png?team=norr", staff_page(200)),
    ("GET", "/team/sammanstallning/ladda-ner.{format}"): (
        "/team/sammanstallning/ladda-ner.json?team=norr", staff_page(200)),
    ("GET", "/team/sammanstallning/teman"): ("/team/sammanstallning/teman?team=norr", staff_page(200)),
    ("POST", "/team/sammanstallning/teman/{id}"): (
        "/team/sammanstallning/teman/{answer}", staff_page("303 /team/sammanstallning/teman")),
    ("POST", "/team/sammanstallning/teman/{id}/oversattning"): (
        "/team/sammanstallning/teman/{answer}/oversattning",
        staff_page("303 /team/sammanstallning/teman")),
    # Password links and the forgotten-password page (public; a wrong token finds nothing)
    ("GET", "/konto/glomt-losenord"): ("/konto/glomt-losenord", everyone(200)),
    ("POST", "/konto/glomt-losenord"): ("/konto/glomt-losenord", everyone(200)),
    ("GET", "/konto/losenord/{token}"): ("/konto/losenord/{token}", everyone(404)),
    ("POST", "/konto/losenord/{token}"): ("/konto/losenord/{token}", everyone(404)),
    # The second login step: only for a session waiting for its code or enrolment
    ("GET", "/team/login/kod"): ("/team/login/kod", everyone(LOGIN)),
    ("POST", "/team/login/kod"): ("/team/login/kod", everyone(LOGIN)),
    ("GET", "/team/tvafaktor"): ("/team/tvafaktor", everyone(LOGIN)),
    ("POST", "/team/tvafaktor"): ("/team/tvafaktor", everyone(LOGIN)),
    # The admin area: teams (admins create; coordinators edit their own) and staff accounts
    ("GET", "/team/admin/team"): ("/team/admin/team", coordinator_page(200)),
    ("POST", "/team/admin/team"): (  # an empty form: coordinators may not create teams
        "/team/admin/team", {**coordinator_page(422), "coordinator_a": 403}),
    ("GET", "/team/admin/team/{id}"): ("/team/admin/team/{team}", coordinator_page(200)),
    ("POST", "/team/admin/team/{id}"): ("/team/admin/team/{team}", coordinator_page(422)),
    ("GET", "/team/admin/personal"): ("/team/admin/personal", coordinator_page(200)),
    ("POST", "/team/admin/personal"): ("/team/admin/personal", coordinator_page(422)),
    ("POST", "/team/admin/personal/{id}"): (  # no action chosen: a bad request
        "/team/admin/personal/{staff_user}", coordinator_page(400)),
}  # fmt: skip


@dataclass
class World:
    """The running app, team A's records, and a logged-in browser per role."""

    app: web.Application
    records: dict[str, str]
    tokens: dict[str, str]
    browsers: dict[str, Browser]

    def path(self, template: str, role: str) -> str:
        return template.format(token=self.tokens[role], **self.records)


async def invitation_tokens(db: Database) -> dict[str, str]:
    """A web survey invitation for a participant of team A per role."""
    tokens = {}
    for n, role in enumerate(ROLES):
        participant = await make_enrolled_participant(db, f"WALK-{n}")
        async with db.transaction() as session:
            [new] = await invitations.create_invitations(
                session, [participant], channel="web", days=30
            )
        tokens[role] = new.token
    return tokens


async def team_a_records(db: Database) -> dict[str, str]:
    """Ids of a referral, its participant and a free-text answer of team A."""
    submission = await make_referral(db)
    await make_person_with_history(db, 1)
    async with db.sessions() as session:
        participant = await session.scalar(
            select(Referral.participant_id).where(Referral.id == submission.referral_id)
        )
        answer = await session.scalar(select(Answer.id).where(Answer.text.is_not(None)))
        team = await session.scalar(select(Team.id).where(Team.code == "norr"))
        staff_user = await session.scalar(
            select(StaffUser.id).where(StaffUser.email == USERS["staff_a"][0])
        )
    return {
        "referral": str(submission.referral_id),
        "participant": str(participant),
        "answer": str(answer),
        "team": str(team),
        "staff_user": str(staff_user),
    }


@pytest.fixture
async def world(aiohttp_server, settings, db) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    """The whole service (bot in webhook mode included), two teams, a browser per role."""
    await make_team(db)
    await make_team(db, "syd", "Samverkansteam Syd")
    for email, role, team in USERS.values():
        await make_user(db, email, role=role, team=team)
    records, tokens = await team_a_records(db), await invitation_tokens(db)
    async with FakeBotApi() as api:
        full = dataclasses.replace(
            settings,
            telegram_token=Secret(api.token),
            telegram_api_url=api.base_url,
            telegram_mode="webhook",
            telegram_webhook_secret=Secret("walk-secret"),
        )
        app = create_app(full, database=db)
        server = await aiohttp_server(app)
        await bot_ready(app)
        browsers = {role: Browser(str(server.make_url(""))) for role in ROLES}
        for role, browser in browsers.items():
            if role in USERS:
                await browser.log_in(USERS[role][0])
            else:
                await browser.refresh_csrf()
        yield World(app, records, tokens, browsers)
        for browser in browsers.values():
            await browser.close()


def registered(app: web.Application) -> set[tuple[str, str]]:
    """Every (method, route) of the app; HEAD goes with GET."""
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
    }


async def walk(
    world: World, *, with_csrf: bool = True, methods: tuple[str, ...] = ("GET", "POST")
) -> dict[tuple[str, str, str], Outcome]:
    """Visit every route in the table as every role (logging out last)."""
    outcomes = {}
    keys = sorted(EXPECTED, key=lambda key: key == ("POST", "/team/logout"))
    for method, route in (key for key in keys if key[0] in methods):
        template, _ = EXPECTED[(method, route)]
        for role, browser in world.browsers.items():
            path = world.path(template, role)
            outcome = await browser.visit(method, path, with_csrf=with_csrf)
            if isinstance(outcome, str):
                outcome = re.sub(r"(/remiss/utkast/)[A-Za-z0-9_-]{43}", r"\1DRAFT", outcome)
            outcomes[(method, route, role)] = outcome
    return outcomes


async def test_every_route_answers_every_role_as_specified(world: World) -> None:
    assert registered(world.app) == set(EXPECTED), "add the new route to EXPECTED"

    actual = await walk(world)

    expected = {
        (method, route, role): outcome
        for (method, route), (_, outcomes) in EXPECTED.items()
        for role, outcome in outcomes.items()
    }
    for key, outcome in expected.items():
        if isinstance(outcome, str):
            expected[key] = outcome.format(token=world.tokens[key[2]])
    assert {k: v for k, v in actual.items() if v != expected[k]} == {}
    # The two rules, whatever the table says:
    let_in = {
        (method, route)
        for (method, route, role), outcome in actual.items()
        if route.startswith("/team/")
        and route not in ("/team/login", "/team/logout")
        and role == "anonymous"
        and outcome != LOGIN
    }
    other_team = {
        (method, route)
        for (method, route, role), outcome in actual.items()
        if "{id}" in route
        and route.startswith("/team/")
        and role == "staff_b"
        and outcome not in (400, 403, 404)
    }
    assert (let_in, other_team) == (set(), set())


async def test_every_state_change_needs_the_csrf_token(world: World) -> None:
    actual = await walk(world, with_csrf=False, methods=("POST",))

    refused = {
        (route, role)
        for (method, route, role), outcome in actual.items()
        if method == "POST"
        and route not in ("/telegram/webhook", "/sms/status/{token}")  # keys of their own
        and outcome != RECOVERED.get(route, 403)
    }
    assert refused == set()


async def test_a_survey_token_opens_that_survey_and_nothing_else(world: World) -> None:
    participant = world.browsers["anonymous"]
    await participant.visit("GET", f"/enkat/{world.tokens['anonymous']}")

    team_pages = [
        await participant.visit("GET", path)
        for path in ("/team/", "/team/deltagare", f"/team/deltagare/{world.records['participant']}")
    ]
    guessed = await participant.visit("GET", "/enkat/" + "A" * 43)

    assert team_pages == [LOGIN] * 3
    assert guessed == 404
