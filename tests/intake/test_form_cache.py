"""The empty referral form is rendered once and served with the request's own tokens.

A cached page must be byte for byte the page a fresh render gives (but for the CSRF token and
the submission key), for every language and every set of teams, so a template change can never
serve a stale form; and a team list that has grown old is read once for everyone waiting.
"""

from __future__ import annotations

import asyncio
import secrets

import aiohttp_jinja2
import pytest
from aiohttp.test_utils import make_mocked_request

from app.main import create_app
from core.i18n import PAGE_LANGUAGES
from intake import i18n
from intake import referral_form as form_module
from intake.middlewares import CSRF_TOKEN
from intake.referral_fields import new_state
from intake.referral_form import EMPTY_FORMS, TEAM_NAMES, EmptyForms
from intake.web import request_context
from services import referrals
from tests.common.teams import make_team

TEAM_SETS = {
    "no team": {},
    "one team (chosen already)": {"norr": "Samverkansteam Norr"},
    "two teams": {"norr": "Samverkansteam Norr", "syd": "Resursteam Syd & <Söder>"},
}


@pytest.mark.parametrize("language", PAGE_LANGUAGES)
@pytest.mark.parametrize("teams", sorted(TEAM_SETS))
async def test_a_cached_form_is_the_fresh_form_with_this_requests_tokens(
    settings, db, language: str, teams: str
) -> None:
    app = create_app(settings, database=db)
    chosen = TEAM_SETS[teams]
    i18n.set_language(language)
    cache = EmptyForms()
    for _visit in range(2):  # the first visit renders and keeps, the second is served kept
        request = make_mocked_request("GET", "/remiss", app=app)
        request[CSRF_TOKEN] = token = secrets.token_urlsafe(32)
        request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = await request_context(request)
        state = new_state(language)
        if len(chosen) == 1:
            state.values["team"] = next(iter(chosen))
        cached = cache.page(request, state, chosen)
        fresh = form_module._render_form(request, state, chosen).text
        assert cached == fresh
        assert token in cached and state.submission_key in cached


async def test_the_page_served_is_new_when_the_teams_change(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_team(db, "ost", "Resursteam Öst")
    client = await aiohttp_client(create_app(settings, database=db))
    before = await (await client.get("/remiss")).text()
    await make_team(db, "syd", "Resursteam Syd")
    teams = client.server.app[TEAM_NAMES]
    later = teams.clock() + teams.max_age
    teams.clock = lambda: later
    after = await (await client.get("/remiss")).text()
    assert "Resursteam Syd" not in before and "Resursteam Syd" in after
    assert len(client.server.app[EMPTY_FORMS]._pages) == 2


async def test_teams_grown_old_are_read_once_for_every_request_waiting(
    aiohttp_client, settings, db, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_team(db)
    client = await aiohttp_client(create_app(settings, database=db))
    reads = 0
    real = referrals.teams_taking_referrals

    async def counted(database):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.05)  # a read that takes a while, as under load
        return await real(database)

    monkeypatch.setattr(referrals, "teams_taking_referrals", counted)
    pages = await asyncio.gather(*(client.get("/remiss") for _ in range(30)))
    assert [page.status for page in pages] == [200] * 30
    assert reads == 1
