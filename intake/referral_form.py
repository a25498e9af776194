"""The public referral form (*intresseanmälan*) at ``/remiss``: form, review, receipt.

Every POST answers with a redirect (303) to a page read with GET, so the browser's back button
never offers to send a form again:

- ``GET /remiss``: the empty form (rendered once, :class:`EmptyForms`).
- ``POST /remiss``: keeps what was typed as a draft (:mod:`services.referral_drafts`) and
  redirects to ``GET /remiss/granska/{token}``, the review page, or, when something is wrong,
  to ``GET /remiss/utkast/{token}``, the form again with a message by each wrong field (422).
  "Ändra" on the review page is that same form page.
- ``POST /remiss/skicka``: stores the referral from the draft and redirects to
  ``GET /remiss/kvitto``: the reference code and a printable copy of what was sent
  (personnummer masked), shown in the same browser session for an hour.
- ``POST /remiss/andra``: the form again with the values posted (the language switch of a
  page that was itself the answer to a POST, such as "try again later").
- ``GET /remiss/samtycke``: the consent texts to print for a paper signature.

A draft's token is in the page and its URL, and the session lists the drafts this browser
made: another browser with the URL sees nothing. The submission key, created when the form is
first shown and kept in the draft, makes sending twice land on the same referral and receipt.
A form sent after its CSRF token stopped matching (the page was open too long) is kept as a
draft too, and shown again with a notice (:func:`recover_expired`).

When the database cannot be reached, the page the person was on is shown again with status
503, every value kept and a notice to try again later; the team choices are then the ones read
last (:class:`TeamNames`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session, get_session

from core.clock import today_in_sweden
from core.consent import printable_sections
from core.errors import DomainError
from core.personnummer import FORMAT_HINT
from core.referral_form import MAX_LENGTHS, ReferralDraft, parse_referral_form
from intake import i18n
from intake.context import CONFIG, DB, METRICS
from intake.middlewares import CSRF_RECOVERY, CSRF_TOKEN
from intake.ratelimit import REFERRAL_LIMITS, ReferralLimits, client_address
from intake.referral_fields import (
    DRAFT_FIELD,
    DRAFT_TOKEN,
    EXPIRED_NOTICE,
    KEY_FIELD,
    FormState,
    consent_language,
    consent_texts,
    database_down_message,
    draft_payload,
    new_state,
    options,
    rate_limited_message,
    receipt_copy,
    state_from,
    state_from_payload,
    summary,
    text_blocks,
    with_errors,
)
from intake.team_pages import language_context, register_globals
from services import referral_drafts, referrals
from storage.db import DATABASE_ERRORS, Database

log = logging.getLogger("samverkan.referrals")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RECEIPT_KEY = "referral_receipt"
#: The session's list of the drafts this browser made (their tokens), newest last.
DRAFTS_KEY = "referral_drafts"
#: Drafts a session keeps access to (a few tabs open at once).
MAX_DRAFTS = 5
DRAFT_IN_PATH = "{token:[A-Za-z0-9_-]{43}}"


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


async def check(request: web.Request) -> web.StreamResponse:
    """POST /remiss: keep the form as a draft; redirect to the review, or back to fix it."""
    state = await _submitted(request)
    if (waited := _throttled(request, "posts")) is not None:
        return _form_after_wait(request, state, waited)
    try:
        teams = await request.app[TEAM_NAMES].recent(request.app[DB])
        token = await _save(request, state)
    except DATABASE_ERRORS as error:
        return _database_down(request, state, error)
    try:
        _parse(state, teams)
    except DomainError:
        return _see_other(f"/remiss/utkast/{token}")
    return _see_other(f"/remiss/granska/{token}")


async def show_draft(request: web.Request) -> web.StreamResponse:
    """GET /remiss/utkast/{token}: the form with a draft's values; 422 with what to fix."""
    state = await _draft_state(request)
    teams = await request.app[TEAM_NAMES].recent(request.app[DB])
    try:
        _parse(state, teams)
    except DomainError as failed:
        return _render_form(request, with_errors(state, failed), teams, status=422)
    return _render_form(request, state, teams)


