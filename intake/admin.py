"""The admin area: teams and their settings (``/team/admin/team``), staff accounts
(``/team/admin/personal``). Admins manage everything; coordinators their own team."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy

from core.codes import END_REASONS, ROLES, label
from core.errors import DomainError, FormErrors, NotAllowed, NotFound
from core.i18n import N_
from intake import auth, i18n
from intake.context import CONFIG, DB
from intake.team_pages import flash, path_id, staff_of, take_flash
from services import staff as accounts
from services import teams

TEAMS = "/team/admin/team"
ROLE_LABELS = {
    "admin": N_("Administratör"),
    "coordinator": N_("Samordnare"),
    "staff": N_("Personal"),
}
STAFF = "/team/admin/personal"


def _errors(error: DomainError) -> dict[str, str]:
    if isinstance(error, FormErrors):
        return {key: e.render(i18n.gettext) for key, e in error.errors.items()}
    return {error.field or "": error.render(i18n.gettext)}


def _render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, context)
    response.set_status(status)
    return response


async def _teams_page(
    request: web.Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> web.Response:
    staff = staff_of(request)
    context = {
        "teams": await teams.list_teams(request.app[DB], staff),
        "may_create": staff.has_role("admin"),
        "errors": errors or {},
        "values": values or {},
        "message": await take_flash(request),
    }
    return _render(request, "team/admin/teams.html", context, 422 if errors else 200)


@auth.require_role("coordinator")
async def teams_page(request: web.Request) -> web.StreamResponse:
    """GET: the teams of the förbund (a coordinator's own), and a form for a new one."""
    return await _teams_page(request)


@auth.require_role("coordinator")
async def create_team(request: web.Request) -> web.StreamResponse:
    """POST: create a team (admins)."""
    form = await request.post()
    values = {k: str(form.get(k, "")) for k in ("code", "name", "trial_months")}
    try:
        months = int(values["trial_months"] or 3)
        team = await teams.create_team(
            request.app[DB],
            staff_of(request),
            values["code"].strip(),
            name=values["name"],
            trial_months=months,
        )
    except ValueError:
        return await _teams_page(
            request, {"trial_months": i18n.gettext("Prövotiden är 2 eller 3 månader.")}, values
        )
    except NotAllowed:
        raise web.HTTPForbidden() from None
    except DomainError as error:
        return await _teams_page(request, _errors(error), values)
    raise web.HTTPSeeOther(f"{TEAMS}/{team.id}")


def _team_context(
    request: web.Request, team: Any, errors: dict[str, str], values: dict[str, Any] | None
) -> dict[str, Any]:
    current = values or {
        "name": team.name, "trial_months": team.trial_months,
        "result_reasons": list(team.result_reasons), "goals": teams.format_goals(team.goals),
        "survey_file": team.survey_file or "", "notify_emails": "\n".join(team.notify_emails),
        "accepts_referrals": team.accepts_referrals,
        "places": "" if team.places is None else str(team.places),
        "contact_phone": team.contact_phone or "", "contact_email": team.contact_email or "",
    }  # fmt: skip
    return {
        "team": team, "values": current, "errors": errors,
        "reasons": [(c, label(END_REASONS, c, i18n.current_language()))
                    for c in teams.RESULT_REASON_CHOICES],
        "surveys": teams.survey_choices(request.app[CONFIG].surveys_dir),
    }  # fmt: skip


@auth.require_role("coordinator")
async def team_page(request: web.Request) -> web.StreamResponse:
    """GET: one team's settings."""
    try:
        team = await teams.get_team(request.app[DB], staff_of(request), path_id(request))
    except NotFound:
        raise web.HTTPNotFound() from None
    context = _team_context(request, team, {}, None) | {"message": await take_flash(request)}
    return _render(request, "team/admin/team.html", context)


def _settings(form: MultiDictProxy[Any]) -> tuple[teams.TeamSettings, dict[str, Any]]:
    """The team form parsed; raises FormErrors for what cannot be read."""
    values: dict[str, Any] = {
        k: str(form.get(k, ""))
        for k in ("name", "trial_months", "goals", "survey_file", "notify_emails", "places",
                  "contact_phone", "contact_email")
    }  # fmt: skip
    values["result_reasons"] = [str(r) for r in form.getall("result_reasons", [])]
    values["accepts_referrals"] = form.get("accepts_referrals") == "1"
    errors: dict[str, DomainError] = {}
    places = None
    if values["places"].strip():
        if not values["places"].strip().isdigit():
            errors["places"] = DomainError(
                N_("Ange antalet platser som ett heltal."), field="places"
            )
        else:
            places = int(values["places"])
    goals: list[dict[str, Any]] = []
    try:
        goals = teams.parse_goals(values["goals"])
    except FormErrors as error:
        errors.update(error.errors)
    if errors:
        raise _Invalid(FormErrors(errors), values)
    settings = teams.TeamSettings(
        name=values["name"],
        trial_months=int(values["trial_months"]) if values["trial_months"].isdigit() else 0,
        result_reasons=values["result_reasons"],
        goals=goals,
        survey_file=values["survey_file"] or None,
        notify_emails=[e.strip().lower() for e in values["notify_emails"].split() if e.strip()],
        accepts_referrals=values["accepts_referrals"],
        places=places,
        contact_phone=values["contact_phone"].strip() or None,
        contact_email=values["contact_email"].strip().lower() or None,
    )
    return settings, values


class _Invalid(Exception):
    def __init__(self, error: FormErrors, values: dict[str, Any]) -> None:
        self.error, self.values = error, values


@auth.require_role("coordinator")
async def save_team(request: web.Request) -> web.StreamResponse:
    """POST: save one team's settings (audited with old and new values)."""
    staff, team_id = staff_of(request), path_id(request)
    try:
        team = await teams.get_team(request.app[DB], staff, team_id)
    except NotFound:
        raise web.HTTPNotFound() from None
    form = await request.post()
    try:
        settings, values = _settings(form)
        surveys_dir = request.app[CONFIG].surveys_dir
        await teams.update_team(request.app[DB], staff, team_id, settings, surveys_dir=surveys_dir)
    except _Invalid as invalid:
        return _render(
            request,
            "team/admin/team.html",
            _team_context(request, team, _errors(invalid.error), invalid.values) | {"message": ""},
            422,
        )
    except DomainError as error:
        return _render(
            request,
            "team/admin/team.html",
            _team_context(request, team, _errors(error), values) | {"message": ""},
            422,
        )
    await flash(request, i18n.gettext("Inställningarna är sparade."))
    raise web.HTTPSeeOther(f"{TEAMS}/{team_id}")


async def _staff_page(
    request: web.Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> web.Response:
    staff = staff_of(request)
    db = request.app[DB]
    context = {
        "accounts": await accounts.list_staff(db, staff),
        "teams": await teams.list_teams(db, staff),
        "roles": [r for r in ROLES if staff.has_role("admin") or r != "admin"],
        "is_admin": staff.has_role("admin"),
        "me": staff.user_id,
        "errors": errors or {},
        "values": values or {},
        "message": await take_flash(request),
        "role_label": lambda role: i18n.gettext(ROLE_LABELS.get(role) or role),
    }
    return _render(request, "team/admin/staff.html", context, 422 if errors else 200)


@auth.require_role("coordinator")
async def staff_page(request: web.Request) -> web.StreamResponse:
    """GET: the staff accounts this person manages, and the invitation form."""
    return await _staff_page(request)


@auth.require_role("coordinator")
async def invite(request: web.Request) -> web.StreamResponse:
    """POST: invite a new member of staff by e-mail."""
    form = await request.post()
    values = {k: str(form.get(k, "")).strip() for k in ("email", "role", "team", "name")}
    try:
        await accounts.invite_staff(
            request.app[DB],
            staff_of(request),
            values["email"],
            role=values["role"],
            team_code=values["team"] or None,
            public_url=request.app[CONFIG].public_url,
            display_name=values["name"],
        )
    except DomainError as error:
        return await _staff_page(request, _errors(error), values)
    await flash(request, i18n.gettext("Inbjudan är skickad."))
    raise web.HTTPSeeOther(STAFF)


@auth.require_role("coordinator")
async def change_account(request: web.Request) -> web.StreamResponse:
    """POST …/{id}: change role or team, or deactivate (which button was pressed)."""
    staff, user_id = staff_of(request), path_id(request)
    form = await request.post()
    action = str(form.get("action", ""))
    db = request.app[DB]
    try:
        if action == "role":
            await accounts.change_role(db, staff, user_id, str(form.get("role", "")))
        elif action == "team":
            team = str(form.get("team", ""))
            await accounts.change_team(db, staff, user_id, int(team) if team.isdigit() else None)
        elif action == "deactivate":
            await accounts.deactivate_user(db, staff, user_id=user_id)
        else:
            raise web.HTTPBadRequest()
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as error:
        return await _staff_page(request, _errors(error))
    await flash(request, i18n.gettext("Kontot är ändrat."))
    raise web.HTTPSeeOther(STAFF)


def setup(app: web.Application) -> None:
    """Register the admin routes."""
    app.router.add_get(TEAMS, teams_page)
    app.router.add_post(TEAMS, create_team)
    app.router.add_get(TEAMS + "/{id}", team_page)
    app.router.add_post(TEAMS + "/{id}", save_team)
    app.router.add_get(STAFF, staff_page)
    app.router.add_post(STAFF, invite)
    app.router.add_post(STAFF + "/{id}", change_account)
