"""Inviting participants to the survey, and choosing the team's survey.

Staff act for the teams they may see (:class:`core.access.Staff`); a team they may not act for
is refused with :class:`TeamNotAllowed`, never swapped for their own. The command line acts
for every team (``staff`` None). Each operation is one transaction, audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.clock import utcnow
from core.errors import NotAllowed, NotFound
from core.i18n import N_
from core.invitations import NewInvitation
from core.surveys import Survey
from services.invitation_lists import (
    STATUS_LABELS,
    InvitationRow,
    SurveyStatus,
    invitation_rows,
    references,
    row_of,
    survey_statuses,
)
from storage import audit, invitations, surveys
from storage.db import Database
from storage.models import Invitation, Participant, Team

#: At most this many letters in one PDF (a team's active participants fit many times over).
MAX_LETTERS = 1000


class TeamNotAllowed(NotAllowed):
    """The team named is not one this member of staff may act for."""

    def __init__(self) -> None:
        super().__init__(N_("Du har inte behörighet för det teamet."), field="team")


class CoordinatorsOnly(NotAllowed):
    """Inviting a whole team at once is for coordinators (and admins)."""

    def __init__(self) -> None:
        super().__init__(N_("Bara samordnare kan bjuda in alla deltagare på en gång."))


@dataclass(frozen=True)
class TeamSurveyPage:
    """The team's survey page: the team, teams to pick, rows shown after the search and filter.

    ``total`` counts the active participants before filtering, ``counts`` them by status.
    """

    team: Team
    teams: list[Team]
    rows: list[InvitationRow]
    total: int
    counts: dict[str, int]
    survey_files: list[str]


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation with its token (shown once), and what staff and the letter show."""

    invitation_id: int
    participant_id: int
    token: str
    name: str | None
    reference: str
    team_name: str
    language: str
    expires_at: datetime


@dataclass(frozen=True)
class TeamInvitePlan:
    """Who "invite all" would invite, and who it leaves out and why (``answered``/``invited``)."""

    team: Team
    invite: list[InvitationRow]
    skipped: list[tuple[InvitationRow, str]]
    days: int


@dataclass(frozen=True)
class TeamInvitations:
    """What "invite all" did: the new invitations and who it left out, and why."""

    team: Team
    created: list[IssuedInvitation]
    skipped: list[tuple[InvitationRow, str]]


async def _team(session: AsyncSession, staff: Staff | None, code: str | None) -> Team:
    """Team ``code`` (None: the first one this person may see); TeamNotAllowed when not theirs."""
    teams = await _visible_teams(session, staff)
    if code is None:
        if not teams:
            raise TeamNotAllowed()
        return teams[0]
    chosen = next((team for team in teams if team.code == code), None)
    if chosen is None:
        raise TeamNotAllowed()
    return chosen


async def _visible_teams(session: AsyncSession, staff: Staff | None) -> list[Team]:
    """The teams this person may act for, by code."""
    teams = await session.scalars(select(Team).order_by(Team.code))
    return [team for team in teams if staff is None or staff.sees(team.id)]


async def team_survey_page(
    db: Database,
    staff: Staff,
    code: str | None,
    *,
    search: str = "",
    status: str = "",
    surveys_dir: Path | None = None,
) -> TeamSurveyPage:
    """The team's active participants with their survey status, searched and filtered.

    ``search`` matches part of a name or reference; ``status`` is one of
    :data:`services.invitation_lists.STATUS_LABELS` (anything else: every status).
    ``surveys_dir``: the förbund's own survey folder, offered along with the built-in surveys.
    """
    async with db.sessions() as session:
        team = await _team(session, staff, code)
        rows = await invitation_rows(
            session, await invitations.active_participants(session, team.id)
        )
        teams = await _visible_teams(session, staff)
    counts = {key: sum(row.survey.status == key for row in rows) for key in STATUS_LABELS}
    shown = [
        row
        for row in rows
        if row.matches(search) and (status not in STATUS_LABELS or row.survey.status == status)
    ]
    return TeamSurveyPage(team, teams, shown, len(rows), counts, surveys.survey_files(surveys_dir))


def _require_coordinator(staff: Staff | None) -> None:
    """CoordinatorsOnly unless ``staff`` is a coordinator or an admin (None: the command line)."""
    if staff is not None and not staff.has_role("coordinator"):
        raise CoordinatorsOnly()


