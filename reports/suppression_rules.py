"""The relations small-number suppression checks (:mod:`reports.suppression`).

Which counts add up (a breakdown and its total, the result and its reasons) and which counts each
share or mean is computed from. A new breakdown or ratio in the summary is added here, so that
hiding a small count in it cannot be undone from the figures around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.codes import DEFAULT_RESULT_REASONS, REPORTED_END_REASONS


@dataclass(frozen=True)
class Identity:
    """Counts that add up: the sum of coefficient × count over ``terms`` is zero.

    ``totals`` are the terms that are a total of the others; a breakdown's cells are hidden in
    preference to its total.
    """

    terms: Mapping[str, int]
    totals: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Ratio:
    """A share or mean, the counts it is computed from, and its denominator."""

    path: str
    denominator: tuple[str, ...]
    subtract: tuple[str, ...] = ()
    numerator: str | None = None

    def inputs(self) -> tuple[str, ...]:
        """Every count the ratio is computed from."""
        numerator = (self.numerator,) if self.numerator else ()
        return numerator + self.denominator + self.subtract


#: The end reasons that make up the occupation group ``ovrigt``, and the pooled "Övriga avslut".
OTHER_OCCUPATION_PARTS = (
    *(
        f"outcomes.by_reason.{code}"
        for code in REPORTED_END_REASONS
        if code not in ("arbete", "studier", "arbetssokande")
    ),
    "outcomes.other_reasons",
)
#: (total, the patterns of the counts that add up to it); ``*`` matches one path segment.
BREAKDOWNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("participants.new", ("participants.new_by_referrer.*",)),
    ("participants.new", ("participants.new_by_income_source.*",)),
    ("participants.new", ("participants.new_by_gender.*",)),
    ("participants.active_at_end", ("participants.active_at_end_by_referrer.*",)),
    ("participants.active_at_end", ("participants.active_at_end_by_income_source.*",)),
    ("participants.active_at_end", ("participants.active_at_end_by_gender.*",)),
    ("outcomes.ended", ("outcomes.by_reason.*", "outcomes.other_reasons")),
    ("outcomes.ended", ("outcomes.by_gender.*.ended",)),
    ("outcomes.result", ("outcomes.by_gender.*.result",)),
    ("participants.ended", ("outcomes.ended",)),
    ("outcomes.ended", ("outcomes.after.income_transition.*.*",)),
    ("outcomes.ended", ("outcomes.after.occupation_after.*",)),
    ("outcomes.ended", ("outcomes.after.months_in_service.*",)),
    ("outcomes.after.occupation_after.arbete", ("outcomes.by_reason.arbete",)),
    ("outcomes.after.occupation_after.studier", ("outcomes.by_reason.studier",)),
    ("outcomes.after.occupation_after.arbetssokande", ("outcomes.by_reason.arbetssokande",)),
    ("outcomes.after.occupation_after.ovrigt", OTHER_OCCUPATION_PARTS),
    ("survey.closer_to_work.respondents", ("survey.closer_to_work.by_answer.*",)),
    ("survey.health.respondents", ("survey.health.by_answer.*",)),
    (
        "survey.closer_to_work.closer",
        ("survey.closer_to_work.by_answer.ja_mycket", "survey.closer_to_work.by_answer.ja_lite"),
    ),
    ("survey.health.good", ("survey.health.by_answer.mycket_bra", "survey.health.by_answer.bra")),
)
#: Sums that are equal only in some summaries (the Finsam year is the period, one team): each
#: pair of pattern lists is checked against the counts and used where the sums are equal.
CONDITIONAL_SUMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("participants.active_at_start", "participants.new"), ("finsam.by_team.*.*",)),
)
#: The result reasons a team may use: the default, or the default and ``arbetssokande``.
RESULT_REASON_SETS = (DEFAULT_RESULT_REASONS, (*DEFAULT_RESULT_REASONS, "arbetssokande"))

SUMMARY_RATIOS = (
    Ratio("participants.share_young_at_end", ("participants.active_at_end",)),
    Ratio("participants.mean_age_at_end", ("participants.active_at_end",)),
    Ratio("outcomes.share_result", ("outcomes.ended",), ("outcomes.dropouts",), "outcomes.result"),
    Ratio("outcomes.throughput_months_mean", ("outcomes.ended",)),
    Ratio("outcomes.throughput_months_median", ("outcomes.ended",)),
    Ratio("referrals.wait_days_mean", ("participants.new",)),
    Ratio("referrals.wait_days_median", ("participants.new",)),
    Ratio("survey.response_rate", ("survey.invited",), numerator="survey.responses"),
    Ratio(
        "survey.closer_to_work.share",
        ("survey.closer_to_work.respondents",),
        numerator="survey.closer_to_work.closer",
    ),
    Ratio(
        "survey.health.share_good", ("survey.health.respondents",), numerator="survey.health.good"
    ),
    Ratio(
        "outcomes.after.steps.share",
        ("participants.active_at_start", "participants.new"),
        numerator="outcomes.after.steps.with_step_forward",
    ),
)
TREND_RATIOS = (
    Ratio("throughput_months_mean", ("ended",)),
    Ratio("throughput_months_median", ("ended",)),
)
RATIO_KEYS = frozenset(r.path.rsplit(".", 1)[-1] for r in SUMMARY_RATIOS + TREND_RATIOS)
