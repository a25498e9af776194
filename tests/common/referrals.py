"""Referrals: the form a case worker fills in, and referrals submitted through the use case."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time

from core.referral_form import parse_referral_form
from services.referrals import submit_referral
from storage.db import Database
from storage.models import Referral

VALID_PERSONNUMMER = "19850312-1231"


def referral_form(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    """A referral form as a case worker fills it in, valid for team ``norr``; override fields."""
    form: dict[str, str | list[str]] = {
        "team": "norr",
        "referrer_type": "remittent",
        "referrer_org": "af",
        "referrer_name": "Lena Handläggare",
        "referrer_email": "lena.handlaggare@arbetsformedlingen.se",
        "referrer_phone": "010-486 00 00",
        "person_name": "Sara Exempel",
        "personnummer": VALID_PERSONNUMMER,
        "person_phone": "070-123 45 67",
        "contact_channel": "telefon",
        "language": "svenska",
        "interpreter": "nej",
        "income_source": "forsorjningsstod",
        "contacts": ["af", "kommun"],
        "help_wanted": "Vill komma närmare arbete och få stöd med struktur i vardagen.",
        "practical_needs": "",
        "consent_sharing_parties": ["af", "kommun"],
        "consent_sharing_info": ["arbetsformaga", "insatser"],
        "consent_follow_up": "ja",
        "consent_method": "paper",
        "consent_confirmed": "ja",
    }
    form.update(overrides)
    return form


async def make_referral(db: Database, *, key: str | None = None, **overrides: str | list[str]):  # type: ignore[no-untyped-def]
    """Submit a referral through the use case; returns its Submission."""
    draft = parse_referral_form(
        referral_form(**overrides), team_codes=("norr", "syd"), today=date(2026, 11, 22)
    )
    return await submit_referral(
        db,
        draft,
        submission_key=key or secrets.token_urlsafe(24),
        language="sv",
        consent_language="sv",
        public_url="http://127.0.0.1:8080",
    )


async def make_referral_received_on(  # type: ignore[no-untyped-def]
    db: Database, received: date, **overrides: str | list[str]
):
    """A referral submitted through the use case, then dated as received on ``received``."""
    submission = await make_referral(db, **overrides)
    async with db.transaction() as session:
        referral = await session.get_one(Referral, submission.referral_id)
        referral.received_date = received
        referral.received_at = datetime.combine(received, time(9), tzinfo=UTC)
    return submission
