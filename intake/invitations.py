"""The team's survey page at ``/team/enkater``: invitations, and which survey the team uses.

Staff create an invitation for one participant or for every active participant of the team.
Only the token's hash is stored, so the links are shown once, on the page that answers the
``POST``: the Telegram deep link, the web link, and a QR code of each to print or show on a
screen. A coordinator can switch the team to its own survey file (built in, or in
``SAMVERKAN_SURVEYS_DIR``); a file that does not pass the checks is refused with the file, the
question and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from aiohttp import web

from core.errors import NotFound
from core.invitations import NewInvitation
from core.surveys import SurveyFileError
from intake import auth, i18n
from intake.context import BOT, CONFIG, DB
from intake.team_pages import flash, path_id, register_globals, render, staff_of, take_flash
from services import invitations
from services.invitations import TeamNotAllowed

PAGE = "/team/enkater"


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
    """A new invitation as the page shows it: links and QR codes."""

    person_ref: str
    expires_on: str
    web_link: str
    web_qr: str
    telegram_link: str | None
    telegram_qr: str | None


def shown(request: web.Request, new: NewInvitation) -> ShownInvitation:
    """The links and QR codes of a new invitation."""
    web = web_link(request.app[CONFIG].public_url, new.token)
    username = request.app[BOT].username
    telegram = telegram_link(username, new.token) if username else None
    return ShownInvitation(
        new.person_ref,
        new.expires_at.date().isoformat(),
        web,
        qr_code(web),
        telegram,
        qr_code(telegram) if telegram else None,
    )


@auth.require_role("staff")
async def page(request: web.Request) -> web.StreamResponse:
    """GET /team/enkater: active participants, their latest invitation, the team's survey."""
    return await _render_page(request, request.query.get("team"))


async def _render_page(
    request: web.Request, code: str | None, survey_error: str = "", status: int = 200
) -> web.Response:
    """The survey page for team ``code``, with an error about the survey file if any."""
    try:
        shown_page = await invitations.team_survey_page(
            request.app[DB], staff_of(request), code, surveys_dir=request.app[CONFIG].surveys_dir
        )
    except TeamNotAllowed:
        raise web.HTTPForbidden() from None
    context = {
        "team": shown_page.team,
        "teams": shown_page.teams,
        "rows": shown_page.rows,
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
    try:
        created = await invitations.invite_participant(
            request.app[DB], staff, participant_id=path_id(request), channel="any", days=days
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    return _render_created(request, [created])


@auth.require_role("staff")
async def invite_team(request: web.Request) -> web.StreamResponse:
    """POST /team/enkater/alla: new invitations for every active participant, shown once."""
    staff, form = staff_of(request), await request.post()
    code, days = str(form.get("team", "")) or None, request.app[CONFIG].invitation_days
    try:
        created = await invitations.invite_active_participants(
            request.app[DB], staff, code, channel="any", days=days
        )
    except TeamNotAllowed:
        raise web.HTTPForbidden() from None
    return _render_created(request, created)


def _render_created(request: web.Request, created: list[NewInvitation]) -> web.Response:
    """The page that shows new links once (tokens are not stored, only their hashes)."""
    context = {
        "created": [shown(request, new) for new in created],
        "bot_on": bool(request.app[BOT].username),
    }
    return render(request, "team/invitations_created.html", context)


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
    app.router.add_post(PAGE + "/deltagare/{id}", invite_one)
    app.router.add_post(PAGE + "/alla", invite_team)
    app.router.add_post(PAGE + "/enkat", choose_survey)
