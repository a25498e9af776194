"""A team's goals, measured on the summary: met or not.

A goal is configured per team (``Team.goals``, a JSON list) as
``{"text": "minst 50 % upplever en stegförflyttning", "metric": "survey.closer_to_work.share",
"op": ">=", "target": 0.5}``: ``metric`` is the dotted path of a figure of the summary JSON,
``op`` one of ``>= <= > < ==``, and ``target`` a number (a share as a fraction from 0 to 1).
A goal whose figure is missing (nothing to divide) has ``value`` and ``met`` null; a goal that
is not configured this way is left out.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reports.format import number_at

#: The comparisons a goal may use.
OPERATORS: Mapping[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}


def measure_goals(
    goals: Iterable[Mapping[str, Any]], summary: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Each well-formed goal with its ``value`` in ``summary`` and whether it was ``met``."""
    measured = []
    for goal in goals:
        parsed = _parsed(goal)
        if parsed is None:
            continue
        metric, op, target = parsed
        value = number_at(summary, metric)
        measured.append(
            {
                "text": str(goal.get("text") or f"{metric} {op} {target}"),
                "metric": metric,
                "op": op,
                "target": goal["target"],
                "value": value,
                "met": None if value is None else OPERATORS[op](value, target),
            }
        )
    return measured


def _parsed(goal: Mapping[str, Any]) -> tuple[str, str, float] | None:
    """The goal's metric, comparison and target; None when one of them is not usable."""
    metric, op, target = goal.get("metric"), goal.get("op"), goal.get("target")
    if not isinstance(metric, str) or not isinstance(op, str) or op not in OPERATORS:
        return None
    if not isinstance(target, int | float) or isinstance(target, bool):
        return None
    return metric, op, float(target)
