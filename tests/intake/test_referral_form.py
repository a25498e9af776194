"""The public referral form over HTTP: form, errors, review, receipt, idempotency, limits."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from app.main import create_app
from core.consent import current_text
from core.referral_form import FORM_FIELDS
from intake.ratelimit import REFERRAL_LIMITS, RateLimiter, client_address
from intake.referral_fields import Block, consent_blocks, text_blocks
from intake.referral_form import TEAM_NAMES
from services import referrals
from storage.db import Database
from storage.models import (
    AuditEntry,
    Consent,
    Participant,
    Referral,
    ReferralEvent,
    StaffUser,
    Team,
)
from tests.common.mail import queued_mail
from tests.common.referrals import referral_form
from tests.common.teams import make_team, make_user
from tests.common.web import form_fields, hidden_fields


@pytest.fixture
async def client(aiohttp_client, settings, db):  # type: ignore[no-untyped-def]
    """A browser-like client on the app with one team, ``norr``."""
    await make_team(db)
    return await aiohttp_client(create_app(settings, database=db))


async def open_form(client, path: str = "/remiss") -> tuple[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """The form page and its hidden fields (CSRF token, submission key, consent versions)."""
    response = await client.get(path)
    assert response.status == 200
    page = await response.text()
    return page, hidden_fields(page)


async def review_page(client, **overrides) -> str:  # type: ignore[no-untyped-def]
    """Fill in the form and go to the review page; its HTML."""
    _, hidden = await open_form(client)
    response = await client.post("/remiss", data=hidden + form_fields(referral_form(**overrides)))
    assert response.status == 200, await response.text()
    return await response.text()


async def rows(db, model) -> int:  # type: ignore[no-untyped-def]
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_form_has_a_submission_key_and_the_consent_text_versions(client) -> None:
    page, hidden = await open_form(client)
    names = dict(hidden)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", names["submission_key"])
    assert names["consent_version_information_sharing"] == "1"
    assert names["consent_version_follow_up"] == "1"
    assert "Samtyckestext version 1" in page and "12 kapitlet 2 §" in page


async def test_every_field_of_the_form_has_a_label(client) -> None:
    page, _ = await open_form(client)
    ids = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page))
    labelled = set(re.findall(r'<label for="([^"]+)"', page))
    assert {name for name in FORM_FIELDS} <= ids
    assert ids <= labelled


async def test_a_valid_form_leads_to_the_review_page_and_stores_nothing_yet(client, db) -> None:
    page = await review_page(client)
    assert "Granska remissen innan du skickar" in page
    assert "Sara Exempel" in page and "Arbetsförmedlingen" in page
    assert 'formaction="/remiss/andra#person_name"' in page
    assert ("person_name", "Sara Exempel") in hidden_fields(page)
    assert await rows(db, Referral) == 0


async def test_bad_input_gives_422_with_a_message_per_field_and_keeps_every_value(
    client, db
) -> None:
    _, hidden = await open_form(client)
    form = referral_form(
        personnummer="19850312-1234",
        referrer_email="lena@gmail.com",
        help_wanted="",
        person_name="Sara <b>Exempel</b>",
    )
    response = await client.post("/remiss", data=hidden + form_fields(form))
    page = await response.text()
    assert response.status == 422
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary is not None
    assert re.findall(r'href="#([a-z_]+)"', summary.group(0)) == [
        "referrer_email",
        "personnummer",
        "help_wanted",
    ]
    assert "Kontrollsiffran" in page and "inte en privat adress" in page
    assert 'id="personnummer-error"' in page and 'aria-invalid="true"' in page
    assert 'value="19850312-1234"' in page and 'value="lena@gmail.com"' in page
    assert 'value="Sara &lt;b&gt;Exempel&lt;/b&gt;"' in page
    assert ("submission_key", dict(hidden)["submission_key"]) in hidden_fields(page)
    assert await rows(db, Referral) == 0


async def test_change_from_the_review_returns_to_the_form_with_values_kept(client) -> None:
    page = await review_page(client)
    response = await client.post("/remiss/andra", data=hidden_fields(page))
    form = await response.text()
    assert response.status == 200
    assert 'value="Sara Exempel"' in form and 'value="19850312-1231"' in form
    assert re.search(r'value="kommun" checked', form)


async def test_sending_stores_the_referral_and_shows_the_receipt(client, db) -> None:
    page = await review_page(client)
    response = await client.post("/remiss/skicka", data=hidden_fields(page), allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/remiss/kvitto"
    receipt = await (await client.get("/remiss/kvitto")).text()
    async with db.sessions() as session:
        reference = await session.scalar(select(Referral.reference))
    assert reference is not None and f'<span class="reference">{reference}</span>' in receipt
    assert await rows(db, Consent) == 3 and await rows(db, ReferralEvent) == 1


async def test_sending_twice_shows_the_same_receipt_and_stores_one_referral(client, db) -> None:
    fields = hidden_fields(await review_page(client))
    references = []
    for _ in range(3):
        await client.post("/remiss/skicka", data=fields)
        receipt = await (await client.get("/remiss/kvitto")).text()
        references.append(re.search(r'class="reference">([^<]+)<', receipt).group(1))  # type: ignore[union-attr]
    assert len(set(references)) == 1
    assert await rows(db, Referral) == 1


async def test_no_personal_data_ends_up_in_a_url_or_a_cache(client) -> None:
    _, hidden = await open_form(client)
    review = await client.post("/remiss", data=hidden + form_fields(referral_form()))
    page = await review.text()
    response = await client.post("/remiss/skicka", data=hidden_fields(page), allow_redirects=False)
    urls = re.findall(r'(?:href|action|formaction)="([^"]+)"', page)
    urls.append(response.headers["Location"])
    assert not any(secret in url for url in urls for secret in ("19850312", "Sara", "070"))
    assert review.headers["Cache-Control"] == "no-store"


async def test_a_person_with_protected_identity_needs_no_name_or_personnummer(client, db) -> None:
    page = await review_page(
        client,
        protected_identity="ja",
        person_name="",
        personnummer="",
        person_phone="",
        contact_channel="via_remittent",
    )
    assert "Skyddade personuppgifter" in page and "19850312" not in page
    await client.post("/remiss/skicka", data=hidden_fields(page))
    async with db.sessions() as session:
        person = await session.scalar(select(Participant))
    assert person is not None and person.protected_identity and person.name is None


async def test_the_form_and_its_errors_are_in_english_with_lang_en(client) -> None:
    page, hidden = await open_form(client, "/remiss?lang=en")
    assert '<html lang="en"' in page and "Referral to a coordinated rehabilitation team" in page
    response = await client.post(
        "/remiss", data=hidden + form_fields(referral_form(help_wanted=""))
    )
    assert response.status == 422
    assert "Describe what the person wants help with." in await response.text()
    again = await (await client.get("/remiss")).text()
    assert '<html lang="en"' in again


async def test_the_printable_consent_page_has_both_consents_in_each_language(client) -> None:
    swedish = await (await client.get("/remiss/samtycke?lang=sv")).text()
    english = await (await client.get("/remiss/samtycke?lang=en")).text()
    assert (
        "1. Samtycke till informationsutbyte" in swedish
        and "2. Samtycke till uppföljning" in swedish
    )
    assert "1. Consent to information sharing" in english and "Consent to follow-up" in english
    assert "Underskrift" in swedish and "Signature" in english


async def test_a_flood_from_one_address_is_stopped_with_a_friendly_message(client, db) -> None:
    client.server.app[REFERRAL_LIMITS].submissions.limit = 2
    for number in range(3):
        page = await review_page(client, person_name=f"Person {number}")
        response = await client.post(
            "/remiss/skicka", data=hidden_fields(page), allow_redirects=False
        )
    assert response.status == 429 and int(response.headers["Retry-After"]) > 0
    body = await response.text()
    assert "Vänta" in body and 'value="Person 2"' in body
    assert await rows(db, Referral) == 2


DATABASE_DOWN_NOTICE = "Vi kunde inte spara just nu"
Client = TestClient[web.Request, web.Application]


@asynccontextmanager
async def database_unreachable(db: Database, tmp_path: Path) -> AsyncIterator[None]:
    """The app's database pointed at a file SQLite cannot open (a directory), then back."""
    unreachable = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}", db.keyring)
    working = db.engine, db.sessions
    db.engine, db.sessions = unreachable.engine, unreachable.sessions
    try:
        yield
    finally:
        db.engine, db.sessions = working
        await unreachable.close()


def teams_read_longer_ago_than_kept(client: Client) -> None:
    """Move the team cache's clock past its lifetime: the next request reads the teams."""
    teams = client.server.app[TEAM_NAMES]
    later = teams.clock() + teams.max_age
    teams.clock = lambda: later


class _SentBack(HTMLParser):
    """Collects what a browser would send from a page: filled fields, ticks, chosen options."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._select = self._textarea = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        name, value = found.get("name", ""), found.get("value", "")
        ticked = found.get("type") not in ("radio", "checkbox") or "checked" in found
        if tag == "input" and name and ticked:
            self.pairs.append((name, value))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self.pairs.append((self._select, value))
        elif tag == "textarea":
            self._textarea = name
            self.pairs.append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.pairs[-1] = (self._textarea, self.pairs[-1][1] + data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("select", "textarea"):
            self._select = self._textarea = ""


def sent_back(page: str) -> set[tuple[str, str]]:
    """The form's fields that the page would send again, with a value."""
    parser = _SentBack()
    parser.feed(page)
    return {(name, value) for name, value in parser.pairs if name in FORM_FIELDS and value}


TYPED = {(name, value) for name, value in form_fields(referral_form()) if value}


@pytest.mark.parametrize("step", ["/remiss", "/remiss/andra"])
async def test_the_form_keeps_every_value_typed_while_the_database_is_down(
    client: Client, db: Database, tmp_path: Path, step: str
) -> None:
    _, hidden = await open_form(client)
    teams_read_longer_ago_than_kept(client)  # the review reads the teams again, and cannot
    async with database_unreachable(db, tmp_path):
        response = await client.post(step, data=hidden + form_fields(referral_form()))
    page = await response.text()
    assert response.status == 503
    assert DATABASE_DOWN_NOTICE in page and "Dina uppgifter finns kvar i formuläret" in page
    assert 'action="/remiss"' in page and 'value="Sara Exempel"' in page
    assert sent_back(page) == TYPED
    assert ("submission_key", dict(hidden)["submission_key"]) in hidden_fields(page)
    assert await rows(db, Referral) == 0


async def test_sending_while_the_database_is_down_shows_the_review_again_to_send_later(
    client: Client, db: Database, tmp_path: Path
) -> None:
    fields = hidden_fields(await review_page(client))
    async with database_unreachable(db, tmp_path):
        response = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    page = await response.text()
    assert response.status == 503
    assert DATABASE_DOWN_NOTICE in page and "Granska remissen innan du skickar" in page
    assert hidden_fields(page) == fields and sent_back(page) == TYPED
    assert await rows(db, Referral) == 0

    later = await client.post("/remiss/skicka", data=hidden_fields(page), allow_redirects=False)
    assert later.status == 303 and await rows(db, Referral) == 1


async def test_a_referral_stored_before_the_database_fails_still_gets_its_receipt(
    client: Client, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    real_submit = referrals.submit_referral
    async with AsyncExitStack() as database_fails:

        async def stored_then_database_gone(*args: Any, **kwargs: Any) -> referrals.Submission:
            submission = await real_submit(*args, **kwargs)
            await database_fails.enter_async_context(database_unreachable(db, tmp_path))
            return submission

        monkeypatch.setattr(referrals, "submit_referral", stored_then_database_gone)
        fields = hidden_fields(await review_page(client))
        response = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/remiss/kvitto"
        assert "Remissen är skickad" in await (await client.get("/remiss/kvitto")).text()
    assert await rows(db, Referral) == 1
    assert [m.recipients for m in await queued_mail(db)] == [("samordnare@example.se",)]


async def test_the_teams_active_coordinators_are_told_once_about_a_new_referral(
    client: Client, db: Database
) -> None:
    await make_team(db, "syd", "Resursteam Syd")
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
    fields = hidden_fields(await review_page(client))
    for _ in range(2):  # sent twice (a reload): one referral, one e-mail
        response = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
        assert response.status == 303
    mail = [(m.recipients, m.subject) for m in await queued_mail(db)]
    assert mail == [(("a@norr.se", "b@norr.se"), "Ny remiss till Samverkansteam Norr")]


async def test_a_new_team_is_on_the_form_once_the_teams_kept_in_memory_are_too_old(
    client: Client, db: Database
) -> None:
    await open_form(client)
    await make_team(db, "syd", "Resursteam Syd")
    kept_page, _ = await open_form(client)
    teams_read_longer_ago_than_kept(client)
    page, _ = await open_form(client)
    assert 'value="syd"' not in kept_page and "Resursteam Syd" not in kept_page
    assert 'value="syd"' in page and "Resursteam Syd" in page


async def test_a_team_removed_while_the_form_was_open_is_refused_when_sending(
    client: Client, db: Database
) -> None:
    await make_team(db, "syd", "Resursteam Syd")
    fields = hidden_fields(await review_page(client, team="syd"))
    async with db.transaction() as session:
        await session.execute(delete(Team).where(Team.code == "syd"))
    response = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    assert response.status == 422 and "Teamet finns inte." in await response.text()
    assert await rows(db, Referral) == 0


def test_a_consent_text_is_parsed_once_and_each_text_gets_its_own_blocks() -> None:
    sharing = current_text("information_sharing", "sv")
    follow_up = current_text("follow_up", "sv")
    assert text_blocks(sharing) == tuple(consent_blocks(sharing.text))
    assert text_blocks(sharing) is text_blocks(sharing)
    changed = replace(sharing, text="# Ny rubrik\n\nEn annan text.", sha256="0" * 64)
    assert text_blocks(changed) == (Block("h1", "Ny rubrik"), Block("p", "En annan text."))
    assert text_blocks(follow_up) == tuple(consent_blocks(follow_up.text)) != text_blocks(sharing)


def test_the_rate_limiter_allows_again_when_the_window_has_passed() -> None:
    now = [1000.0]
    limiter = RateLimiter(limit=2, window=60, clock=lambda: now[0])
    assert [limiter.attempt("a"), limiter.attempt("a")] == [0.0, 0.0]
    assert limiter.attempt("a") == 60 and limiter.attempt("b") == 0.0
    now[0] += 61
    assert limiter.attempt("a") == 0.0


def test_forwarded_addresses_count_only_behind_a_trusted_proxy() -> None:
    sent = make_mocked_request("POST", "/remiss", headers={"X-Forwarded-For": "6.6.6.6, 10.0.0.9"})
    request = sent.clone(remote="192.0.2.10")
    assert client_address(request) == "192.0.2.10"
    assert client_address(request, trusted_proxies={"192.0.2.10"}) == "10.0.0.9"
    assert client_address(request, trusted_proxies={"192.0.2.10", "10.0.0.9"}) == "6.6.6.6"


FIELD_NAMES = st.sampled_from([*FORM_FIELDS, "_unknown", "submission_key"])
NASTY_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(min_size=3001, max_size=3100),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "19850312-1234",
            "850312+1231",
            "ja",
            "nej",
            "af",
            "norr",
            "\x00",
            "\u202e",
            "' OR 1=1 --",
            "١٩٨٥٠٣١٢١٢٣١",
        ]
    ),
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.lists(st.tuples(FIELD_NAMES, NASTY_TEXT), max_size=8),
    step=st.sampled_from(["/remiss", "/remiss/skicka", "/remiss/andra"]),
)
async def test_any_input_gives_a_page_with_a_message_never_a_server_error(
    client, db, changes, step
) -> None:  # type: ignore[no-untyped-def]
    limits = client.server.app[REFERRAL_LIMITS]
    limits.posts.limit = limits.submissions.limit = 100_000
    _, hidden = await open_form(client)
    fields = dict(form_fields(referral_form()))
    fields.update(dict(changes))
    before = await rows(db, Referral)
    response = await client.post(step, data=hidden + list(fields.items()), allow_redirects=False)
    page = await response.text()
    assert response.status in (200, 303, 422), page[-500:]
    if response.status == 422:
        assert 'class="error-message"' in page
    stored = await rows(db, Referral) - before
    assert stored == (1 if step == "/remiss/skicka" and response.status == 303 else 0)
    async with db.sessions() as session:
        submitted = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "referral.submitted")
        )
    assert submitted == await rows(db, Referral) == await rows(db, Participant)
