"""A realistic half-year summary of a team of about 60 participants, raw and suppressed.

The figures add up as they do in real data: every breakdown sums to its total, the flow
``active_at_start + new - ended = active_at_end`` holds, ``previous`` is the half-year before
and the last trend row is that same half-year.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reports.format import CLOSER_TO_WORK_ANSWERS, HEALTH_ANSWERS
from reports.suppression import suppress

THEME_LABELS = {
    "grupp": "Stöd och pepp i grupp",
    "samtal": "Enskilda samtal och bemötande",
    "egen_kraft": "Egen kraft och självförtroende",
    "social": "Gemenskap",
    "motion": "Motion och fysisk aktivitet",
    "struktur": "Struktur och rutiner",
    "myndighet": "Stöd i myndighetskontakter",
    "arbete": "Arbetsträning och jobb",
    "studier": "Studier",
    "nytt": "Prova nya saker",
    "halsa": "Hälsa och välmående",
}


def _participants(start: int, new: int, ended: int, **extra: Any) -> dict[str, Any]:
    """The participant flow with its breakdowns (``extra``)."""
    return {
        "active_at_start": start,
        "new": new,
        "ended": ended,
        "active_at_end": start + new - ended,
        **extra,
    }


#: The first half of 2025, as the figures come from the database.
_CURRENT: dict[str, Any] = {
    "schema": "samverkan.summary/1",
    "team": "ost",
    "period": {"from": "2025-01-01", "to": "2025-06-30"},
    "suppression": {"threshold": None, "suppressed": []},
    "participants": _participants(
        62,
        23,
        19,
        new_by_referrer={"kommun": 9, "af": 6, "fk": 3, "region": 5, "other": 0},
        new_by_income_source={"socialtjanst": 8, "fk": 11, "annan": 4},
        active_at_end_by_referrer={"kommun": 24, "af": 15, "fk": 11, "region": 14, "other": 2},
        active_at_end_by_income_source={"socialtjanst": 25, "fk": 30, "annan": 11},
        new_by_gender={"kvinna": 13, "man": 9, "annat": 1},
        active_at_end_by_gender={"kvinna": 36, "man": 28, "annat": 2},
        mean_age_at_end=36.42,
        share_young_at_end=21 / 66,
    ),
    "outcomes": {
        "ended": 19,
        "dropouts": 3,
        "by_reason": {
            "arbete": 5,
            "studier": 3,
            "annan_rehab": 2,
            "arbetssokande": 0,
            "sjukersattning": 1,
            "medicinsk_rehab": 4,
            "fortsatt_rehab": 0,
            "foraldraledig": 1,
            "flytt": 1,
            "vill_ej_delta": 2,
            "medgivande_aterkallat": 0,
            "ovrigt": 0,
        },
        "result": 10,
        "share_result": 10 / 16,
        "by_gender": {
            "kvinna": {"ended": 11, "result": 6},
            "man": {"ended": 8, "result": 4},
            "annat": {"ended": 0, "result": 0},
        },
        "throughput_months_mean": 20.43,
        "throughput_months_median": 18.9,
    },
    "referrals": {
        "received": 31,
        "queue_at_end": 14,
        "wait_days_mean": 47.3,
        "wait_days_median": 41,
    },
    "survey": {
        "invited": 40,
        "responses": 29,
        "response_rate": 29 / 40,
        "themes": {
            "grupp": 12,
            "samtal": 15,
            "egen_kraft": 6,
            "social": 9,
            "motion": 4,
            "struktur": 7,
            "myndighet": 5,
            "arbete": 8,
            "studier": 2,
            "nytt": 3,
            "halsa": 6,
        },
        "themes_labels": dict(THEME_LABELS),
        "unthemed": 3,
        "closer_to_work": {
            "respondents": 29,
            "closer": 18,
            "share": 18 / 29,
            "by_answer": {
                "ja_mycket": 7,
                "ja_lite": 11,
                "nej_ingen_skillnad": 6,
                "nej_langre_ifran": 1,
                "vet_inte": 4,
            },
        },
        "health": {
            "respondents": 28,
            "good": 11,
            "share_good": 11 / 28,
            "by_answer": {
                "mycket_bra": 3,
                "bra": 8,
                "nagorlunda": 10,
                "daligt": 5,
                "mycket_daligt": 2,
            },
        },
        "activities": {
            "gruppcoachning": 17,
            "enskilda_samtal": 21,
            "traning": 9,
            "studiebesok": 4,
            "arbetstraning": 7,
            "social_samvaro": 11,
            "myndighetsstod": 8,
            "annat": 1,
        },
        "quotes": [
            {"themes": ["grupp", "social"], "text": "Gruppen gav mig pepp att fortsätta."},
            {"themes": ["samtal"], "text": "Min coach lyssnade på riktigt."},
            {"themes": ["samtal", "myndighet"], "text": "Hon följde med mig till FK."},
            {"themes": ["grupp"], "text": "Att träffa andra i samma sits hjälpte."},
            {"themes": ["samtal"], "text": "Jag blev bemött med respekt."},
            {"themes": ["samtal"], "text": "Samtalen varje vecka höll mig uppe."},
            {"themes": ["arbete"], "text": "Praktiken ledde till en anställning."},
            {"themes": [], "text": "Bra."},
        ],
    },
}


def _previous() -> dict[str, Any]:
    """The second half of 2024, the period before."""
    summary = copy.deepcopy(_CURRENT)
    summary["period"] = {"from": "2024-07-01", "to": "2024-12-31"}
    summary["participants"] = _participants(
        60,
        21,
        19,
        new_by_referrer={"kommun": 8, "af": 5, "fk": 4, "region": 4, "other": 0},
        new_by_income_source={"socialtjanst": 7, "fk": 10, "annan": 4},
        active_at_end_by_referrer={"kommun": 23, "af": 14, "fk": 11, "region": 13, "other": 1},
        active_at_end_by_income_source={"socialtjanst": 24, "fk": 28, "annan": 10},
        new_by_gender={"kvinna": 12, "man": 9, "annat": 0},
        active_at_end_by_gender={"kvinna": 34, "man": 27, "annat": 1},
        mean_age_at_end=37.1,
        share_young_at_end=18 / 62,
    )
    outcomes = summary["outcomes"]
    outcomes["by_reason"] |= {"arbete": 4, "studier": 2, "medicinsk_rehab": 5, "vill_ej_delta": 3}
    outcomes |= {"dropouts": 5, "result": 8, "share_result": 8 / 14}
    outcomes["by_gender"] = {
        "kvinna": {"ended": 10, "result": 5},
        "man": {"ended": 9, "result": 3},
        "annat": {"ended": 0, "result": 0},
    }
    outcomes |= {"throughput_months_mean": 17.38, "throughput_months_median": 16.2}
    summary["referrals"] = {
        "received": 36,
        "queue_at_end": 9,
        "wait_days_mean": 38.5,
        "wait_days_median": 35,
    }
    _previous_survey(summary["survey"])
    return summary


def _previous_survey(survey: dict[str, Any]) -> None:
    """The survey of the second half of 2024 (no quotes: they are only for the period)."""
    survey |= {"invited": 35, "responses": 21, "response_rate": 21 / 35, "quotes": []}
    survey["themes"] |= {"grupp": 14, "samtal": 9, "motion": 6}
    survey["closer_to_work"] |= {"respondents": 21, "closer": 10, "share": 10 / 21}
    survey["closer_to_work"]["by_answer"] = dict(
        zip(CLOSER_TO_WORK_ANSWERS, (4, 6, 7, 1, 3), strict=True)
    )
    survey["health"] |= {"respondents": 21, "good": 8, "share_good": 8 / 21}
    survey["health"]["by_answer"] = dict(zip(HEALTH_ANSWERS, (2, 6, 8, 4, 1), strict=True))


def _trend_row(
    label: str, start: str, end: str, new: int, ended: int, active: int, mean: float, median: float
) -> dict[str, Any]:
    """One half-year of the throughput trend."""
    return {
        "label": label,
        "from": start,
        "to": end,
        "ended": ended,
        "throughput_months_mean": mean,
        "throughput_months_median": median,
        "new": new,
        "active_at_end": active,
    }


def sample_summary() -> dict[str, Any]:
    """The raw (unsuppressed) summary of the first half of 2025, with trend, previous and goals."""
    summary = copy.deepcopy(_CURRENT)
    summary["previous"] = _previous()
    summary["trend"] = [
        _trend_row("2023 H1", "2023-01-01", "2023-06-30", 18, 15, 55, 13.9, 13.1),
        _trend_row("2023 H2", "2023-07-01", "2023-12-31", 20, 16, 59, 15.2, 14.0),
        _trend_row("2024 H1", "2024-01-01", "2024-06-30", 22, 21, 60, 16.04, 15.5),
        _trend_row("2024 H2", "2024-07-01", "2024-12-31", 21, 19, 62, 17.38, 16.2),
    ]
    summary["goals"] = [
        {
            "text": "minst 50 % upplever en stegförflyttning",
            "metric": "survey.closer_to_work.share",
            "op": ">=",
            "target": 0.5,
            "value": 18 / 29,
            "met": True,
        },
        {
            "text": "högst 45 dagars väntetid i genomsnitt",
            "metric": "referrals.wait_days_mean",
            "op": "<=",
            "target": 45,
            "value": 47.3,
            "met": False,
        },
    ]
    summary["generated_at"] = "2025-07-03T09:15:00+02:00"
    summary["team_name"] = "Samverkansteam Öst"
    return summary


@pytest.fixture
def raw_summary() -> dict[str, Any]:
    """The sample summary as the team sees it, without suppression."""
    return sample_summary()


@pytest.fixture
def summary() -> dict[str, Any]:
    """The sample summary as it leaves the team: suppressed with the default threshold."""
    return suppress(sample_summary())
