"""Specification of core.referrals: the lifecycle and the trial period."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import FormErrors
from core.referrals import (
    ALLOWED_TRANSITIONS,
    Status,
    Transition,
    TransitionNotAllowed,
    check_transition,
    is_dropout,
    trial_period_end,
)

# ---------------------------------------------------------------------------- lifecycle

HAPPY_PATH = [
    Status.RECEIVED,
    Status.ASSESSING,
    Status.QUEUED,
    Status.VISIT_BOOKED,
    Status.ENROLLED,
    Status.ENDED,
]
ALLOWED = {
    (Status.RECEIVED, Status.ASSESSING),
    (Status.RECEIVED, Status.DECLINED),
    (Status.RECEIVED, Status.WITHDRAWN),
    (Status.ASSESSING, Status.QUEUED),
    (Status.ASSESSING, Status.DECLINED),
    (Status.ASSESSING, Status.WITHDRAWN),
    (Status.QUEUED, Status.VISIT_BOOKED),
    (Status.QUEUED, Status.DECLINED),
    (Status.QUEUED, Status.WITHDRAWN),
    (Status.VISIT_BOOKED, Status.ENROLLED),
    (Status.VISIT_BOOKED, Status.QUEUED),
    (Status.VISIT_BOOKED, Status.DECLINED),
    (Status.VISIT_BOOKED, Status.WITHDRAWN),
    (Status.ENROLLED, Status.ENDED),
}


def reasons_for(target: Status) -> dict[str, str]:
    """The keyword arguments a move to ``target`` needs."""
    return {
        Status.ENDED: {"end_reason": "arbete"},
        Status.DECLINED: {"decline_reason": "Personen bor utanför teamets område."},
        Status.WITHDRAWN: {"note": "Remittenten återtog remissen: personen har fått arbete."},
    }.get(target, {})


def move(current: Status, target: Status) -> Transition:
    """check_transition with the reasons the target needs and an empty note otherwise."""
    arguments = {"note": ""} | reasons_for(target)
    return check_transition(current, target, **arguments)


def test_the_allowed_transitions_are_exactly_the_documented_ones() -> None:
    table = {
        (current, target) for current, targets in ALLOWED_TRANSITIONS.items() for target in targets
    }
    assert table == ALLOWED


def test_the_happy_path_goes_from_received_to_ended() -> None:
    steps = [
        move(current, target) for current, target in zip(HAPPY_PATH, HAPPY_PATH[1:], strict=False)
    ]
    assert [(step.from_status, step.to_status) for step in steps] == list(
        zip(HAPPY_PATH, HAPPY_PATH[1:], strict=False)
    )


@pytest.mark.parametrize(
    ("current", "target"),
    sorted(
        (current, target)
        for current in Status
        for target in Status
        if (current, target) not in ALLOWED
    ),
)
def test_every_other_transition_is_refused(current: Status, target: Status) -> None:
    with pytest.raises(TransitionNotAllowed):
        move(current, target)


def test_refusal_names_both_statuses_in_swedish() -> None:
    with pytest.raises(TransitionNotAllowed) as raised:
        move(Status.QUEUED, Status.ENROLLED)
    assert raised.value.render() == (
        "En remiss med status ”I kö” kan inte flyttas till ”Inskriven”."
    )


def test_declining_needs_a_reason_for_the_referrer() -> None:
    with pytest.raises(FormErrors) as raised:
        check_transition(Status.ASSESSING, Status.DECLINED, note="", decline_reason="  ")
    assert list(raised.value.errors) == ["decline_reason"]
    declined = check_transition(
        Status.ASSESSING, Status.DECLINED, note="", decline_reason=" Fel målgrupp. "
    )
    assert declined.decline_reason == "Fel målgrupp."


@pytest.mark.parametrize("end_reason", [None, "", "pension"])
def test_ending_needs_an_end_reason_from_the_code_list(end_reason: str | None) -> None:
    with pytest.raises(FormErrors) as raised:
        check_transition(Status.ENROLLED, Status.ENDED, note="", end_reason=end_reason)
    assert list(raised.value.errors) == ["end_reason"]


def test_ending_keeps_the_end_reason_and_note() -> None:
    ended = check_transition(
        Status.ENROLLED, Status.ENDED, note="Anställd på lager.", end_reason="arbete"
    )
    assert ended == Transition(
        Status.ENROLLED, Status.ENDED, note="Anställd på lager.", end_reason="arbete"
    )


def test_reasons_are_refused_for_moves_that_take_none() -> None:
    with pytest.raises(FormErrors) as raised:
        check_transition(
            Status.RECEIVED,
            Status.ASSESSING,
            note="",
            end_reason="arbete",
            decline_reason="Fel målgrupp.",
        )
    assert list(raised.value.errors) == ["end_reason", "decline_reason"]


def test_withdrawal_needs_a_note_saying_who_and_why() -> None:
    with pytest.raises(FormErrors) as raised:
        check_transition(Status.QUEUED, Status.WITHDRAWN, note="")
    assert raised.value.errors["note"].render() == "Skriv vem som återtog remissen och varför."


def test_overlong_note_is_refused_not_truncated() -> None:
    with pytest.raises(FormErrors) as raised:
        check_transition(Status.RECEIVED, Status.ASSESSING, note="x" * 2001)
    assert raised.value.errors["note"].render() == (
        "Texten är för lång. Skriv högst 2000 tecken (nu 2001)."
    )


# ---------------------------------------------------------------------------- trial period


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 15), 2, date(2026, 3, 15)),
        (date(2026, 1, 15), 3, date(2026, 4, 15)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2023, 12, 31), 2, date(2024, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 5, 31), 3, date(2026, 8, 31)),
    ],
)
def test_trial_period_is_calendar_months_clamped_to_month_end(
    start: date, months: int, expected: date
) -> None:
    assert trial_period_end(start, months) == expected


@pytest.mark.parametrize("months", [0, 1, 4, 6])
def test_trial_period_is_two_or_three_months(months: int) -> None:
    with pytest.raises(ValueError, match="2 or 3 months"):
        trial_period_end(date(2026, 1, 1), months)


def test_end_within_trial_period_counts_as_dropout() -> None:
    assert is_dropout(date(2026, 1, 15), date(2026, 3, 14), 2)


def test_end_on_the_day_the_trial_period_is_over_is_not_a_dropout() -> None:
    assert not is_dropout(date(2026, 1, 15), date(2026, 3, 15), 2)
    assert is_dropout(date(2026, 1, 15), date(2026, 3, 15), 3)


@given(start=st.dates(date(1990, 1, 1), date(2100, 12, 31)), months=st.sampled_from([2, 3]))
def test_trial_period_ends_months_later_on_the_same_or_last_day(start: date, months: int) -> None:
    end = trial_period_end(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
    assert end.day == min(start.day, calendar.monthrange(end.year, end.month)[1])
