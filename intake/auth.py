"""Staff login and logout, password links, the current user, and role checks for ``/team/``.

The session cookie carries only a random token; the session itself lives on the server
(:mod:`services.auth`), so logging out or deactivating an account ends it everywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import wraps

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session

from core.errors import DomainError, FormErrors
from intake import i18n
from intake.context import CLOCK, CONFIG, DB
from intake.ratelimit import client_address
from services import auth as sessions
from services import staff as accounts

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER = web.RequestKey("user", sessions.SignedIn)
ROLE_RANK = {"staff": 1, "coordinator": 2, "admin": 3}
NEXT_PAGE = {"full": "/team/", "totp": "/team/login/kod", "enrol": "/team/tvafaktor"}
SESSION_TOKEN = "sid"  # noqa: S105 - the session key name, not a secret


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
    """Decorator: anonymous users go to the login page; too low a role gets 403."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            user = await load_user(request)
            if user is None:
                raise web.HTTPSeeOther("/team/login")
            if ROLE_RANK[user.role] < ROLE_RANK[minimum]:
                raise web.HTTPForbidden()
            request[USER] = user
            return await handler(request)

        return wrapper

    return decorate


def visible_team_ids(user: sessions.SignedIn) -> frozenset[int] | None:
    """The teams a user may see: their own, or None (= all) for a förbund-wide admin."""
    return user.team_ids


async def login_form(request: web.Request) -> web.StreamResponse:
    """GET /team/login."""
    if await load_user(request) is not None:
        raise web.HTTPSeeOther("/team/")
    return aiohttp_jinja2.render_template("team/login.html", request, {"email": "", "error": ""})


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
            "team/login.html", request, {"email": email, "error": error}
        )
        response.set_status(429 if result.throttled else 401)
        return response
    session = await new_session(request)
    session[SESSION_TOKEN] = result.token
    session["stage"] = result.stage
    session["lang"] = "sv"
    raise web.HTTPSeeOther(NEXT_PAGE[result.stage])


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


def setup(app: web.Application) -> None:
    app.router.add_get("/team/login", login_form)
    app.router.add_get("/konto/glomt-losenord", forgotten_form)
    app.router.add_post("/konto/glomt-losenord", forgotten)
    app.router.add_get("/konto/losenord/{token}", password_form)
    app.router.add_post("/konto/losenord/{token}", set_password)
    app.router.add_post("/team/login", login)
    app.router.add_post("/team/logout", logout)
    app.router.add_post("/team/keepalive", keepalive)
