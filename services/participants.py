"""Participant operations: steps on the way to work, consent withdrawal, revealing identity.

Like :mod:`services.referrals`, each operation is one transaction that checks the rule,
stores the change with who and when, and writes the audit log (ids and codes only).
"""

from __future__ import annotations

from datetime import date, datetime

from core.access import Staff
from core.clock import today_in_sweden, utcnow
from core.codes import PROGRESS_STEPS, REVEAL_REASONS
from core.consent import check_withdrawal
from core.errors import DomainError, FormErrors, NotFound, field_error
from core.i18n import N_
from core.referral_form import clean_text
from core.referrals import Status
from storage import audit
from storage.db import Database
from storage.models import Consent, Participant, ProgressStep
from storage.referrals import load_referral

NOTE_MAX_LENGTH = 2000


async def record_step(
    db: Database,
    staff: Staff,
    referral_id: int,
    *,
    step: str,
    recorded_on: date | None,
    note: str = "",
    today: date | None = None,
) -> None:
    """Record an enrolled participant's current step on the way to work."""
    today = today or today_in_sweden()
    async with db.transaction() as session:
        referral = await load_referral(session, staff, referral_id)
        errors: dict[str, DomainError] = {}
        if referral.status != Status.ENROLLED:
            raise field_error("step", N_("Steg kan bara registreras för inskrivna deltagare."))
        if step not in PROGRESS_STEPS:
            errors["step"] = DomainError(N_("Välj vilket steg deltagaren är på."), field="step")
        if recorded_on is None or not (referral.start_date or today) <= recorded_on <= today:
            message = N_("Ange ett datum mellan startdatum och i dag.")
            errors["recorded_on"] = DomainError(message, field="recorded_on")
        note = _clean_note(note, errors)
        if errors or recorded_on is None:
            raise FormErrors(errors)
        session.add(
            ProgressStep(
                referral_id=referral.id,
                recorded_on=recorded_on,
                step=step,
                note=note or None,
                user_id=staff.user_id,
            )
        )
        await audit.record(
            session,
            "participant.progress_recorded",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="referral",
            object_id=referral.id,
            team_id=referral.team_id,
            detail={"participant_id": referral.participant_id, "step": step},
        )


async def withdraw_consent(
    db: Database,
    staff: Staff,
    consent_id: int,
    *,
    channel: str,
    at: datetime | None,
    now: datetime | None = None,
) -> Consent:
    """Record that a consent was withdrawn: sharing on it stops at once."""
    now = now or utcnow()
    async with db.transaction() as session:
        consent = await session.get(Consent, consent_id, with_for_update=True)
        participant = await session.get(Participant, consent.participant_id) if consent else None
        if consent is None or participant is None or not staff.sees(participant.team_id):
            raise NotFound(N_("Samtycket finns inte, eller så hör det till ett annat team."))
        if at is None:
            raise field_error("at", N_("Ange när samtycket återkallades, till exempel i dag."))
        withdrawal = check_withdrawal(
            given_at=consent.given_at,
            withdrawn_at=consent.withdrawn_at,
            channel=channel,
            at=at,
            now=now,
        )
        consent.withdrawn_at, consent.withdrawal_channel = withdrawal.at, withdrawal.channel
        consent.withdrawn_by_user_id = staff.user_id
        if consent.kind == "follow_up":
            participant.follow_up_consent = False
        await audit.record(
            session,
            "consent.withdrawn",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="participant",
            object_id=participant.id,
            team_id=participant.team_id,
            detail={
                "consent_id": consent.id,
                "kind": consent.kind,
                "party": consent.party,
                "channel": withdrawal.channel,
            },
        )
    return consent


async def reveal_personnummer(
    db: Database, staff: Staff, participant_id: int, *, reason: str
) -> str:
    """The participant's full personnummer (``YYYYMMDD-NNNN``), audited with the reason."""
    if reason not in REVEAL_REASONS:
        raise field_error("reason", N_("Välj varför du behöver se hela personnumret."))
    async with db.transaction() as session:
        participant = await session.get(Participant, participant_id)
        if participant is None or not staff.sees(participant.team_id):
            raise NotFound(N_("Deltagaren finns inte, eller så hör den till ett annat team."))
        if not participant.personnummer:
            raise field_error("reason", N_("Det finns inget personnummer registrerat."))
        await audit.record(
            session,
            "participant.personnummer_revealed",
            actor=staff.actor,
            user_id=staff.user_id,
            object_type="participant",
            object_id=participant.id,
            team_id=participant.team_id,
            detail={"reason": reason},
        )
        digits = participant.personnummer
    return f"{digits[:8]}-{digits[8:]}"


def _clean_note(note: str, errors: dict[str, DomainError]) -> str:
    """``note`` cleaned for storage; its error goes into ``errors``."""
    try:
        return clean_text(note, field="note", max_length=NOTE_MAX_LENGTH, multiline=True)
    except DomainError as error:
        errors["note"] = error
        return ""