async def show_review(request: web.Request) -> web.StreamResponse:
    """GET /remiss/granska/{token}: every answer of a draft, to check before sending."""
    state = await _draft_state(request)
    teams = await request.app[TEAM_NAMES].recent(request.app[DB])
    try:
        draft = _parse(state, teams)
    except DomainError:  # a team removed since, say: the form says what to change
        raise web.HTTPSeeOther(f"/remiss/utkast/{state.draft}") from None
    return _render_review(request, state, draft, teams)


async def edit(request: web.Request) -> web.StreamResponse:
    """POST /remiss/andra: the form again with the values posted (e.g. another language)."""
    state = await _submitted(request)
    if (waited := _throttled(request, "posts")) is not None:
        return _form_after_wait(request, state, waited)
    try:
        teams = await request.app[TEAM_NAMES].recent(request.app[DB])
    except DATABASE_ERRORS as error:
        return _database_down(request, state, error)
    return _render_form(request, state, teams)


async def send(request: web.Request) -> web.StreamResponse:
    """POST /remiss/skicka: store the draft's referral once, then redirect to the receipt."""
    form = await request.post()
    state = await _draft_state(request, str(form.get(DRAFT_FIELD, "")))
    if not secrets.compare_digest(str(form.get(KEY_FIELD, "")), state.submission_key):
        raise web.HTTPBadRequest(text=i18n.gettext("Formuläret kunde inte läsas."))
    try:
        teams = await request.app[TEAM_NAMES].recent(request.app[DB])
    except DATABASE_ERRORS as error:
        return _database_down(request, state, error, on_review=True)
    try:
        draft = _parse(state, teams)
    except DomainError:  # the team was removed while the review was open
        raise web.HTTPSeeOther(f"/remiss/utkast/{state.draft}") from None
    if (waited := _throttled(request, "submissions")) is not None:
        response = _render_review(request, _notice(state, waited), draft, teams, status=429)
        return _with_retry_after(response, waited)
    try:
        submission = await _submit(request, state, draft)
    except DomainError:  # the team was removed a moment ago: the form will say so
        await request.app[TEAM_NAMES].read(request.app[DB])
        raise web.HTTPSeeOther(f"/remiss/utkast/{state.draft}") from None
    except DATABASE_ERRORS as error:
        return _database_down(request, state, error, on_review=True)
    if submission.created:
        request.app[METRICS].inc("referral_submitted")
    session = await get_session(request)
    _remember_receipt(session, submission.reference, submission.team_name, state.draft)
    return _see_other("/remiss/kvitto")


async def receipt(request: web.Request) -> web.StreamResponse:
    """GET /remiss/kvitto: the reference code of the referral just sent, and its copy."""
    sent = (await get_session(request)).get(RECEIPT_KEY)
    if not sent:
        raise web.HTTPSeeOther("/remiss")
    copy = None
    with contextlib.suppress(*DATABASE_ERRORS):  # the reference is in the session anyway
        stored = await referral_drafts.read_draft(request.app[DB], sent.get("copy", ""))
        if stored is not None and stored.stage == "sent":
            copy = stored.payload
    context = {"reference": sent["reference"], "team": sent["team"], "copy": copy}
    return _page(request, "remiss/receipt.html", context)


async def printable_consent(request: web.Request) -> web.StreamResponse:
    """GET /remiss/samtycke: both consent texts with boxes to tick and lines to sign."""
    language = consent_language(i18n.current_language())
    sections = [
        {"section": section, "blocks": text_blocks(section.text)}
        for section in printable_sections(language)
    ]
    context = {"sections": sections, "consent_language": language}
    return _page(request, "remiss/consent_print.html", context)


