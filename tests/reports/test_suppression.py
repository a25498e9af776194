"""Suppression of small numbers (DOMAIN.md, "Privacy rules"), on examples and on generated data."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.codes import DEFAULT_RESULT_REASONS, REPORTED_END_REASONS
from reports.format import CLOSER_TO_WORK_ANSWERS, HEALTH_ANSWERS, lookup
from reports.suppression import suppress

REFERRER_GROUPS = ("kommun", "af", "fk", "region", "other")
INCOME_GROUPS = ("socialtjanst", "fk", "annan")
GENDERS = ("kvinna", "man", "annat")
AFTER_GROUPS = ("socialtjanst", "fk", "annan", "saknas")
OCCUPATIONS = ("arbete", "studier", "arbetssokande")
MONTH_BANDS = ("under_3", "3_6", "6_12", "12_24", "24_plus")
RATIO_KEYS = {
    "mean_age_at_end",
    "share_young_at_end",
    "share_result",
    "throughput_months_mean",
    "throughput_months_median",
    "wait_days_mean",
    "wait_days_median",
    "response_rate",
    "share",
    "share_good",
}


def test_threshold_below_three_is_refused(raw_summary):
    with pytest.raises(ValueError, match="at least 3"):
        suppress(raw_summary, threshold=2)


def test_threshold_three_hides_only_one_and_two(raw_summary):
    hidden = suppress(raw_summary, threshold=3)

    assert hidden["participants"]["new_by_referrer"]["fk"] == 3
    assert hidden["participants"]["new_by_gender"]["annat"] is None
    assert hidden["suppression"]["threshold"] == 3


def test_counts_under_the_threshold_become_none_and_are_listed(raw_summary):
    hidden = suppress(raw_summary)

    assert hidden["participants"]["new_by_referrer"]["fk"] is None
    assert hidden["outcomes"]["by_reason"]["studier"] is None
    assert "participants.new_by_referrer.fk" in hidden["suppression"]["suppressed"]
    assert "outcomes.by_reason.studier" in hidden["suppression"]["suppressed"]
    assert hidden["suppression"]["threshold"] == 5


def test_zero_stays_zero_and_is_not_listed(raw_summary):
    hidden = suppress(raw_summary)

    assert hidden["participants"]["new_by_referrer"]["other"] == 0
    assert "participants.new_by_referrer.other" not in hidden["suppression"]["suppressed"]


def test_one_hidden_cell_also_hides_the_smallest_other_nonzero_cell(raw_summary):
    # new_by_referrer: kommun 9, af 6, fk 3, region 5, other 0; total 23.
    referrers = suppress(raw_summary)["participants"]["new_by_referrer"]

    assert referrers == {"kommun": 9, "af": 6, "fk": None, "region": None, "other": 0}


def test_hidden_count_cannot_be_derived_from_the_participant_flow():
    summary = {
        "participants": {"active_at_start": 30, "new": 3, "ended": 12, "active_at_end": 21},
        "outcomes": {"ended": 12, "by_reason": {"arbete": 7, "studier": 5, "ovrigt": 0}},
    }

    hidden = suppress(summary)

    # new (3) is hidden; ended is the smallest other term of the flow, which hides the same
    # figure under outcomes, which in turn hides the smallest reason it is the total of.
    assert hidden["participants"] == {
        "active_at_start": 30,
        "new": None,
        "ended": None,
        "active_at_end": 21,
    }
    assert hidden["outcomes"] == {
        "ended": None,
        "by_reason": {"arbete": 7, "studier": None, "ovrigt": 0},
    }


def test_hidden_count_cannot_be_combined_out_of_two_identities(raw_summary):
    # health: mycket_bra 3 + bra 8 = good 11; the five answers add up to 28. With mycket_bra and
    # mycket_daligt hidden, bra is hidden for good = mycket_bra + bra; then 28 - 11 - 10 - 5
    # would still give mycket_daligt, so daligt must be hidden as well.
    answers = suppress(raw_summary)["survey"]["health"]["by_answer"]

    assert answers == {
        "mycket_bra": None,
        "bra": None,
        "nagorlunda": 10,
        "daligt": None,
        "mycket_daligt": None,
    }


def test_share_over_fewer_than_ten_is_hidden(raw_summary):
    raw_summary["survey"] |= {"invited": 9, "responses": 7, "response_rate": 7 / 9}

    hidden = suppress(raw_summary)

    assert hidden["survey"]["response_rate"] is None
    assert "survey.response_rate" in hidden["suppression"]["suppressed"]


def test_share_that_would_reveal_a_hidden_count_is_hidden(raw_summary):
    # share_result = result / (ended - dropouts): 10 / (19 - 3) would give dropouts = 3 back.
    hidden = suppress(raw_summary)

    assert hidden["outcomes"]["dropouts"] is None
    assert hidden["outcomes"]["share_result"] is None
    assert "outcomes.share_result" in hidden["suppression"]["suppressed"]


def test_share_with_nothing_to_divide_stays_null_and_is_not_listed(raw_summary):
    raw_summary["survey"] |= {"invited": 0, "responses": 0, "response_rate": None}

    hidden = suppress(raw_summary)

    assert hidden["survey"]["response_rate"] is None
    assert "survey.response_rate" not in hidden["suppression"]["suppressed"]


def test_previous_period_is_suppressed_with_its_own_list(raw_summary):
    hidden = suppress(raw_summary)
    previous = hidden["previous"]

    assert previous["participants"]["new_by_referrer"]["fk"] is None
    assert "previous.participants.new_by_referrer.fk" in hidden["suppression"]["suppressed"]
    assert "participants.new_by_referrer.fk" in previous["suppression"]["suppressed"]
    assert previous["suppression"]["threshold"] == 5


def test_trend_row_with_few_ended_loses_its_throughput(raw_summary):
    raw_summary["trend"][0] |= {"ended": 4, "new": 7, "active_at_end": 58}

    row = suppress(raw_summary)["trend"][0]

    assert row["ended"] is None
    assert row["throughput_months_mean"] is None
    assert row["throughput_months_median"] is None


def test_goal_measured_on_a_hidden_share_loses_its_value_but_stays_measured(raw_summary):
    survey = raw_summary["survey"]
    survey["closer_to_work"] = {
        "respondents": 8,
        "closer": 5,
        "share": 5 / 8,
        "by_answer": dict(zip(CLOSER_TO_WORK_ANSWERS, (2, 3, 3, 0, 0), strict=True)),
    }

    goal = suppress(raw_summary)["goals"][0]

    assert (goal["value"], goal["met"]) == (None, True)


def test_cell_hidden_to_protect_a_small_one_is_secondary_not_small(raw_summary):
    participants = raw_summary["participants"]
    participants["new_by_gender"] = {"kvinna": 21, "man": 25, "annat": 2}
    participants["new"] = 48

    hidden = suppress(raw_summary)

    assert hidden["participants"]["new_by_gender"] == {"kvinna": None, "man": 25, "annat": None}
    assert "participants.new_by_gender.annat" in hidden["suppression"]["small"]
    assert "participants.new_by_gender.kvinna" in hidden["suppression"]["secondary"]
    assert "participants.new_by_gender.kvinna" not in hidden["suppression"]["small"]


def test_small_and_secondary_together_are_what_is_suppressed(raw_summary):
    lists = suppress(raw_summary)["suppression"]

    assert sorted(lists["small"] + lists["secondary"]) == lists["suppressed"]
    assert not set(lists["small"]) & set(lists["secondary"])


def test_small_end_reasons_outside_the_results_are_pooled_as_other_endings(raw_summary):
    # sjukersattning 1, medicinsk_rehab 4, foraldraledig 1, flytt 1, vill_ej_delta 2: all small.
    outcomes = suppress(raw_summary)["outcomes"]

    assert outcomes["other_reasons"] == 9
    assert outcomes["by_reason"]["medicinsk_rehab"] is None
    assert set(outcomes["other_reasons_codes"]) >= {"sjukersattning", "flytt", "vill_ej_delta"}
    assert "arbete" not in outcomes["other_reasons_codes"]


def test_pooling_hides_fewer_cells_than_suppressing_each(raw_summary):
    pooled = suppress(raw_summary)["suppression"]["suppressed"]
    unpooled = suppress(raw_summary, merge=False)["suppression"]["suppressed"]

    assert len(pooled) < len(unpooled)


def test_quotes_are_left_as_given(raw_summary):
    hidden = suppress(raw_summary)

    assert hidden["survey"]["quotes"] == raw_summary["survey"]["quotes"]


def test_the_summary_given_is_not_changed(raw_summary):
    before = copy.deepcopy(raw_summary)

    suppress(raw_summary)

    assert raw_summary == before


def test_suppressing_twice_changes_nothing_more(raw_summary):
    once = suppress(raw_summary)

    assert suppress(once) == once


# Generated summaries whose figures add up the way real ones do.


@st.composite
def split(draw: st.DrawFn, total: int, keys: tuple[str, ...]) -> dict[str, int]:
    """``total`` divided over ``keys``."""
    parts, left = {}, total
    for key in keys[:-1]:
        parts[key] = draw(st.integers(0, left))
        left -= parts[key]
    return parts | {keys[-1]: left}


@st.composite
def scale(draw: st.DrawFn, answers: tuple[str, ...], name: str, share: str) -> dict[str, Any]:
    """A survey scale: respondents, the count of the first two answers, its share, every answer."""
    respondents = draw(st.integers(0, 30))
    by_answer = draw(split(respondents, answers))
    good = by_answer[answers[0]] + by_answer[answers[1]]
    share_value = good / respondents if respondents else None
    return {"respondents": respondents, name: good, share: share_value, "by_answer": by_answer}


@st.composite
def participants(draw: st.DrawFn, active_at_start: int) -> dict[str, Any]:
    """The participant flow from ``active_at_start`` and its breakdowns."""
    new = draw(st.integers(0, 30))
    ended = draw(st.integers(0, active_at_start + new))
    active_at_end = active_at_start + new - ended
    return {
        "active_at_start": active_at_start,
        "new": new,
        "ended": ended,
        "active_at_end": active_at_end,
        "new_by_referrer": draw(split(new, REFERRER_GROUPS)),
        "new_by_income_source": draw(split(new, INCOME_GROUPS)),
        "active_at_end_by_referrer": draw(split(active_at_end, REFERRER_GROUPS)),
        "active_at_end_by_income_source": draw(split(active_at_end, INCOME_GROUPS)),
        "new_by_gender": draw(split(new, GENDERS)),
        "active_at_end_by_gender": draw(split(active_at_end, GENDERS)),
        "mean_age_at_end": 35.0 if active_at_end else None,
        "share_young_at_end": 0.3 if active_at_end else None,
    }


@st.composite
def outcomes(draw: st.DrawFn, ended: int) -> dict[str, Any]:
    """The outcomes of ``ended`` participants, the default reasons counting as a result."""
    by_reason = draw(split(ended, REPORTED_END_REASONS))
    result = sum(by_reason[r] for r in DEFAULT_RESULT_REASONS)
    dropouts = draw(st.integers(0, ended))
    ended_by_gender = draw(split(ended, GENDERS))
    result_by_gender = draw(split(result, GENDERS))
    other = sum(v for r, v in by_reason.items() if r not in OCCUPATIONS)
    cells = draw(split(ended, tuple(f"{a}>{b}" for a in INCOME_GROUPS for b in AFTER_GROUPS)))
    after = {
        "income_transition": {
            a: {b: cells[f"{a}>{b}"] for b in AFTER_GROUPS} for a in INCOME_GROUPS
        },
        "occupation_after": {o: by_reason[o] for o in OCCUPATIONS[:3]} | {"ovrigt": other},
        "months_in_service": draw(split(ended, MONTH_BANDS)),
        "steps": {"with_step_forward": draw(st.integers(0, 10)), "share": None},
    }
    return {
        "ended": ended,
        "dropouts": dropouts,
        "after": after,
        "by_reason": by_reason,
        "result": result,
        "share_result": result / (ended - dropouts) if ended > dropouts else None,
        "by_gender": {
            g: {"ended": ended_by_gender[g], "result": result_by_gender[g]} for g in GENDERS
        },
        "throughput_months_mean": 15.0 if ended else None,
        "throughput_months_median": 14.0 if ended else None,
    }


@st.composite
def survey(draw: st.DrawFn) -> dict[str, Any]:
    """Survey figures: invitations and responses, themes, both scales, an activity."""
    invited = draw(st.integers(0, 40))
    responses = draw(st.integers(0, invited))
    return {
        "invited": invited,
        "responses": responses,
        "response_rate": responses / invited if invited else None,
        "themes": {"grupp": draw(st.integers(0, 20)), "samtal": draw(st.integers(0, 20))},
        "unthemed": draw(st.integers(0, 10)),
        "closer_to_work": draw(scale(tuple(CLOSER_TO_WORK_ANSWERS), "closer", "share")),
        "health": draw(scale(tuple(HEALTH_ANSWERS), "good", "share_good")),
        "activities": {"traning": draw(st.integers(0, 20))},
        "quotes": [],
    }


@st.composite
def period_figures(draw: st.DrawFn, active_at_start: int) -> dict[str, Any]:
    """One period's figures, starting with ``active_at_start`` participants."""
    flow = draw(participants(active_at_start))
    new = flow["new"]
    referrals = {
        "received": draw(st.integers(0, 40)),
        "queue_at_end": draw(st.integers(0, 20)),
        "wait_days_mean": 40.0 if new else None,
        "wait_days_median": 35.0 if new else None,
    }
    return {
        "participants": flow,
        "outcomes": draw(outcomes(flow["ended"])),
        "referrals": referrals,
        "survey": draw(survey()),
    }


