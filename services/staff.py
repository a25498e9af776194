"""Staff accounts: invitation by e-mail, setting and resetting passwords, role, team, deactivation.

Admins manage every account; coordinators the accounts of their own team, and they cannot
make anyone an admin or move anyone to another team. Password links are single-use, stored
as a hash, and valid 72 hours (an invitation) or 2 hours (a reset). Every change that alters
what someone may do ends that person's sessions on the server.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Staff
from core.clock import utcnow
from core.codes import ROLES
from core.errors import DomainError, NotAllowed, NotFound, field_error
from core.i18n import N_
from core.passwords import password_problem
from services.mail import queue_mail
from storage import audit, sessions, users
from storage.db import Database
from storage.models import StaffUser, Team
from storage.outbox import Mail

INVITATION_VALID = timedelta(hours=72)
RESET_VALID = timedelta(hours=2)


@dataclass(frozen=True)
class Invited:
    """The new account and its set-password link (for the command line when mail is off)."""

    user_id: int
    link: str


def _actor(staff: Staff | None) -> str:
    return staff.actor if staff else "system"


def _may_manage(staff: Staff | None, team_id: int | None, role: str) -> None:
    """Raise NotAllowed unless ``staff`` may manage an account of ``team_id`` with ``role``."""
    if staff is None or staff.has_role("admin"):
        return
    if not staff.has_role("coordinator") or role == "admin":
        raise NotAllowed(N_("Du får inte ändra det här kontot."))
    if team_id is None or not staff.sees(team_id):
        raise NotAllowed(N_("Du får bara hantera konton i ditt eget team."))


async def _account(session: AsyncSession, staff: Staff | None, user_id: int) -> StaffUser:
    query = select(StaffUser).where(StaffUser.id == user_id).with_for_update(of=StaffUser)
    user = await session.scalar(query)
    if user is None:
        raise NotFound(N_("Kontot finns inte."))
    _may_manage(staff, user.team_id, user.role)
    return user


async def list_staff(db: Database, staff: Staff) -> list[StaffUser]:
    """The accounts ``staff`` may manage."""
    _may_manage(
        staff, None if staff.team_ids is None else next(iter(staff.team_ids), None), "staff"
    )
    async with db.sessions() as session:
        return await users.list_users(session, staff.team_ids)


async def invite_staff(
    db: Database,
    staff: Staff | None,
    email: str,
    *,
    role: str,
    team_code: str | None,
    public_url: str,
    display_name: str = "",
    now: datetime | None = None,
) -> Invited:
    """Create an account without a password and e-mail a link to set one."""
    now = now or utcnow()
    if role not in ROLES:
        raise field_error("role", N_("Välj en roll."))
    async with db.transaction() as session:
        team_id = await users.team_id_of(session, team_code) if team_code else None
        if team_code and team_id is None:
            raise field_error("team", N_("Okänt team: {team}"), team=team_code)
        _may_manage(staff, team_id, role)
        try:
            user = await users.create_user(
                session, email, None, role=role, team_code=team_code, display_name=display_name
            )
        except DomainError as error:
            raise field_error(error.field or "email", error.message, **error.params) from error
        token = secrets.token_urlsafe(32)
        await users.add_password_token(session, token, user.id, "invite", now, INVITATION_VALID)
        link = f"{public_url.rstrip('/')}/konto/losenord/{token}"
        await audit.record(
            session,
            "user.invited",
            actor=_actor(staff),
            user_id=staff.user_id if staff else None,
            object_type="staff_user",
            object_id=user.id,
            team_id=team_id,
            detail={"role": role},
        )
        body = (
            "Hej!\n\nDu har fått ett konto i Samverkan. Välj ditt lösenord här "
            f"(länken gäller i 72 timmar och kan användas en gång):\n\n{link}\n"
        )
        await queue_mail(
            session,
            "staff.invitation",
            Mail((user.email,), "Ditt konto i Samverkan", body),
            team_id=team_id,
            object_type="staff_user",
            object_id=user.id,
        )
    return Invited(user.id, link)


async def password_link_is_valid(db: Database, token: str) -> bool:
    """True while the set-password or reset link can still be used."""
    async with db.sessions() as session:
        return await users.find_password_token(session, token, utcnow()) is not None


async def set_password(
    db: Database, token: str, password: str, repeated: str, *, now: datetime | None = None
) -> int:
    """Set the password through a single-use link; ends every session of the account."""
    now = now or utcnow()
    if password != repeated:
        raise field_error("password2", N_("Lösenorden är inte lika."))
    async with db.sessions() as session:
        link = await users.find_password_token(session, token, now)
        email = "" if link is None else (await session.get_one(StaffUser, link.user_id)).email
    if link is None:
        raise NotFound(N_("Länken är använd eller för gammal. Be om en ny."))
    problem = password_problem(password, email)
    if problem is not None:
        raise field_error("password", problem.message, **problem.params)
    new_hash = await asyncio.to_thread(users.HASHER.hash, password)
    async with db.transaction() as session:
        link = await users.find_password_token(session, token, now, for_update=True)
        if link is None:
            raise NotFound(N_("Länken är använd eller för gammal. Be om en ny."))
        user = await session.get_one(StaffUser, link.user_id)
        if not user.active:
            raise NotAllowed(N_("Kontot är avstängt."))
        user.password_hash = new_hash
        await users.use_password_tokens_of(session, user.id, now)
        await sessions.delete_sessions_of(session, user.id)
        await audit.record(
            session,
            "user.password_set",
            actor=f"user:{user.id}",
            user_id=user.id,
            object_type="staff_user",
            object_id=user.id,
            team_id=user.team_id,
            detail={"via": link.purpose},
        )
    return user.id


async def request_password_reset(
    db: Database, email: str, *, public_url: str, now: datetime | None = None
) -> None:
    """E-mail a reset link if an active account has this address; the caller learns nothing."""
    now = now or utcnow()
    async with db.transaction() as session:
        user = await users.find_by_email(session, email)
        if user is None or not user.active:
            return
        token = secrets.token_urlsafe(32)
        await users.add_password_token(session, token, user.id, "reset", now, RESET_VALID)
        link = f"{public_url.rstrip('/')}/konto/losenord/{token}"
        await audit.record(
            session,
            "user.password_reset_requested",
            actor="anonymous",
            object_type="staff_user",
            object_id=user.id,
            team_id=user.team_id,
        )
        body = (
            "Hej!\n\nNågon bad om ett nytt lösenord till ditt konto i Samverkan. Välj ett nytt "
            f"här (länken gäller i 2 timmar):\n\n{link}\n\nBad du inte om det kan du bortse från "
            "det här brevet.\n"
        )
        await queue_mail(
            session,
            "staff.password_reset",
            Mail((user.email,), "Nytt lösenord i Samverkan", body),
            team_id=user.team_id,
            object_type="staff_user",
            object_id=user.id,
        )


async def change_role(db: Database, staff: Staff | None, user_id: int, role: str) -> None:
    """Give an account another role; its sessions end."""
    if role not in ROLES:
        raise field_error("role", N_("Välj en roll."))
    async with db.transaction() as session:
        user = await _account(session, staff, user_id)
        _may_manage(staff, user.team_id, role)
        if role != "admin" and user.team_id is None:
            raise field_error("role", N_("Välj först ett team för kontot."))
        old, user.role = user.role, role
        await sessions.delete_sessions_of(session, user.id)
        await audit.record(
            session,
            "user.role_changed",
            actor=_actor(staff),
            user_id=staff.user_id if staff else None,
            object_type="staff_user",
            object_id=user.id,
            team_id=user.team_id,
            detail={"old": old, "new": role},
        )


async def change_team(db: Database, staff: Staff | None, user_id: int, team_id: int | None) -> None:
    """Move an account to another team (admins only); its sessions end."""
    if staff is not None and not staff.has_role("admin"):
        raise NotAllowed(N_("Bara en administratör kan flytta ett konto till ett annat team."))
    async with db.transaction() as session:
        user = await _account(session, staff, user_id)
        if team_id is not None and await session.get(Team, team_id) is None:
            raise field_error("team", N_("Välj ett team."))
        if team_id is None and user.role != "admin":
            raise field_error("team", N_("Välj ett team."))
        old, user.team_id = user.team_id, team_id
        await sessions.delete_sessions_of(session, user.id)
        await audit.record(
            session,
            "user.team_changed",
            actor=_actor(staff),
            user_id=staff.user_id if staff else None,
            object_type="staff_user",
            object_id=user.id,
            team_id=team_id,
            detail={"old": old, "new": team_id},
        )


async def deactivate_user(
    db: Database,
    staff: Staff | None,
    *,
    user_id: int | None = None,
    email: str | None = None,
    now: datetime | None = None,
) -> int:
    """The account can no longer log in and its open sessions end at once (audited)."""
    async with db.transaction() as session:
        if user_id is None:
            found = await users.find_by_email(session, email or "")
            if found is None:
                raise NotFound(N_("Det finns inget konto med den adressen."))
            user_id = found.id
        user = await _account(session, staff, user_id)
        if staff is not None and staff.user_id == user.id:
            raise NotAllowed(N_("Du kan inte stänga av ditt eget konto."))
        user.active = False
        user.deactivated_at = now or utcnow()
        ended = await sessions.delete_sessions_of(session, user.id)
        await users.use_password_tokens_of(session, user.id, user.deactivated_at)
        await audit.record(
            session,
            "user.deactivated",
            actor=_actor(staff),
            user_id=staff.user_id if staff else None,
            object_type="staff_user",
            object_id=user.id,
            team_id=user.team_id,
            detail={"sessions_ended": ended},
        )
    return user.id