async def _plan(
    session: AsyncSession, staff: Staff | None, code: str | None, days: int, now: datetime
) -> TeamInvitePlan:
    """Split the team's active participants into those to invite and those to leave out."""
    team = await _team(session, staff, code)
    rows = await invitation_rows(session, await invitations.active_participants(session, team.id))
    invite, skipped = [], []
    for row in rows:
        reason = row.survey.skip_reason(now, days)
        if reason is None:
            invite.append(row)
        else:
            skipped.append((row, reason))
    return TeamInvitePlan(team, invite, skipped, days)


async def plan_team_invitations(
    db: Database,
    staff: Staff,
    code: str | None,
    *,
    reinvite_after_days: int,
    now: datetime | None = None,
) -> TeamInvitePlan:
    """What "invite all" would do now, for the confirmation (coordinators and admins only)."""
    _require_coordinator(staff)
    async with db.sessions() as session:
        return await _plan(session, staff, code, reinvite_after_days, now or utcnow())


async def invite_team(
    db: Database,
    staff: Staff,
    code: str | None,
    *,
    channel: str,
    days: int,
    reinvite_after_days: int,
    now: datetime | None = None,
) -> TeamInvitations:
    """Invite the team's active participants but those who answered or were invited lately.

    For coordinators and admins (:class:`CoordinatorsOnly` otherwise). The plan is made again
    inside the transaction, so a survey finished since the confirmation is still left out.
    """
    _require_coordinator(staff)
    now = now or utcnow()
    async with db.transaction() as session:
        plan = await _plan(session, staff, code, reinvite_after_days, now)
        participants = await _participants(session, [row.participant_id for row in plan.invite])
        created = await _invite(session, participants, channel=channel, days=days, staff=staff)
        issued = [
            _issued(new, row, plan.team) for new, row in zip(created, plan.invite, strict=True)
        ]
        return TeamInvitations(plan.team, issued, plan.skipped)


async def invite_person(
    db: Database, staff: Staff, participant_id: int, *, channel: str, days: int
) -> IssuedInvitation:
    """A new invitation for one participant of a team ``staff`` sees (NotFound otherwise)."""
    async with db.transaction() as session:
        participant = await _visible_participant(session, staff, participant_id)
        [created] = await _invite(session, [participant], channel=channel, days=days, staff=staff)
        row = await _row(session, participant)
        team = await session.get_one(Team, participant.team_id)
        return _issued(created, row, team)


async def participant_survey_status(
    db: Database, staff: Staff, participant_id: int
) -> SurveyStatus:
    """Where the participant stands with the survey (NotFound when not theirs to see)."""
    async with db.sessions() as session:
        participant = await _visible_participant(session, staff, participant_id)
        return (await survey_statuses(session, [participant.id])).get(participant.id) or (
            SurveyStatus()
        )


async def invitation_letters(
    db: Database, staff: Staff, tokens: Sequence[str], *, now: datetime | None = None
) -> list[IssuedInvitation]:
    """The letters of invitations just shown to ``staff`` (their tokens), each print audited.

    A token that is unknown, replaced by a newer invitation, past its last day or of a team
    ``staff`` does not see gives no letter. At most :data:`MAX_LETTERS`, in the order given.
    """
    now = now or utcnow()
    issued = []
    async with db.transaction() as session:
        for token in list(dict.fromkeys(tokens))[:MAX_LETTERS]:
            if not invitations.TOKEN_PATTERN.fullmatch(token):
                continue
            invitation = await session.scalar(
                select(Invitation).where(Invitation.token_hash == invitations.hash_token(token))
            )
            if invitation is None or not staff.sees(invitation.team_id):
                continue
            if invitation.revoked_at is not None or invitation.expires_at <= now:
                continue
            participant = await session.get_one(Participant, invitation.participant_id)
            row = await _row(session, participant)
            team = await session.get_one(Team, invitation.team_id)
            new = NewInvitation(
                invitation.id, participant.id, participant.person_ref, token, invitation.expires_at
            )
            issued.append(_issued(new, row, team))
            await audit.record(
                session,
                "invitation.letter",
                actor=staff.actor,
                user_id=staff.user_id,
                object_type="participant",
                object_id=participant.id,
                team_id=invitation.team_id,
                detail={"invitation": invitation.id},
            )
    return issued


