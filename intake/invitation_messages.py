"""Survey invitations sent by SMS or e-mail, from the person page and in bulk from ``/team/enkater``.

``POST /team/deltagare/{id}/inbjudan/sms`` and ``…/epost`` send one invitation to the contact
details on record; ``POST /team/enkater/skicka`` (coordinators and admins) first shows who will
get one and who cannot (a confirmation page), then sends on ``confirm=ja``. The buttons live in
the partial ``team/_send_invitation.html``, included in the person page and the survey page;
on the person page it also shows how the messages sent so far stand (queued, sent, delivered,
failed), which the person page reads with the record. ``POST /sms/status/{token}`` takes
the SMS provider's delivery report; the token is a keyed hash of the outbox id (no session, no
CSRF: the provider posts it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from core.clock import SWEDEN
from core.contact import mask_email, mask_phone
from core.errors import DomainError, NotFound
from intake import auth, i18n
from intake.context import CLOCK, CONFIG, DB
from intake.participants import _render as render_person_page
from intake.team_pages import failed_form, flash, path_id, register_globals, render, staff_of
from services import invitation_sending
from services.invitation_sending import MailStatus, Sent
from services.invitations import TeamNotAllowed
from services.sms import STATUS_PATH, record_sms_report

PERSON_PAGE = "/team/deltagare/{id}"


def enabled_channels(request: web.Request) -> tuple[str, ...]:
    """The channels the service is set up for: ``sms`` (SMS provider) and ``email`` (SMTP)."""
    config = request.app[CONFIG]
    return tuple(c for c, on in (("sms", config.sms_on), ("email", config.mail_on)) if on)


@dataclass(frozen=True)
class ShownStatus:
    """One invitation message as the person page shows it."""

    channel: str
    created: str
    state: str
    tag: str


def shown_status(message: MailStatus) -> ShownStatus:
    """Köad / skickad / levererad / misslyckades, with the time it was queued (Swedish time)."""
    _ = i18n.gettext
    created = message.created_at.astimezone(SWEDEN).strftime("%Y-%m-%d %H:%M")
    if message.failed_at is not None or message.delivery_status == "failed":
        return ShownStatus(message.channel, created, _("misslyckades"), "warn")
    if message.delivery_status == "delivered":
        return ShownStatus(message.channel, created, _("levererat"), "ok")
    if message.sent_at is not None:
        return ShownStatus(message.channel, created, _("skickat"), "")
    if message.due_at is not None and message.due_at > message.created_at:
        due = message.due_at.astimezone(SWEDEN).strftime("%Y-%m-%d %H:%M")
        return ShownStatus(message.channel, created, _("köat, skickas {time}").format(time=due), "")
    if message.attempts:
        return ShownStatus(message.channel, created, _("köat, försöker igen"), "")
    return ShownStatus(message.channel, created, _("köat"), "")


def partial_context(request: web.Request) -> dict[str, Any]:
    """What ``team/_send_invitation.html`` needs besides its page: the channels set up, and
    the days within which an answer or an invitation keeps a person out of a bulk send."""
    channels = enabled_channels(request)
    return {
        "sms_on": "sms" in channels,
        "mail_on": "email" in channels,
        "reinvite_after_days": request.app[CONFIG].reinvite_after_days,
    }


async def _send_one(request: web.Request, channel: str) -> web.StreamResponse:
    """Send one invitation by ``channel``; back to the person page with a message."""
    participant_id = path_id(request)
    try:
        sent = await invitation_sending.send_invitation(
            request.app[DB], staff_of(request), participant_id, channel,
            enabled=enabled_channels(request), public_url=request.app[CONFIG].public_url,
            days=request.app[CONFIG].invitation_days, now=request.app[CLOCK](),
        )  # fmt: skip
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as failed:
        field = failed.field or "channel"
        form = failed_form("send", {}, DomainError(failed.message, field=field, **failed.params))
        return await render_person_page(request, form, status=422)
    await flash(request, _sent_message(sent, request))
    raise web.HTTPSeeOther(f"/team/deltagare/{participant_id}")


def _sent_message(sent: Sent, request: web.Request) -> str:
    _ = i18n.gettext
    if sent.channel == "email":
        return _("Inbjudan är köad som e-post till {to}.").format(to=sent.masked_to)
    if sent.due_at > request.app[CLOCK]():
        due = sent.due_at.astimezone(SWEDEN).strftime("%H:%M")
        return _("Inbjudan är köad som SMS till {to} och skickas kl. {time}, när nattens "
                 "tysta timmar är slut.").format(to=sent.masked_to, time=due)  # fmt: skip
    return _("Inbjudan är köad som SMS till {to}.").format(to=sent.masked_to)


@auth.require_role("staff")
async def send_sms(request: web.Request) -> web.StreamResponse:
    """POST /team/deltagare/{id}/inbjudan/sms: a new invitation, sent by SMS."""
    return await _send_one(request, "sms")


@auth.require_role("staff")
async def send_email(request: web.Request) -> web.StreamResponse:
    """POST /team/deltagare/{id}/inbjudan/epost: a new invitation, sent by e-mail."""
    return await _send_one(request, "email")


def _chosen_ids(form: Any) -> list[int]:
    """The participant ids ticked in the bulk form (anything else is ignored)."""
    raw = form.getall("participant", []) if hasattr(form, "getall") else []
    return sorted({int(v) for v in raw if isinstance(v, str) and v.isdigit() and len(v) <= 12})


@auth.require_role("coordinator")
async def send_many(request: web.Request) -> web.StreamResponse:
    """POST /team/enkater/skicka: who will get an invitation (to confirm), then send them."""
    form = await request.post()
    team_code = str(form.get("team", "")) or None
    channel = str(form.get("channel", ""))
    chosen = _chosen_ids(form) if form.get("scope") == "chosen" else []
    if form.get("scope") == "chosen" and not chosen:
        await flash(request, i18n.gettext("Välj minst en deltagare att skicka till."))
        raise web.HTTPSeeOther(f"/team/enkater?team={team_code or ''}#inbjudan-skicka")
    enabled = enabled_channels(request)
    try:
        if form.get("confirm") != "ja":
            plan = await invitation_sending.plan_bulk(
                request.app[DB], staff_of(request), team_code, channel,
                participant_ids=chosen, enabled=enabled,
                reinvite_after_days=request.app[CONFIG].reinvite_after_days,
                now=request.app[CLOCK](),
            )  # fmt: skip
            unreachable = [(p, error.render(i18n.gettext)) for p, error in plan.unreachable]
            context = {
                "plan": plan,
                "unreachable": unreachable,
                "reinvite_after_days": request.app[CONFIG].reinvite_after_days,
            }
            return render(request, "team/send_invitations_confirm.html", context)
        sent, skipped = await invitation_sending.send_invitations(
            request.app[DB], staff_of(request), team_code, channel,
            participant_ids=chosen, enabled=enabled, public_url=request.app[CONFIG].public_url,
            days=request.app[CONFIG].invitation_days,
            reinvite_after_days=request.app[CONFIG].reinvite_after_days, now=request.app[CLOCK](),
        )  # fmt: skip
    except TeamNotAllowed:
        raise web.HTTPForbidden() from None
    except DomainError as failed:
        await flash(request, failed.render(i18n.gettext))
        raise web.HTTPSeeOther(f"/team/enkater?team={team_code or ''}") from None
    message = i18n.ngettext(
        "%(num)d inbjudan är köad.", "%(num)d inbjudningar är köade.", len(sent)
    ) % {"num": len(sent)}
    if skipped:
        message += " " + i18n.gettext(
            "{count} kunde inte skickas (saknar användbar kontaktuppgift)."
        ).format(count=len(skipped))
    await flash(request, message)
    raise web.HTTPSeeOther(f"/team/enkater?team={team_code or ''}")


async def delivery_report(request: web.Request) -> web.StreamResponse:
    """POST /sms/status/{token}: the SMS provider's delivery report (id, status, delivered)."""
    try:
        form = await request.post()
    except (ValueError, LookupError, AssertionError, RuntimeError):
        raise web.HTTPBadRequest(text="malformed form") from None
    stored = await record_sms_report(
        request.app[DB],
        request.match_info["token"],
        provider_id=str(form.get("id", "")),
        status=str(form.get("status", "")),
        delivered=str(form.get("delivered", "")) or None,
    )
    if not stored:  # a forged or stale token, or another message's id
        raise web.HTTPForbidden()
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    """Register the sending routes and the partial's helpers."""
    register_globals(app)
    aiohttp_jinja2.get_env(app).globals.update(
        mask_phone=mask_phone,
        mask_email=mask_email,
        invitation_sending=partial_context,
        shown_status=shown_status,
    )
    app.router.add_post(PERSON_PAGE + "/inbjudan/sms", send_sms)
    app.router.add_post(PERSON_PAGE + "/inbjudan/epost", send_email)
    app.router.add_post("/team/enkater/skicka", send_many)
    app.router.add_post(STATUS_PATH + "{token}", delivery_report)
