"""The team's survey page at ``/team/enkater``: invitations, and which survey the team uses.

The page lists the team's active participants by name, with the board's reference and their
survey status, searchable by name or reference and filtered by status (GET parameters ``q``
and ``status``, so it works without JavaScript). Staff invite one participant at a time (here
or from the person page); a coordinator can invite everyone at once after a confirmation that
says how many will be invited and who is left out (answered or invited within
``SAMVERKAN_REINVITE_AFTER_DAYS``).

Only the token's hash is stored, so the links are shown once, on the page that answers the
``POST``: the web link and the Telegram deep link with copy buttons, QR codes for a single
invitation, and a button for the letters (``POST /team/enkater/brev`` with the tokens in the
form, never in a URL): a PDF with one A4 letter per person. A coordinator can switch the team
to its own survey file (built in, or in ``SAMVERKAN_SURVEYS_DIR``); a file that does not pass
the checks is refused with the file, the question and the reason.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import segno
from aiohttp import web
from aiohttp_session import get_session
from yarl import URL

from core.clock import SWEDEN
from core.errors import NotFound
from core.surveys import SurveyFileError
from intake import auth, i18n
from intake.context import BOT, CLOCK, CONFIG, DB
from intake.team_pages import flash, path_id, register_globals, render, staff_of, take_flash
from reports.letters import Letter, render_letters
from services import invitations
from services.invitation_lists import SKIP_REASONS, STATUS_LABELS
from services.invitations import CoordinatorsOnly, IssuedInvitation, TeamNotAllowed

PAGE = "/team/enkater"
#: The session key of the survey page's search words (kept out of the URL).
SEARCH_KEY = "invitation_search"


def telegram_link(bot_username: str, token: str) -> str:
    """The deep link that opens the bot with ``/start TOKEN``."""
    return f"https://t.me/{bot_username}?start={token}"


def web_link(public_url: str, token: str) -> str:
    """The web survey's address for ``token``."""
    return f"{public_url.rstrip('/')}/enkat/{token}"


def qr_code(link: str) -> str:
    """A QR code of ``link`` as an SVG data URI (the page's CSP allows ``data:`` images)."""
    return str(segno.make(link, error="m").svg_data_uri(scale=4, border=2))


@dataclass(frozen=True)
class ShownInvitation:
    """A new invitation as the page shows it: who, links, and (for one person) QR codes."""

    participant_id: int
    name: str | None
    reference: str
    token: str
    expires_on: str
    web_link: str
    telegram_link: str | None
    web_qr: str | None = None
    telegram_qr: str | None = None


def shown(request: web.Request, new: IssuedInvitation, *, qr: bool = False) -> ShownInvitation:
    """The links (and with ``qr`` the QR codes) of a new invitation."""
    web = web_link(request.app[CONFIG].public_url, new.token)
    username = request.app[BOT].username
    telegram = telegram_link(username, new.token) if username else None
    return ShownInvitation(
        new.participant_id,
        new.name,
        new.reference,
        new.token,
        _day(new.expires_at),
        web,
        telegram,
        qr_code(web) if qr else None,
        qr_code(telegram) if qr and telegram else None,
    )


def _day(moment: datetime) -> str:
    """The date (Swedish time) of a moment, as YYYY-MM-DD."""
    return moment.astimezone(SWEDEN).date().isoformat()


@auth.require_role("staff")
async def page(request: web.Request) -> web.StreamResponse:
    """GET /team/enkater: active participants and their survey status, searched and filtered.

    The search words (a name, say) never go in the URL: the search form posts them, they are
    kept in the encrypted session cookie and the browser comes back here (``?rensa`` clears
    them). The status filter is no personal data and stays a query parameter.
    """
    session = await get_session(request)
    if "rensa" in request.query:
        session.pop(SEARCH_KEY, None)
    return await _render_page(request, request.query.get("team"))


@auth.require_role("staff")
async def search(request: web.Request) -> web.StreamResponse:
    """POST /team/enkater/sok: keep the search words in the session; back to the list (303)."""
    form = await request.post()
    words = str(form.get("q", "")).strip()[:100]
    session = await get_session(request)
    if words:
        session[SEARCH_KEY] = words
    else:
        session.pop(SEARCH_KEY, None)
    query = {k: str(form[k]) for k in ("team", "status") if form.get(k)}
    raise web.HTTPSeeOther(str(URL("/team/enkater").with_query(query)))


async def _render_page(
    request: web.Request, code: str | None, survey_error: str = "", status: int = 200
) -> web.Response:
    """The survey page for team ``code``, with an error about the survey file if any."""
    search = str((await get_session(request)).get(SEARCH_KEY, ""))
    wanted = request.query.get("status", "")
    try:
        shown_page = await invitations.team_survey_page(
            request.app[DB],
            staff_of(request),
            code,
            search=search,
            status=wanted,
            surveys_dir=request.app[CONFIG].surveys_dir,
        )
    except TeamNotAllowed:
        raise web.HTTPForbidden() from None
    context = {
        "page": shown_page,
        "team": shown_page.team,
        "teams": shown_page.teams,
        "rows": shown_page.rows,
        "search": search,
        "status": wanted if wanted in STATUS_LABELS else "",
        "STATUS_LABELS": STATUS_LABELS,
        "now": request.app[CLOCK](),
        "survey_files": shown_page.survey_files,
        "survey_error": survey_error,
        "bot_on": bool(request.app[BOT].username),
        "notice": await take_flash(request),
    }
    return render(request, "team/invitations.html", context, status=status)


