"""Staff login and logout, password links, the current user, and role checks for ``/team/``.

The session cookie carries only a random token; the session itself lives on the server
(:mod:`services.auth`), so logging out or deactivating an account ends it everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session
from yarl import URL

from core.errors import DomainError, FormErrors
from intake import i18n
from intake.context import CLOCK, CONFIG, DB
from intake.ratelimit import client_address
from services import auth as sessions
from services import form_drafts as drafts
from services import staff as accounts

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER = web.RequestKey("user", sessions.SignedIn)
#: Routes (as registered) whose forms a page fills in again after an expired session.
#: The pages that fill in a kept form themselves (:func:`intake.team_pages.drafted_form`).
RESTORING_PAGES = web.AppKey("restoring_pages", set[str])
#: On any other page, what a person typed before their session expired, shown for them to copy.
KEPT_TEXT = web.RequestKey("kept_text", list)
#: Fields never kept: secrets and one-time codes.
NEVER_KEPT = frozenset({"_csrf", "password", "new_password", "code", "recovery_code"})
ROLE_RANK = {"staff": 1, "coordinator": 2, "admin": 3}
NEXT_PAGE = {"full": "/team/", "totp": "/team/login/kod", "enrol": "/team/tvafaktor"}
SESSION_TOKEN = "sid"  # noqa: S105 - the session key name, not a secret
#: Session keys: who was logged in, the page to return to, the kept form's key, and whether
#: the last session ended by inactivity (the login page says so).
USER_ID, NEXT, DRAFT, EXPIRED = "uid", "next", "draft", "expired"
#: Pages that are never a place to return to after logging in.
NOT_RETURNED_TO = frozenset({"/team/login", "/team/logout", "/team/keepalive", "/team/login/kod"})


def _now(request: web.Request) -> datetime:
    """This moment, by the application's clock (tests pass a clock of their own)."""
    return request.app[CLOCK]()


async def load_user(request: web.Request) -> sessions.SignedIn | None:
    """The logged-in, active user of this request, or None (ended sessions are cleared)."""
    session = await get_session(request)
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str):
        return None
    if session.get("stage", "full") != "full":
        return None  # waiting for the second factor: only those pages open
    idle = timedelta(minutes=request.app[CONFIG].session_minutes)
    user = await sessions.check_session(request.app[DB], token, idle=idle, now=_now(request))
    if user is None:
        session.invalidate()
    return user


def require_role(minimum: str = "staff") -> Callable[[Handler], Handler]:
    """Decorator: anonymous users go to the login page; too low a role gets 403.

    The login page brings them back where they were; a form sent after the session expired
    is kept (:func:`keep_sent_form`) and filled in again there.
    """

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            session = await get_session(request)
            had_session, user_id = isinstance(session.get(SESSION_TOKEN), str), session.get(USER_ID)
            user = await load_user(request)
            if user is None:
                await _remember_where(request, expired=had_session, user_id=user_id)
                raise web.HTTPSeeOther("/team/login")
            if ROLE_RANK[user.role] < ROLE_RANK[minimum]:
                raise web.HTTPForbidden(text=_forbidden_reason(minimum))
            request[USER] = user
            if request.method == "GET" and isinstance(session.get(DRAFT), str):
                await _show_kept_text(request)
            return await handler(request)

        return wrapper

    return decorate


async def _show_kept_text(request: web.Request) -> None:
    """On a page that does not fill its forms in again, the text kept from an expired session.

    The form's free text (not its hidden codes, ids and dates) is shown once at the top of
    the page, for the person to copy into the form and send again.
    """
    resource = request.match_info.route.resource
    if resource is None or resource.canonical in request.app[RESTORING_PAGES]:
        return
    draft = await take_draft(request)
    if draft is not None:
        request[KEPT_TEXT] = [v for v in draft.fields.values() if _typed(v)]


def _typed(value: str) -> bool:
    """True for what a person typed, not a form's hidden code, id, number or date."""
    return bool(value.strip()) and re.fullmatch(r"[a-z0-9_.:-]{1,40}", value) is None


def _forbidden_reason(minimum: str) -> str:
    """Why a page is closed to someone whose role is too low."""
    if minimum == "admin":
        return i18n.gettext("Den här sidan är bara för förbundets administratörer.")
    return i18n.gettext("Den här sidan är bara för samordnare.")


