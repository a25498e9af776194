"""Suppression of small numbers in a summary that leaves the team (DOMAIN.md, "Privacy rules").

Three rules, applied to the period, to ``previous`` and to every ``trend`` row together:

1. *Primary*: a count from 1 to ``threshold - 1`` is hidden (``None``). Zero stays 0.
2. *Secondary*: counts that add up (a breakdown and its total, the participant flow
   ``active_at_start + new - ended - active_at_end = 0``, the same figure in two places, one
   half-year's end and the next one's start) must not let anyone work a hidden count out from the
   visible ones. While some hidden count can be recovered, the smallest other non-zero count of
   an identity it is in is hidden as well. The check is exact linear algebra over all identities
   at once, so combining several of them does not reveal a hidden count either.
3. *Ratios*: a share or mean is hidden when its denominator is under 10, or when a count it is
   computed from is hidden (the share would give that count back).

Every hidden number's dotted path (``participants.new_by_referrer.fk``, ``trend.2.ended``) is
listed in ``suppression.suppressed``, and again in ``suppression.small`` (a count from 1 to
``threshold - 1``, shown as "<5") or ``suppression.secondary`` (a figure hidden only to protect
another, shown as ".."; a "<5" there would be false). ``previous`` gets its own lists.
Before any of this, small categories that may be pooled are merged (:mod:`reports.merging`).
The breakdowns and ratios the rules apply to are listed in :mod:`reports.suppression_rules`.
Quotes are left as given: they are filtered for consent and redacted upstream.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from reports.format import Summary, date_at, lookup
from reports.merging import merge_small, restore_merged
from reports.suppression_rules import (
    BREAKDOWNS,
    CONDITIONAL_SUMS,
    RATIO_KEYS,
    RESULT_REASON_SETS,
    SUMMARY_RATIOS,
    TREND_RATIOS,
    Identity,
    Ratio,
)

MIN_THRESHOLD = 3
#: Shares and means are hidden when fewer than this many people are behind them.
MIN_DENOMINATOR = 10
#: Parts of a summary that hold no counts of their own (``trend`` and ``previous`` are walked
#: separately; goals follow the figure they measure).
_NOT_COUNTS = frozenset({"schema", "period", "suppression", "goals", "trend", "previous", "year"})


@dataclass(frozen=True)
class _Block:
    """One period's counts: the summary, ``previous`` or a trend row, by dotted prefix."""

    prefix: str
    paths: Mapping[str, str]  # role (new, ended, active_at_end, active_at_start) → path
    ratios: tuple[Ratio, ...]
    tree: Mapping[str, Any]


def suppress(summary: Summary, *, threshold: int = 5, merge: bool = True) -> dict[str, Any]:
    """A copy of ``summary`` that is safe to leave the team.

    Counts from 1 to ``threshold - 1``, counts that would reveal them, and shares and means
    over fewer than 10 people become ``None`` and are listed by dotted path in
    ``suppression.suppressed`` (and in ``small`` or ``secondary``); ``suppression.threshold``
    is set. ``previous`` and ``trend`` are suppressed together with the period, and goals whose
    figure is hidden lose their value but keep whether they were met. ``merge`` pools small
    categories first (:mod:`reports.merging`); off, to measure what merging saves.

    Raises ``ValueError`` when ``threshold`` is below 3 (DOMAIN.md: never below 3).
    """
    if threshold < MIN_THRESHOLD:
        raise ValueError(f"the suppression threshold must be at least {MIN_THRESHOLD}")
    merged_before = set(_listed_before(summary, "merged"))
    pooled, merged = merge_small(summary, threshold) if merge else (dict(summary), [])
    blocks = list(_blocks(pooled))
    values = {p: v for b in blocks for p, v in _counts(b.tree, b.prefix) if p not in merged_before}
    small = {p for p, v in values.items() if v is not None and 0 < v < threshold}
    small |= set(_listed_before(summary, "small"))
    hidden = small | {p for p, v in values.items() if v is None}
    identities = [i for b in blocks for i in _identities(b, values)]
    identities += _period_identities(blocks, values)
    _hide_recoverable(identities, values, hidden)
    hidden |= {p for b in blocks for p in _hidden_ratios(b, values, hidden)}
    result = _apply(pooled, summary, hidden, small, threshold)
    restore_merged(result, sorted(merged_before | set(merged)))
    return result


