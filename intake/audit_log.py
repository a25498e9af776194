"""The team's audit log at ``/team/logg`` (coordinators): the list and a CSV export.

The log holds ids and codes only; exporting it is itself logged.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from core.i18n import N_
from core.spreadsheet import safe_cell
from intake import auth, i18n
from intake.context import DB
from intake.team_pages import period_of, render, staff_of
from services import records

#: Readable names of every audit action written anywhere (tests/intake/test_audit_log.py
#: checks that none is missing); an unknown action is shown as its code.
ACTION_LABELS = {
    "referral.submitted": N_("Remiss inkom"),
    "referral.transitioned": N_("Remissens status ändrades"),
    "participant.viewed": N_("Personens uppgifter visades"),
    "participant.enrolled": N_("Deltagare skrevs in"),
    "participant.ended": N_("Deltagande avslutades"),
    "participant.progress_recorded": N_("Steg mot arbete registrerades"),
    "participant.personnummer_revealed": N_("Hela personnumret visades"),
    "participant.log_extracted": N_("Loggutdrag togs ut"),
    "participant.exported": N_("Registerutdrag togs ut"),
    "consent.withdrawn": N_("Samtycke återkallades"),
    "records.imported": N_("Deltagaruppgifter importerades"),
    "retention.purged": N_("Personuppgifter gallrades efter lagringstiden"),
    "invitation.created": N_("Inbjudan till enkäten skapades"),
    "survey.selected": N_("Teamets enkät byttes"),
    "survey.answers_viewed": N_("Enkätsvar lästes"),
    "survey.answers_deleted": N_("Deltagaren raderade sina enkätsvar"),
    "answer.themes_corrected": N_("Teman för ett enkätsvar rättades"),
    "answer.gloss_set": N_("En svensk översättning av ett citat sparades"),
    "summary.exported": N_("Sammanställning exporterades"),
    "audit.exported": N_("Loggen exporterades"),
    "keys.rotated": N_("Krypteringsnyckeln byttes"),
    "user.created": N_("Användarkonto skapades"),
    "login.succeeded": N_("Inloggning"),
    "login.failed": N_("Misslyckad inloggning"),
    "login.throttled": N_("Inloggning spärrad efter för många försök"),
    "logout": N_("Utloggning"),
    "login.code_failed": N_("Fel kod vid inloggning"),
    "login.code_accepted": N_("Inloggning med kod"),
    "user.totp_enrolled": N_("Tvåstegsverifiering aktiverades"),
    "user.invited": N_("Personal bjöds in"),
    "user.password_set": N_("Lösenord valdes"),
    "user.password_reset_requested": N_("Nytt lösenord begärdes"),
    "user.role_changed": N_("Kontots roll ändrades"),
    "user.team_changed": N_("Kontots team ändrades"),
    "user.deactivated": N_("Konto stängdes av"),
    "team.created": N_("Team skapades"),
    "team.updated": N_("Teamets inställningar ändrades"),
}
#: The log's filter: action prefixes and their names.
ACTION_FILTERS = {
    "referral.": N_("Remisser"),
    "participant.": N_("Deltagare"),
    "participant.viewed": N_("Visningar av personuppgifter"),
    "consent.": N_("Samtycken"),
    "login.": N_("Inloggningar"),
}
CSV_COLUMNS = ("at", "by", "action", "object_type", "object_id", "detail")


def action_label(action: str) -> str:
    """The action's name in the current language."""
    return i18n.gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def _filters(request: web.Request) -> dict[str, str]:
    """The log filter as sent in the query (unknown actions become none)."""
    action = request.query.get("action", "")
    return {
        "action": action if action in ACTION_FILTERS else "",
        "from": request.query.get("from", ""),
        "to": request.query.get("to", ""),
    }


@auth.require_role("coordinator")
async def log_page(request: web.Request) -> web.StreamResponse:
    """GET /team/logg: the newest entries of the coordinator's team."""
    filters = _filters(request)
    lines = await records.team_log(
        request.app[DB],
        staff_of(request),
        period=period_of(request.query),
        action=filters["action"],
    )
    context = {
        "lines": lines,
        "filters": filters,
        "action_filters": [(code, i18n.gettext(text)) for code, text in ACTION_FILTERS.items()],
        "export_query": urlencode({key: value for key, value in filters.items() if value}),
    }
    return render(request, "team/log.html", context)


@auth.require_role("coordinator")
async def log_export(request: web.Request) -> web.StreamResponse:
    """GET /team/logg.csv: the same entries as a CSV file (the export is logged)."""
    filters = _filters(request)
    lines = await records.team_log(
        request.app[DB],
        staff_of(request),
        period=period_of(request.query),
        action=filters["action"],
        exported=True,
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        detail = ";".join(f"{key}={value}" for key, value in line.detail.items())
        row = (
            line.at.isoformat(),
            line.by,
            line.action,
            line.object_type or "",
            line.object_id or "",
            detail,
        )
        writer.writerow([safe_cell(str(value)) for value in row])
    return web.Response(
        body=buffer.getvalue().encode("utf-8-sig"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="samverkan-logg.csv"'},
    )


def setup(app: web.Application) -> None:
    """Register the log's routes and its label helper."""
    aiohttp_jinja2.get_env(app).globals["action_label"] = action_label
    app.router.add_get("/team/logg", log_page)
    app.router.add_get("/team/logg.csv", log_export)
