"""Staff accounts: creation, password checks with argon2, throttling of failed logins."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.codes import ROLES
from core.errors import DomainError
from core.i18n import N_
from storage import audit
from storage.models import StaffUser, Team

HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A real hash to verify against when the e-mail is unknown, so timing does not tell."""
    return HASHER.hash("not-a-real-password")


MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_key(email: str) -> str:
    """A short hash of the e-mail address, for the audit log (no address in the log)."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:16]


async def create_user(
    session: AsyncSession,
    email: str,
    password: str,
    *,
    role: str,
    team_code: str | None = None,
    display_name: str = "",
) -> StaffUser:
    """Create a staff account; staff and coordinators belong to a team."""
    if role not in ROLES:
        raise DomainError(N_("Okänd roll: {role}"), field="role", role=role)
    if len(password) < 12:
        raise DomainError(N_("Lösenordet måste ha minst 12 tecken."), field="password")
    email = normalise_email(email)
    if "@" not in email:
        raise DomainError(N_("Ange en e-postadress."), field="email")
    if await session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
        raise DomainError(N_("Det finns redan ett konto för {email}."), field="email", email=email)
    team_id = None
    if team_code is not None:
        team_id = await session.scalar(select(Team.id).where(Team.code == team_code))
        if team_id is None:
            raise DomainError(N_("Okänt team: {team}"), field="team", team=team_code)
    elif role != "admin":
        raise DomainError(N_("Ange teamet för en {role}."), field="team", role=role)
    user = StaffUser(
        email=email,
        password_hash=HASHER.hash(password),
        role=role,
        team_id=team_id,
        display_name=display_name or email.split("@")[0],
    )
    session.add(user)
    await session.flush()
    await audit.record(
        session,
        "user.created",
        actor="system",
        object_type="staff_user",
        object_id=user.id,
        team_id=team_id,
        detail={"role": role},
    )
    return user


async def is_throttled(session: AsyncSession, email: str) -> bool:
    """True after MAX_FAILURES failed logins for this address within FAILURE_WINDOW."""
    since = utcnow() - FAILURE_WINDOW
    failures = await audit.count_since(
        session, "login.failed", since, detail_key="email_key", detail_value=email_key(email)
    )
    return failures >= MAX_FAILURES


async def authenticate(session: AsyncSession, email: str, password: str) -> StaffUser | None:
    """The active user with this e-mail and password, or None; both outcomes are audited."""
    user = await session.scalar(
        select(StaffUser).where(StaffUser.email == normalise_email(email), StaffUser.active)
    )
    try:
        HASHER.verify(user.password_hash if user else _dummy_hash(), password)
        ok = user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        await audit.record(
            session, "login.failed", actor="anonymous", detail={"email_key": email_key(email)}
        )
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    user.last_login_at = utcnow()
    await audit.record(
        session, "login.succeeded", actor=f"user:{user.id}", user_id=user.id, team_id=user.team_id
    )
    return user
