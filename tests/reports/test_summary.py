"""The summary rebuilds a known report: records imported from ``data/records.csv``, figures
computed by hand below (the arithmetic is in the comments), compared exactly for counts and to
one decimal for means.

The file has two teams. Team ``ost`` (prövotid 3 months, default result reasons) has the traps:
P09 and P19 entered by mistake (*felregistrering*), P06 ended before the period, P07 starting
after it (and so in the queue at its end), P04 and P12 ending within the trial period, P15
ending on the very last day of its trial period (30 Nov + 3 months = 28 Feb: not a dropout),
birth years without a date (P03, P05: 1 July), a birthday on the period's last day (P01) and
the day after (P14). Team ``vast`` (prövotid 2 months, ``arbetssokande`` counts as a result)
is another team's records, and reuses the person_refs P01–P03.

The period is the first half of 2025: 2025-01-01 to 2025-06-30.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.codes import REPORTED_END_REASONS
from core.errors import NotFound
from reports.periods import Period
from reports.summary import build_summary
from services.importing import import_records, read_records
from storage.db import Database
from tests.common.teams import make_team

DATA = Path(__file__).parent / "data"
H1_2025 = Period(date(2025, 1, 1), date(2025, 6, 30))
TODAY = date(2026, 1, 15)
VAST_RESULT_REASONS = ["arbete", "studier", "annan_rehab", "arbetssokande"]


def records_csv() -> str:
    """The text of ``data/records.csv``."""
    return (DATA / "records.csv").read_text(encoding="utf-8")


async def import_file(db: Database, text: str | None = None, name: str = "records.csv") -> None:
    """Import ``data/records.csv`` (or ``text``) for the teams ost and vast."""
    text = records_csv() if text is None else text
    rows = read_records(text, file=name, team_codes={"ost", "vast"}, default_team=None, today=TODAY)
    await import_records(db, rows, file=name)


@pytest.fixture
async def records(db: Database) -> Database:
    """The two teams with the records of ``data/records.csv``."""
    await make_team(db, "ost", "Samverkansteam Öst", trial_months=3)
    await make_team(
        db, "vast", "Samverkansteam Väst", trial_months=2, result_reasons=VAST_RESULT_REASONS
    )
    await import_file(db)
    return db


async def raw(db: Database, team: str | None = "ost", period: Period = H1_2025) -> dict[str, Any]:
    """The unsuppressed summary."""
    return await build_summary(db, period, team_code=team, suppress=False)


def one_decimal(value: float | None) -> float | None:
    """A mean as the report shows it."""
    return None if value is None else round(value, 1)


async def test_participant_flow_of_one_team_matches_the_hand_count(records: Database) -> None:
    participants = (await raw(records))["participants"]
    # active_at_start: started before 2025-01-01, not ended before it:
    #   P01 (no end), P02 (end 03-14), P10 (06-30), P11 (2025-01-01), P14 (07-15), P15 (02-28) = 6
    #   (P06 ended 2024-12-20; P16–P18 ended in 2023–2024; P09, P19 mistakes)
    # new: started 2025-01-01..06-30: P03, P04, P05, P12 = 4 (P07 starts 2025-07-01, P09 mistake)
    # ended: P02, P04, P10, P11, P12, P15 = 6
    # active_at_end: P01, P03, P05, P14 = 4 = 6 + 4 - 6
    assert [participants[k] for k in ("active_at_start", "new", "ended", "active_at_end")] == [
        6, 4, 6, 4,
    ]  # fmt: skip


async def test_breakdowns_by_referrer_income_source_and_gender(records: Database) -> None:
    participants = (await raw(records))["participants"]
    # new: P03 fk/sjukpenning/kvinna, P04 region_psykiatri/aktivitetsersattning/man,
    #      P05 egen/(empty → okand)/annat, P12 region_primarvard/etableringsersattning/kvinna
    assert participants["new_by_referrer"] == {
        "kommun": 0,
        "af": 0,
        "fk": 1,
        "region": 2,
        "other": 1,
    }
    assert participants["new_by_income_source"] == {"socialtjanst": 0, "fk": 3, "annan": 1}
    assert participants["new_by_gender"] == {"kvinna": 2, "man": 1, "annat": 1}
    # active at the end: P01 af/a_kassa/kvinna, P03 fk/sjukpenning/kvinna,
    #                    P05 egen/okand/annat, P14 fk/sjukpenning/kvinna
    assert participants["active_at_end_by_referrer"] == {
        "kommun": 0, "af": 1, "fk": 2, "region": 0, "other": 1,
    }  # fmt: skip
    assert participants["active_at_end_by_income_source"] == {
        "socialtjanst": 0,
        "fk": 2,
        "annan": 2,
    }
    assert participants["active_at_end_by_gender"] == {"kvinna": 3, "man": 0, "annat": 1}


async def test_age_comes_from_the_birth_date_or_1_july_of_the_birth_year(records: Database) -> None:
    participants = (await raw(records))["participants"]
    # Ages on 2025-06-30 of those active at the end:
    #   P01 born 1990-06-30: birthday that day → 35
    #   P03 born 1996 (year only → 1996-07-01): 2025 - 1996 - 1 = 28
    #   P05 born 1980 (year only → 1980-07-01): 2025 - 1980 - 1 = 44
    #   P14 born 1995-07-01: birthday the next day → 29
    # mean (35 + 28 + 44 + 29) / 4 = 136 / 4 = 34.0; aged 16–29: P03, P14 → 2 / 4 = 0.5
    assert participants["mean_age_at_end"] == pytest.approx(34.0)
    assert participants["share_young_at_end"] == pytest.approx(0.5)


async def test_outcomes_by_reason_dropouts_and_results(records: Database) -> None:
    outcomes = (await raw(records))["outcomes"]
    # ended: P02 arbete, P04 vill_ej_delta, P10 annan_rehab, P11 medicinsk_rehab, P12 arbete,
    #        P15 flytt
    expected_reasons = dict.fromkeys(REPORTED_END_REASONS, 0) | {
        "arbete": 2, "annan_rehab": 1, "vill_ej_delta": 1, "medicinsk_rehab": 1, "flytt": 1,
    }  # fmt: skip
    assert outcomes["by_reason"] == expected_reasons
    # dropouts (end before start + 3 months):
    #   P04 2025-02-03 + 3 months = 2025-05-03 > 2025-03-20 → dropout
    #   P12 2025-04-01 + 3 months = 2025-07-01 > 2025-05-30 → dropout
    #   P15 2024-11-30 + 3 months = 2025-02-28 (February is shorter) = end → not a dropout
    assert outcomes["dropouts"] == 2
    # results (arbete, studier, annan_rehab): P02, P10, P12 = 3; share 3 / (6 - 2) = 0.75
    assert (outcomes["result"], outcomes["share_result"]) == (3, 0.75)
    assert outcomes["by_gender"] == {
        "kvinna": {"ended": 2, "result": 2},  # P10, P12
        "man": {"ended": 4, "result": 1},  # P02 (result), P04, P11, P15
        "annat": {"ended": 0, "result": 0},
    }


async def test_throughput_time_mean_and_median_in_months(records: Database) -> None:
    outcomes = (await raw(records))["outcomes"]
    # days from start to end: P02 2024-06-03→2025-03-14 = 284, P04 2025-02-03→03-20 = 45,
    #   P10 2024-03-04→2025-06-30 = 483, P11 2024-09-02→2025-01-01 = 121,
    #   P12 2025-04-01→05-30 = 59, P15 2024-11-30→2025-02-28 = 90
    # mean 1082 / 6 = 180.33 days / 30.4375 = 5.92 months
    # median of 45 59 90 121 284 483 = (90 + 121) / 2 = 105.5 days / 30.4375 = 3.47 months
    assert one_decimal(outcomes["throughput_months_mean"]) == 5.9
    assert one_decimal(outcomes["throughput_months_median"]) == 3.5
    assert outcomes["throughput_months_mean"] == pytest.approx(1082 / 6 / 30.4375)
    assert outcomes["throughput_months_median"] == pytest.approx(105.5 / 30.4375)


async def test_referrals_received_queue_at_end_and_waiting_time(records: Database) -> None:
    referrals = (await raw(records))["referrals"]
    # received 2025-01-01..06-30: P05 01-20, P07 05-05, P08 02-10, P12 03-01 = 4 (P09 mistake)
    # in the queue at the end of 2025-06-30: P07 (enrolled 07-01), P08, P13 (never started) = 3
    # waiting days of the new: P03 2024-11-04→2025-01-13 = 70, P04 2024-12-02→2025-02-03 = 63,
    #   P05 2025-01-20→03-03 = 42, P12 2025-03-01→04-01 = 31
    # mean 206 / 4 = 51.5; median of 31 42 63 70 = (42 + 63) / 2 = 52.5
    assert referrals == {
        "received": 4, "queue_at_end": 3, "wait_days_mean": 51.5, "wait_days_median": 52.5,
    }  # fmt: skip


async def test_trend_covers_the_six_half_years_before_the_period(records: Database) -> None:
    trend = (await raw(records))["trend"]
    # ended / new / active at the half-year's end, team ost without the mistakes P09, P19:
    #   2022 H1: new P16, P17                          active P16 P17            = 2
    #   2022 H2: new P18                               active P16 P17 P18        = 3
    #   2023 H1: ended P16 (365 d), P17 (394 d); new P06; active P18 P06          = 2
    #   2023 H2: nothing                               active P18 P06            = 2
    #   2024 H1: ended P18 (561 d); new P01 P10 P02;   active P06 P01 P10 P02    = 4
    #   2024 H2: ended P06 (627 d); new P11 P15 P14;   active P01 P02 P10 P11 P14 P15 = 6
    rows = [(r["label"], r["ended"], r["new"], r["active_at_end"]) for r in trend]
    assert rows == [
        ("2022 H1", 0, 2, 2), ("2022 H2", 0, 1, 3), ("2023 H1", 2, 1, 2),
        ("2023 H2", 0, 0, 2), ("2024 H1", 1, 3, 4), ("2024 H2", 1, 3, 6),
    ]  # fmt: skip
    # 2023 H1: mean and median (365 + 394) / 2 = 379.5 days = 12.47 months
    assert one_decimal(trend[2]["throughput_months_mean"]) == 12.5
    assert one_decimal(trend[2]["throughput_months_median"]) == 12.5
    assert one_decimal(trend[4]["throughput_months_mean"]) == 18.4  # 561 / 30.4375
    assert one_decimal(trend[5]["throughput_months_median"]) == 20.6  # 627 / 30.4375
    assert trend[0]["throughput_months_mean"] is None
    assert (trend[5]["from"], trend[5]["to"]) == ("2024-07-01", "2024-12-31")


async def test_previous_period_is_the_half_year_before(records: Database) -> None:
    previous = (await raw(records))["previous"]
    assert previous["period"] == {"from": "2024-07-01", "to": "2024-12-31"}
    # 2024 H2: active at start P06 P01 P10 P02 = 4; new P11 P15 P14 = 3; ended P06 = 1; end 6
    flow = [
        previous["participants"][k] for k in ("active_at_start", "new", "ended", "active_at_end")
    ]
    assert flow == [4, 3, 1, 6]
    assert previous["outcomes"]["by_reason"]["studier"] == 1


async def test_whole_forbund_adds_the_other_team_with_its_own_settings(records: Database) -> None:
    summary = await raw(records, team=None)
    participants, outcomes = summary["participants"], summary["outcomes"]
    # vast: P01 new (2025-01-15), P02 active at start and ended 2025-04-01 (arbetssokande,
    # a result in vast), P03 received 2025-06-01 and still queued
    flow = [participants[k] for k in ("active_at_start", "new", "ended", "active_at_end")]
    assert flow == [6 + 1, 4 + 1, 6 + 1, 4 + 1]
    # result 3 + 1; dropouts 2 + 0 (vast P02: 2024-07-01 + 2 months < 2025-04-01); 4 / (7 - 2)
    assert (outcomes["result"], outcomes["dropouts"], outcomes["share_result"]) == (4, 2, 0.8)
    assert outcomes["by_reason"]["arbetssokande"] == 1
    assert summary["referrals"]["received"] == 4 + 1
    assert summary["referrals"]["queue_at_end"] == 3 + 1
    # ages: ost's 35 28 44 29 and vast P01 born 1990-01-01 → 35: 171 / 5 = 34.2; young 2 / 5
    assert one_decimal(participants["mean_age_at_end"]) == 34.2
    assert participants["share_young_at_end"] == pytest.approx(0.4)
    assert summary["team"] is None


async def test_a_record_entered_by_mistake_counts_once_it_is_corrected(records: Database) -> None:
    before = (await raw(records))["participants"]
    corrected = records_csv().replace("2025-02-02,felregistrering,ost", "2025-02-02,flytt,ost")
    assert corrected != records_csv()
    await import_file(records, corrected)
    after = (await raw(records))["participants"]
    # P09 (started 2025-02-01, ended 2025-02-02) is now new and ended in the period
    assert (after["new"], after["ended"]) == (before["new"] + 1, before["ended"] + 1)
    assert after["active_at_end"] == before["active_at_end"]


async def test_the_summary_is_suppressed_by_default(records: Database) -> None:
    summary = await build_summary(records, H1_2025, team_code="ost")
    assert summary["suppression"]["threshold"] == 5
    assert summary["participants"]["new"] is None  # 4 is under 5
    assert "participants.new" in summary["suppression"]["suppressed"]
    assert summary["outcomes"]["share_result"] is None  # denominator 4 is under 10
    assert summary["participants"]["new_by_referrer"]["kommun"] == 0  # zero is not hidden


async def test_the_summary_has_every_key_of_the_interface(records: Database) -> None:
    summary = await raw(records)
    assert summary["schema"] == "samverkan.summary/1"
    assert (summary["team"], summary["period"]) == (
        "ost",
        {"from": "2025-01-01", "to": "2025-06-30"},
    )
    assert set(summary) >= {
        "suppression", "participants", "outcomes", "referrals", "survey", "trend", "previous",
        "goals", "generated_at", "team_name",
    }  # fmt: skip
    assert set(summary["survey"]) >= {
        "invited", "responses", "response_rate", "themes", "closer_to_work", "health", "quotes",
    }  # fmt: skip
    assert summary["team_name"] == "Samverkansteam Öst"
    assert json.loads(json.dumps(summary)) == summary


async def test_goals_are_measured_on_the_figures(db: Database) -> None:
    goals = [
        {"text": "minst 70 % i mål", "metric": "outcomes.share_result", "op": ">=", "target": 0.7},
        {"text": "högst 45 dagars väntan", "metric": "referrals.wait_days_mean", "op": "<=",
         "target": 45},
        {"text": "svarsfrekvens", "metric": "survey.response_rate", "op": ">=", "target": 0.5},
    ]  # fmt: skip
    await make_team(db, "ost", "Samverkansteam Öst", goals=goals)
    await make_team(db, "vast", "Samverkansteam Väst")
    await import_file(db)
    measured = (await raw(db))["goals"]
    # share_result 0.75 >= 0.7 → met; wait 51.5 <= 45 → not met; no invitations → no value
    assert [(g["value"], g["met"]) for g in measured] == [(0.75, True), (51.5, False), (None, None)]


async def test_an_unknown_team_is_not_found(records: Database) -> None:
    with pytest.raises(NotFound):
        await build_summary(records, H1_2025, team_code="nord")


async def test_there_is_no_previous_period_before_the_first_record(records: Database) -> None:
    summary = await raw(records, period=Period(date(2022, 1, 1), date(2022, 6, 30)))
    assert summary["previous"] is None
    assert summary["participants"]["new"] == 2  # P16, P17