def safe_next(value: object) -> str | None:
    """``value`` if it is a team page of this site to return to after logging in, else None."""
    if not isinstance(value, str) or not value.startswith("/team/") or len(value) > 500:
        return None
    path = value.split("?", 1)[0]
    if "//" in value or "\\" in value or "/." in path or path in NOT_RETURNED_TO:
        return None
    if not value.isprintable() or any(c.isspace() for c in value):
        return None
    return value


async def _remember_where(request: web.Request, *, expired: bool, user_id: object) -> None:
    """Before the login page: the page to come back to and, after expiry, the sent form."""
    session = await get_session(request)
    if request.method == "GET":
        page = safe_next(request.path_qs)
    else:
        page = await _page_of_action(request)
        if expired and isinstance(user_id, int) and page is not None:
            await keep_sent_form(request, user_id=user_id, page=page)
    if page is not None:
        session[NEXT] = page
    if expired:
        session[EXPIRED] = True


async def keep_sent_form(request: web.Request, *, user_id: int, page: str) -> None:
    """Keep the fields of a form sent after the session expired, for ``page`` to fill in."""
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k not in NEVER_KEPT}
    if not fields:
        return
    token = await drafts.keep_draft(
        request.app[DB], user_id=user_id, page=page, action=request.path, fields=fields,
        now=_now(request),
    )  # fmt: skip
    if token is not None:
        (await get_session(request))[DRAFT] = token


async def _page_of_action(request: web.Request) -> str | None:
    """The page a form was sent from: the action's own path or its parent, if it is a page."""
    path = request.path
    while safe_next(path):
        probe = _Probe("GET", URL.build(path=path))  # the request's body is read: no clone
        found = await request.app.router.resolve(probe)  # type: ignore[arg-type]
        if found.http_exception is None:
            return path
        path = path.rsplit("/", 1)[0]
    return None


@dataclass(frozen=True)
class _Probe:
    """What the router looks at to resolve a request: its method and URL."""

    method: str
    rel_url: URL


async def take_draft(request: web.Request) -> drafts.Draft | None:
    """The form kept for this page when the session expired, once (None if there is none)."""
    session = await get_session(request)
    token = session.get(DRAFT)
    if not isinstance(token, str):
        return None
    db, page = request.app[DB], request.path
    draft = await drafts.take_draft(
        db, token, user_id=request[USER].id, page=page, now=_now(request)
    )
    if draft is not None or not await drafts.draft_waits(db, token):
        session.pop(DRAFT, None)
    return draft


async def begin_session(request: web.Request, token: str, *, stage: str, user_id: int) -> str:
    """A new session for a login; the page to go to next (where the person was, if known)."""
    old = await get_session(request)
    carried = {key: old[key] for key in (NEXT, DRAFT) if key in old}
    session = await new_session(request)
    session[SESSION_TOKEN] = token
    session[USER_ID] = user_id
    session["stage"] = stage
    session["lang"] = "sv"
    session.update(carried)
    if stage != "full":
        return NEXT_PAGE[stage]
    return safe_next(session.pop(NEXT, None)) or NEXT_PAGE["full"]


def visible_team_ids(user: sessions.SignedIn) -> frozenset[int] | None:
    """The teams a user may see: their own, or None (= all) for a förbund-wide admin."""
    return user.team_ids


async def login_form(request: web.Request) -> web.StreamResponse:
    """GET /team/login (``?next=/team/...``: the page to go to after logging in)."""
    if await load_user(request) is not None:
        raise web.HTTPSeeOther("/team/")
    session = await get_session(request)
    if page := safe_next(request.query.get("next")):
        session[NEXT] = page
    context = {"email": "", "error": "", "notice": await _login_notice(request)}
    return aiohttp_jinja2.render_template("team/login.html", request, context)


async def _login_notice(request: web.Request) -> str:
    """Why the person sees the login page again: the session ended, and what they typed."""
    session = await get_session(request)
    if not session.pop(EXPIRED, False):
        return ""
    if isinstance(token := session.get(DRAFT), str) and await drafts.draft_waits(
        request.app[DB], token
    ):
        return i18n.gettext("Du var utloggad. Logga in igen så sparas det du skrev.")
    return i18n.gettext("Du har varit inaktiv en stund och har loggats ut. Logga in igen.")


