"""The team's audit log at ``/team/logg`` (coordinators): the list and a CSV export.

The log holds ids and codes only; exporting it is itself logged.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from core.codes import (
    CONSENT_KINDS,
    END_REASONS,
    PARTIES,
    PROGRESS_STEPS,
    REFERRAL_STATUSES,
    REVEAL_REASONS,
    label,
)
from core.consent import WITHDRAWAL_CHANNELS
from core.i18n import N_
from core.spreadsheet import safe_cell
from intake import auth, i18n
from intake.admin import ROLE_LABELS
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
    "invitation.letter": N_("Inbjudningsbrev skrevs ut"),
    "invitation.sent_sms": N_("Inbjudan till enkäten skickades med SMS"),
    "invitation.sent_email": N_("Inbjudan till enkäten skickades med e-post"),
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
#: How the log names the record an entry is about; ``{name}`` is its reference or name.
OBJECT_LABELS = {
    "participant": N_("Deltagare {ref}"),
    "referral": N_("Remiss {reference}"),
    "staff_user": N_("Personal: {name}"),
    "team": N_("Team: {name}"),
    "answer": N_("Enkätsvar nr {id}"),
    "invitation": N_("Enkätinbjudan nr {id}"),
    "summary": N_("Sammanställning"),
    "import": N_("Import av deltagaruppgifter"),
}
#: Who acted, when it was no member of staff.
ACTORS = {
    "public": N_("Remissformuläret"),
    "anonymous": N_("Okänd (inte inloggad)"),
    "participant": N_("Deltagaren"),
    "cli": N_("Kommandoraden"),
    "scheduler": N_("Schemalagt jobb"),
    "system": N_("Systemet"),
}
#: Readable names of detail keys; a key missing here is shown as it is stored.
DETAIL_LABELS = {
    "end_reason": N_("Avslutsanledning"),
    "step": N_("Steg"),
    "trial_months": N_("Prövotid (månader)"),
    "reason": N_("Skäl"),
    "kind": N_("Samtycke"),
    "party": N_("Part"),
    "channel": N_("Kanal"),
    "language": N_("Språk"),
    "consents": N_("Samtycken"),
    "entries": N_("Antal rader"),
    "rows": N_("Rader"),
    "created": N_("Nya"),
    "teams": N_("Team"),
    "team": N_("Team"),
    "format": N_("Format"),
    "code": N_("Kod"),
    "version": N_("Version"),
    "themes": N_("Teman"),
    "answers": N_("Enkätsvar"),
    "response": N_("Enkätsvar nr"),
    "invitation": N_("Inbjudan nr"),
    "role": N_("Roll"),
    "via": N_("Via"),
    "sessions_ended": N_("Avslutade inloggningar"),
    "referrals": N_("Remisser"),
    "responses": N_("Enkätsvar"),
    "removed": N_("Borttagen"),
    "name": N_("Namn"),
    "places": N_("Årsplatser"),
    "accepts_referrals": N_("Tar emot remisser"),
    "notify_emails": N_("E-post om nya remisser (antal adresser)"),
    "result_reasons": N_("Avslutsanledningar som räknas som resultat"),
    "goals": N_("Mål"),
    "survey": N_("Enkät"),
}
#: Detail keys that say nothing to a reader (hashes, inner ids, the page's technical stage).
HIDDEN_DETAILS = frozenset({"email_key", "consent_id", "stage", "participant_id"})
#: Code lists of detail values, by key (the action decides for ``channel``).
_CODE_LISTS = {"end_reason": END_REASONS, "step": PROGRESS_STEPS, "reason": REVEAL_REASONS}
_CONSENT_CODE_LISTS = {"kind": CONSENT_KINDS, "party": PARTIES, "channel": WITHDRAWAL_CHANNELS}
PAGES = {"referral": N_("remissens sida"), "participant": N_("personsidan")}


def action_label(action: str) -> str:
    """The action's name in the current language."""
    return i18n.gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def actor_label(by: str) -> str:
    """Who acted: a staff member's name as given, else a readable word for the actor."""
    return i18n.gettext(ACTORS[by]) if by in ACTORS else by


