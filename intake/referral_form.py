"""The public referral form (*intresseanmälan*) at ``/remiss``: form, review, receipt.

``GET /remiss`` shows the form; ``POST /remiss`` checks it and shows the review page (or the
form again, status 422, with a message by each wrong field); ``POST /remiss/andra`` goes back
to the form with every value kept; ``POST /remiss/skicka`` checks the form once more, stores
the referral and redirects to the receipt. The submission key, created when the form is first
shown, makes sending twice (a double click, a reload) land on the same referral and receipt.
``GET /remiss/samtycke`` is the consent text to print for a paper signature.

When the database cannot be reached, the page the person was on (the form, or the review) is
shown again with status 503, every value kept and a notice to try again later; the team
choices are then the ones read last (:class:`TeamNames`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from core.clock import today_in_sweden
from core.consent import printable_sections
from core.errors import DomainError
from core.referral_form import ReferralDraft, parse_referral_form
from intake import i18n
from intake.context import CONFIG, DB, METRICS
from intake.middlewares import CSRF_TOKEN
from intake.ratelimit import REFERRAL_LIMITS, ReferralLimits, client_address
from intake.referral_fields import (
    FormState,
    consent_language,
    consent_texts,
    database_down_message,
    new_state,
    options,
    rate_limited_message,
    state_from,
    summary,
    text_blocks,
    with_errors,
)
from intake.team_pages import language_context, register_globals
from services import referrals
from storage.db import DATABASE_ERRORS, Database

log = logging.getLogger("samverkan.referrals")
RECEIPT_KEY = "referral_receipt"


class TeamNames:
    """The teams a referral can go to: read from the database, or kept up to ``max_age`` s.

    The form and its review take the teams kept in memory when they are younger than
    ``max_age`` (5 s by default), so a team added or renamed shows on the form within that
    time (in each server process); sending checks the team against the database anyway, so
    a referral never goes to a team that no longer exists. When the kept teams are too old,
    one read refreshes them for every request waiting at that moment (no stampede of reads).
    While the database cannot be reached, the form is shown again with the teams read last,
    so the case worker's choice of team is kept along with everything else they typed.
    """

    def __init__(
        self, *, max_age: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age, self.clock = max_age, clock
        self._last: dict[str, str] = {}
        self._read_at: float | None = None
        self._reading: asyncio.Future[dict[str, str]] | None = None

    async def read(self, db: Database) -> dict[str, str]:
        """Every team now, code → name (one read shared by concurrent callers)."""
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read(db))
            self._reading.add_done_callback(self._done_reading)
        return await asyncio.shield(self._reading)

    async def _read(self, db: Database) -> dict[str, str]:
        teams = await referrals.teams_taking_referrals(db)
        self._last, self._read_at = teams, self.clock()
        return teams

    def _done_reading(self, reading: asyncio.Future[dict[str, str]]) -> None:
        self._reading = None
        if not reading.cancelled():
            reading.exception()  # retrieved here; each waiting caller gets it raised too

    async def recent(self, db: Database) -> dict[str, str]:
        """Every team, code → name, read at most ``max_age`` s ago (else :meth:`read`)."""
        if self._read_at is None or self.clock() - self._read_at >= self.max_age:
            return await self.read(db)
        return self._last

    def last_read(self, *, keep: str = "") -> dict[str, str]:
        """The teams read last, and the code ``keep`` (a choice to keep) if it was not one."""
        if not keep or keep in self._last:
            return self._last
        return {**self._last, keep: keep}


class EmptyForms:
    """The empty form, rendered once per language, team list and consent versions.

    The page is the same for every case worker but for two values: the session's CSRF token
    and the form's new submission key. It is rendered with a marker in each place and the
    markers are replaced per request, so a request does a dictionary lookup and two string
    replacements instead of a template render. The key includes everything else the page
    shows, so a change to the teams or consent texts renders a fresh page; templates are read
    at start-up, and ``tests/intake/test_form_cache.py`` compares cached with fresh pages.
    """

    CSRF = "\x00csrf\x00"
    KEY = "\x00submission-key\x00"
    #: Different team lists kept at most (each a few tens of KB per language).
    LIMIT = 64

    def __init__(self) -> None:
        self._pages: dict[tuple[object, ...], str] = {}

    def page(self, request: web.Request, state: FormState, teams: dict[str, str]) -> str:
        """The empty form for this request: its CSRF token and submission key filled in."""
        key = (
            i18n.current_language(),
            tuple(teams.items()),
            tuple(state.consent_versions.items()),
            tuple(sorted(state.values.items())),
        )
        page = self._pages.get(key)
        if page is None:
            if len(self._pages) >= self.LIMIT:
                self._pages.clear()
            page = self._pages[key] = _form_with_markers(request, state, teams)
        token = request.get(CSRF_TOKEN, "")
        return page.replace(self.CSRF, token, 1).replace(self.KEY, state.submission_key, 1)


def _form_with_markers(request: web.Request, state: FormState, teams: dict[str, str]) -> str:
    """The form rendered with :class:`EmptyForms`' markers for the token and the key."""
    token = request.get(CSRF_TOKEN)
    request[CSRF_TOKEN] = EmptyForms.CSRF
    try:
        marked = dataclasses.replace(state, submission_key=EmptyForms.KEY)
        return _render_form(request, marked, teams).text or ""
    finally:
        if token is None:
            del request[CSRF_TOKEN]
        else:
            request[CSRF_TOKEN] = token


