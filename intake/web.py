"""Assembling the aiohttp application: templates, sessions, middlewares and routes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from markupsafe import Markup

from core.clock import utcnow
from core.codes import END_REASONS, INCOME_SOURCES, REFERRAL_STATUSES, REFERRERS, label
from intake import auth, health, i18n, middlewares
from intake.context import BOT, CLOCK, CONFIG, DB, METRICS, BotInfo, WebConfig
from storage.db import Database

#: Jinja2 templates and static files ship inside this package (package data).
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MAX_REQUEST_BYTES = 256 * 1024

RouteSetup = Callable[[web.Application], None]


class _Lazy:
    """A template value computed when the template uses it, not when the request starts.

    aiohttp-jinja2 runs context processors before the language middleware and before the
    handler's login check, so the language and the user are only known later.
    """

    def __init__(self, compute: Callable[[], Any]) -> None:
        self._compute = compute

    def __str__(self) -> str:
        return str(self._compute())

    def __bool__(self) -> bool:
        return bool(self._compute())

    def __eq__(self, other: object) -> bool:
        return bool(self._compute() == other)

    def __hash__(self) -> int:
        return hash(self._compute())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._compute(), name)

    def __html__(self) -> str:
        return str(self._compute())


async def request_context(request: web.Request) -> dict[str, Any]:
    """What every page may use: the request, language, CSRF token, the user."""
    return {
        "request": request,
        "lang": _Lazy(i18n.current_language),
        "dir": _Lazy(i18n.direction),
        "csrf_token": lambda: request.get(middlewares.CSRF_TOKEN, ""),
        "current_user": _Lazy(lambda: request.get(auth.USER)),
        "session_minutes": request.app[CONFIG].session_minutes,
    }


def _cached_gettext() -> Callable[..., str]:
    """Jinja2's new-style ``_()``, keeping each translated text without variables.

    It gives exactly what ``install_gettext_callables(newstyle=True)`` gives (the translation
    as Markup, always %-formatted, so ``%%`` is a percent sign), but a page's fixed texts are
    looked up and formatted once per language, not on every render.
    """
    kept: dict[tuple[str, str], str] = {}

    @jinja2.pass_context
    def gettext(context: jinja2.runtime.Context, message: str, **variables: Any) -> str:
        if variables or not context.eval_ctx.autoescape:
            translated = i18n.gettext(message)
            if context.eval_ctx.autoescape:
                translated = Markup(translated)  # noqa: S704 - the catalogue's own text
            return translated % variables
        key = (i18n.current_language(), message)
        text = kept.get(key)
        if text is None:
            text = kept[key] = Markup(i18n.gettext(message)) % {}  # noqa: S704 - as above
        return text

    return gettext


def _jinja_env(app: web.Application) -> jinja2.Environment:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        extensions=["jinja2.ext.i18n"],
        autoescape=jinja2.select_autoescape(default=True),
        context_processors=[request_context],
        undefined=jinja2.StrictUndefined,
        # In production the templates are those installed: no stat() of the file per render.
        auto_reload=not app[CONFIG].production,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["gettext"] = env.globals["_"] = _cached_gettext()
    env.globals.update(
        label=label,
        REFERRERS=REFERRERS,
        INCOME_SOURCES=INCOME_SOURCES,
        END_REASONS=END_REASONS,
        REFERRAL_STATUSES=REFERRAL_STATUSES,
    )
    return env


async def _team_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/team/remisser")


async def _without_versions(_request: web.Request, response: web.StreamResponse) -> None:
    """The ``Server`` header names the service, not the versions of Python and aiohttp."""
    response.headers["Server"] = "samverkan"


def build_web_app(
    config: WebConfig,
    db: Database,
    *,
    session_key: bytes,
    bot: BotInfo | None = None,
    metrics: health.Metrics | None = None,
    routes: Iterable[RouteSetup] = (),
) -> web.Application:
    """The web application with every middleware; ``routes`` add the feature routes."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[middlewares.metrics])
    app[CONFIG] = config
    app[DB] = db
    app[CLOCK] = utcnow
    app[BOT] = bot or BotInfo()
    app[METRICS] = metrics or health.Metrics()
    _jinja_env(app)
    app.middlewares.append(middlewares.security_headers)
    app.on_response_prepare.append(_without_versions)
    setup_sessions(
        app,
        EncryptedCookieStorage(
            session_key,
            cookie_name="samverkan_session",
            httponly=True,
            samesite="Lax",
            secure=config.secure_cookies,
            max_age=None,
        ),
    )
    app.middlewares.extend([middlewares.error_pages, middlewares.language, middlewares.csrf])
    health.setup(app)
    auth.setup(app)
    app.router.add_get("/team/", auth.require_role("staff")(_team_home))
    if STATIC.is_dir():
        app.router.add_static("/static/", STATIC, append_version=True)
    for setup_routes in routes:
        setup_routes(app)
    return app