@st.composite
def summaries(draw: st.DrawFn) -> dict[str, Any]:
    """A summary of 2025 H1 with the previous half-year and a trend whose last row is it."""
    first = draw(st.integers(0, 40))
    new, ended = draw(st.integers(0, 30)), draw(st.integers(0, first))
    previous = draw(period_figures(first + new - ended))
    current = draw(period_figures(previous["participants"]["active_at_end"]))
    before = previous["participants"]
    trend = [
        _trend_row("2024-01-01", "2024-06-30", new, ended, first + new - ended),
        _trend_row(
            "2024-07-01", "2024-12-31", before["new"], before["ended"], before["active_at_end"]
        ),
    ]
    previous["period"] = {"from": "2024-07-01", "to": "2024-12-31"}
    current["period"] = {"from": "2025-01-01", "to": "2025-06-30"}
    return current | {"previous": previous, "trend": trend}


def _trend_row(start: str, end: str, new: int, ended: int, active: int) -> dict[str, Any]:
    mean = 15.0 if ended else None
    return {
        "label": start[:4],
        "from": start,
        "to": end,
        "ended": ended,
        "throughput_months_mean": mean,
        "throughput_months_median": mean,
        "new": new,
        "active_at_end": active,
    }


def identities(summary: dict[str, Any]) -> list[dict[str, int]]:
    """Every linear identity a reader could use, as {path: coefficient} summing to zero.

    Written out here independently of the module: breakdowns and their totals, the flow,
    equal figures in two places, and the periods that follow each other.
    """
    found = [*period_identities(""), *period_identities("previous.")]
    found.append(total("participants.active_at_start", ["previous.participants.active_at_end"]))
    for figure in ("new", "ended", "active_at_end"):
        found.append(total(f"trend.1.{figure}", [f"previous.participants.{figure}"]))
    follows = ("trend.0.active_at_end", "trend.1.new", "trend.1.ended", "trend.1.active_at_end")
    found.append(dict(zip(follows, (1, 1, -1, -1), strict=True)))
    return found