def object_label(line: records.LogLine) -> str:
    """The record an entry is about, as the board names it ("Deltagare R-ABC123")."""
    kind, number = line.object_type, line.object_id
    if not kind:
        return ""
    if kind not in OBJECT_LABELS:
        return f"{kind} {number}"
    name = line.names.get(f"{kind}:{number}") or i18n.gettext("nr {id}").format(id=number)
    return i18n.gettext(OBJECT_LABELS[kind]).format(ref=name, reference=name, name=name, id=number)


def detail_labels(line: records.LogLine) -> list[str]:
    """The entry's details in words: statuses, codes and ids by their labels and names."""
    _, language, detail = i18n.gettext, i18n.current_language(), dict(line.detail)
    shown = []
    if line.action == "referral.transitioned" and {"from", "to"} <= detail.keys():
        old, new = detail.pop("from"), detail.pop("to")
        shown.append(
            _("Status ändrad: {old} → {new}").format(
                old=label(REFERRAL_STATUSES, str(old), language),
                new=label(REFERRAL_STATUSES, str(new), language),
            )
        )
    if line.action.startswith("user.") and {"old", "new"} <= detail.keys():
        old, new = detail.pop("old"), detail.pop("new")
        if line.action == "user.team_changed":
            old, new = line.names.get(f"team:{old}", old), line.names.get(f"team:{new}", new)
            shown.append(_("Team: {old} → {new}").format(old=old or "–", new=new or "–"))
        else:
            shown.append(_("Roll: {old} → {new}").format(old=_role(old), new=_role(new)))
    if {"from", "to"} <= detail.keys():
        period = _("Period: {start} – {end}")
        shown.append(period.format(start=detail.pop("from"), end=detail.pop("to")))
    if isinstance(participant := detail.get("participant_id"), int) and (
        line.object_type != "participant"
    ):
        ref = line.names.get(f"participant:{participant}", str(participant))
        shown.append(_("Deltagare {ref}").format(ref=ref))
    for key, value in detail.items():
        if key not in HIDDEN_DETAILS:
            shown.append(_detail(line.action, key, value, language))
    return shown


def _detail(action: str, key: str, value: object, language: str) -> str:
    """One detail as "Label: value", codes by their labels."""
    _ = i18n.gettext
    name = _(DETAIL_LABELS[key]) if key in DETAIL_LABELS else key
    codes = _CONSENT_CODE_LISTS if action.startswith("consent.") else _CODE_LISTS
    if key == "page" and value in PAGES:
        return _("Visades på {page}").format(page=_(PAGES[str(value)]))
    if key in codes and isinstance(value, str):
        return f"{name}: {label(codes[key], value, language)}"
    if key == "role" and isinstance(value, str):
        return f"{name}: {_role(value)}"
    if isinstance(value, dict) and {"old", "new"} <= value.keys():
        return f"{name}: {_plain(value['old'])} → {_plain(value['new'])}"
    return f"{name}: {_plain(value)}"


def _role(role: object) -> str:
    return i18n.gettext(ROLE_LABELS[role]) if role in ROLE_LABELS else str(role or "–")


def _plain(value: object) -> str:
    """A detail's value as text: yes/no for truth values, lists joined."""
    if isinstance(value, bool):
        return i18n.gettext("ja") if value else i18n.gettext("nej")
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value) or "–"
    return "–" if value is None or value == "" else str(value)


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
    """Register the log's routes and its label helpers."""
    aiohttp_jinja2.get_env(app).globals.update(
        action_label=action_label,
        actor_label=actor_label,
        object_label=object_label,
        detail_labels=detail_labels,
    )
    app.router.add_get("/team/logg", log_page)
    app.router.add_get("/team/logg.csv", log_export)
