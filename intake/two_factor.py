"""The second step of the login: the TOTP code (``/team/login/kod``) and enrolment with a QR
code and recovery codes (``/team/tvafaktor``)."""

from __future__ import annotations

from datetime import timedelta

import aiohttp_jinja2
import segno
from aiohttp import web
from aiohttp_session import get_session

from core.errors import DomainError, FormErrors
from intake import i18n
from intake.auth import SESSION_TOKEN, begin_session
from intake.context import CONFIG, DB
from services import auth as sessions
from services import two_factor


async def _token(request: web.Request) -> str:
    token = (await get_session(request)).get(SESSION_TOKEN)
    if not isinstance(token, str):
        raise web.HTTPSeeOther("/team/login")
    return token


def _message(error: DomainError) -> str:
    if isinstance(error, FormErrors):
        return " ".join(e.render(i18n.gettext) for e in error.errors.values())
    return error.render(i18n.gettext)


async def _full_session(request: web.Request, token: str) -> str:
    """The logged-in session; the page to go to (where the person was before, if known)."""
    idle = timedelta(minutes=request.app[CONFIG].session_minutes)
    user = await sessions.check_session(request.app[DB], token, idle=idle)
    if user is None:
        raise web.HTTPSeeOther("/team/login")
    return await begin_session(request, token, stage="full", user_id=user.id)


async def code_form(request: web.Request) -> web.StreamResponse:
    """GET /team/login/kod: ask for the code from the authenticator app."""
    try:
        await two_factor.pending_user(request.app[DB], await _token(request), "totp")
    except DomainError:
        raise web.HTTPSeeOther("/team/login") from None
    return aiohttp_jinja2.render_template("team/login_code.html", request, {"error": ""})


async def check_code(request: web.Request) -> web.StreamResponse:
    """POST /team/login/kod: a right code opens the team pages."""
    form = await request.post()
    try:
        full = await two_factor.verify_second_factor(
            request.app[DB], await _token(request), str(form.get("code", ""))[:40]
        )
    except FormErrors as error:
        response = aiohttp_jinja2.render_template(
            "team/login_code.html", request, {"error": _message(error)}
        )
        response.set_status(401)
        return response
    except DomainError:
        raise web.HTTPSeeOther("/team/login") from None
    raise web.HTTPSeeOther(await _full_session(request, full))


async def _enrol_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    try:
        enrolment = await two_factor.begin_enrolment(request.app[DB], await _token(request))
    except DomainError:
        raise web.HTTPSeeOther("/team/login") from None
    qr = segno.make(enrolment.uri, error="m").svg_inline(scale=5, omitsize=False)
    grouped = " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4))
    context = {"qr": qr, "secret": grouped, "uri": enrolment.uri, "error": error}
    response = aiohttp_jinja2.render_template("team/enrol.html", request, context)
    response.set_status(status)
    return response


async def enrol_form(request: web.Request) -> web.StreamResponse:
    """GET /team/tvafaktor: the QR code to scan (or the key to type, or a link on a phone)."""
    return await _enrol_page(request)


async def enrol(request: web.Request) -> web.StreamResponse:
    """POST /team/tvafaktor: the first code turns TOTP on; the recovery codes are shown once."""
    form = await request.post()
    try:
        full, codes = await two_factor.confirm_enrolment(
            request.app[DB], await _token(request), str(form.get("code", ""))[:40]
        )
    except FormErrors as error:
        return await _enrol_page(request, _message(error), 422)
    except DomainError:
        raise web.HTTPSeeOther("/team/login") from None
    await _full_session(request, full)
    response = aiohttp_jinja2.render_template("team/recovery_codes.html", request, {"codes": codes})
    response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/team/login/kod", code_form)
    app.router.add_post("/team/login/kod", check_code)
    app.router.add_get("/team/tvafaktor", enrol_form)
    app.router.add_post("/team/tvafaktor", enrol)