def total(total_path: str, parts: list[str]) -> dict[str, int]:
    """The identity ``total = sum(parts)``."""
    return {total_path: -1, **dict.fromkeys(parts, 1)}


def period_identities(p: str) -> list[dict[str, int]]:
    """The identities within one period whose paths start with ``p``."""
    found = [
        total(f"{p}participants.{of}", [f"{p}participants.{by}.{k}" for k in keys])
        for by, keys, of in [
            ("new_by_referrer", REFERRER_GROUPS, "new"),
            ("new_by_income_source", INCOME_GROUPS, "new"),
            ("new_by_gender", GENDERS, "new"),
            ("active_at_end_by_referrer", REFERRER_GROUPS, "active_at_end"),
            ("active_at_end_by_income_source", INCOME_GROUPS, "active_at_end"),
            ("active_at_end_by_gender", GENDERS, "active_at_end"),
        ]
    ]
    found.append(
        total(f"{p}outcomes.ended", [f"{p}outcomes.by_reason.{r}" for r in REPORTED_END_REASONS])
    )
    found.append(
        total(f"{p}outcomes.result", [f"{p}outcomes.by_reason.{r}" for r in DEFAULT_RESULT_REASONS])
    )
    for measure in ("ended", "result"):
        found.append(
            total(
                f"{p}outcomes.{measure}", [f"{p}outcomes.by_gender.{g}.{measure}" for g in GENDERS]
            )
        )
    found.append(total(f"{p}participants.ended", [f"{p}outcomes.ended"]))
    after = f"{p}outcomes.after"
    cells = [f"{after}.income_transition.{a}.{b}" for a in INCOME_GROUPS for b in AFTER_GROUPS]
    found.append(total(f"{p}outcomes.ended", cells))
    found.append(
        total(f"{p}outcomes.ended", [f"{after}.months_in_service.{m}" for m in MONTH_BANDS])
    )
    occupations = [f"{after}.occupation_after.{o}" for o in (*OCCUPATIONS, "ovrigt")]
    found.append(total(f"{p}outcomes.ended", occupations))
    for occupation in OCCUPATIONS:
        found.append(
            total(f"{after}.occupation_after.{occupation}", [f"{p}outcomes.by_reason.{occupation}"])
        )
    others = [f"{p}outcomes.by_reason.{r}" for r in REPORTED_END_REASONS if r not in OCCUPATIONS]
    found.append(total(f"{after}.occupation_after.ovrigt", others))
    flow = [f"{p}participants.{f}" for f in ("active_at_start", "new", "ended", "active_at_end")]
    found.append(dict(zip(flow, (1, 1, -1, -1), strict=True)))
    for name, answers, good in [
        ("closer_to_work", CLOSER_TO_WORK_ANSWERS, "closer"),
        ("health", HEALTH_ANSWERS, "good"),
    ]:
        base = f"{p}survey.{name}"
        found.append(total(f"{base}.respondents", [f"{base}.by_answer.{a}" for a in answers]))
        found.append(total(f"{base}.{good}", [f"{base}.by_answer.{a}" for a in list(answers)[:2]]))
    return found


