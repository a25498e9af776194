"""Survey invitations: when one can be used, and the participant's message when it cannot."""

from __future__ import annotations

from datetime import datetime

from core.errors import NotAllowed
from core.i18n import N_


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
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


def check_usable(
    revoked_at: datetime | None, expires_at: datetime, *, completed: bool, now: datetime
) -> None:
    """Raise :class:`InvitationError` when the invitation was revoked or has expired.

    A completed response stays reachable after expiry (to see the thanks or delete answers).
    """
    if revoked_at is not None:
        raise InvitationError("revoked")
    if expires_at <= now and not completed:
        raise InvitationError("expired")
