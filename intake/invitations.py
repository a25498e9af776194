"""The team's survey page at ``/team/enkater``: invitations, and which survey the team uses.

Staff create an invitation for one participant or for every active participant of the team.
Only the token's hash is stored, so the links are shown once, on the page that answers the
``POST``: the Telegram deep link, the web link, and a QR code of each to print or show on a
screen. A coordinator can switch the team to its own survey file in ``surveys/``; a file that
does not pass the checks is refused with the file, the question and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import segno
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.surveys import SurveyFileError
from intake import auth, i18n
from intake.context import BOT, CONFIG, DB
from intake.team_pages import flash, path_id, register_globals, render, staff_of, take_flash
from storage import invitations, surveys
from storage.models import Participant, Team

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


def shown(request: web.Request, new: invitations.NewInvitation) -> ShownInvitation:
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


async def _team(session: AsyncSession, staff: Staff, code: str | None) -> Team:
    """The team asked for (or the user's first), if this member of staff may see it."""
    teams = await session.scalars(select(Team).order_by(Team.code))
    visible = [team for team in teams if staff.sees(team.id)]
    chosen = next((team for team in visible if team.code == code), visible[0] if visible else None)
    if chosen is None:
        raise web.HTTPForbidden()
    return chosen


@auth.require_role("staff")
async def page(request: web.Request) -> web.StreamResponse:
    """GET /team/enkater: active participants, their latest invitation, the team's survey."""
    return await _render_page(request, request.query.get("team"))


async def _render_page(
    request: web.Request, code: str | None, survey_error: str = "", status: int = 200
) -> web.Response:
    """The survey page for team ``code``, with an error about the survey file if any."""
    staff = staff_of(request)
    async with request.app[DB].sessions() as session:
        team = await _team(session, staff, code)
        active = await invitations.active_participants(session, team.id)
        latest = await invitations.latest_invitations(session, [p.id for p in active])
        all_teams = await session.scalars(select(Team).order_by(Team.code))
        teams = [other for other in all_teams if staff.sees(other.id)]
    rows = [(participant, *latest.get(participant.id, (None, None))) for participant in active]
    context = {
        "team": team,
        "teams": teams,
        "rows": rows,
        "survey_files": surveys.survey_files(),
        "survey_error": survey_error,
        "bot_on": bool(request.app[BOT].username),
        "notice": await take_flash(request),
    }
    return render(request, "team/invitations.html", context, status=status)


@auth.require_role("staff")
async def invite_one(request: web.Request) -> web.StreamResponse:
    """POST /team/enkater/deltagare/{id}: a new invitation for one participant, shown once."""
    staff, participant_id = staff_of(request), path_id(request)
    async with request.app[DB].transaction() as session:
        participant = await session.get(Participant, participant_id)
        if participant is None or not staff.sees(participant.team_id):
            raise web.HTTPNotFound()
        created = await invitations.create_invitations(
            session, [participant], **_options(request, staff)
        )
    return _render_created(request, created)


@auth.require_role("staff")
async def invite_team(request: web.Request) -> web.StreamResponse:
    """POST /team/enkater/alla: new invitations for every active participant, shown once."""
    staff, form = staff_of(request), await request.post()
    async with request.app[DB].transaction() as session:
        team = await _team(session, staff, str(form.get("team", "")) or None)
        active = await invitations.active_participants(session, team.id)
        created = await invitations.create_invitations(session, active, **_options(request, staff))
    return _render_created(request, created)


def _options(request: web.Request, staff: Staff) -> dict[str, Any]:
    """How invitations made on this page are made: any channel, the set days, by whom."""
    days = request.app[CONFIG].invitation_days
    return {"channel": "any", "days": days, "user_id": staff.user_id}


def _render_created(request: web.Request, created: list[invitations.NewInvitation]) -> web.Response:
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
        async with request.app[DB].transaction() as session:
            team = await _team(session, staff, code)
            survey = await surveys.select_team_survey(
                session, team.id, file_name, user_id=staff.user_id
            )
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
