"""Right of access (GDPR art. 15): everything stored about one participant, as JSON.

:func:`export_person` gathers the person, every referral with its history and steps, the
consent records, survey invitations, responses and answers, and the audit entries about the
person and their referrals (who saw or changed what, and when). The extract is for the
person themselves, so it holds their full personnummer; it is handed over as a file and
never sent by e-mail. Each extract is audited (``participant.exported``, counts only).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.errors import NotFound
from core.i18n import N_
from storage import audit
from storage.db import Database
from storage.models import (
    Answer,
    AnswerTheme,
    AuditEntry,
    Consent,
    Invitation,
    Participant,
    ProgressStep,
    Referral,
    ReferralEvent,
    Response,
    StaffUser,
    Team,
)

SCHEMA = "samverkan.person/1"


def _plain(value: Any) -> Any:
    """A JSON-ready value: dates and times as ISO 8601."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _fields(row: Any, names: Sequence[str]) -> dict[str, Any]:
    """The named attributes of a model row, JSON-ready."""
    return {name: _plain(getattr(row, name)) for name in names}


async def find_participant(
    session: AsyncSession,
    *,
    participant_id: int | None = None,
    person_ref: str | None = None,
    team_code: str | None = None,
) -> int:
    """The id of the participant given by id, or by the team's own reference and team code."""
    query = select(Participant.id)
    if participant_id is not None:
        query = query.where(Participant.id == participant_id)
    else:
        query = query.join(Team, Team.id == Participant.team_id).where(
            Participant.person_ref == person_ref, Team.code == team_code
        )
    found = await session.scalar(query)
    if found is None:
        raise NotFound(N_("Deltagaren finns inte."))
    return found


async def may_export(db: Database, participant_id: int, team_ids: Collection[int] | None) -> bool:
    """True when the participant exists and belongs to one of ``team_ids`` (None: any team)."""
    async with db.sessions() as session:
        team_id = await session.scalar(
            select(Participant.team_id).where(Participant.id == participant_id)
        )
    return team_id is not None and (team_ids is None or team_id in team_ids)


async def export_person(
    db: Database,
    participant_id: int,
    *,
    actor: str,
    user_id: int | None = None,
    team_ids: Collection[int] | None = None,
) -> dict[str, Any]:
    """All data about one participant; ``team_ids`` limits whom the caller may export."""
    async with db.transaction() as session:
        person = await session.get(Participant, participant_id)
        if person is None or (team_ids is not None and person.team_id not in team_ids):
            raise NotFound(N_("Deltagaren finns inte, eller så hör den till ett annat team."))
        team = await session.get_one(Team, person.team_id)
        referrals = await _referrals(session, participant_id)
        survey = await _survey(session, participant_id)
        extract = {
            "schema": SCHEMA,
            "exported_at": utcnow().isoformat(),
            "team": {"code": team.code, "name": team.name},
            "person": _person(person),
            "referrals": referrals,
            "consents": await _consents(session, participant_id),
            "survey": survey,
            "access_log": await _access_log(session, participant_id),
        }
        await audit.record(
            session,
            "participant.exported",
            actor=actor,
            user_id=user_id,
            object_type="participant",
            object_id=participant_id,
            team_id=person.team_id,
            detail={"referrals": len(referrals), "responses": len(survey["responses"])},
        )
    return extract


def _person(person: Participant) -> dict[str, Any]:
    return _fields(
        person,
        (
            "person_ref",
            "name",
            "personnummer",
            "protected_identity",
            "phone",
            "email",
            "contact_channel",
            "language",
            "interpreter",
            "gender",
            "birth_date",
            "birth_year",
            "follow_up_consent",
            "created_at",
            "purged_at",
        ),
    )


async def _staff_names(session: AsyncSession) -> dict[int, str]:
    rows = await session.execute(select(StaffUser.id, StaffUser.display_name))
    return {uid: name for uid, name in rows.all()}


