"""Middlewares: errors as friendly pages, security headers, language, CSRF, metrics."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp.web_request import FileField
from aiohttp_session import get_session
from multidict import MultiDictProxy

from core.i18n import DEFAULT_LANGUAGE, PAGE_LANGUAGES, SURVEY_LANGUAGES
from intake import i18n
from intake.context import CONFIG, METRICS
from storage.db import DATABASE_ERRORS

log = logging.getLogger("samverkan.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_TOKEN = web.RequestKey("csrf_token", str)
#: Views that answer a form from this site whose CSRF token no longer matches (a page left
#: open while the session ended), by path, instead of the "form expired" page: they keep
#: what was typed. They must not act on the form, only show it again.
CSRF_RECOVERY: web.AppKey[dict[str, Handler]] = web.AppKey("csrf_recovery")
SURVEY_PREFIX = "/enkat/"
NO_SESSION_PREFIXES = ("/healthz", "/metrics", "/telegram/", "/static/", "/sms/status/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


def render_error(request: web.Request, status: int, title: str, message: str) -> web.Response:
    """A plain, translated error page (never a stack trace), with a way back on team pages."""
    back = "/team/" if request.path.startswith("/team/") else ""
    context = {"title": title, "message": message, "status": status, "back": back}
    response = aiohttp_jinja2.render_template("error.html", request, context)
    response.set_status(status)
    return response


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn HTTP errors and unexpected failures into friendly pages; log without personal data."""
    _ = i18n.gettext
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if (
            exc.status < 400
            or exc.content_type == "application/json"
            or request.path.startswith(("/healthz", "/metrics", "/telegram/"))
        ):
            raise
        titles = {
            400: _("Begäran kunde inte läsas"),
            403: _("Du har inte behörighet"),
            404: _("Sidan finns inte"),
            413: _("För mycket data"),
            429: _("För många försök"),
        }
        message = exc.text if exc.text and not exc.text.startswith(str(exc.status)) else ""
        if exc.status == 403 and not message:
            message = _("Din roll ger inte tillgång till den här sidan. Fråga din samordnare.")
        return render_error(request, exc.status, titles.get(exc.status, exc.reason), message)
    except DATABASE_ERRORS:
        log.exception("request.database_unavailable", extra={"route": _route(request)})
        return render_error(
            request,
            503,
            _("Tjänsten är tillfälligt otillgänglig"),
            _("Vi kan inte nå databasen just nu. Försök igen om en liten stund."),
        )
    except Exception:
        incident = uuid.uuid4().hex[:8]
        log.exception("request.failed", extra={"incident": incident, "route": _route(request)})
        return render_error(
            request,
            500,
            _("Något gick fel"),
            _("Försök igen. Om felet kvarstår, uppge felkod {code}.").format(code=incident),
        )


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CSP and the other protective headers on every response."""
    response = await handler(request)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.app[CONFIG].secure_cookies:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def language(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``?lang=xx`` chooses the language and it sticks (session); Swedish otherwise.

    The web survey offers every survey language; the other pages (referral form, staff pages)
    only those they are translated into, so a survey language does not follow a person there.
    """
    chosen = request.query.get("lang") if request.query_string else None
    if request.path.startswith(NO_SESSION_PREFIXES):
        return await handler(request)
    session = await get_session(request)
    offered = SURVEY_LANGUAGES if request.path.startswith(SURVEY_PREFIX) else PAGE_LANGUAGES
    if chosen in offered:
        session["lang"] = chosen
    kept = session.get("lang", DEFAULT_LANGUAGE)
    i18n.set_language(kept if kept in offered else DEFAULT_LANGUAGE)
    return await handler(request)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state-changing request carries the session's token (form field or header)."""
    if request.path.startswith(NO_SESSION_PREFIXES):
        return await handler(request)
    session = await get_session(request)
    expected = session.get("csrf")
    if not expected:
        expected = session["csrf"] = secrets.token_urlsafe(32)
    request[CSRF_TOKEN] = str(expected)
    if request.method in SAFE_METHODS:
        return await handler(request)
    sent = request.headers.get(CSRF_HEADER)
    if request.content_type in FORM_TYPES:
        form = await _form_of(request)  # parsed once here; views get the same (cached) form
        sent = sent if sent is not None else str(form.get(CSRF_FIELD, ""))
    given = (sent or "").encode("utf-8", "surrogateescape")
    if not given or not secrets.compare_digest(str(expected).encode(), given):
        recover = request.app.get(CSRF_RECOVERY, {}).get(request.path)
        if recover is not None and _from_this_site(request):
            return await recover(request)
        _ = i18n.gettext
        return render_error(
            request,
            403,
            _("Formuläret har gått ut"),
            _(
                "Sidan var öppen för länge eller skickades från en annan plats. "
                "Gå tillbaka, ladda om sidan och skicka igen."
            ),
        )
    return await handler(request)


def _from_this_site(request: web.Request) -> bool:
    """True unless the browser says the request came from another site."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


async def _form_of(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    """The request's form; a body that cannot be read as one is a 400, never a 500."""
    try:
        return await request.post()
    except (ValueError, LookupError, AssertionError, RuntimeError):
        log.info("request.malformed_form", extra={"route": _route(request)})
        raise web.HTTPBadRequest(text=i18n.gettext("Formuläret kunde inte läsas.")) from None


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count requests and time them per route (no paths with tokens in the labels)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        request.app[METRICS].observe(
            _route(request), request.method, status, time.perf_counter() - started
        )
        # The templates' context holds the request (and closures over it): dropped here,
        # the request is freed when its response is, not left to the cycle collector.
        request.pop(aiohttp_jinja2.REQUEST_CONTEXT_KEY, None)