def pooled_identities(hidden: dict[str, Any]) -> list[dict[str, int]]:
    """The pooled end reasons add up to ``other_reasons``, in each period where they are pooled."""
    found = []
    for p in ("", "previous."):
        codes = lookup(hidden, f"{p}outcomes.other_reasons_codes") or []
        if codes:
            parts = [f"{p}outcomes.by_reason.{c}" for c in codes]
            found.append(total(f"{p}outcomes.other_reasons", parts))
    return found


def count_paths(tree: Any, prefix: str = "") -> list[str]:
    """Every count's dotted path below ``tree`` (not shares, means, labels or quotes)."""
    if isinstance(tree, list):
        return [p for n, item in enumerate(tree) for p in count_paths(item, f"{prefix}{n}.")]
    if not isinstance(tree, dict):
        return []
    paths = []
    for key, value in tree.items():
        if key in RATIO_KEYS or key in ("suppression", "period", "quotes", "goals"):
            continue
        if isinstance(value, dict | list):
            paths += count_paths(value, f"{prefix}{key}.")
        elif value is None or (isinstance(value, int) and not isinstance(value, bool)):
            paths.append(f"{prefix}{key}")
    return paths


@settings(max_examples=60, deadline=None)
@given(summaries(), st.integers(3, 8))
def test_no_small_count_is_left_visible(summary, threshold):
    hidden = suppress(summary, threshold=threshold)

    visible = [lookup(hidden, p) for p in count_paths(hidden)]
    assert not [v for v in visible if v is not None and 0 < v < threshold]


