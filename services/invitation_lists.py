"""Where each participant stands with the survey, as staff see it on lists and the person page.

A participant is *not invited*, *invited* (their newest invitation has no answers yet),
*started* (answers, not finished) or has *answered* (the newest invitation's survey is
finished). Rows carry the participant's name (None with protected identity) and the same
reference as the board and the person page: the reference of the referral they are enrolled
on (for someone not enrolled now, their newest referral's).

"Invite all" skips a participant who answered, or was invited, fewer than the set number of
days ago (``SAMVERKAN_REINVITE_AFTER_DAYS``), so a finished survey or a fresh link is not
replaced by a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_
from reports.letters import survey_language
from storage.models import Invitation, Participant, Referral, Response

#: The survey statuses, in the order lists offer them, with their labels.
STATUS_LABELS = {
    "not_invited": N_("Inte inbjuden"),
    "invited": N_("Inbjuden"),
    "started": N_("Påbörjad"),
    "answered": N_("Besvarad"),
}
#: Why "invite all" leaves someone out.
SKIP_REASONS = {
    "answered": N_("har svarat de senaste {days} dagarna"),
    "invited": N_("fick en inbjudan de senaste {days} dagarna"),
}


@dataclass(frozen=True)
class SurveyStatus:
    """A participant's newest invitation and how far its survey got; times are UTC."""

    status: str = "not_invited"
    invited_at: datetime | None = None
    expires_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    #: When any of the participant's surveys was last finished (an older one, too).
    last_answered_at: datetime | None = None
    #: The language the participant last answered in, if they ever did.
    answer_language: str | None = None

    def expired(self, now: datetime) -> bool:
        """True when the newest invitation is unanswered and past its last day."""
        return (
            self.status in ("invited", "started")
            and self.expires_at is not None
            and (self.expires_at <= now)
        )

    def skip_reason(self, now: datetime, days: int) -> str | None:
        """Why "invite all" leaves this participant out (``answered``/``invited``), or None."""
        if days <= 0:
            return None
        since = now - timedelta(days=days)
        if self.last_answered_at is not None and self.last_answered_at > since:
            return "answered"
        if self.invited_at is not None and self.invited_at > since:
            return "invited"
        return None


@dataclass(frozen=True)
class InvitationRow:
    """One participant on the survey page: who, which reference, where they stand."""

    participant_id: int
    name: str | None
    reference: str
    language: str
    survey: SurveyStatus

    def matches(self, search: str) -> bool:
        """True when ``search`` is part of the name or the reference (case ignored)."""
        needle = search.strip().casefold()
        return (
            not needle
            or needle in self.reference.casefold()
            or (self.name is not None and needle in self.name.casefold())
        )


async def survey_statuses(
    session: AsyncSession, participant_ids: Iterable[int]
) -> dict[int, SurveyStatus]:
    """Each participant's survey status (participants never invited are left out)."""
    ids = list(participant_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(Invitation, Response)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.participant_id.in_(ids))
        .order_by(Invitation.created_at, Invitation.id)
    )
    latest: dict[int, tuple[Invitation, Response | None]] = {}
    answered: dict[int, tuple[datetime, str]] = {}
    for invitation, response in rows:
        latest[invitation.participant_id] = (invitation, response)
        if response is not None and response.completed_at is not None:
            before = answered.get(invitation.participant_id)
            if before is None or before[0] < response.completed_at:
                answered[invitation.participant_id] = (response.completed_at, response.language)
    return {pid: _status(*latest[pid], answered.get(pid)) for pid in latest}


def _status(
    invitation: Invitation, response: Response | None, answered: tuple[datetime, str] | None
) -> SurveyStatus:
    """The status of a participant from their newest invitation and last finished survey."""
    if response is None:
        status = "invited"
    else:
        status = "answered" if response.completed_at is not None else "started"
    return SurveyStatus(
        status=status,
        invited_at=invitation.created_at,
        expires_at=invitation.expires_at,
        started_at=response.started_at if response else None,
        completed_at=response.completed_at if response else None,
        last_answered_at=answered[0] if answered else None,
        answer_language=answered[1] if answered else None,
    )


async def references(session: AsyncSession, participant_ids: Sequence[int]) -> dict[int, str]:
    """Each participant's reference as the board shows it: the enrolment's, else the newest."""
    if not participant_ids:
        return {}
    rows = await session.execute(
        select(Referral.participant_id, Referral.reference, Referral.status, Referral.end_date)
        .where(Referral.participant_id.in_(list(participant_ids)))
        .order_by(Referral.received_at, Referral.id)
    )
    found: dict[int, tuple[bool, str]] = {}
    for participant_id, reference, status, end_date in rows:
        enrolled = status == "enrolled" and end_date is None
        if enrolled or not found.get(participant_id, (False, ""))[0]:
            found[participant_id] = (enrolled, reference)
    return {participant_id: reference for participant_id, (_, reference) in found.items()}


async def invitation_rows(
    session: AsyncSession, participants: Sequence[Participant]
) -> list[InvitationRow]:
    """The rows of ``participants``, by name (protected identities last), then reference."""
    ids = [participant.id for participant in participants]
    statuses = await survey_statuses(session, ids)
    refs = await references(session, ids)
    rows = [row_of(p, refs.get(p.id, p.person_ref), statuses.get(p.id)) for p in participants]
    return sorted(
        rows, key=lambda row: (row.name is None, (row.name or "").casefold(), row.reference)
    )


def row_of(participant: Participant, reference: str, status: SurveyStatus | None) -> InvitationRow:
    """One participant's row (the name only without protected identity)."""
    status = status or SurveyStatus()
    name = None if participant.protected_identity else participant.name
    language = status.answer_language or survey_language(participant.language)
    return InvitationRow(participant.id, name, reference, language, status)