TEAM_NAMES = web.AppKey("referral_team_names", TeamNames)
EMPTY_FORMS = web.AppKey("referral_empty_forms", EmptyForms)


async def show_form(request: web.Request) -> web.StreamResponse:
    """GET /remiss: an empty form with a new submission key.

    Without the database this is the generic 503 page: nothing has been typed yet.
    """
    teams = await request.app[TEAM_NAMES].recent(request.app[DB])
    state = new_state(i18n.current_language())
    if len(teams) == 1:
        state.values["team"] = next(iter(teams))
    page = request.app[EMPTY_FORMS].page(request, state, teams)
    return web.Response(text=page, content_type="text/html", charset="utf-8")


async def review(request: web.Request) -> web.StreamResponse:
    """POST /remiss: the review page, or the form again with what to fix (422)."""
    state = await _submitted(request)
    if (waited := _throttled(request, "posts")) is not None:
        return _form_after_wait(request, state, waited)
    try:
        teams = await request.app[TEAM_NAMES].recent(request.app[DB])
    except DATABASE_ERRORS as error:
        return _database_down(request, state, error)
    try:
        draft = _parse(state, teams)
    except DomainError as failed:
        return _render_form(request, with_errors(state, failed), teams, status=422)
    return _render_review(request, state, draft, teams)


async def edit(request: web.Request) -> web.StreamResponse:
    """POST /remiss/andra: back from the review to the form, every value kept."""
    state = await _submitted(request)
    if (waited := _throttled(request, "posts")) is not None:
        return _form_after_wait(request, state, waited)
    try:
        teams = await request.app[TEAM_NAMES].recent(request.app[DB])
    except DATABASE_ERRORS as error:
        return _database_down(request, state, error)
    return _render_form(request, state, teams)


async def send(request: web.Request) -> web.StreamResponse:
    """POST /remiss/skicka: store the referral once, tell the coordinators, show the receipt."""
    state = await _submitted(request)
    try:
        teams = await request.app[TEAM_NAMES].recent(request.app[DB])
    except DATABASE_ERRORS as error:
        return _database_down(request, state, error, on_review=True)
    try:
        draft = _parse(state, teams)
        if (waited := _throttled(request, "submissions")) is not None:
            response = _render_review(request, _notice(state, waited), draft, teams, status=429)
            return _with_retry_after(response, waited)
        submission = await _submit(request, state, draft)
    except DomainError as failed:  # a wrong value, or the team was removed while it was open
        return _render_form(request, with_errors(state, failed), teams, status=422)
    except DATABASE_ERRORS as error:
        return _database_down(request, state, error, on_review=True)
    if submission.created:
        request.app[METRICS].inc("referral_submitted")
    session = await get_session(request)
    session[RECEIPT_KEY] = {"reference": submission.reference, "team": submission.team_name}
    raise web.HTTPSeeOther("/remiss/kvitto")


async def receipt(request: web.Request) -> web.StreamResponse:
    """GET /remiss/kvitto: the reference code of the referral just sent."""
    sent = (await get_session(request)).get(RECEIPT_KEY)
    if not sent:
        raise web.HTTPSeeOther("/remiss")
    context = {"reference": sent["reference"], "team": sent["team"], "language_switch": True}
    return _page(request, "remiss/receipt.html", context)


async def printable_consent(request: web.Request) -> web.StreamResponse:
    """GET /remiss/samtycke: both consent texts with boxes to tick and lines to sign."""
    language = consent_language(i18n.current_language())
    sections = [
        {"section": section, "blocks": text_blocks(section.text)}
        for section in printable_sections(language)
    ]
    context = {"sections": sections, "consent_language": language, "language_switch": True}
    return _page(request, "remiss/consent_print.html", context)


