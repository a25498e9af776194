"""The team's participant pages at ``/team/deltagare``: the list and one person's record.

A participant's page shows the masked personnummer; the full number needs a reason and is
shown once, on that response only. Every view of the page is audited. Staff record steps on
the way to work, withdraw consents and end participation here; a coordinator can print the
person's log extract.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from core.clock import today_in_sweden
from core.consent import WITHDRAWAL_CHANNELS, WITHDRAWAL_END_REASON
from core.errors import DomainError, NotAllowed, NotFound
from intake import auth, i18n
from intake.context import CLOCK, CONFIG, DB, METRICS
from intake.team_pages import (
    SmallForm,
    drafted_form,
    failed_form,
    flash,
    list_filters,
    moment_of,
    parse_date,
    path_id,
    period_of,
    register_globals,
    render,
    staff_of,
    take_flash,
)
from services import board, invitation_sending, invitations, participants, records, referrals


@auth.require_role("staff")
async def participant_list(request: web.Request) -> web.StreamResponse:
    """GET /team/deltagare: enrolled (or ended) participants with trial end and latest step."""
    staff, query = staff_of(request), request.query
    status = query.get("status", "active")
    rows = await board.participant_list(
        request.app[DB],
        staff,
        status=status,
        team=query.get("team") or None,
        period=period_of(query),
    )
    context = {
        "rows": rows,
        "teams": await board.visible_teams(request.app[DB], staff),
        "filters": list_filters(query, board.PARTICIPATION_FILTERS, "active"),
    }  # fmt: skip
    return render(request, "team/participants.html", context)


@auth.require_role("staff")
async def participant_page(request: web.Request) -> web.StreamResponse:
    """GET /team/deltagare/{id}: the person's record (the view is audited)."""
    return await _render(request, await drafted_form(request, form_of_participant_action))