def _blocks(summary: Summary) -> Iterator[_Block]:
    """The summary, its ``previous`` and its ``trend`` rows as blocks of counts."""
    roles = ("new", "ended", "active_at_end", "active_at_start")
    yield _Block("", {r: f"participants.{r}" for r in roles}, SUMMARY_RATIOS, summary)
    previous = summary.get("previous")
    if isinstance(previous, Mapping):
        paths = {r: f"previous.participants.{r}" for r in roles}
        yield _Block("previous.", paths, SUMMARY_RATIOS, previous)
    trend = summary.get("trend")
    for n, row in enumerate(trend if isinstance(trend, list) else []):
        if isinstance(row, Mapping):
            paths = {r: f"trend.{n}.{r}" for r in roles[:3]}
            yield _Block(f"trend.{n}.", paths, TREND_RATIOS, row)


def _counts(tree: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, float | None]]:
    """Every count below ``tree`` by dotted path; None for one hidden already."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if key in _NOT_COUNTS or key in RATIO_KEYS or isinstance(value, bool):
            continue
        if isinstance(value, Mapping):
            yield from _counts(value, f"{path}.")
        elif value is None or isinstance(value, int | float):
            yield path, value


def _matching(pattern: str, paths: Iterable[str]) -> list[str]:
    """The paths that match ``pattern``, where ``*`` stands for any one segment."""
    wanted = pattern.split(".")
    return [
        path
        for path in paths
        if len(parts := path.split(".")) == len(wanted)
        and all(w in ("*", p) for w, p in zip(wanted, parts, strict=True))
    ]


def _sum_identity(total: str, parts: Iterable[str]) -> Identity:
    """The identity ``total = sum(parts)``."""
    terms = dict.fromkeys(parts, 1)
    terms[total] = -1
    return Identity(terms, frozenset({total}))


def _identities(block: _Block, values: Mapping[str, float | None]) -> Iterator[Identity]:
    """The identities within one period: breakdowns, equal figures and the flow."""
    paths = [p for p in values if p.startswith(block.prefix)]
    for total, patterns in BREAKDOWNS:
        parts = [p for pattern in patterns for p in _matching(block.prefix + pattern, paths)]
        if block.prefix + total in values and parts:
            yield _sum_identity(block.prefix + total, parts)
    yield from _conditional_identities(block, values)
    yield from _result_identities(block, values)
    start = block.paths.get("active_at_start")
    if start is not None:
        roles = (start, block.paths["new"], block.paths["ended"], block.paths["active_at_end"])
        if all(p in values for p in roles):
            yield Identity(dict(zip(roles, (1, 1, -1, -1), strict=True)))


def _conditional_identities(
    block: _Block, values: Mapping[str, float | None]
) -> Iterator[Identity]:
    """The :data:`CONDITIONAL_SUMS` whose two sums are equal in this summary (none hidden)."""
    for left, right in CONDITIONAL_SUMS:
        lefts = [block.prefix + p for p in left if block.prefix + p in values]
        rights = [p for pattern in right for p in _matching(pattern, values)]
        counts = [values.get(p) for p in lefts + rights]
        if len(lefts) < len(left) or not rights or None in counts:
            continue
        if sum(values[p] or 0 for p in lefts) == sum(values[p] or 0 for p in rights):
            terms = dict.fromkeys(lefts, 1) | dict.fromkeys(rights, -1)
            yield Identity(terms, frozenset(lefts))


def _result_identities(block: _Block, values: Mapping[str, float | None]) -> Iterator[Identity]:
    """``result`` as the sum of the result reasons, for each reason set the counts fit."""
    result = values.get(f"{block.prefix}outcomes.result")
    for reasons in RESULT_REASON_SETS:
        parts = [f"{block.prefix}outcomes.by_reason.{r}" for r in reasons]
        counts = [values.get(p) for p in parts]
        if result is not None and None not in counts and sum(c or 0 for c in counts) == result:
            yield _sum_identity(f"{block.prefix}outcomes.result", parts)


def _period_identities(blocks: list[_Block], values: Mapping[str, float | None]) -> list[Identity]:
    """Identities between periods: the same period twice, and one period following another."""
    identities: list[Identity] = []
    spans = {b.prefix: _span(b) for b in blocks}
    for a in blocks:
        for b in blocks:
            span_a, span_b = spans[a.prefix], spans[b.prefix]
            if a is b or span_a is None or span_b is None:
                continue
            if span_a == span_b and a.prefix < b.prefix:
                identities += [
                    Identity({a.paths[r]: 1, b.paths[r]: -1})
                    for r in ("new", "ended", "active_at_end")
                    if a.paths[r] in values and b.paths[r] in values
                ]
            if span_a[1] + timedelta(days=1) == span_b[0]:
                identities += _following(a, b, values)
    return identities


def _span(block: _Block) -> tuple[date, date] | None:
    """The block's first and last day, when both are known."""
    keys = ("period.from", "period.to") if "period" in block.tree else ("from", "to")
    start, end = date_at(block.tree, keys[0]), date_at(block.tree, keys[1])
    return (start, end) if start and end else None


