"""The participant survey as a mobile web page at ``/enkat/{token}``, for those without Telegram.

One question per page, plain HTML forms (no JavaScript), right-to-left for Arabic. It uses the
same survey definition, store and rules as the bot (:mod:`storage.surveys`): where the participant
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
from babel import Locale
from sqlalchemy.ext.asyncio import AsyncSession

from core import surveys as core
from core.errors import DomainError
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from intake import i18n
from intake.context import DB
from storage import invitations, surveys
from storage.invitations import InvitationError
from storage.surveys import SurveyState

STATUS_OF = {"unknown": 404, "expired": 410, "revoked": 410}


def language_name(code: str) -> str:
    """A language's name in that language, for the language switch: "Svenska", "العربية"."""
    name = Locale.parse(code).display_name or code
    return name[:1].upper() + name[1:]


def _token(request: web.Request) -> str:
    """The invitation token in the URL."""
    return request.match_info["token"]


def _page(request: web.Request) -> str:
    """The survey page's own path."""
    return f"/enkat/{_token(request)}"


async def _use_answer_language(request: web.Request, state: SurveyState) -> None:
    """Show the page in the language the survey was started in, unless one was chosen here."""
    session = await get_session(request)
    if "lang" not in session and state.invitation.language:
        i18n.set_language(state.invitation.language)


def _render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A survey page with the language switch and the page's own language and direction."""
    base = {
        "lang": i18n.current_language(),
        "dir": i18n.direction(),
        "languages": [(code, language_name(code)) for code in LANGUAGES],
        "page": _page(request),
        "show_delete_link": False,
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context})
    response.set_status(status)
    return response


def _unavailable(request: web.Request, error: InvitationError) -> web.Response:
    """The page for a link that cannot be used, saying why."""
    context = {"message": error.render(i18n.gettext)}
    return _render(request, "survey/unavailable.html", context, STATUS_OF.get(error.reason, 409))


async def show(request: web.Request) -> web.StreamResponse:
    """GET /enkat/{token}: the start page, the current question, or the thanks."""
    async with request.app[DB].transaction() as session:
        try:
            state = await invitations.load_token_state(session, _token(request))
        except InvitationError as error:
            return _unavailable(request, error)
        await _use_answer_language(request, state)
        return await _render_state(request, session, state)


async def _render_state(
    request: web.Request,
    session: AsyncSession,
    state: SurveyState,
    error: str = "",
    typed: list[str] | None = None,
) -> web.Response:
    """The page for where the participant is now."""
    question = state.current()
    if state.survey is None:
        survey = await surveys.survey_to_start(session, state)
        return _render(request, "survey/start.html", {"survey": survey})
    if question is None:
        context = {"survey": state.survey, "show_delete_link": True}
        return _render(request, "survey/thanks.html", context)
    context = question_context(state, question, error, typed)
    return _render(request, "survey/question.html", context, 422 if error else 200)


def question_context(
    state: SurveyState, question: core.Question, error: str, typed: list[str] | None
) -> dict[str, Any]:
    """What the question page shows: the question, the answer so far, the way on."""
    assert state.survey is not None
    stored = state.answers.get(question.id)
    if typed is not None:
        chosen = typed
    elif isinstance(stored, list):
        chosen = [str(value) for value in stored]
    elif isinstance(stored, bool):
        chosen = ["ja" if stored else "nej"]
    else:
        chosen = [] if stored is None else [str(stored)]
    described = [("answer-hint", bool(question.hint)), ("answer-error", bool(error))]
    return {
        "survey": state.survey,
        "question": question,
        "choices": _choices(question),
        "described": " ".join(name for name, shown in described if shown),
        "show_delete_link": True,
        "number": state.survey.index(question.id) + 1,
        "total": len(state.survey.questions),
        "chosen": chosen,
        "error": error,
        "redacted": question.id in state.redacted and typed is None,
        "can_go_back": core.previous_question(state.survey, question.id) is not None,
        "can_skip": core.can_skip(question),
    }