@auth.require_role("staff")
async def reveal(request: web.Request) -> web.StreamResponse:
    """POST /team/deltagare/{id}/personnummer: the full number, for a reason that is logged."""
    form = await request.post()
    try:
        shown = await participants.reveal_personnummer(
            request.app[DB],
            staff_of(request),
            path_id(request),
            reason=str(form.get("reason", "")),
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as failed:
        return await _render(request, failed_form("reveal", form, failed), status=422)
    return await _render(request, SmallForm(), revealed=shown)


@auth.require_role("staff")
async def withdraw(request: web.Request) -> web.StreamResponse:
    """POST /team/deltagare/{id}/samtycke: withdraw one consent; sharing stops at once."""
    form = await request.post()
    consent_id = str(form.get("consent", ""))
    name = f"withdraw-{consent_id}"
    try:
        await participants.withdraw_consent(
            request.app[DB],
            staff_of(request),
            int(consent_id) if consent_id.isdigit() else 0,
            channel=str(form.get("channel", "")),
            at=moment_of(parse_date(str(form.get("at", "")))),
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as failed:
        return await _render(request, failed_form(name, form, failed), status=422)
    await flash(
        request, i18n.gettext("Samtycket är återkallat. Ingen mer information delas på det.")
    )
    raise web.HTTPSeeOther(f"/team/deltagare/{path_id(request)}")


@auth.require_role("staff")
async def record_step(request: web.Request) -> web.StreamResponse:
    """POST /team/deltagare/{id}/steg: record the participant's step on the way to work."""
    form = await request.post()
    try:
        await participants.record_step(
            request.app[DB],
            staff_of(request),
            _referral_in(form),
            step=str(form.get("step", "")),
            recorded_on=parse_date(str(form.get("recorded_on", ""))),
            note=str(form.get("note", "")),
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as failed:
        return await _render(request, failed_form("step", form, failed), status=422)
    await flash(request, i18n.gettext("Steget är sparat."))
    raise web.HTTPSeeOther(f"/team/deltagare/{path_id(request)}")


@auth.require_role("staff")
async def end(request: web.Request) -> web.StreamResponse:
    """POST /team/deltagare/{id}/avslut: check, confirm (``confirm=ja``), then end.

    The first send shows the values on a confirmation page; "Ändra" (``change``) brings the
    form back filled in; only a confirmed send ends the participation.
    """
    form = await request.post()
    referral_id = _referral_in(form)
    if form.get("change"):
        kept = {key: str(value) for key, value in form.items() if isinstance(value, str)}
        return await _render(request, SmallForm("end", kept))
    operation = (
        referrals.end_participation
        if form.get("confirm") == "ja"
        else referrals.check_end_participation
    )
    try:
        await operation(
            request.app[DB],
            staff_of(request),
            referral_id,
            end_date=parse_date(str(form.get("end_date", ""))),
            end_reason=str(form.get("end_reason", "")) or None,
            income_source_after=str(form.get("income_source_after", "")),
            note=str(form.get("note", "")),
        )
        if operation is referrals.check_end_participation:
            return await _render_end_confirmation(request, referral_id, form)
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as failed:
        return await _render(request, failed_form("end", form, failed), status=422)
    request.app[METRICS].inc("participant_ended")
    await flash(request, i18n.gettext("Deltagandet är avslutat."))
    raise web.HTTPSeeOther(f"/team/deltagare/{path_id(request)}")


async def _render_end_confirmation(
    request: web.Request, referral_id: int, form: Mapping[str, object]
) -> web.StreamResponse:
    """The confirmation page of an end, with the values checked (the view is audited)."""
    try:
        record = await records.participant_record(
            request.app[DB], staff_of(request), path_id(request), today=today_in_sweden()
        )
        case = record.case(referral_id)
    except (NotFound, StopIteration):
        raise web.HTTPNotFound() from None
    fields = ("referral", "end_date", "end_reason", "income_source_after", "note")
    values = {name: str(form.get(name, "")) for name in fields}
    context = {"record": record, "case": case, "values": values}
    return render(request, "team/end_confirm.html", context)


def form_of_participant_action(action: str, fields: Mapping[str, str]) -> str | None:
    """The participant page's form that posts ``fields`` to ``action`` (for a kept draft)."""
    if action.endswith("/steg"):
        return "step"
    if action.endswith("/avslut"):
        return "end"
    if action.endswith("/samtycke"):
        return f"withdraw-{fields.get('consent', '')}"
    return None


@auth.require_role("coordinator")
async def log_extract(request: web.Request) -> web.StreamResponse:
    """GET /team/deltagare/{id}/logg: every logged action about the person, to print."""
    try:
        record, lines = await records.person_log_extract(
            request.app[DB], staff_of(request), path_id(request)
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    except NotAllowed as refused:
        raise web.HTTPForbidden(text=refused.render(i18n.gettext)) from None
    return render(
        request,
        "team/participant_log.html",
        {"record": record, "lines": lines, "printed": today_in_sweden().isoformat()},
    )


def _referral_in(form) -> int:  # type: ignore[no-untyped-def]
    """The referral id a participant-page form is about."""
    raw = str(form.get("referral", ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise web.HTTPBadRequest(text=i18n.gettext("Formuläret saknar remiss. Ladda om sidan."))
    return int(raw)


async def _render(
    request: web.Request, form: SmallForm, *, status: int = 200, revealed: str = ""
) -> web.StreamResponse:
    """The participant page, with the form that failed (if any) or the revealed number."""
    try:
        record = await records.participant_record(
            request.app[DB],
            staff_of(request),
            path_id(request),
            today=today_in_sweden(),
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    context = {
        "record": record,
        # The survey section (invitations): status, "Bjud in till enkät", the page's own link.
        "survey": await invitations.participant_survey_status(
            request.app[DB], staff_of(request), record.participant.id
        ),
        # The invitations sent by SMS or e-mail (team/_send_invitation.html shows their state).
        "sent_messages": await invitation_sending.message_status(
            request.app[DB], staff_of(request), record.participant.id
        ),
        "now": request.app[CLOCK](),
        "page_link": f"{request.app[CONFIG].public_url.rstrip('/')}/team/deltagare/{record.participant.id}",
        "form": form,
        "revealed": revealed,
        "flash": await take_flash(request),
        "today": today_in_sweden().isoformat(),
        "WITHDRAWAL_CHANNELS": WITHDRAWAL_CHANNELS,
        "WITHDRAWAL_END_REASON": WITHDRAWAL_END_REASON,
        "consent_withdrawn": any(c.withdrawn_at for c in record.consents),
    }
    return render(request, "team/participant.html", context, status=status)


def setup(app: web.Application) -> None:
    """Register the participant pages' routes."""
    register_globals(app)
    app.router.add_get("/team/deltagare", participant_list)
    app.router.add_get("/team/deltagare/{id}", participant_page)
    app.router.add_post("/team/deltagare/{id}/personnummer", reveal)
    app.router.add_post("/team/deltagare/{id}/samtycke", withdraw)
    app.router.add_post("/team/deltagare/{id}/steg", record_step)
    app.router.add_post("/team/deltagare/{id}/avslut", end)
    app.router.add_get("/team/deltagare/{id}/logg", log_extract)
    app[auth.RESTORING_PAGES].add("/team/deltagare/{id}")