async def _referrals(session: AsyncSession, participant_id: int) -> list[dict[str, Any]]:
    """Every referral of the person, with its status history and steps towards work."""
    names = await _staff_names(session)
    referrals = (
        await session.scalars(
            select(Referral).where(Referral.participant_id == participant_id).order_by(Referral.id)
        )
    ).all()
    found = []
    for referral in referrals:
        events = await session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at, ReferralEvent.id)
        )
        steps = await session.scalars(
            select(ProgressStep)
            .where(ProgressStep.referral_id == referral.id)
            .order_by(ProgressStep.recorded_on)
        )
        found.append(
            {
                **_fields(
                    referral,
                    (
                        "reference",
                        "status",
                        "received_at",
                        "received_date",
                        "referrer_code",
                        "referrer_name",
                        "referrer_email",
                        "referrer_phone",
                        "income_source",
                        "income_source_after",
                        "contacts",
                        "help_wanted",
                        "practical_needs",
                        "form_language",
                        "start_date",
                        "trial_months",
                        "end_date",
                        "end_reason",
                    ),
                ),
                "events": [
                    {
                        **_fields(
                            e,
                            (
                                "at",
                                "from_status",
                                "to_status",
                                "reason",
                                "note",
                                "referrer_message",
                            ),
                        ),
                        "by": names.get(e.user_id or 0),
                    }
                    for e in events
                ],
                "progress": [
                    {**_fields(s, ("recorded_on", "step", "note")), "by": names.get(s.user_id or 0)}
                    for s in steps
                ],
            }
        )
    return found


async def _consents(session: AsyncSession, participant_id: int) -> list[dict[str, Any]]:
    consents = await session.scalars(
        select(Consent).where(Consent.participant_id == participant_id).order_by(Consent.id)
    )
    return [
        _fields(
            c,
            (
                "kind",
                "party",
                "information_kinds",
                "purpose",
                "text_version",
                "language",
                "method",
                "recorded_by",
                "given_at",
                "withdrawn_at",
                "withdrawal_channel",
            ),
        )
        for c in consents
    ]


async def _survey(session: AsyncSession, participant_id: int) -> dict[str, Any]:
    """Invitations (never their tokens) and responses with every answer and its themes."""
    invitations = await session.scalars(
        select(Invitation)
        .where(Invitation.participant_id == participant_id)
        .order_by(Invitation.id)
    )
    responses = await session.scalars(
        select(Response).where(Response.participant_id == participant_id).order_by(Response.id)
    )
    return {
        "invitations": [_fields(i, (
            "channel", "created_at", "expires_at", "claimed_at", "language", "telegram_chat_id",
            "reminders_sent", "revoked_at",
        )) for i in invitations],
        "responses": [{
            **_fields(r, ("language", "channel", "started_at", "completed_at", "quote_allowed")),
            "answers": await _answers(session, r.id),
        } for r in responses],
    }  # fmt: skip


async def _answers(session: AsyncSession, response_id: int) -> list[dict[str, Any]]:
    answers = (
        await session.scalars(
            select(Answer).where(Answer.response_id == response_id).order_by(Answer.id)
        )
    ).all()
    themes: dict[int, list[str]] = {}
    rows = await session.execute(
        select(AnswerTheme.answer_id, AnswerTheme.theme)
        .where(AnswerTheme.answer_id.in_([a.id for a in answers]))
        .order_by(AnswerTheme.id)
    )
    for answer_id, theme in rows.all():
        themes.setdefault(answer_id, []).append(theme)
    return [{
        **_fields(a, ("question_id", "value", "text", "gloss_sv", "skipped", "answered_at")),
        "themes": sorted(set(themes.get(a.id, []))),
    } for a in answers]  # fmt: skip


async def _access_log(session: AsyncSession, participant_id: int) -> list[dict[str, Any]]:
    """Audit entries about the person and their referrals, oldest first (who, what, when)."""
    referral_ids = select(Referral.id).where(Referral.participant_id == participant_id)
    rows = await session.execute(
        select(AuditEntry, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == AuditEntry.actor_user_id)
        .where(
            or_(
                (AuditEntry.object_type == "participant")
                & (AuditEntry.object_id == participant_id),
                (AuditEntry.object_type == "referral") & AuditEntry.object_id.in_(referral_ids),
            )
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return [
        {"at": _plain(e.at), "action": e.action, "by": name or e.actor, "detail": e.detail}
        for e, name in rows.all()
    ]
