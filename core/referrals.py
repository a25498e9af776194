"""Referrals (*remiss*, *intresseanmälan*): the lifecycle and the trial period.

Lifecycle (DOMAIN.md): ``received`` → ``assessing`` → ``queued`` → ``visit_booked`` →
``enrolled`` → ``ended``, with the side exits ``declined`` (a reason goes to the referrer) and
``withdrawn`` (by the referrer or the participant). Decisions beyond DOMAIN.md:

- ``visit_booked`` → ``queued`` is allowed: a cancelled introductory visit puts the person back
  in the queue. ``queued`` → ``enrolled`` is not: the visit is mandatory.
- Nothing goes backwards into ``received`` or ``assessing``, and ``ended``, ``declined`` and
  ``withdrawn`` are final. An enrolled participant who leaves is *ended* with an end reason
  (``vill_ej_delta``, ``medgivande_aterkallat``, …), not withdrawn.
- A withdrawal needs a note saying who withdrew the referral and why.

The referral form is checked in :mod:`core.referral_form`.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from core.codes import END_REASONS, REFERRAL_STATUSES
from core.errors import DomainError, FormErrors, NotAllowed
from core.i18n import N_
from core.referral_form import clean_text


class Status(StrEnum):
    """Where a referral is in its lifecycle; the values are the stored codes."""

    RECEIVED = "received"
    ASSESSING = "assessing"
    QUEUED = "queued"
    VISIT_BOOKED = "visit_booked"
    ENROLLED = "enrolled"
    ENDED = "ended"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


_EXITS = frozenset({Status.DECLINED, Status.WITHDRAWN})
#: The statuses each status may move to; a status missing here is final.
ALLOWED_TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.ASSESSING}) | _EXITS,
    Status.ASSESSING: frozenset({Status.QUEUED}) | _EXITS,
    Status.QUEUED: frozenset({Status.VISIT_BOOKED}) | _EXITS,
    Status.VISIT_BOOKED: frozenset({Status.ENROLLED, Status.QUEUED}) | _EXITS,
    Status.ENROLLED: frozenset({Status.ENDED}),
}
#: Statuses in which a referral waits for a place (``queue_at_end`` counts these).
QUEUE_STATUSES = frozenset({Status.QUEUED, Status.VISIT_BOOKED})
NOTE_MAX_LENGTH = 2000


class TransitionNotAllowed(NotAllowed):
    """The referral cannot move from its current status to the one asked for."""


@dataclass(frozen=True)
class Transition:
    """A checked status change; the caller stores it with who and when."""

    from_status: Status
    to_status: Status
    note: str
    end_reason: str | None = None
    decline_reason: str | None = None


def check_transition(
    current: Status,
    target: Status,
    *,
    note: str,
    end_reason: str | None = None,
    decline_reason: str | None = None,
) -> Transition:
    """Check that a referral may move from ``current`` to ``target`` and return the change.

    Raises :class:`TransitionNotAllowed` for a move the lifecycle does not allow, and
    :class:`FormErrors` (fields ``note``, ``end_reason``, ``decline_reason``) when ending lacks
    an end reason, declining lacks a reason for the referrer, withdrawing lacks a note, or a
    reason is given for a move that takes none.
    """
    if target not in ALLOWED_TRANSITIONS.get(current, frozenset()):
        raise TransitionNotAllowed(
            N_("En remiss med status ”{current}” kan inte flyttas till ”{target}”."),
            current=REFERRAL_STATUSES[current].sv,
            target=REFERRAL_STATUSES[target].sv,
        )
    errors: dict[str, DomainError] = {}
    texts = {"note": note, "decline_reason": decline_reason or ""}
    for name, text in texts.items():
        try:
            texts[name] = clean_text(text, field=name, max_length=NOTE_MAX_LENGTH, multiline=True)
        except DomainError as error:
            errors[name] = error
    errors.update(_missing_reasons(target, texts, end_reason))
    if errors:
        raise FormErrors(errors)
    return Transition(
        from_status=current,
        to_status=target,
        note=texts["note"],
        end_reason=end_reason,
        decline_reason=texts["decline_reason"] or None,
    )


def _missing_reasons(
    target: Status, texts: Mapping[str, str], end_reason: str | None
) -> dict[str, DomainError]:
    """Errors for reasons a move to ``target`` needs but lacks, or takes but was given."""
    errors: dict[str, DomainError] = {}
    if target is Status.ENDED and end_reason not in END_REASONS:
        message = N_("Välj varför deltagaren avslutas.")
        errors["end_reason"] = DomainError(message, field="end_reason")
    elif target is not Status.ENDED and end_reason is not None:
        message = N_("Ange en avslutsanledning bara när deltagaren avslutas.")
        errors["end_reason"] = DomainError(message, field="end_reason")
    if target is Status.DECLINED and not texts["decline_reason"]:
        message = N_("Skriv varför remissen avböjs. Texten skickas till remittenten.")
        errors["decline_reason"] = DomainError(message, field="decline_reason")
    elif target is not Status.DECLINED and texts["decline_reason"]:
        message = N_("Skriv en anledning till remittenten bara när remissen avböjs.")
        errors["decline_reason"] = DomainError(message, field="decline_reason")
    if target is Status.WITHDRAWN and not texts["note"] and "note" not in errors:
        message = N_("Skriv vem som återtog remissen och varför.")
        errors["note"] = DomainError(message, field="note")
    return errors


#: Trial period (*prövotid*) lengths a team can choose, in calendar months.
TRIAL_PERIOD_MONTHS = (2, 3)


def trial_period_end(start: date, months: int) -> date:
    """The day a trial period of ``months`` calendar months from ``start`` is over.

    The same day of the month ``months`` later, or that month's last day when the month is
    shorter (31 December + 2 months is 28 or 29 February).
    """
    if months not in TRIAL_PERIOD_MONTHS:
        raise ValueError(f"a trial period is 2 or 3 months, not {months}")
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def is_dropout(start: date, end: date, months: int) -> bool:
    """True when a participation from ``start`` ended on ``end``, within the trial period."""
    return end < trial_period_end(start, months)