def _following(a: _Block, b: _Block, values: Mapping[str, float | None]) -> list[Identity]:
    """Period ``b`` starts the day after ``a`` ends: b starts with the people a ended with."""
    start = b.paths.get("active_at_start", "")
    if start in values:
        terms = {a.paths["active_at_end"]: 1, start: -1}
    else:
        terms = {a.paths["active_at_end"]: 1, b.paths["new"]: 1}
        terms |= {b.paths["ended"]: -1, b.paths["active_at_end"]: -1}
    return [Identity(terms)] if all(p in values for p in terms) else []


def _hide_recoverable(
    identities: list[Identity], values: Mapping[str, float | None], hidden: set[str]
) -> None:
    """Hide more counts until no hidden count can be worked out from the visible ones.

    A count alone among the hidden counts of an identity is the common case and cheap to find;
    the exact check over all identities runs once that case is gone.
    """
    while leak := _alone(identities, hidden) or min(_recoverable(identities, hidden), default=""):
        containing = [i for i in identities if leak in i.terms]
        victim = _smallest_visible(containing, values, hidden, leak)
        if victim is None:  # only when the counts do not add up: look in every identity
            victim = _smallest_visible(identities, values, hidden, leak)
        if victim is None:
            return
        hidden.add(victim)


def _alone(identities: Iterable[Identity], hidden: set[str]) -> str:
    """A hidden count that is the only hidden one in some identity; empty when there is none."""
    for identity in identities:
        hidden_terms = [p for p in identity.terms if p in hidden]
        if len(hidden_terms) == 1:
            return hidden_terms[0]
    return ""


def _smallest_visible(
    identities: Iterable[Identity],
    values: Mapping[str, float | None],
    hidden: set[str],
    leak: str,
) -> str | None:
    """The count to hide next: where ``leak`` is alone, a cell before a total, smallest first."""
    candidates = []
    for identity in identities:
        hidden_terms = [p for p in identity.terms if p in hidden]
        if not hidden_terms:
            continue
        alone = hidden_terms == [leak]
        for path in identity.terms:
            value = values[path]
            if path not in hidden and value:
                candidates.append((not alone, path in identity.totals, value, path))
    return min(candidates)[-1] if candidates else None


def _recoverable(identities: Iterable[Identity], hidden: set[str]) -> set[str]:
    """The hidden counts that the identities and the visible counts determine exactly.

    With the visible counts known, the identities are linear equations in the hidden ones; a
    hidden count is determined when its unit vector lies in the row space of those equations,
    that is, when the reduced row echelon form has a row with only that count in it.
    """
    columns = sorted({p for i in identities for p in i.terms if p in hidden})
    index = {p: n for n, p in enumerate(columns)}
    rows = []
    for identity in identities:
        row = [Fraction(0)] * len(columns)
        for path, coefficient in identity.terms.items():
            if path in hidden:
                row[index[path]] += coefficient
        if any(row):
            rows.append(row)
    solved = set()
    for row in _reduced_row_echelon(rows):
        nonzero = [n for n, v in enumerate(row) if v]
        if len(nonzero) == 1:
            solved.add(columns[nonzero[0]])
    return solved


