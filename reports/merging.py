"""Merging small categories before suppression, so that fewer cells have to be hidden.

A breakdown whose categories may be pooled (DOMAIN.md, "Privacy rules": "small categories are
merged before suppressing where that hides less") has its small categories (1 to threshold−1)
added up into one merged count, in the period and ``previous`` alike so that the table's rows
match. When the pooled count is still small, the smallest other mergeable categories are added
until it is not; when it stays small with all of them, nothing is pooled (a small pool would be
hidden too, and give the rest of its total away). Merged categories become ``None`` and are listed
in ``suppression.merged``; the pooled count goes under the breakdown's ``merged_key``.

Only end reasons outside the result reasons are pooled ("Övriga avslut"): the result reasons
and ``arbetssokande`` are reported on their own, and the referrer and income-source breakdowns
are already the report groups of DOMAIN.md, whose labels would become false if pooled.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from core.codes import DEFAULT_RESULT_REASONS, REPORTED_END_REASONS


@dataclass(frozen=True)
class Merge:
    """A breakdown at ``path`` whose ``codes`` may be pooled into ``merged_key`` beside it."""

    path: str  # the breakdown, e.g. ``outcomes.by_reason``
    codes: tuple[str, ...]
    merged_key: str  # a sibling of the breakdown, e.g. ``outcomes.other_reasons``
    merged_codes_key: (
        str  # where the pooled codes are listed, e.g. ``outcomes.other_reasons_codes``
    )


MERGES = (
    Merge(
        "outcomes.by_reason",
        tuple(
            c for c in REPORTED_END_REASONS if c not in (*DEFAULT_RESULT_REASONS, "arbetssokande")
        ),
        "outcomes.other_reasons",
        "outcomes.other_reasons_codes",
    ),
)


def merge_small(summary: Mapping[str, Any], threshold: int) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``summary`` with small mergeable categories pooled, and the merged paths.

    The merged categories are removed from the copy (so suppression does not count them twice);
    :func:`restore_merged` puts them back as ``None`` once suppression is done.
    """
    result = copy.deepcopy(dict(summary))
    merged: list[str] = []
    for merge in MERGES:
        blocks = [b for b in _blocks(result) if isinstance(_get(b, merge.path), dict)]
        codes = _codes_to_pool([_get(b, merge.path) for b in blocks], merge.codes, threshold)
        if not codes:
            continue
        for prefix, block in zip(_prefixes(result), _blocks(result), strict=True):
            breakdown = _get(block, merge.path)
            if not isinstance(breakdown, dict):
                continue
            pooled = sum(breakdown.pop(code) or 0 for code in codes if code in breakdown)
            parent = _get(block, merge.merged_key.rsplit(".", 1)[0])
            parent[merge.merged_key.rsplit(".", 1)[1]] = pooled
            parent[merge.merged_codes_key.rsplit(".", 1)[1]] = list(codes)
            merged += [f"{prefix}{merge.path}.{code}" for code in codes]
    return result, merged


def _codes_to_pool(
    breakdowns: list[dict[str, Any]], codes: tuple[str, ...], threshold: int
) -> tuple[str, ...]:
    """The codes to pool: every small one in any period, then the smallest until none is small."""
    given = {c: [b.get(c) for b in breakdowns] for c in codes if all(c in b for b in breakdowns)}
    if any(not isinstance(v, int) for vs in given.values() for v in vs):
        return ()  # already suppressed: pooling would need the hidden figures
    counts: dict[str, list[int]] = {c: [int(v or 0) for v in vs] for c, vs in given.items()}
    pool = [c for c, vs in counts.items() if any(0 < v < threshold for v in vs)]
    rest = sorted((max(vs), c) for c, vs in counts.items() if c not in pool and any(vs))
    while pool and rest and any(0 < s < threshold for s in _sums(breakdowns, pool)):
        pool.append(rest.pop(0)[1])
    if len(pool) < 2 or any(0 < s < threshold for s in _sums(breakdowns, pool)):
        return ()  # one category alone, or a pool still small, hides nothing less
    return tuple(c for c in codes if c in pool)


def _sums(breakdowns: list[dict[str, Any]], pool: list[str]) -> Iterator[int]:
    """The pooled count in each period."""
    for breakdown in breakdowns:
        yield sum(breakdown.get(c) or 0 for c in pool)


def restore_merged(result: dict[str, Any], merged: list[str]) -> None:
    """Put the merged categories back as ``None`` and list them in ``suppression.merged``."""
    for path in merged:
        *parents, last = path.split(".")
        node = result
        for key in parents:
            node = node[key]
        node[last] = None
    result["suppression"]["merged"] = sorted(merged)
    previous = result.get("previous")
    if isinstance(previous, dict) and isinstance(previous.get("suppression"), dict):
        own = [p.removeprefix("previous.") for p in merged if p.startswith("previous.")]
        previous["suppression"]["merged"] = sorted(own)


def _blocks(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The period and, when there is one, ``previous``."""
    previous = summary.get("previous")
    return [summary, previous] if isinstance(previous, dict) else [summary]


def _prefixes(summary: dict[str, Any]) -> list[str]:
    """The dotted prefixes of :func:`_blocks`."""
    return ["", "previous."][: len(_blocks(summary))]


def _get(tree: Any, path: str) -> Any:
    """The node at dotted ``path``; None when there is none."""
    for key in path.split("."):
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree
