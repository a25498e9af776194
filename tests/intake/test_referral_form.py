"""The public referral form over HTTP: form, errors, review, receipt, idempotency, limits."""

from __future__ import annotations

import asyncio
import hashlib
import html
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from app.main import create_app
from core.clock import utcnow
from core.consent import current_text
from core.personnummer import FORMAT_HINT
from core.referral_form import FORM_FIELDS
from intake.ratelimit import REFERRAL_LIMITS, RateLimiter, client_address
from intake.referral_fields import FIELD_LABELS, Block, consent_blocks, text_blocks
from intake.referral_form import TEAM_NAMES
from services import referral_drafts, referrals
from storage.db import Database
from storage.models import (
    AuditEntry,
    Consent,
    Participant,
    Referral,
    ReferralEvent,
    ReferralFormDraft,
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
    """Fill in the form and go to the review page (a redirect to a GET); its HTML."""
    _, hidden = await open_form(client)
    response = await client.post("/remiss", data=hidden + form_fields(referral_form(**overrides)))
    assert response.status == 200, await response.text()
    assert response.method == "GET" and "/remiss/granska/" in response.url.path
    return await response.text()


def edit_link(page: str, field: str = "person_name") -> str:
    """The review page's "Ändra" link for ``field``."""
    match = re.search(rf'href="(/remiss/utkast/[A-Za-z0-9_-]+)#{field}"', page)
    assert match, f"no link to change {field}"
    return match.group(1)


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
    assert set(FORM_FIELDS) - {"personnummer_confirmed"} <= ids  # that one: when needed
    assert ids <= labelled


async def test_a_valid_form_redirects_to_the_review_page_and_stores_no_referral_yet(
    client, db
) -> None:
    _, hidden = await open_form(client)
    fields = hidden + form_fields(referral_form())
    response = await client.post("/remiss", data=fields, allow_redirects=False)
    assert response.status == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/remiss/granska/[A-Za-z0-9_-]{43}", location)
    page = await (await client.get(location)).text()
    assert "Granska remissen innan du skickar" in page
    assert "Sara Exempel" in page and "Arbetsförmedlingen" in page
    assert edit_link(page).startswith("/remiss/utkast/")
    names = [name for name, _ in hidden_fields(page)]
    assert names == ["_csrf", "draft", "submission_key"]  # the values stay on the server
    assert await rows(db, Referral) == 0 and await rows(db, ReferralFormDraft) == 1


async def test_the_draft_is_encrypted_and_found_only_by_a_hash_of_its_token(client, db) -> None:
    page = await review_page(client)
    token = dict(hidden_fields(page))["draft"]
    async with db.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT token_hash, payload FROM referral_drafts"))).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert "Sara" not in stored.payload and "19850312" not in stored.payload


async def test_another_browser_with_the_review_address_sees_nothing(
    client, aiohttp_client, settings, db
) -> None:
    _, hidden = await open_form(client)
    response = await client.post("/remiss", data=hidden + form_fields(referral_form()))
    other = await aiohttp_client(create_app(settings, database=db))
    seen = await other.get(response.url.path)
    page = await seen.text()
    assert seen.status == 410 and "Utkastet finns inte längre" in page
    assert "Sara" not in page


async def test_an_expired_draft_is_not_shown_and_the_purge_deletes_it(client, db) -> None:
    page = await review_page(client)
    review_url = f"/remiss/granska/{dict(hidden_fields(page))['draft']}"
    later = utcnow() + referral_drafts.DRAFT_LIFETIME + timedelta(seconds=1)
    async with db.transaction() as session:
        await session.execute(update(ReferralFormDraft).values(expires_at=utcnow()))
    assert (await client.get(review_url)).status == 410
    assert await referral_drafts.purge_expired_drafts(db, now=later) == 1
    assert await rows(db, ReferralFormDraft) == 0


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
    assert response.method == "GET" and response.url.path.startswith("/remiss/utkast/")
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary is not None
    assert re.findall(r'href="#([a-z_]+)"', summary.group(0)) == [
        "referrer_email",
        "personnummer",
        "help_wanted",
    ]
    assert "Personnummer: kontrollsiffran" in page and "inte en privat adress" in page
    assert "Vad personen vill ha hjälp med: beskriv vad personen" in page
    assert 'id="personnummer-error"' in page and 'aria-invalid="true"' in page
    assert 'value="19850312-1234"' in page and 'value="lena@gmail.com"' in page
    assert 'value="Sara &lt;b&gt;Exempel&lt;/b&gt;"' in page
    assert ("submission_key", dict(hidden)["submission_key"]) in hidden_fields(page)
    assert await rows(db, Referral) == 0


async def test_change_from_the_review_returns_to_the_form_with_values_kept(client, db) -> None:
    page = await review_page(client)
    response = await client.get(edit_link(page, "personnummer"))
    form = await response.text()
    assert response.status == 200
    assert 'value="Sara Exempel"' in form and 'value="19850312-1231"' in form
    assert re.search(r'value="kommun" checked', form)
    assert sent_back(form) == TYPED
    kept = dict(hidden_fields(form))
    assert kept["draft"] == dict(hidden_fields(page))["draft"]
    changed = [*hidden_fields(form), *form_fields(referral_form(person_name="Sara Ändrad"))]
    again = await client.post("/remiss", data=changed)
    assert "Sara Ändrad" in await again.text()
    assert await rows(db, ReferralFormDraft) == 1  # the same draft, changed


async def test_sending_stores_the_referral_and_shows_the_receipt(client, db) -> None:
    page = await review_page(client)
    response = await client.post("/remiss/skicka", data=hidden_fields(page), allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/remiss/kvitto"
    receipt = await (await client.get("/remiss/kvitto")).text()
    async with db.sessions() as session:
        reference = await session.scalar(select(Referral.reference))
    assert reference is not None and f'<span class="reference">{reference}</span>' in receipt
    assert await rows(db, Consent) == 3 and await rows(db, ReferralEvent) == 1


async def test_the_receipt_has_a_printable_copy_with_the_personnummer_masked(client, db) -> None:
    page = await review_page(client)
    await client.post("/remiss/skicka", data=hidden_fields(page))
    receipt = await (await client.get("/remiss/kvitto")).text()
    copy = receipt[receipt.index('class="receipt-copy"') :]
    assert "Kopia av det du skickade" in copy and "Sara Exempel" in copy
    assert "19850312-****" in copy and "1231" not in copy
    assert "Vill komma närmare arbete" in copy
    async with db.engine.connect() as conn:
        stage = (await conn.execute(text("SELECT stage FROM referral_drafts"))).scalar_one()
    assert stage == "sent"


async def test_the_copy_is_only_for_this_browser_and_only_for_an_hour(
    client, aiohttp_client, settings, db
) -> None:
    page = await review_page(client)
    await client.post("/remiss/skicka", data=hidden_fields(page))
    other = await aiohttp_client(create_app(settings, database=db))
    assert (await other.get("/remiss/kvitto", allow_redirects=False)).status == 303
    async with db.transaction() as session:
        await session.execute(update(ReferralFormDraft).values(expires_at=utcnow()))
    receipt = await (await client.get("/remiss/kvitto")).text()
    assert "Sara" not in receipt and "Kopian visas bara en timme" in receipt


async def test_back_to_the_review_after_sending_shows_the_receipt_not_a_second_send(
    client, db
) -> None:
    page = await review_page(client)
    review_url = f"/remiss/granska/{dict(hidden_fields(page))['draft']}"
    await client.post("/remiss/skicka", data=hidden_fields(page))
    back = await client.get(review_url, allow_redirects=False)
    assert back.status == 303 and back.headers["Location"] == "/remiss/kvitto"
    edit_after = await client.get(edit_link(page), allow_redirects=False)
    assert edit_after.status == 303 and edit_after.headers["Location"] == "/remiss/kvitto"
    assert await rows(db, Referral) == 1


async def test_sending_twice_shows_the_same_receipt_and_stores_one_referral(client, db) -> None:
    fields = hidden_fields(await review_page(client))
    references = []
    for _ in range(3):
        await client.post("/remiss/skicka", data=fields)
        receipt = await (await client.get("/remiss/kvitto")).text()
        references.append(re.search(r'class="reference">([^<]+)<', receipt).group(1))  # type: ignore[union-attr]
    assert len(set(references)) == 1
    assert await rows(db, Referral) == 1


async def test_two_sends_at_once_store_one_referral(client, db) -> None:
    fields = hidden_fields(await review_page(client))
    sent = await asyncio.gather(
        *(client.post("/remiss/skicka", data=fields, allow_redirects=False) for _ in range(2))
    )
    assert [response.status for response in sent] == [303, 303]
    assert await rows(db, Referral) == 1


async def test_a_send_with_another_submission_key_is_refused(client, db) -> None:
    fields = dict(hidden_fields(await review_page(client)))
    fields["submission_key"] = "x" * 32
    response = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    assert response.status == 400 and await rows(db, Referral) == 0


async def test_no_personal_data_ends_up_in_a_url_or_a_cache(client) -> None:
    _, hidden = await open_form(client)
    review = await client.post("/remiss", data=hidden + form_fields(referral_form()))
    page = await review.text()
    response = await client.post("/remiss/skicka", data=hidden_fields(page), allow_redirects=False)
    urls = re.findall(r'(?:href|action|formaction)="([^"]+)"', page)
    urls += [str(review.url), *(str(step.url) for step in review.history)]
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
    assert "What the person wants help with: describe what the person" in await response.text()
    again = await (await client.get("/remiss")).text()
    assert '<html lang="en"' in again


@pytest.mark.parametrize("step", ["form", "errors", "review", "receipt", "expired", "consent"])
async def test_every_step_has_the_language_switch_and_keeps_the_values(client, step) -> None:
    if step == "form":
        url = "/remiss"
    elif step == "errors":
        _, hidden = await open_form(client)
        form = form_fields(referral_form(help_wanted=""))
        url = (await client.post("/remiss", data=hidden + form)).url.path
    elif step in ("review", "receipt"):
        page = await review_page(client)
        url = f"/remiss/granska/{dict(hidden_fields(page))['draft']}"
        if step == "receipt":
            await client.post("/remiss/skicka", data=hidden_fields(page))
            url = "/remiss/kvitto"
    elif step == "expired":
        url = "/remiss/granska/" + "x" * 43
    else:
        url = "/remiss/samtycke"
    swedish = await (await client.get(url)).text()
    assert '<ul class="lang-switch">' in swedish and 'href="?lang=en"' in swedish
    english = await (await client.get(url + "?lang=en")).text()
    assert '<html lang="en"' in english and 'href="?lang=sv"' in english
    if step in ("errors", "review", "receipt"):
        assert "Sara Exempel" in english


async def test_a_form_answering_a_post_switches_language_by_posting_it_again(client) -> None:
    client.server.app[REFERRAL_LIMITS].posts.limit = 1
    _, hidden = await open_form(client)
    await client.post("/remiss", data=hidden + form_fields(referral_form()))
    response = await client.post("/remiss", data=hidden + form_fields(referral_form()))
    page = await response.text()
    assert response.status == 429 and response.method == "POST"  # the page answers a POST
    assert 'formaction="/remiss/andra?lang=en"' in page and 'form="referral-form"' in page
    client.server.app[REFERRAL_LIMITS].posts.limit = 100
    english = await client.post("/remiss/andra?lang=en", data=hidden_fields(page) + list(TYPED))
    assert '<html lang="en"' in await english.text() and "Sara Exempel" in await english.text()


async def test_the_printable_consent_page_has_both_consents_in_each_language(client) -> None:
    swedish = await (await client.get("/remiss/samtycke?lang=sv")).text()
    english = await (await client.get("/remiss/samtycke?lang=en")).text()
    assert (
        "1. Samtycke till informationsutbyte" in swedish
        and "2. Samtycke till uppföljning" in swedish
    )
    assert "1. Consent to information sharing" in english and "Consent to follow-up" in english
    assert "Underskrift" in swedish and "Signature" in english


async def test_every_error_names_its_field(client) -> None:
    _, hidden = await open_form(client)
    response = await client.post("/remiss", data=hidden)
    page = await response.text()
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary is not None
    links = re.findall(r'<a href="#([a-z_]+)">([^<]+)</a>', summary.group(0))
    assert len(links) >= 10
    for field, message in links:
        name = html.unescape(message).split(":")[0]
        assert name == FIELD_LABELS[field], message
        assert f'id="{field}"' in page  # the link goes to the field
    assert "Personnummer: ange personnumret med 10 eller 12 siffror" in page


async def test_the_personnummer_hint_and_its_error_describe_the_same_formats(client) -> None:
    page, hidden = await open_form(client)
    hint = re.search(r'<p id="personnummer-hint" class="hint">([^<]+)</p>', page)
    assert hint is not None and hint.group(1) == FORMAT_HINT
    form = form_fields(referral_form(personnummer=""))
    errors = await (await client.post("/remiss", data=hidden + form)).text()
    assert f"Personnummer: ange personnumret med {FORMAT_HINT}" in errors


async def test_a_personnummer_giving_an_age_outside_16_to_64_asks_to_confirm(client, db) -> None:
    _, hidden = await open_form(client)
    young = "120312-1239"  # 14 years old, or 114: the century was guessed
    response = await client.post(
        "/remiss", data=hidden + form_fields(referral_form(personnummer=young))
    )
    page = await response.text()
    assert response.status == 422
    assert 'href="#personnummer_confirmed"' in page and "Ja, personnumret stämmer" in page
    assert 'id="personnummer_confirmed"' in page and f'value="{young}"' in page
    confirmed = [*hidden_fields(page), *form_fields(referral_form(personnummer=young))]
    review = await client.post("/remiss", data=[*confirmed, ("personnummer_confirmed", "ja")])
    assert review.status == 200 and "20120312-1239" in await review.text()
    empty, _ = await open_form(client)
    assert 'id="personnummer_confirmed"' not in empty  # asked only when it is needed


async def test_free_text_fields_say_their_limit_without_javascript(client) -> None:
    page, _ = await open_form(client)
    for field, limit in (("help_wanted", 3000), ("practical_needs", 2000)):
        assert f'data-max-length="{limit}"' in page
        assert re.search(
            rf'<p id="{field}-limit" class="hint character-limit"[^>]*>Högst {limit} tecken\.</p>',
            page,
        )
        assert re.search(rf'<textarea id="{field}"[^>]*aria-describedby="[^"]*{field}-limit', page)


async def test_a_self_referral_is_stored_without_a_case_worker(client, db) -> None:
    page = await review_page(
        client,
        referrer_type="egen",
        referrer_org="",
        referrer_name="",
        referrer_email="",
        referrer_phone="",
        consent_method="",
    )
    assert "Jag anmäler mig själv" in page and "Digitalt av deltagaren" in page
    assert "E-post i tjänsten" not in page
    await client.post("/remiss/skicka", data=hidden_fields(page))
    async with db.sessions() as session:
        referral = await session.scalar(select(Referral))
        methods = set((await session.scalars(select(Consent.method))).all())
    assert referral is not None and referral.referrer_code == "egen"
    assert methods == {"digital"}


async def test_case_workers_are_not_offered_self_referral_or_digital_consent(client) -> None:
    page, _ = await open_form(client)
    org = re.search(r'<select id="referrer_org".*?</select>', page, re.S)
    assert org is not None and 'value="egen"' not in org.group(0)
    assert 'name="consent_method" type="radio" value="digital"' not in page
    assert 'id="referrer_type-egen"' in page


@pytest.mark.parametrize("step", ["/remiss", "/remiss/skicka"])
async def test_a_form_sent_after_its_session_ended_comes_back_with_every_value(
    client, aiohttp_client, settings, db, step
) -> None:
    page = await review_page(client)
    sent = hidden_fields(page) if step == "/remiss/skicka" else [("_csrf", "old")]
    if step == "/remiss":
        sent += form_fields(referral_form())
    fresh = await aiohttp_client(create_app(settings, database=db))  # no session: cookie gone
    response = await fresh.post(step, data=[(k, "old" if k == "_csrf" else v) for k, v in sent])
    form = await response.text()
    assert response.method == "GET" and response.url.path.startswith("/remiss/utkast/")
    assert "formuläret gick ut" in form and sent_back(form) == TYPED
    assert await rows(db, Referral) == 0
    resent = await fresh.post("/remiss", data=[*hidden_fields(form), *TYPED])
    assert "Granska remissen" in await resent.text()


async def test_a_form_posted_from_another_site_is_not_shown_again(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    fresh = await aiohttp_client(create_app(settings, database=db))
    fields = form_fields(referral_form())
    response = await fresh.post(
        "/remiss", data=fields, headers={"Sec-Fetch-Site": "cross-site"}, allow_redirects=False
    )
    assert response.status == 403 and "Sara" not in await response.text()
    assert await rows(db, ReferralFormDraft) == 0


async def test_a_flood_from_one_address_is_stopped_with_a_friendly_message(client, db) -> None:
    client.server.app[REFERRAL_LIMITS].submissions.limit = 2
    for number in range(3):
        page = await review_page(client, person_name=f"Person {number}")
        response = await client.post(
            "/remiss/skicka", data=hidden_fields(page), allow_redirects=False
        )
    assert response.status == 429 and int(response.headers["Retry-After"]) > 0
    body = await response.text()
    assert "Vänta" in body and "Person 2" in body
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


async def test_sending_while_the_database_is_down_can_be_sent_again_later(
    client: Client, db: Database, tmp_path: Path
) -> None:
    fields = hidden_fields(await review_page(client))
    async with database_unreachable(db, tmp_path):
        response = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    assert response.status == 503 and "Traceback" not in await response.text()
    assert await rows(db, Referral) == 0

    later = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    assert later.status == 303 and await rows(db, Referral) == 1


async def test_a_failed_store_shows_the_review_again_to_send_later(
    client: Client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = hidden_fields(await review_page(client))
    real_submit = referrals.submit_referral

    async def database_gone(*args: Any, **kwargs: Any) -> referrals.Submission:
        raise ConnectionRefusedError("the database went away")

    monkeypatch.setattr(referrals, "submit_referral", database_gone)
    response = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    page = await response.text()
    assert response.status == 503
    assert DATABASE_DOWN_NOTICE in page and "Granska remissen innan du skickar" in page
    assert hidden_fields(page)[1:] == fields[1:] and "Sara Exempel" in page
    monkeypatch.setattr(referrals, "submit_referral", real_submit)
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
    response = await client.post("/remiss/skicka", data=fields)
    assert (
        response.status == 422
        and "Team: välj vilket team remissen gäller." in await response.text()
    )
    assert response.url.path.startswith("/remiss/utkast/")
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
    sending = step == "/remiss/skicka"
    response = await client.post(
        "/remiss" if sending else step,
        data=hidden + list(fields.items()),
        allow_redirects=sending,
    )
    page = await response.text()
    if sending and "/remiss/granska/" in response.url.path:
        response = await client.post(step, data=hidden_fields(page), allow_redirects=False)
        page = await response.text()
    assert response.status in (200, 303, 422), page[-500:]
    if response.status == 422:
        assert 'class="error-message"' in page
    stored = await rows(db, Referral) - before
    assert stored == (1 if sending and response.status == 303 else 0)
    async with db.sessions() as session:
        submitted = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "referral.submitted")
        )
    assert submitted == await rows(db, Referral) == await rows(db, Participant)
