"""Two-factor login with TOTP (RFC 6238, pyotp) and single-use recovery codes.

Required for admins, and for everyone when the förbund turns it on
(``SAMVERKAN_TWO_FACTOR=everyone``). After the password, a session is *pending*: it opens
only the code page (``totp``) or the enrolment page (``enrol``); the right code replaces it
with a full session under a new token. Codes are checked per account at most five times in
15 minutes, and a code (time step) is accepted once. Recovery codes are shown once and kept
as hashes; each works once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import select

from core.clock import utcnow
from core.errors import NotAllowed, field_error
from core.i18n import N_
from services.auth import WINDOW, start_session
from storage import audit, sessions
from storage.db import Database
from storage.models import StaffUser

ISSUER = "Samverkan"
CODE_ATTEMPTS = 5
RECOVERY_CODES = 10
#: How long a login may wait for its second factor before the password must be given again.
PENDING_FOR = timedelta(minutes=15)


def hash_recovery_code(code: str) -> str:
    """The stored form of a recovery code (spaces, dashes and case do not matter)."""
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret (for typing in) and its otpauth:// address."""

    secret: str
    uri: str


async def pending_user(db: Database, token: str, stage: str) -> StaffUser:
    """The user of a session waiting at ``stage``; NotAllowed for any other session."""
    async with db.sessions() as session:
        found = await sessions.find_session(session, token, stage=stage)
    if found is None or utcnow() - found[0].created_at > PENDING_FOR:
        raise NotAllowed(N_("Logga in igen."))
    return found[1]


async def begin_enrolment(db: Database, token: str) -> Enrolment:
    """The secret to enrol (made once per account until enrolment is confirmed)."""
    user = await pending_user(db, token, "enrol")
    async with db.transaction() as session:
        stored = await session.get_one(StaffUser, user.id)
        if stored.totp_secret is None:
            stored.totp_secret = pyotp.random_base32()
        secret = stored.totp_secret
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Enrolment(secret, uri)


async def _check_code(session, user: StaffUser, code: str, now: datetime) -> bool:  # type: ignore[no-untyped-def]
    """Count the attempt; True for a fresh TOTP code or an unused recovery code."""
    attempts = await sessions.count_attempt(session, f"t:{user.id}", now, WINDOW)
    if attempts > CODE_ATTEMPTS:
        raise field_error("code", N_("För många försök. Vänta 15 minuter och försök igen."))
    code = code.strip().replace(" ", "")
    if user.totp_secret and code.isdigit() and len(code) == 6:
        totp = pyotp.TOTP(user.totp_secret)
        for offset in (-1, 0, 1):
            at = now + timedelta(seconds=30 * offset)
            step = totp.timecode(at)
            if secrets.compare_digest(totp.at(at), code) and step > (user.totp_last_step or 0):
                user.totp_last_step = step
                return True
        return False
    hashed = hash_recovery_code(code)
    if hashed in (user.recovery_codes or []):
        user.recovery_codes = [h for h in user.recovery_codes if h != hashed]
        return True
    return False


async def confirm_enrolment(
    db: Database, token: str, code: str, *, now: datetime | None = None
) -> tuple[str, list[str]]:
    """Check the first code; the account then uses TOTP. Returns the full session's token
    and the recovery codes (shown once)."""
    now = now or utcnow()
    user = await pending_user(db, token, "enrol")
    async with db.transaction() as session:
        stored = (
            await session.scalars(
                select(StaffUser).where(StaffUser.id == user.id).with_for_update(of=StaffUser)
            )
        ).one()
        accepted = bool(stored.totp_secret) and await _check_code(session, stored, code, now)
        full, codes = "", list[str]()
        if accepted:
            full, codes = await _enrolled(session, stored, token, now)
    if not accepted:
        raise field_error("code", N_("Koden stämmer inte. Skriv koden som appen visar nu."))
    return full, codes


async def _enrolled(session, user: StaffUser, token: str, now: datetime) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Turn TOTP on for ``user``, make the recovery codes, and replace the pending session."""
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    user.recovery_codes = [hash_recovery_code(c) for c in codes]
    user.totp_enabled_at = now
    await sessions.clear_attempts(session, f"t:{user.id}")
    await sessions.delete_session(session, token)
    full = await start_session(session, user.id, now)
    await audit.record(
        session,
        "user.totp_enrolled",
        actor=f"user:{user.id}",
        user_id=user.id,
        object_type="staff_user",
        object_id=user.id,
        team_id=user.team_id,
    )
    return full, codes


async def verify_second_factor(
    db: Database, token: str, code: str, *, now: datetime | None = None
) -> str:
    """Check the code of a pending login; returns the full session's token."""
    now = now or utcnow()
    user = await pending_user(db, token, "totp")
    async with db.transaction() as session:
        stored = (
            await session.scalars(
                select(StaffUser).where(StaffUser.id == user.id).with_for_update(of=StaffUser)
            )
        ).one()
        if not await _check_code(session, stored, code, now):
            await audit.record(
                session,
                "login.code_failed",
                actor=f"user:{user.id}",
                user_id=user.id,
                team_id=user.team_id,
            )
            failed = True
        else:
            failed = False
            await sessions.clear_attempts(session, f"t:{user.id}")
            await sessions.delete_session(session, token)
            full = await start_session(session, user.id, now)
            await audit.record(
                session,
                "login.code_accepted",
                actor=f"user:{user.id}",
                user_id=user.id,
                team_id=user.team_id,
            )
    if failed:
        raise field_error("code", N_("Koden stämmer inte."))
    return full