@auth.require_role("staff")
async def invite_one(request: web.Request) -> web.StreamResponse:
    """POST /team/enkater/deltagare/{id}: a new invitation for one participant, shown once."""
    staff, days = staff_of(request), request.app[CONFIG].invitation_days
    form = await request.post()
    try:
        created = await invitations.invite_person(
            request.app[DB], staff, path_id(request), channel="any", days=days
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    back = f"/team/deltagare/{created.participant_id}" if form.get("back") == "person" else PAGE
    context: dict[str, object] = {
        "created": [shown(request, created, qr=True)],
        "skipped": [],
        "back": back,
    }
    return _render_created(request, context)


@auth.require_role("coordinator")
async def confirm_team(request: web.Request) -> web.StreamResponse:
    """GET /team/enkater/alla: how many "invite all" would invite and whom it leaves out."""
    try:
        plan = await invitations.plan_team_invitations(
            request.app[DB],
            staff_of(request),
            request.query.get("team") or None,
            reinvite_after_days=request.app[CONFIG].reinvite_after_days,
            now=request.app[CLOCK](),
        )
    except (TeamNotAllowed, CoordinatorsOnly):
        raise web.HTTPForbidden() from None
    context = {"plan": plan, "SKIP_REASONS": SKIP_REASONS}
    return render(request, "team/invitations_confirm.html", context)


@auth.require_role("coordinator")
async def invite_team(request: web.Request) -> web.StreamResponse:
    """POST /team/enkater/alla: after the confirmation, invite all but the recently invited."""
    staff, form, config = staff_of(request), await request.post(), request.app[CONFIG]
    code = str(form.get("team", "")) or None
    if form.get("confirmed") != "1":
        raise web.HTTPSeeOther(f"{PAGE}/alla" + (f"?team={code}" if code else ""))
    try:
        done = await invitations.invite_team(
            request.app[DB],
            staff,
            code,
            channel="any",
            days=config.invitation_days,
            reinvite_after_days=config.reinvite_after_days,
            now=request.app[CLOCK](),
        )
    except (TeamNotAllowed, CoordinatorsOnly):
        raise web.HTTPForbidden() from None
    context: dict[str, object] = {
        "created": [shown(request, new) for new in done.created],
        "skipped": done.skipped,
        "SKIP_REASONS": SKIP_REASONS,
        "days": config.reinvite_after_days,
        "back": f"{PAGE}?team={done.team.code}",
    }
    return _render_created(request, context)


def _render_created(request: web.Request, context: dict[str, object]) -> web.Response:
    """The page that shows new links once (tokens are not stored, only their hashes)."""
    context["bot_on"] = bool(request.app[BOT].username)
    return render(request, "team/invitations_created.html", context)


@auth.require_role("staff")
async def letters(request: web.Request) -> web.StreamResponse:
    """POST /team/enkater/brev: the letters (PDF, one A4 page each) of invitations just shown."""
    form = await request.post()
    tokens = [str(value) for value in form.getall("token", [])]
    issued = await invitations.invitation_letters(
        request.app[DB], staff_of(request), tokens, now=request.app[CLOCK]()
    )
    if not issued:
        text = i18n.gettext(
            "Det finns inga brev att skriva ut: länkarna har ersatts av nyare eller slutat gälla."
        )
        return web.Response(status=410, text=text, content_type="text/plain")
    pdf = await asyncio.to_thread(render_letters, [_letter(request, new) for new in issued])
    name = f"inbjudningar-{_day(request.app[CLOCK]())}.pdf"
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _letter(request: web.Request, new: IssuedInvitation) -> Letter:
    """What one letter says."""
    links = shown(request, new)
    return Letter(
        name=new.name,
        reference=new.reference,
        team_name=new.team_name,
        language=new.language,
        web_link=links.web_link,
        telegram_link=links.telegram_link,
        valid_until=new.expires_at.astimezone(SWEDEN).date(),
    )


@auth.require_role("coordinator")
async def choose_survey(request: web.Request) -> web.StreamResponse:
    """POST /team/enkater/enkat: switch the team to a survey file, if it passes the checks."""
    staff, form = staff_of(request), await request.post()
    file_name = str(form.get("survey_file", "")) or None
    code = str(form.get("team", "")) or None
    try:
        team, survey = await invitations.select_team_survey(
            request.app[DB], staff, code, file_name, surveys_dir=request.app[CONFIG].surveys_dir
        )
    except TeamNotAllowed:
        raise web.HTTPForbidden() from None
    except SurveyFileError as error:
        return await _render_page(request, code, error.render(i18n.gettext), status=422)
    message = i18n.gettext("Teamet använder nu enkäten {code}, version {version}.")
    await flash(request, message.format(code=survey.code, version=survey.version))
    raise web.HTTPSeeOther(f"{PAGE}?team={team.code}")


def setup(app: web.Application) -> None:
    """Add the team's survey page routes."""
    register_globals(app)
    app.router.add_get(PAGE, page)
    app.router.add_post(PAGE + "/sok", search)
    app.router.add_post(PAGE + "/deltagare/{id}", invite_one)
    app.router.add_get(PAGE + "/alla", confirm_team)
    app.router.add_post(PAGE + "/alla", invite_team)
    app.router.add_post(PAGE + "/brev", letters)
    app.router.add_post(PAGE + "/enkat", choose_survey)