async def _visible_participant(
    session: AsyncSession, staff: Staff | None, participant_id: int
) -> Participant:
    """The participant, if ``staff`` may see their team; NotFound otherwise."""
    participant = await session.get(Participant, participant_id)
    if participant is None or (staff is not None and not staff.sees(participant.team_id)):
        raise NotFound(N_("Deltagaren finns inte."))
    return participant


async def _participants(session: AsyncSession, ids: list[int]) -> list[Participant]:
    """The participants of ``ids``, in that order."""
    found = {
        p.id: p for p in await session.scalars(select(Participant).where(Participant.id.in_(ids)))
    }
    return [found[participant_id] for participant_id in ids]


async def _row(session: AsyncSession, participant: Participant) -> InvitationRow:
    """One participant's row: name, reference, language and status."""
    status = (await survey_statuses(session, [participant.id])).get(participant.id)
    reference = (await references(session, [participant.id])).get(participant.id)
    return row_of(participant, reference or participant.person_ref, status)


def _issued(new: NewInvitation, row: InvitationRow, team: Team) -> IssuedInvitation:
    """A new invitation with what staff and the letter show of its participant."""
    return IssuedInvitation(
        new.invitation_id,
        new.participant_id,
        new.token,
        row.name,
        row.reference,
        team.name,
        row.language,
        new.expires_at,
    )


async def _invite(
    session: AsyncSession,
    participants: list[Participant],
    *,
    channel: str,
    days: int,
    staff: Staff | None,
) -> list[NewInvitation]:
    """New invitations (older unfinished ones stop working), each audited."""
    user_id = staff.user_id if staff else None
    created = await invitations.create_invitations(
        session, participants, channel=channel, days=days, user_id=user_id
    )
    for new, participant in zip(created, participants, strict=True):
        await audit.record(
            session,
            "invitation.created",
            actor=staff.actor if staff else "cli",
            user_id=user_id,
            object_type="participant",
            object_id=participant.id,
            team_id=participant.team_id,
            detail={"invitation": new.invitation_id, "channel": channel},
        )
    return created


async def invite_in_transaction(
    session: AsyncSession,
    participants: list[Participant],
    *,
    channel: str,
    days: int,
    staff: Staff | None,
) -> list[NewInvitation]:
    """New invitations inside another operation's transaction (sending them by SMS or e-mail)."""
    return await _invite(session, participants, channel=channel, days=days, staff=staff)


async def invite_participant(
    db: Database,
    staff: Staff | None,
    *,
    participant_id: int | None = None,
    person_ref: str | None = None,
    team_code: str | None = None,
    channel: str,
    days: int,
) -> NewInvitation:
    """A new invitation for one participant, by id or by ``person_ref`` (and team)."""
    async with db.transaction() as session:
        if participant_id is not None:
            participant = await _visible_participant(session, staff, participant_id)
        else:
            assert person_ref is not None
            participant = await invitations.find_participant(session, person_ref, team_code)
        [created] = await _invite(session, [participant], channel=channel, days=days, staff=staff)
        return created


async def invite_active_participants(
    db: Database, staff: Staff | None, team_code: str | None, *, channel: str, days: int
) -> list[NewInvitation]:
    """New invitations for every active participant of the team (TeamNotAllowed if not theirs)."""
    async with db.transaction() as session:
        team = await _team(session, staff, team_code)
        active = await invitations.active_participants(session, team.id)
        return await _invite(session, active, channel=channel, days=days, staff=staff)


async def select_team_survey(
    db: Database,
    staff: Staff | None,
    team_code: str | None,
    file_name: str | None,
    *,
    surveys_dir: Path | None = None,
) -> tuple[Team, Survey]:
    """Switch the team to a survey file (None: the default), audited.

    The files are the built-in surveys and those in ``surveys_dir`` (the förbund's own folder).

    Raises :class:`core.surveys.SurveyFileError` naming the file, the question and the reason.
    """
    async with db.transaction() as session:
        team = await _team(session, staff, team_code)
        survey = await surveys.set_team_survey(session, team.id, file_name, surveys_dir)
        user_id = staff.user_id if staff else None
        await audit.record(
            session,
            "survey.selected",
            actor=f"user:{user_id}",
            user_id=user_id,
            object_type="team",
            object_id=team.id,
            team_id=team.id,
            detail={"code": survey.code, "version": survey.version},
        )
        return team, survey
