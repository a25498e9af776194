"""Staff login and server-side sessions: log in with throttling, check and end sessions.

A session is a row in ``staff_sessions`` keyed by the hash of a random token that the
(encrypted) cookie carries. Logging out, deactivation, a password change and a role change
delete rows, so the session ends in every process at once, and a copied cookie is worthless.
Anonymous visitors have no row: the referral form writes nothing per page view.

Login attempts are counted before the password is checked, atomically, per account and
client address (5 in 15 minutes), per address (30) and per account from all addresses (100),
so a burst cannot slip past the count and a stranger's guesses cannot lock out the owner,
who logs in from their own address. The argon2 check runs in a thread, outside any
transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from storage import audit, sessions, users
from storage.db import Database
from storage.models import StaffUser

WINDOW = timedelta(minutes=15)
#: Attempts allowed in WINDOW: per account and address, per address, per account.
LIMITS = {"pair": 5, "address": 30, "account": 100}
#: A session's last use is written at most this often (one write a minute per user).
TOUCH_EVERY = timedelta(seconds=60)
#: Sessions unused this long are deleted at the next login (they expired long before).
STALE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class SignedIn:
    """The member of staff a session belongs to, as the web pages need them."""

    id: int
    email: str
    role: str
    team_id: int | None
    display_name: str | None

    @classmethod
    def of(cls, user: StaffUser) -> SignedIn:
        return cls(user.id, user.email, user.role, user.team_id, user.display_name)

    @property
    def team_ids(self) -> frozenset[int] | None:
        """The teams this person may see: their own, or None (= all) for a förbund admin."""
        if self.team_id is None and self.role == "admin":
            return None
        return frozenset({self.team_id}) if self.team_id is not None else frozenset()


@dataclass(frozen=True)
class LoginResult:
    """``token`` opens the new session at ``stage`` (``full``, or ``totp``/``enrol`` when a
    second factor is still needed); ``throttled`` means the attempt was not checked."""

    user: StaffUser | None
    token: str | None = None
    throttled: bool = False
    stage: str = "full"


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:24]}"


def throttle_keys(email: str, address: str) -> dict[str, str]:
    account = users.normalise_email(email)
    return {
        "pair": _key("p", f"{account}\n{address}"),
        "address": _key("a", address),
        "account": _key("u", account),
    }


async def log_in(
    db: Database,
    email: str,
    password: str,
    *,
    address: str,
    now: datetime | None = None,
    totp_for_everyone: bool = False,
) -> LoginResult:
    """Check ``email`` and ``password`` and start a session; audited either way."""
    now = now or utcnow()
    keys = throttle_keys(email, address)
    async with db.transaction() as session:
        counts = {
            kind: await sessions.count_attempt(session, key, now, WINDOW)
            for kind, key in keys.items()
        }
        throttled = any(counts[kind] > LIMITS[kind] for kind in LIMITS)
        user = None if throttled else await users.find_by_email(session, email)
        if throttled:
            await audit.record(
                session,
                "login.throttled",
                actor="anonymous",
                detail={"email_key": users.email_key(email)},
            )
    if throttled:
        return LoginResult(None, throttled=True)
    stored = user.password_hash if user is not None and user.active else users.dummy_hash()
    ok = await asyncio.to_thread(users.verify_password, stored, password)
    ok = ok and user is not None and user.active
    rehash = ok and users.HASHER.check_needs_rehash(stored)
    new_hash = await asyncio.to_thread(users.HASHER.hash, password) if rehash else None
    async with db.transaction() as session:
        if not ok or user is None:
            await audit.record(
                session,
                "login.failed",
                actor="anonymous",
                detail={"email_key": users.email_key(email)},
            )
            return LoginResult(None)
        fresh = await session.get(StaffUser, user.id)
        if fresh is None or not fresh.active or fresh.password_hash != stored:
            return LoginResult(None)  # deactivated or changed while the password was checked
        if new_hash:
            fresh.password_hash = new_hash
        fresh.last_login_at = now
        await sessions.clear_attempts(session, keys["pair"])
        await sessions.delete_idle_sessions(session, now - STALE_AFTER)
        stage = stage_after_password(fresh, everyone=totp_for_everyone)
        token = await start_session(session, fresh.id, now, stage=stage)
        await audit.record(
            session,
            "login.succeeded",
            actor=f"user:{fresh.id}",
            user_id=fresh.id,
            team_id=fresh.team_id,
            detail={"stage": stage},
        )
    return LoginResult(fresh, token, stage=stage)


def stage_after_password(user: StaffUser, *, everyone: bool) -> str:
    """The session stage after a right password: ``full``, ``totp`` or ``enrol``.

    TOTP is asked for once it is on; it must be enrolled by admins, and by everyone when
    the förbund requires it.
    """
    if user.totp_enabled_at is not None:
        return "totp"
    return "enrol" if everyone or user.role == "admin" else "full"


async def start_session(
    session: AsyncSession, user_id: int, now: datetime, *, stage: str = "full"
) -> str:
    """A new session for ``user_id`` in the caller's transaction; returns its token."""
    token = secrets.token_urlsafe(32)
    await sessions.add_session(session, token, user_id, now, stage)
    return token


async def check_session(
    db: Database, token: str, *, idle: timedelta, now: datetime | None = None
) -> SignedIn | None:
    """The active user of session ``token``, or None (an idle session is ended)."""
    now = now or utcnow()
    async with db.sessions() as session:
        found = await sessions.find_session(session, token)
    if found is None:
        return None
    row, user = found
    if now - row.last_seen_at > idle:
        async with db.transaction() as session:
            await sessions.delete_session(session, token)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        async with db.transaction() as session:
            await sessions.touch_session(session, token, now)
    return SignedIn.of(user)


async def extend_session(db: Database, token: str, now: datetime | None = None) -> None:
    """The session's idle time starts again (the "continue" button)."""
    async with db.transaction() as session:
        await sessions.touch_session(session, token, now or utcnow())


async def end_session(db: Database, token: str, *, user_id: int | None) -> None:
    """Log out: the session ends on the server (audited)."""
    async with db.transaction() as session:
        await sessions.delete_session(session, token)
        if user_id is not None:
            await audit.record(session, "logout", actor=f"user:{user_id}", user_id=user_id)


async def has_admin(db: Database) -> bool:
    """True when an active admin account exists (first-run check)."""
    async with db.sessions() as session:
        return await users.any_admin(session)
