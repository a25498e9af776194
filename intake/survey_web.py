"""The participant survey as a mobile web page at ``/enkat/{token}``, for those without Telegram.

One question per page, plain HTML forms (no JavaScript), right-to-left for Arabic. It uses the
same survey definition, store and rules as the bot (:mod:`services.surveys`, whose flow
:mod:`core.survey_flow` computes): where the participant
is comes from the stored answers, so they can leave and come back with the same link. The token
is in the URL by design: pages send ``Referrer-Policy: no-referrer`` and the metrics use the route
pattern, never the path. ``GET`` shows where the participant is; ``POST`` applies one action
(``start``, ``answer``, ``skip``, ``back``, ``later``) and redirects back (303).
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from core import survey_flow as flow
from core import surveys as core
from core.errors import DomainError
from core.i18n import SURVEY_LANGUAGES
from core.invitations import InvitationError
from core.translations import language_name
from intake import i18n
from intake.context import CONFIG, DB
from services import surveys
from services.surveys import SurveyView

STATUS_OF = {"unknown": 404, "expired": 410, "revoked": 410, "closed": 410}


def _token(request: web.Request) -> str:
    """The invitation token in the URL."""
    return request.match_info["token"]


def _page(request: web.Request) -> str:
    """The survey page's own path."""
    return f"/enkat/{_token(request)}"


async def _use_answer_language(request: web.Request, view: SurveyView) -> None:
    """Show the page in the language the survey was started in, unless one was chosen here."""
    session = await get_session(request)
    if "lang" not in session and view.language:
        i18n.set_language(view.language)


def _render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A survey page with the language switch and the page's own language and direction."""
    base = {
        "lang": i18n.current_language(),
        "dir": i18n.direction(),
        "languages": [(code, language_name(code)) for code in SURVEY_LANGUAGES],
        "page": _page(request),
        "show_delete_link": False,
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context})
    response.set_status(status)
    return response


def _closes_after(request: web.Request) -> int:
    """Days after completion that a link still works (``SAMVERKAN_COMPLETED_LINK_DAYS``)."""
    return request.app[CONFIG].completed_link_days


def _survey_settings(request: web.Request) -> dict[str, Any]:
    """The settings a survey page passes on: when a link closes, the förbund's own surveys."""
    config = request.app[CONFIG]
    return {"completed_link_days": config.completed_link_days, "surveys_dir": config.surveys_dir}


#: Links that need a new one: the page says how to get it.
NEEDS_NEW_LINK = ("unknown", "expired", "revoked")


async def _unavailable(request: web.Request, error: InvitationError) -> web.Response:
    """The page for a link that cannot be used, saying why and how to reach the team (a
    closed survey has its own); for a link we do not know, whom to ask for a new one."""
    team = (
        None
        if error.reason == "unknown"
        else await surveys.team_contact(request.app[DB], _token(request))
    )
    context = {
        "message": error.render(i18n.gettext),
        "team": team,
        "new_link": error.reason in NEEDS_NEW_LINK,
    }
    template = "survey/closed.html" if error.reason == "closed" else "survey/unavailable.html"
    return _render(request, template, context, STATUS_OF.get(error.reason, 409))


async def show(request: web.Request) -> web.StreamResponse:
    """GET /enkat/{token}: the start page, the current question, or the thanks."""
    try:
        view = await surveys.show_survey(
            request.app[DB], _token(request), **_survey_settings(request)
        )
    except InvitationError as error:
        return await _unavailable(request, error)
    await _use_answer_language(request, view)
    return _render_view(request, view)


def _render_view(
    request: web.Request, view: SurveyView, error: str = "", typed: list[str] | None = None
) -> web.Response:
    """The page for where the participant is now."""
    if view.screen is None:
        return _render(request, "survey/start.html", {"survey": view.survey})
    if view.screen.question is None:
        context = {"survey": view.survey, "show_delete_link": True, "team": view.team}
        return _render(request, "survey/thanks.html", context)
    context = question_context(view.survey, view.screen, error, typed)
    return _render(request, "survey/question.html", context, 422 if error else 200)


def question_context(
    survey: core.Survey, screen: flow.Screen, error: str, typed: list[str] | None
) -> dict[str, Any]:
    """What the question page shows: the question, the answer so far, the way on."""
    question = screen.question
    assert question is not None
    described = [("answer-hint", bool(question.hint)), ("answer-error", bool(error))]
    return {
        "survey": survey,
        "question": question,
        "choices": flow.choices(question, i18n.current_language()),
        "described": " ".join(name for name, shown in described if shown),
        "show_delete_link": True,
        "number": screen.number,
        "total": screen.total,
        "chosen": typed if typed is not None else flow.answer_so_far(question, screen.answer),
        "error": error,
        "redacted": screen.answer_redacted and typed is None,
        "can_go_back": screen.can_go_back,
        "can_skip": screen.can_skip,
    }


async def act(request: web.Request) -> web.StreamResponse:
    """POST /enkat/{token}: start, answer, skip, go back or leave for later; then redirect."""
    form = await request.post()
    action, qid = str(form.get("action", "answer")), str(form.get("question", ""))
    values = [str(value) for value in form.getall("answer", [])]
    chosen = (await get_session(request)).get("lang")
    db, token, given = request.app[DB], _token(request), _survey_settings(request)
    try:
        if action == "start":
            view = await surveys.start_survey(db, token, chosen, **given)
        else:
            wanted = flow.Action(action, qid, values, confirm_redacted=True)
            view = await surveys.act_on_survey(db, token, wanted, chosen, **given)
    except InvitationError as error:
        return await _unavailable(request, error)
    except DomainError as error:
        view = await surveys.show_survey(db, token, **given)
        await _use_answer_language(request, view)
        return _render_view(request, view, error.render(i18n.gettext), values)
    if view.outcome.later and not view.completed:
        await _use_answer_language(request, view)
        return _render(request, "survey/saved.html", {"show_delete_link": True})
    raise web.HTTPSeeOther(_page(request))


async def confirm_delete(request: web.Request) -> web.StreamResponse:
    """GET /enkat/{token}/radera: ask before deleting the answers."""
    try:
        view = await surveys.show_survey(
            request.app[DB], _token(request), **_survey_settings(request)
        )
    except InvitationError as error:
        return await _unavailable(request, error)
    return _render(request, "survey/delete.html", {"started": view.started})


async def delete(request: web.Request) -> web.StreamResponse:
    """POST /enkat/{token}/radera: delete the participant's answers."""
    try:
        await surveys.delete_answers(
            request.app[DB], _token(request), completed_link_days=_closes_after(request)
        )
    except InvitationError as error:
        return await _unavailable(request, error)
    return _render(request, "survey/deleted.html", {})


def setup(app: web.Application) -> None:
    """Add the web survey's routes."""
    app.router.add_get("/enkat/{token}", show)
    app.router.add_post("/enkat/{token}", act)
    app.router.add_get("/enkat/{token}/radera", confirm_delete)
    app.router.add_post("/enkat/{token}/radera", delete)
