"""Answering the survey: starting it, answering, ticking, skipping, going back, deleting answers.

Each operation is one transaction on one invitation, its row locked while it runs: it reads
where the participant is, lets :mod:`core.survey_flow` decide what the action changes, stores
that through :mod:`storage.surveys`, and returns a :class:`SurveyView` for the web page or the
chat to show. The web page names the invitation by its token; the bot's operations
(:mod:`services.survey_chat`) find it by the chat, and use :func:`apply_action_sync` and
:func:`delete_state_answers_sync` from here (synchronous code, one thread hop per update).

``surveys_dir`` is the förbund's own survey folder (``SAMVERKAN_SURVEYS_DIR``), where a team's
survey file may be; None offers the built-in surveys only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core import survey_flow as flow
from core.clock import utcnow
from core.i18n import DEFAULT_LANGUAGE
from core.surveys import Survey
from storage import audit, invitations, surveys
from storage.db import Database, SyncExecutor
from storage.models import Team
from storage.surveys import SurveyState


@dataclass(frozen=True)
class TeamContact:
    """How a participant reaches the team that sent their link (the team's public details)."""

    name: str
    phone: str | None = None
    email: str | None = None

    @classmethod
    def of(cls, team: Team | None) -> TeamContact | None:
        if team is None:
            return None
        return cls(team.name, team.contact_phone or None, team.contact_email or None)


@dataclass(frozen=True)
class SurveyView:
    """What a participant's survey looks like now, for a page or a chat to show.

    ``language`` is the one chosen (None until chosen); ``survey`` is the one answered, or
    the team's when not started; ``screen`` is None before the start. ``outcome`` is what
    the last action did (a stale action, a redaction notice, leaving for later).
    """

    language: str | None
    started: bool
    completed: bool
    survey: Survey
    screen: flow.Screen | None
    outcome: flow.Outcome = field(default_factory=flow.Outcome)
    team: TeamContact | None = None


async def view_of(
    session: AsyncSession,
    state: SurveyState,
    outcome: flow.Outcome | None = None,
    *,
    surveys_dir: Path | None = None,
    contact: bool = False,
) -> SurveyView:
    """The view of ``state`` after ``outcome``; with the team's contact details if ``contact``."""
    outcome = outcome or flow.Outcome()
    started = state.response is not None
    screen = flow.screen_of(state.position(), outcome.notice) if started else None
    return SurveyView(
        state.invitation.language,
        started,
        state.completed,
        await surveys.survey_to_start(session, state, surveys_dir),
        screen,
        outcome,
        TeamContact.of(await session.get(Team, state.invitation.team_id)) if contact else None,
    )


async def apply_action(
    session: AsyncSession, state: SurveyState, action: flow.Action
) -> flow.Outcome:
    """Decide and store one action on a started survey; complete it when nothing is left."""

    outcome = apply_action_sync(state, action)
    await surveys.save_state(session, state)
    return outcome


def apply_action_sync(state: SurveyState, action: flow.Action) -> flow.Outcome:
    """:func:`apply_action` for synchronous code (``Database.run_transaction``): the changes
    are made in ``state``, and the caller writes them with
    :func:`storage.surveys.save_state_sync`."""
    outcome = flow.decide(state.position(), action)
    if outcome.change is not None:
        surveys.store_change_sync(state, outcome.change)
    if outcome.moved:
        surveys.move_cursor_sync(state, outcome.cursor)
    if flow.should_complete(state.position()):
        surveys.complete_response_sync(state)
    return outcome


async def delete_state_answers(session: AsyncSession, state: SurveyState) -> None:
    """Delete the response and answers of ``state`` at the participant's request, audited."""

    def delete(sync: Session) -> None:
        delete_state_answers_sync(sync, state)
        surveys.save_state_sync(sync, state)

    await session.run_sync(delete)


def delete_state_answers_sync(executor: SyncExecutor, state: SurveyState) -> None:
    """:func:`delete_state_answers` for synchronous code (``Database.run_transaction``); the
    caller writes the state's changes with :func:`storage.surveys.save_state_sync`."""
    invitation = state.invitation
    response_id = surveys.delete_response_sync(executor, state)
    audit.record_sync(
        surveys.connection_of(executor),
        "survey.answers_deleted",
        at=utcnow(),
        actor="participant",
        object_type="invitation",
        object_id=invitation.id,
        team_id=invitation.team_id,
        detail={"response": response_id},
    )


# --- The web page's operations, by invitation token -----------------------------------------


async def show_survey(
    db: Database,
    token: str,
    *,
    completed_link_days: int | None = None,
    surveys_dir: Path | None = None,
) -> SurveyView:
    """Where the participant of ``token`` is (InvitationError when the link cannot be used)."""
    async with db.transaction() as session:
        state = await invitations.load_token_state(
            session, token, completed_link_days=completed_link_days
        )
        return await view_of(session, state, surveys_dir=surveys_dir, contact=state.completed)


async def team_contact(db: Database, token: str) -> TeamContact | None:
    """The contact details of the team that sent ``token``; None for a link we do not know."""
    async with db.sessions() as session:
        return TeamContact.of(await invitations.team_of_token(session, token))


async def claim_invitation(
    db: Database,
    token: str,
    *,
    chat_id: int | None = None,
    completed_link_days: int | None = None,
    surveys_dir: Path | None = None,
) -> SurveyView:
    """Bind the invitation to the web page (or a chat), once; anyone else is refused."""
    async with db.transaction() as session:
        state = await invitations.claim_invitation(
            session, token, chat_id=chat_id, completed_link_days=completed_link_days
        )
        return await view_of(session, state, surveys_dir=surveys_dir)


async def start_survey(
    db: Database,
    token: str,
    language: str | None,
    *,
    completed_link_days: int | None = None,
    surveys_dir: Path | None = None,
) -> SurveyView:
    """Claim the invitation for the web page and start the survey in ``language``."""
    async with db.transaction() as session:
        state = await invitations.claim_invitation(
            session, token, completed_link_days=completed_link_days
        )
        if not state.started:
            language = language or DEFAULT_LANGUAGE
            await surveys.start_response(session, state, language, surveys_dir=surveys_dir)
        return await view_of(session, state, surveys_dir=surveys_dir)


async def act_on_survey(
    db: Database,
    token: str,
    action: flow.Action,
    language: str | None = None,
    *,
    completed_link_days: int | None = None,
    surveys_dir: Path | None = None,
) -> SurveyView:
    """Apply one action to the current question; a stale one (another question) changes nothing.

    ``language``, when given and not the one answered in, becomes the survey's language.
    """
    async with db.transaction() as session:
        state = await invitations.load_token_state(
            session, token, completed_link_days=completed_link_days
        )
        if not state.started:
            return await view_of(session, state, flow.Outcome(stale=True), surveys_dir=surveys_dir)
        outcome = flow.decide(state.position(), action)
        if outcome.stale or outcome.later:
            return await view_of(session, state, outcome, surveys_dir=surveys_dir)
        if language and state.invitation.language != language:  # a new language chosen
            await surveys.start_response(session, state, language, surveys_dir=surveys_dir)
        outcome = await apply_action(session, state, action)
        return await view_of(session, state, outcome, surveys_dir=surveys_dir)


async def answer_question(
    db: Database, token: str, qid: str, value: str | Sequence[str], language: str | None = None
) -> SurveyView:
    """Answer the current question ``qid``; free text with personal details stays to confirm."""
    action = flow.Action(flow.ANSWER, qid, value, confirm_redacted=True)
    return await act_on_survey(db, token, action, language)


async def toggle_choice(db: Database, token: str, qid: str, option: str) -> SurveyView:
    """Tick or untick one option of the several-choice question ``qid``."""
    return await act_on_survey(db, token, flow.Action(flow.TICK, qid, option))


async def skip_question(
    db: Database, token: str, qid: str, language: str | None = None
) -> SurveyView:
    """Pass over the optional question ``qid``."""
    return await act_on_survey(db, token, flow.Action(flow.SKIP, qid), language)


async def go_back(db: Database, token: str, qid: str, language: str | None = None) -> SurveyView:
    """Go from question ``qid`` to the one before it."""
    return await act_on_survey(db, token, flow.Action(flow.BACK, qid), language)


async def finish_later(db: Database, token: str, qid: str) -> SurveyView:
    """Stop at question ``qid``; the answers are kept and the same link continues."""
    return await act_on_survey(db, token, flow.Action(flow.LATER, qid))


async def delete_answers(
    db: Database, token: str, *, completed_link_days: int | None = None
) -> bool:
    """Delete the participant's answers at their request (audited); False when there were none.

    Once a completed link has closed (InvitationError ``closed``) only the team can delete them.
    """
    async with db.transaction() as session:
        state = await invitations.load_token_state(
            session, token, completed_link_days=completed_link_days
        )
        if not state.started:
            return False
        await delete_state_answers(session, state)
        return True
