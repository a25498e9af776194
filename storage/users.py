"""Staff accounts: queries, creation and password hashing (argon2); the rules live in services."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.codes import ROLES
from core.errors import DomainError
from core.i18n import N_
from storage import audit
from storage.models import PasswordToken, StaffUser, Team
from storage.sessions import token_hash

HASHER = PasswordHasher()
#: The hash of an invited account that has not set a password yet: nothing verifies against it.
UNUSABLE = "!"


@cache
def _dummy_hash() -> str:
    """A real hash to verify against when the e-mail is unknown, so timing does not tell."""
    return HASHER.hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_key(email: str) -> str:
    """A short hash of the e-mail address, for the audit log (no address in the log)."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:16]


async def create_user(
    session: AsyncSession,
    email: str,
    password: str | None,
    *,
    role: str,
    team_code: str | None = None,
    display_name: str = "",
) -> StaffUser:
    """Create a staff account; staff and coordinators belong to a team."""
    if role not in ROLES:
        raise DomainError(N_("Okänd roll: {role}"), field="role", role=role)
    if password is not None and len(password) < 12:
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
        password_hash=HASHER.hash(password) if password is not None else UNUSABLE,
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


async def find_by_email(session: AsyncSession, email: str) -> StaffUser | None:
    return await session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


async def team_id_of(session: AsyncSession, code: str) -> int | None:
    return await session.scalar(select(Team.id).where(Team.code == code))


async def list_users(session: AsyncSession, team_ids: frozenset[int] | None) -> list[StaffUser]:
    """Accounts of ``team_ids`` (None: every account), by e-mail."""
    query = select(StaffUser).order_by(StaffUser.email)
    if team_ids is not None:
        query = query.where(StaffUser.team_id.in_(team_ids))
    return list((await session.scalars(query)).all())


async def any_admin(session: AsyncSession) -> bool:
    query = select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active).limit(1)
    return await session.scalar(query) is not None


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; CPU-heavy: call it in a thread, outside transactions."""
    try:
        return HASHER.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_hash() -> str:
    return _dummy_hash()


async def add_password_token(
    session: AsyncSession, token: str, user_id: int, purpose: str, now: datetime, valid: timedelta
) -> PasswordToken:
    row = PasswordToken(
        token_hash=token_hash(token),
        user_id=user_id,
        purpose=purpose,
        created_at=now,
        expires_at=now + valid,
    )
    session.add(row)
    await session.flush()
    return row


async def find_password_token(
    session: AsyncSession, token: str, now: datetime, *, for_update: bool = False
) -> PasswordToken | None:
    """The unused, unexpired token row, or None."""
    query = select(PasswordToken).where(
        PasswordToken.token_hash == token_hash(token),
        PasswordToken.used_at.is_(None),
        PasswordToken.expires_at > now,
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def use_password_tokens_of(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Mark every open link of ``user_id`` used (after a password is set)."""
    await session.execute(
        update(PasswordToken)
        .where(PasswordToken.user_id == user_id, PasswordToken.used_at.is_(None))
        .values(used_at=now)
    )