def _page(request: web.Request, template: str, context: dict[str, Any]) -> web.Response:
    """A page of the referral form in the language chosen for this request."""
    return aiohttp_jinja2.render_template(template, request, {**language_context(), **context})


async def _submitted(request: web.Request) -> FormState:
    """The state of the form in this request's body."""
    return state_from(await request.post(), i18n.current_language())


def _parse(state: FormState, teams: dict[str, str]) -> ReferralDraft:
    """The checked referral in ``state``; FormErrors with a message per wrong field."""
    return parse_referral_form(state.values, team_codes=teams, today=today_in_sweden())


async def _submit(
    request: web.Request, state: FormState, draft: ReferralDraft
) -> referrals.Submission:
    """Store the referral once for the form's submission key, in the form's language."""
    language = i18n.current_language()
    return await referrals.submit_referral(
        request.app[DB],
        draft,
        submission_key=state.submission_key,
        language=language,
        consent_language=consent_language(language),
        consent_versions=state.consent_versions,
        public_url=request.app[CONFIG].public_url,
    )


def _throttled(request: web.Request, limit: Literal["posts", "submissions"]) -> float | None:
    """Seconds to wait when this address has used up the ``limit``, else None."""
    limits = request.app[REFERRAL_LIMITS]
    limiter = limits.posts if limit == "posts" else limits.submissions
    waited = limiter.attempt(client_address(request, limits.trusted_proxies))
    if not waited:
        return None
    log.warning("referral.rate_limited", extra={"limit": limit, "retry_after": round(waited)})
    return waited


def _with_retry_after(response: web.StreamResponse, waited: float) -> web.StreamResponse:
    """``response`` telling clients how many seconds to wait."""
    response.headers["Retry-After"] = str(int(waited))
    return response


def _notice(state: FormState, waited: float) -> FormState:
    """``state`` with the friendly rate-limit message on top."""
    state.notice = rate_limited_message(waited)
    return state


def _form_after_wait(request: web.Request, state: FormState, waited: float) -> web.StreamResponse:
    """The form again, status 429, saying how long to wait (the teams as read last)."""
    teams = request.app[TEAM_NAMES].last_read(keep=state.value("team"))
    response = _render_form(request, _notice(state, waited), teams, status=429)
    return _with_retry_after(response, waited)


def _database_down(
    request: web.Request, state: FormState, error: BaseException, *, on_review: bool = False
) -> web.Response:
    """The page the person was on, again: every value kept, status 503, a notice to retry."""
    log.warning(
        "referral.database_unavailable",
        extra={"route": request.path, "error": type(error).__name__},
    )
    state.notice = database_down_message()
    teams = request.app[TEAM_NAMES].last_read(keep=state.value("team"))
    if on_review:
        with contextlib.suppress(DomainError):
            return _render_review(request, state, _parse(state, teams), teams, status=503)
    return _render_form(request, state, teams, status=503)


def _render_form(
    request: web.Request, state: FormState, teams: dict[str, str], *, status: int = 200
) -> web.Response:
    """The form with ``state``'s values and errors, ``teams`` to choose from."""
    language = i18n.current_language()
    context = {
        "state": state,
        "options": options(teams, language),
        "consents": consent_texts(state, language),
        "language_switch": request.method == "GET",
    }
    response = _page(request, "remiss/form.html", context)
    response.set_status(status)
    return response


def _render_review(
    request: web.Request,
    state: FormState,
    draft: ReferralDraft,
    teams: dict[str, str],
    *,
    status: int = 200,
) -> web.Response:
    """The review page: every answer with a way back to change it."""
    sections = summary(draft, teams[draft.team], i18n.current_language(), state.consent_versions)
    context = {"state": state, "sections": sections, "language_switch": False}
    response = _page(request, "remiss/review.html", context)
    response.set_status(status)
    return response


def setup(app: web.Application) -> None:
    """Register the referral form's routes, its rate limits and the teams it remembers."""
    register_globals(app)
    app[TEAM_NAMES] = TeamNames()
    app[EMPTY_FORMS] = EmptyForms()
    if REFERRAL_LIMITS not in app:
        config = app[CONFIG]
        app[REFERRAL_LIMITS] = ReferralLimits.per_hour(
            config.referral_rate_per_hour, trusted_proxies=config.trusted_proxies
        )
    app.router.add_get("/remiss", show_form)
    app.router.add_post("/remiss", review)
    app.router.add_post("/remiss/andra", edit)
    app.router.add_post("/remiss/skicka", send)
    app.router.add_get("/remiss/kvitto", receipt)
    app.router.add_get("/remiss/samtycke", printable_consent)
