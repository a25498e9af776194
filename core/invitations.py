"""Survey invitations: when one can be used, and the participant's message when it cannot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import NotAllowed
from core.i18n import N_


@dataclass(frozen=True)
class NewInvitation:
    """A created invitation with its token: shown once, never stored."""

    invitation_id: int
    participant_id: int
    person_ref: str
    token: str
    expires_at: datetime


class InvitationError(NotAllowed):
    """The invitation cannot be used; ``reason`` says why, the message tells the participant."""

    MESSAGES = {
        "unknown": N_("Länken fungerar inte. Kontrollera att du har öppnat hela länken."),
        "expired": N_("Länken har slutat gälla. Be teamet om en ny länk."),
        "revoked": N_("Den här länken gäller inte längre. Använd den senaste länken du har fått."),
        "taken": N_(
            "Den här länken används redan i en annan chatt. Om det inte var du, kontakta teamet."
        ),
        "in_telegram": N_("Du har redan börjat svara i Telegram. Fortsätt gärna där."),
        "on_web": N_("Du har redan börjat svara på webbsidan. Fortsätt gärna där."),
        "closed": N_(
            "Enkäten är avslutad och länken gäller inte längre. Tack för dina svar! Vill du att"
            " dina svar tas bort, kontakta teamet så raderar de dem."
        ),
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


def check_usable(
    revoked_at: datetime | None,
    expires_at: datetime,
    *,
    completed: bool,
    now: datetime,
    completed_at: datetime | None = None,
    completed_link_days: int | None = None,
) -> None:
    """Raise :class:`InvitationError` when the invitation was revoked, has expired or is closed.

    A completed response stays reachable after expiry (to see the thanks or delete answers)
    for ``completed_link_days`` after ``completed_at``; then the link is ``closed`` (no answers
    are shown; the team deletes them on request). None: a completed link never closes.
    """
    if revoked_at is not None:
        raise InvitationError("revoked")
    if expires_at <= now and not completed:
        raise InvitationError("expired")
    if is_closed(completed_at, completed_link_days, now):
        raise InvitationError("closed")


def is_closed(
    completed_at: datetime | None, completed_link_days: int | None, now: datetime
) -> bool:
    """Whether a response completed at ``completed_at`` is past its link's ``completed_link_days``."""
    if completed_at is None or completed_link_days is None:
        return False
    return completed_at + timedelta(days=completed_link_days) <= now
