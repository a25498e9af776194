"""Inviting participants to the survey, and choosing the team's survey.

Staff act for the teams they may see (:class:`core.access.Staff`); a team they may not act for
is refused with :class:`TeamNotAllowed`, never swapped for their own. The command line acts
for every team (``staff`` None). Each operation is one transaction, audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.errors import NotAllowed, NotFound
from core.i18n import N_
from core.invitations import NewInvitation
from core.surveys import Survey
from storage import audit, invitations, surveys
from storage.db import Database
from storage.models import Invitation, Participant, Response, Team


class TeamNotAllowed(NotAllowed):
    """The team named is not one this member of staff may act for."""

    def __init__(self) -> None:
        super().__init__(N_("Du har inte behörighet för det teamet."), field="team")


@dataclass(frozen=True)
class TeamSurveyPage:
    """What the team's survey page shows: the team, the teams to pick, active participants."""

    team: Team
    teams: list[Team]
    rows: list[tuple[Participant, Invitation | None, Response | None]]
    survey_files: list[str]


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
    db: Database, staff: Staff, code: str | None, *, surveys_dir: Path | None = None
) -> TeamSurveyPage:
    """The team's active participants with their latest invitation, the teams and surveys to pick.

    ``surveys_dir``: the förbund's own survey folder, offered along with the built-in surveys.
    """
    async with db.sessions() as session:
        team = await _team(session, staff, code)
        active = await invitations.active_participants(session, team.id)
        latest = await invitations.latest_invitations(session, [p.id for p in active])
        teams = await _visible_teams(session, staff)
    rows = [(participant, *latest.get(participant.id, (None, None))) for participant in active]
    return TeamSurveyPage(team, teams, rows, surveys.survey_files(surveys_dir))


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
            participant = await session.get(Participant, participant_id)
            if participant is None or (staff is not None and not staff.sees(participant.team_id)):
                raise NotFound(N_("Deltagaren finns inte."))
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
