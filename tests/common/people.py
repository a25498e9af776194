"""People with a history: every kind of personal data, for privacy, retention and export tests."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from core.clock import utcnow
from storage.db import Database
from storage.models import (
    Answer,
    AnswerTheme,
    Consent,
    FormDraft,
    Invitation,
    Participant,
    ProgressStep,
    Referral,
    ReferralEvent,
    ReferralFormDraft,
    Response,
    StaffUser,
    SurveyVersion,
    Team,
)
from storage.outbox import Mail
from storage.outbox import add as outbox_add


@dataclass(frozen=True)
class PersonSecrets:
    """The personal data written by :func:`make_person_with_history`, to look for later."""

    participant_id: int
    referral_id: int
    name: str
    personnummer: str
    phone: str
    referrer_name: str
    referrer_email: str
    referrer_phone: str
    help_wanted: str
    note: str
    answer: str
    email: str = ""

    def clear_texts(self) -> dict[str, str]:
        """Every value that must never be stored in clear, by what it is."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, str)}


async def make_person_with_history(
    db: Database,
    n: int = 1,
    *,
    team: str = "norr",
    status: str = "ended",
    received_on: date = date(2018, 1, 10),
    ended_on: date | None = date(2019, 6, 30),
) -> PersonSecrets:
    """A person with every kind of personal data: identity, referrer, notes, consent, answers."""
    s = PersonSecrets(
        0,
        0,
        f"Karin Fjällström{n}",
        f"19850312{n:04d}",
        f"070-555 {n:04d}",
        f"Lena Handläggare{n}",
        f"lena{n}@arbetsformedlingen.se",
        f"010-486 {n:04d}",
        f"Behöver stöd med vardagsstruktur nummer{n}",
        f"Samtal om sömnproblem nummer{n}",
        f"Gruppen gav mig modet tillbaka nummer{n}",
        f"karin.fjallstrom{n}@example.se",
    )
    ended = status == "ended"
    async with db.transaction() as session:
        team_id = await session.scalar(select(Team.id).where(Team.code == team))
        participant = Participant(
            team_id=team_id,
            person_ref=f"P-{n}",
            name=s.name,
            personnummer=s.personnummer,
            personnummer_hash=db.keyring.blind_index(s.personnummer),
            phone=s.phone,
            email=s.email,
            contact_channel="telefon",
            language="arabiska",
            gender="kvinna",
            birth_date=date(1985, 3, 12),
            birth_year=1985,
            follow_up_consent=True,
        )
        session.add(participant)
        await session.flush()
        changed_on = ended_on if ended and ended_on else received_on  # side exits: at once
        closed_at = datetime.combine(changed_on, time(12), tzinfo=UTC)
        referral = Referral(
            reference=f"R-SEC{n:03d}",
            team_id=team_id,
            participant_id=participant.id,
            status=status,
            received_date=received_on,
            status_changed_at=closed_at,
            referrer_code="af",
            referrer_name=s.referrer_name,
            referrer_email=s.referrer_email,
            referrer_phone=s.referrer_phone,
            help_wanted=s.help_wanted,
            practical_needs="Rullstolsburen",
            contacts=["af"],
            start_date=received_on + timedelta(days=30) if ended else None,
            trial_months=3,
            end_date=ended_on if ended else None,
            end_reason="arbete" if ended else None,
        )
        session.add(referral)
        await session.flush()
        session.add_all(
            [
                ReferralEvent(referral_id=referral.id, to_status="received", note=s.note),
                ReferralEvent(
                    referral_id=referral.id,
                    from_status="received",
                    to_status=status,
                    note=s.note,
                    referrer_message=s.note,
                ),
                ProgressStep(
                    referral_id=referral.id, recorded_on=received_on, step="aktivitet", note=s.note
                ),
                ReferralFormDraft(  # a referral form being filled in for the same person
                    token_hash=hashlib.sha256(f"draft-{n}".encode()).hexdigest(),
                    payload=json.dumps({"values": {"person_name": s.name}}),
                    expires_at=datetime.now(UTC) + timedelta(hours=2),
                ),
                Consent(
                    participant_id=participant.id,
                    referral_id=referral.id,
                    kind="follow_up",
                    text_version="1",
                    text_hash="0" * 64,
                    language="sv",
                    method="paper",
                    recorded_by="remittent:af",
                ),
            ]
        )
        version = SurveyVersion(
            code="standard", version="1", content_hash=f"{n:064d}", definition={"questions": []}
        )
        invitation = Invitation(
            participant_id=participant.id,
            team_id=team_id,
            token_hash=hashlib.sha256(f"draft-{n}".encode()).hexdigest(),
            channel="telegram",
            expires_at=utcnow(),
            telegram_chat_id=900000 + n,
        )
        session.add_all([version, invitation])
        await session.flush()
        response = Response(
            invitation_id=invitation.id,
            participant_id=participant.id,
            team_id=team_id,
            survey_version_id=version.id,
            channel="telegram",
            completed_at=utcnow(),
            quote_allowed=True,
        )
        session.add(response)
        await session.flush()
        answer = Answer(
            response_id=response.id,
            question_id="nytta",
            text=s.answer,
            gloss_sv=f"På svenska: {s.answer}",
        )
        session.add_all([answer, Answer(response_id=response.id, question_id="halsa", value="bra")])
        await session.flush()
        session.add(AnswerTheme(answer_id=answer.id, theme="grupp"))
        await outbox_add(
            session,
            "referral.declined",
            Mail((s.referrer_email,), f"Remiss R-SEC{n:03d}", f"Hej {s.referrer_name}"),
            now=utcnow(),
            object_type="referral",
            object_id=referral.id,
            team_id=team_id,
        )
        # A staff account with a TOTP secret, so every encrypted column holds a value, and
        # the note it typed when its session had expired (a kept form).
        staff = StaffUser(
            email=f"totp-{n}@example.se",
            password_hash="!",
            role="staff",
            team_id=team_id,
            totp_secret=f"JBSWY3DPEHPK3PXP{n:016d}",
        )
        session.add(staff)
        await session.flush()
        session.add(
            FormDraft(
                token_hash=f"{n:064x}",
                user_id=staff.id,
                page=f"/team/deltagare/{participant.id}",
                action=f"/team/deltagare/{participant.id}/steg",
                fields=json.dumps({"note": s.note}, ensure_ascii=False),
            )
        )
    return PersonSecrets(participant.id, referral.id, *list(s.__dict__.values())[2:])