async def login(request: web.Request) -> web.StreamResponse:
    """POST /team/login: check the password (throttled per account and address), start a session."""
    _ = i18n.gettext
    form = await request.post()
    email = str(form.get("email", ""))[:254]
    password = str(form.get("password", ""))[:1024]
    address = client_address(request, request.app[CONFIG].trusted_proxies)
    config = request.app[CONFIG]
    result = await sessions.log_in(
        request.app[DB],
        email,
        password,
        address=address,
        totp_for_everyone=config.totp_for_everyone,
    )
    if result.user is None or result.token is None:
        if result.throttled:
            error = _("För många misslyckade inloggningar. Vänta 15 minuter och försök igen.")
        else:
            error = _("Fel e-postadress eller lösenord.")
        response = aiohttp_jinja2.render_template(
            "team/login.html", request, {"email": email, "error": error, "notice": ""}
        )
        response.set_status(429 if result.throttled else 401)
        return response
    where = await begin_session(request, result.token, stage=result.stage, user_id=result.user.id)
    raise web.HTTPSeeOther(where)


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /team/logout: the session ends on the server too."""
    session = await get_session(request)
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str):
        user = await sessions.check_session(
            request.app[DB], token, idle=timedelta(minutes=request.app[CONFIG].session_minutes)
        )
        await sessions.end_session(request.app[DB], token, user_id=user.id if user else None)
    session.invalidate()
    raise web.HTTPSeeOther("/team/login")


@require_role("staff")
async def keepalive(request: web.Request) -> web.StreamResponse:
    """POST /team/keepalive: extends the session (the expiry warning's "continue" button)."""
    token = (await get_session(request)).get(SESSION_TOKEN)
    if isinstance(token, str):
        await sessions.extend_session(request.app[DB], token, _now(request))
    return web.json_response({"ok": True, "expires_in": request.app[CONFIG].session_minutes * 60})


async def forgotten_form(request: web.Request) -> web.StreamResponse:
    """GET /konto/glomt-losenord: ask for a reset link."""
    return aiohttp_jinja2.render_template("team/forgotten.html", request, {"sent": False})


async def forgotten(request: web.Request) -> web.StreamResponse:
    """POST /konto/glomt-losenord: the same answer whether or not the address has an account."""
    form = await request.post()
    email = str(form.get("email", ""))[:254]
    await accounts.request_password_reset(
        request.app[DB], email, public_url=request.app[CONFIG].public_url
    )
    return aiohttp_jinja2.render_template("team/forgotten.html", request, {"sent": True})


async def password_form(request: web.Request) -> web.StreamResponse:
    """GET /konto/losenord/{token}: the set-password page of an invitation or reset link."""
    valid = await accounts.password_link_is_valid(request.app[DB], request.match_info["token"])
    response = aiohttp_jinja2.render_template(
        "team/set_password.html", request, {"valid": valid, "errors": {}}
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    if not valid:
        response.set_status(404)
    return response


async def set_password(request: web.Request) -> web.StreamResponse:
    """POST /konto/losenord/{token}: set the password, then log in with it."""
    form = await request.post()
    try:
        await accounts.set_password(
            request.app[DB],
            request.match_info["token"],
            str(form.get("password", ""))[:1024],
            str(form.get("password2", ""))[:1024],
        )
    except FormErrors as error:
        errors = {k: e.render(i18n.gettext) for k, e in error.errors.items()}
        context = {"valid": True, "errors": errors}
        return _status(
            aiohttp_jinja2.render_template("team/set_password.html", request, context), 422
        )
    except DomainError as error:
        context = {"valid": False, "errors": {"": error.render(i18n.gettext)}}
        return _status(
            aiohttp_jinja2.render_template("team/set_password.html", request, context), 404
        )
    (await get_session(request)).invalidate()
    return aiohttp_jinja2.render_template("team/password_set.html", request, {})


def _status(response: web.Response, status: int) -> web.Response:
    response.set_status(status)
    return response


def kept_text(request: web.Request) -> list[str]:
    """For the team pages' template: the text kept from an expired session, if any."""
    return list(request.get(KEPT_TEXT, []))


def setup(app: web.Application) -> None:
    aiohttp_jinja2.get_env(app).globals["kept_text"] = kept_text
    app[RESTORING_PAGES] = set()
    app.router.add_get("/team/login", login_form)
    app.router.add_get("/konto/glomt-losenord", forgotten_form)
    app.router.add_post("/konto/glomt-losenord", forgotten)
    app.router.add_get("/konto/losenord/{token}", password_form)
    app.router.add_post("/konto/losenord/{token}", set_password)
    app.router.add_post("/team/login", login)
    app.router.add_post("/team/logout", logout)
    app.router.add_post("/team/keepalive", keepalive)