async def recover_expired(request: web.Request) -> web.StreamResponse:
    """A form posted with a CSRF token that no longer matches: keep it, show it again.

    Called by the CSRF middleware (for a request from this site only) instead of the view.
    Nothing is sent: the values become a draft of this session, shown with a notice.
    """
    form = await request.post()
    if request.path == "/remiss/skicka":
        state = await _sent_draft_state(request, form)
    else:
        state = state_from(form, i18n.current_language())
    token = await _save(request, state, notice=EXPIRED_NOTICE)
    raise web.HTTPSeeOther(f"/remiss/utkast/{token}")


async def _sent_draft_state(request: web.Request, form: Any) -> FormState:
    """The draft a review page sent, when its submission key is right; else the expired page."""
    token = str(form.get(DRAFT_FIELD, ""))
    stored = None
    if DRAFT_TOKEN.fullmatch(token):
        stored = await referral_drafts.read_draft(request.app[DB], token)
    if stored is None or stored.stage != "review":
        raise DraftGone
    state = state_from_payload(stored.payload, i18n.current_language(), "")
    if not secrets.compare_digest(str(form.get(KEY_FIELD, "")), state.submission_key):
        raise DraftGone
    await _bind(request, token)
    state.draft = token
    return state


def _page(request: web.Request, template: str, context: dict[str, Any]) -> web.Response:
    """A page of the referral form in the language chosen for this request."""
    return aiohttp_jinja2.render_template(template, request, {**language_context(), **context})


async def _submitted(request: web.Request) -> FormState:
    """The state of the form in this request's body."""
    return state_from(await request.post(), i18n.current_language())


async def _save(request: web.Request, state: FormState, *, notice: str = "") -> str:
    """Keep ``state`` as a draft of this session (its own draft again, if it has one)."""
    session = await get_session(request)
    mine = state.draft if state.draft in session.get(DRAFTS_KEY, []) else None
    token = await referral_drafts.save_draft(
        request.app[DB], draft_payload(state, notice=notice), token=mine
    )
    await _bind(request, token)
    return token


async def _bind(request: web.Request, token: str) -> None:
    """Let this session open draft ``token`` (the last :data:`MAX_DRAFTS` drafts only)."""
    session = await get_session(request)
    kept = [known for known in session.get(DRAFTS_KEY, []) if known != token]
    session[DRAFTS_KEY] = [*kept[-(MAX_DRAFTS - 1) :], token]


async def _draft_state(request: web.Request, token: str | None = None) -> FormState:
    """The form kept in this session's draft ``token`` (from the URL by default).

    A sent draft redirects to its receipt; an unknown, expired or other session's draft is
    the "no longer available" page.
    """
    token = token if token is not None else request.match_info["token"]
    session = await get_session(request)
    if not DRAFT_TOKEN.fullmatch(token) or token not in session.get(DRAFTS_KEY, []):
        raise DraftGone
    stored = await referral_drafts.read_draft(request.app[DB], token)
    if stored is None:
        raise DraftGone
    if stored.stage == "sent":
        _remember_receipt(session, stored.reference or "", stored.payload.get("team", ""), token)
        raise web.HTTPSeeOther("/remiss/kvitto")
    return state_from_payload(stored.payload, i18n.current_language(), token)


def _see_other(location: str) -> web.Response:
    """A 303 to ``location``: what ``raise web.HTTPSeeOther`` answers, returned (cheaper)."""
    return web.Response(status=303, headers={"Location": location})


def _remember_receipt(session: Session, reference: str, team: str, token: str) -> None:
    """The receipt this session shows: the reference, the team and its copy's token."""
    session[RECEIPT_KEY] = {"reference": reference, "team": team, "copy": token}


class DraftGone(Exception):
    """The draft asked for is not this session's, has expired or does not exist."""