@settings(max_examples=60, deadline=None)
@given(summaries())
def test_no_breakdown_has_exactly_one_hidden_cell(summary):
    hidden = suppress(summary)

    for identity in identities(summary) + pooled_identities(hidden):
        hidden_cells = [p for p in identity if lookup(hidden, p) is None]
        assert len(hidden_cells) != 1, f"{hidden_cells[0]} = the visible rest of {identity}"


@settings(max_examples=60, deadline=None)
@given(summaries())
def test_no_hidden_count_follows_from_all_identities_together(summary):
    hidden = suppress(summary)
    known = identities(summary) + pooled_identities(hidden)
    hidden_paths = sorted({p for i in known for p in i if lookup(hidden, p) is None})
    if not hidden_paths:
        return
    matrix = np.array([[i.get(p, 0) for p in hidden_paths] for i in known], float)
    rank = np.linalg.matrix_rank(matrix)

    # A hidden count is determined exactly when its column is independent of the others.
    determined = [
        path
        for n, path in enumerate(hidden_paths)
        if np.linalg.matrix_rank(np.delete(matrix, n, axis=1)) < rank
    ]
    assert determined == []


@settings(max_examples=60, deadline=None)
@given(summaries(), st.integers(3, 8))
def test_no_shown_cell_lies(summary, threshold):
    hidden = suppress(summary, threshold=threshold)
    lists = hidden["suppression"]
    previous = hidden["previous"]["suppression"]["small"]
    small = set(lists["small"]) | {f"previous.{p}" for p in previous}

    for path in count_paths(summary):
        raw, shown = lookup(summary, path), lookup(hidden, path)
        if path in small:
            assert shown is None and 0 < raw < threshold, path  # shown as "<5": true
        elif shown is not None:
            assert shown == raw, path
        else:  # shown as "..", or pooled: never as "<5"
            assert path in lists["secondary"] + lists["merged"], path


@settings(max_examples=60, deadline=None)
@given(summaries())
def test_shares_over_fewer_than_ten_are_hidden(summary):
    hidden = suppress(summary)

    for share, denominator in [
        ("survey.response_rate", "survey.invited"),
        ("survey.closer_to_work.share", "survey.closer_to_work.respondents"),
        ("survey.health.share_good", "survey.health.respondents"),
        ("participants.share_young_at_end", "participants.active_at_end"),
        ("outcomes.throughput_months_mean", "outcomes.ended"),
        ("referrals.wait_days_mean", "participants.new"),
    ]:
        if lookup(summary, denominator) < 10:
            assert lookup(hidden, share) is None, share
