"""The team's referral board at ``/team/remisser``: the queue, one referral, its decisions.

``GET /team/remisser`` lists referrals by status with queue position and days waiting;
``GET /team/remisser/{id}`` shows one referral (the view is audited); ``POST
/team/remisser/{id}/status`` moves it on (:func:`services.referrals.move_referral`, which also
queues the decline e-mail); ``POST /team/remisser/{id}/inskrivning`` enrols the participant.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web

from core.clock import today_in_sweden
from core.codes import REFERRAL_STATUSES
from core.errors import DomainError, NotFound
from core.referrals import Status
from intake import auth, i18n
from intake.context import DB, METRICS
from intake.team_pages import (
    SmallForm,
    drafted_form,
    failed_form,
    flash,
    list_filters,
    parse_date,
    path_id,
    period_of,
    register_globals,
    render,
    staff_of,
    take_flash,
)
from services import board, records, referrals

log = logging.getLogger("samverkan.board")
#: Moves made with the status form (enrolling has its own form with a start date).
STATUS_FORM_TARGETS = frozenset(
    {Status.ASSESSING, Status.QUEUED, Status.VISIT_BOOKED, Status.DECLINED, Status.WITHDRAWN}
)


@auth.require_role("staff")
async def board_page(request: web.Request) -> web.StreamResponse:
    """GET /team/remisser: the board, filtered by team, status and period."""
    staff, query = staff_of(request), request.query
    status = query.get("status", "open")
    result = await board.referral_board(
        request.app[DB],
        staff,
        status=status,
        team=query.get("team") or None,
        period=period_of(query),
        today=today_in_sweden(),
    )
    context = {
        "board": result,
        "teams": await board.visible_teams(request.app[DB], staff),
        "places": await board.team_places(request.app[DB], staff),
        "filters": list_filters(query, board.STATUS_FILTERS, "open"),
        "status_filters": board.STATUS_FILTERS,
        "flash": await take_flash(request),
    }  # fmt: skip
    return render(request, "team/referrals.html", context)


@auth.require_role("staff")
async def referral_page(request: web.Request) -> web.StreamResponse:
    """GET /team/remisser/{id}: one referral, its person, history and the next steps."""
    return await _render_referral(request, SmallForm())


@auth.require_role("staff")
async def change_status(request: web.Request) -> web.StreamResponse:
    """POST /team/remisser/{id}/status: move the referral on, with a note."""
    referral_id, form = path_id(request), await request.post()
    try:
        target = Status(str(form.get("to", "")))
        if target not in STATUS_FORM_TARGETS:
            raise ValueError(target)
    except ValueError:
        raise web.HTTPBadRequest(text=i18n.gettext("Välj en status i listan.")) from None
    try:
        await referrals.move_referral(
            request.app[DB],
            staff_of(request),
            referral_id,
            target,
            note=str(form.get("note", "")),
            decline_reason=str(form.get("decline_reason", "")) or None,
            visit_date=parse_date(str(form.get("visit_date", ""))),
            today=today_in_sweden(),
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as failed:
        return await _render_referral(request, failed_form(target.value, form, failed), status=422)
    request.app[METRICS].inc("referral_moved")
    status_label = REFERRAL_STATUSES[target].label(i18n.current_language())
    await flash(
        request, i18n.gettext("Remissen har nu status ”{status}”.").format(status=status_label)
    )
    raise web.HTTPSeeOther(f"/team/remisser/{referral_id}")


@auth.require_role("staff")
async def enrol(request: web.Request) -> web.StreamResponse:
    """POST /team/remisser/{id}/inskrivning: enrol the participant from a start date."""
    referral_id, form = path_id(request), await request.post()
    try:
        trial_end = await referrals.enrol_participant(
            request.app[DB],
            staff_of(request),
            referral_id,
            start_date=parse_date(str(form.get("start_date", ""))),
            note=str(form.get("note", "")),
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as failed:
        return await _render_referral(request, failed_form("enrol", form, failed), status=422)
    request.app[METRICS].inc("participant_enrolled")
    message = i18n.gettext("Deltagaren är inskriven. Prövotiden slutar {date}.")
    await flash(request, message.format(date=trial_end.isoformat()))
    raise web.HTTPSeeOther(f"/team/remisser/{referral_id}")


async def _render_referral(
    request: web.Request, form: SmallForm, *, status: int = 200
) -> web.StreamResponse:
    """The referral page, with the form that failed (if any) and its messages."""
    referral_id = path_id(request)
    try:
        record = await records.referral_record(
            request.app[DB], staff_of(request), referral_id, today=today_in_sweden()
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    case = record.case(referral_id)
    if not form.name:
        form = await drafted_form(request, form_of_referral_action)
    context = {
        "record": record,
        "case": case,
        "next": [status.value for status in case.next_statuses],
        "form": form,
        "flash": await take_flash(request),
        "today": today_in_sweden().isoformat(),
        "example_date": (today_in_sweden() + timedelta(days=7)).isoformat(),
    }
    return render(request, "team/referral.html", context, status=status)


def form_of_referral_action(action: str, fields: Mapping[str, str]) -> str | None:
    """The referral page's form that posts ``fields`` to ``action`` (for a kept draft)."""
    if action.endswith("/inskrivning"):
        return "enrol"
    if action.endswith("/status") and fields.get("to") in STATUS_FORM_TARGETS:
        return fields["to"]
    return None


def setup(app: web.Application) -> None:
    """Register the board's routes."""
    register_globals(app)
    app.router.add_get("/team/remisser", board_page)
    app.router.add_get("/team/remisser/{id}", referral_page)
    app.router.add_post("/team/remisser/{id}/status", change_status)
    app.router.add_post("/team/remisser/{id}/inskrivning", enrol)
    app[auth.RESTORING_PAGES].add("/team/remisser/{id}")