def _choices(question: core.Question) -> list[tuple[str, str]]:
    """(form value, label) of each choice: options, yes and no, or the numbers of a scale."""
    language = i18n.current_language()
    if question.kind == core.YESNO:
        return list(zip(("ja", "nej"), core.yes_no_labels(language), strict=True))
    if question.kind == core.SCALE:
        assert question.min is not None and question.max is not None
        numbers = range(question.min, question.max + 1)
        return [(str(n), core.answer_label(question, n, language)) for n in numbers]
    return [(option.code, option.text_in(language)) for option in question.options]


async def act(request: web.Request) -> web.StreamResponse:
    """POST /enkat/{token}: start, answer, skip, go back or leave for later; then redirect."""
    form = await request.post()
    action, qid = str(form.get("action", "answer")), str(form.get("question", ""))
    values = [str(value) for value in form.getall("answer", [])]
    chosen = (await get_session(request)).get("lang")
    db = request.app[DB]
    try:
        async with db.transaction() as session:
            state = await _apply(session, _token(request), action, qid, values, chosen)
    except InvitationError as error:
        return _unavailable(request, error)
    except DomainError as error:
        async with db.sessions() as session:
            state = await invitations.load_token_state(session, _token(request))
            await _use_answer_language(request, state)
            message = error.render(i18n.gettext)
            return await _render_state(request, session, state, message, values)
    if action == "later" and not state.completed:
        await _use_answer_language(request, state)
        return _render(request, "survey/saved.html", {"show_delete_link": True})
    raise web.HTTPSeeOther(_page(request))


async def _apply(
    session: AsyncSession,
    token: str,
    action: str,
    qid: str,
    values: list[str],
    chosen_language: str | None,
) -> SurveyState:
    """Apply one action to the locked state; a stale form (another question) changes nothing."""
    if action == "start":
        state = await invitations.claim_invitation(session, token)
        if not state.started:
            await surveys.start_response(session, state, chosen_language or DEFAULT_LANGUAGE)
        return state
    state = await invitations.load_token_state(session, token)
    question = state.current()
    if question is None or question.id != qid or action == "later":
        return state
    if chosen_language and state.invitation.language != chosen_language:
        await surveys.start_response(session, state, chosen_language)  # a new language chosen
    await _act_on(session, state, question, action, values)
    if state.started and state.current() is None:
        await surveys.complete_response(session, state)
    return state


async def _act_on(
    session: AsyncSession,
    state: SurveyState,
    question: core.Question,
    action: str,
    values: list[str],
) -> None:
    """Back, skip or answer the current question."""
    assert state.survey is not None
    if action == "back":
        previous = core.previous_question(state.survey, question.id)
        if previous is not None:
            await surveys.move_cursor(session, state, previous.id)
        return
    if action == "skip":
        await surveys.skip_question(session, state, question)
        await surveys.move_cursor(session, state, None)
        return
    redaction = await surveys.record_answer(
        session, state, question, core.parse_answer(question, values)
    )
    # After a redaction, show the question once more with the answer as it was stored.
    await surveys.move_cursor(session, state, question.id if redaction else None)


async def confirm_delete(request: web.Request) -> web.StreamResponse:
    """GET /enkat/{token}/radera: ask before deleting the answers."""
    async with request.app[DB].sessions() as session:
        try:
            state = await invitations.load_token_state(session, _token(request))
        except InvitationError as error:
            return _unavailable(request, error)
    return _render(request, "survey/delete.html", {"started": state.started})


async def delete(request: web.Request) -> web.StreamResponse:
    """POST /enkat/{token}/radera: delete the participant's answers."""
    async with request.app[DB].transaction() as session:
        try:
            state = await invitations.load_token_state(session, _token(request))
        except InvitationError as error:
            return _unavailable(request, error)
        if state.started:
            await surveys.delete_answers(session, state)
    return _render(request, "survey/deleted.html", {})


def setup(app: web.Application) -> None:
    """Add the web survey's routes."""
    app.router.add_get("/enkat/{token}", show)
    app.router.add_post("/enkat/{token}", act)
    app.router.add_get("/enkat/{token}/radera", confirm_delete)
    app.router.add_post("/enkat/{token}/radera", delete)
