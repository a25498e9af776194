"""The feature routes of the web application, in one list (the composition root adds them)."""

from __future__ import annotations

from intake import (
    admin,
    audit_log,
    board,
    invitation_messages,
    invitations,
    participants,
    privacy,
    referral_form,
    summaries,
    survey_web,
    two_factor,
)
from intake.web import RouteSetup

ROUTES: list[RouteSetup] = [
    referral_form.setup,
    board.setup,
    participants.setup,
    audit_log.setup,
    privacy.setup,
    survey_web.setup,
    invitations.setup,
    invitation_messages.setup,
    summaries.setup,
    admin.setup,
    two_factor.setup,
]
