"""Staff login and logout, the current user, and role checks for ``/team/`` routes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session
from sqlalchemy import select

from intake import i18n
from intake.context import CONFIG, DB
from storage import users
from storage.models import StaffUser

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER = web.RequestKey("user", StaffUser)
ROLE_RANK = {"staff": 1, "coordinator": 2, "admin": 3}


async def load_user(request: web.Request) -> StaffUser | None:
    """The logged-in, active user of this request, or None (expired sessions are cleared)."""
    session = await get_session(request)
    uid = session.get("uid")
    if uid is None:
        return None
    timeout = request.app[CONFIG].session_minutes * 60
    if time.time() - float(session.get("seen", 0)) > timeout:
        session.invalidate()
        return None
    async with request.app[DB].sessions() as db:
        user = await db.scalar(select(StaffUser).where(StaffUser.id == uid, StaffUser.active))
    if user is None:
        session.invalidate()
        return None
    session["seen"] = time.time()
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


def visible_team_ids(user: StaffUser) -> set[int] | None:
    """The teams a user may see: their own, or None (= all) for a förbund-wide admin."""
    if user.team_id is None and user.role == "admin":
        return None
    return {user.team_id} if user.team_id is not None else set()


async def login_form(request: web.Request) -> web.StreamResponse:
    """GET /team/login."""
    if await load_user(request) is not None:
        raise web.HTTPSeeOther("/team/")
    return aiohttp_jinja2.render_template("team/login.html", request, {"email": "", "error": ""})


async def login(request: web.Request) -> web.StreamResponse:
    """POST /team/login: check the password, throttle repeated failures, start a new session."""
    _ = i18n.gettext
    form = await request.post()
    email = str(form.get("email", ""))[:254]
    password = str(form.get("password", ""))[:1024]
    async with request.app[DB].transaction() as db:
        if await users.is_throttled(db, email):
            user, error = (
                None,
                _("För många misslyckade inloggningar. Vänta 15 minuter och försök igen."),
            )
            status = 429
        else:
            user = await users.authenticate(db, email, password)
            error, status = _("Fel e-postadress eller lösenord."), 401
    if user is None:
        response = aiohttp_jinja2.render_template(
            "team/login.html", request, {"email": email, "error": error}
        )
        response.set_status(status)
        return response
    session = await new_session(request)
    session["uid"] = user.id
    session["seen"] = time.time()
    session["lang"] = "sv"
    raise web.HTTPSeeOther("/team/")


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /team/logout."""
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/team/login")


@require_role("staff")
async def keepalive(request: web.Request) -> web.StreamResponse:
    """POST /team/keepalive: extends the session (the expiry warning's "continue" button)."""
    return web.json_response({"ok": True, "expires_in": request.app[CONFIG].session_minutes * 60})


def setup(app: web.Application) -> None:
    app.router.add_get("/team/login", login_form)
    app.router.add_post("/team/login", login)
    app.router.add_post("/team/logout", logout)
    app.router.add_post("/team/keepalive", keepalive)