def _reduced_row_echelon(rows: list[list[Fraction]]) -> list[list[Fraction]]:
    """The non-zero rows of the reduced row echelon form of ``rows`` (Gauss–Jordan, exact)."""
    rows = [list(r) for r in rows]
    pivot_row = 0
    for column in range(len(rows[0]) if rows else 0):
        pivot = next((r for r in range(pivot_row, len(rows)) if rows[r][column]), None)
        if pivot is None:
            continue
        rows[pivot_row], rows[pivot] = rows[pivot], rows[pivot_row]
        lead = rows[pivot_row][column]
        rows[pivot_row] = [v / lead for v in rows[pivot_row]]
        for r, row in enumerate(rows):
            if r != pivot_row and row[column]:
                factor = row[column]
                rows[r] = [v - factor * p for v, p in zip(row, rows[pivot_row], strict=True)]
        pivot_row += 1
    return rows[:pivot_row]


def _hidden_ratios(
    block: _Block, values: Mapping[str, float | None], hidden: set[str]
) -> Iterator[str]:
    """The block's shares and means that are over fewer than 10, or would reveal a hidden count."""
    for ratio in block.ratios:
        if lookup(block.tree, ratio.path) is None:
            continue
        inputs = [block.prefix + p for p in ratio.inputs()]
        counts = [values.get(p) for p in inputs]
        if None in counts or any(p in hidden for p in inputs):
            yield block.prefix + ratio.path
            continue
        denominator = sum(values[block.prefix + p] or 0 for p in ratio.denominator)
        denominator -= sum(values[block.prefix + p] or 0 for p in ratio.subtract)
        if denominator < MIN_DENOMINATOR:
            yield block.prefix + ratio.path


def _apply(
    pooled: Summary, given: Summary, hidden: set[str], small: set[str], threshold: int
) -> dict[str, Any]:
    """The suppressed copy: hidden paths set to None and listed, goals updated."""
    result = copy.deepcopy(dict(pooled))
    listed = {p for p in hidden if lookup(pooled, p) is not None}
    listed |= set(_listed_before(given))
    for path in hidden:
        _set(result, path, None)
    listed |= _hide_goals(result, hidden)
    result["suppression"] = _lists(listed, small, threshold, "")
    previous = result.get("previous")
    if isinstance(previous, dict):
        previous["suppression"] = _lists(listed, small, threshold, "previous.")
    return result


def _lists(listed: set[str], small: set[str], threshold: int, prefix: str) -> dict[str, Any]:
    """The ``suppression`` part for the paths under ``prefix``: all hidden, small, secondary."""
    own = sorted(p.removeprefix(prefix) for p in listed if p.startswith(prefix))
    small_own = [p for p in own if prefix + p in small]
    secondary = [p for p in own if prefix + p not in small]
    return {"threshold": threshold, "suppressed": own, "small": small_own, "secondary": secondary}


def _listed_before(summary: Summary, key: str = "suppressed") -> list[str]:
    """Paths an earlier suppression of the same summary listed under ``suppression.<key>``."""
    listed = lookup(summary, f"suppression.{key}")
    return [p for p in listed if isinstance(p, str)] if isinstance(listed, list) else []


def _hide_goals(result: dict[str, Any], hidden: set[str]) -> set[str]:
    """Goals measured on a hidden figure lose their value, but not whether they were met.

    A goal is "not measurable" only when its figure has nothing to divide (DOMAIN.md); whether a
    share passed its target does not give a small count back.
    """
    goals = result.get("goals")
    listed = set()
    for n, goal in enumerate(goals if isinstance(goals, list) else []):
        if isinstance(goal, dict) and goal.get("metric") in hidden:
            if goal.get("value") is not None:
                listed.add(f"goals.{n}.value")
            goal["value"] = None
    return listed


def _set(tree: Any, path: str, value: object) -> None:
    """Set the value at dotted ``path`` (list positions as numbers) in place."""
    *parents, last = path.split(".")
    for key in parents:
        tree = tree[int(key)] if isinstance(tree, list) else tree[key]
    if isinstance(tree, list):
        tree[int(last)] = value
    else:
        tree[last] = value