def _shows_gone_drafts(view: Handler) -> Handler:
    """``view``, answering a draft that is gone with a page that says so (410)."""

    @functools.wraps(view)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await view(request)
        except DraftGone:
            hours = int(referral_drafts.DRAFT_LIFETIME.total_seconds() // 3600)
            response = _page(request, "remiss/expired.html", {"hours": hours})
            response.set_status(410)
            return response

    return wrapped


def _parse(state: FormState, teams: dict[str, str]) -> ReferralDraft:
    """The checked referral in ``state``; FormErrors with a message per wrong field."""
    return parse_referral_form(state.values, team_codes=teams, today=today_in_sweden())


async def _submit(
    request: web.Request, state: FormState, draft: ReferralDraft
) -> referrals.Submission:
    """Store the referral once for the form's submission key, in the form's language."""
    language = i18n.current_language()

    def copy_for(team_name: str) -> dict[str, Any]:
        return receipt_copy(draft, team_name, language, state.consent_versions)

    return await referrals.submit_referral(
        request.app[DB],
        draft,
        submission_key=state.submission_key,
        language=language,
        consent_language=consent_language(language),
        consent_versions=state.consent_versions,
        public_url=request.app[CONFIG].public_url,
        # The draft becomes the receipt's copy in the transaction that stores the referral.
        receipt=referrals.ReceiptCopy(state.draft, copy_for) if state.draft else None,
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
        extra={"route": _route_name(request), "error": type(error).__name__},
    )
    state.notice = database_down_message()
    teams = request.app[TEAM_NAMES].last_read(keep=state.value("team"))
    if on_review:
        with contextlib.suppress(DomainError):
            return _render_review(request, state, _parse(state, teams), teams, status=503)
    return _render_form(request, state, teams, status=503)


def _route_name(request: web.Request) -> str:
    """The route's pattern (never a path with a draft's token in it)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


def _render_form(
    request: web.Request, state: FormState, teams: dict[str, str], *, status: int = 200
) -> web.Response:
    """The form with ``state``'s values and errors, ``teams`` to choose from.

    A page answering a GET switches language with links; one answering a POST with buttons
    that post the form again (to ``/remiss/andra``), so nothing typed is lost.
    """
    language = i18n.current_language()
    context = {
        "state": state,
        "options": options(teams, language),
        "consents": consent_texts(state, language),
        "switch_by_post": request.method == "POST",
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
    context = {"state": state, "sections": sections, "review_url": f"/remiss/granska/{state.draft}"}
    response = _page(request, "remiss/review.html", context)
    response.set_status(status)
    return response


def setup(app: web.Application) -> None:
    """Register the referral form's routes, its rate limits and the teams it remembers."""
    register_globals(app)
    aiohttp_jinja2.get_env(app).globals.update(
        MAX_LENGTHS=MAX_LENGTHS, PERSONNUMMER_HINT=FORMAT_HINT
    )
    app[TEAM_NAMES] = TeamNames()
    app[EMPTY_FORMS] = EmptyForms()
    if REFERRAL_LIMITS not in app:
        config = app[CONFIG]
        app[REFERRAL_LIMITS] = ReferralLimits.per_hour(
            config.referral_rate_per_hour, trusted_proxies=config.trusted_proxies
        )
    recovery = app.setdefault(CSRF_RECOVERY, {})
    for path in ("/remiss", "/remiss/andra", "/remiss/skicka"):
        recovery[path] = _shows_gone_drafts(recover_expired)
    app.router.add_get("/remiss", show_form)
    app.router.add_post("/remiss", check)
    app.router.add_get(f"/remiss/utkast/{DRAFT_IN_PATH}", _shows_gone_drafts(show_draft))
    app.router.add_get(f"/remiss/granska/{DRAFT_IN_PATH}", _shows_gone_drafts(show_review))
    app.router.add_post("/remiss/andra", edit)
    app.router.add_post("/remiss/skicka", _shows_gone_drafts(send))
    app.router.add_get("/remiss/kvitto", receipt)
    app.router.add_get("/remiss/samtycke", printable_consent)
