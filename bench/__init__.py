"""Benchmarks: how close the service runs to the ceilings of its own stack.

A benchmark measures; it is not a test and never fails on a number. Each benchmark module has
``async def run(quick: bool) -> Report``, measures the service and a baseline of the same stack
in the same run on the same machine, and reports figures, ratios and whether each goal was met.
``python -m bench.run_all [--quick]`` runs them all and writes ``bench/results/``.
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass, field
from typing import Any


class NotReady(Exception):
    """The code a benchmark measures is not in the tree yet; the message says what is missing."""


@dataclass(frozen=True)
class Goal:
    """A goal from the issue, the figure measured against it, and whether it was met."""

    text: str
    measured: str
    met: bool


@dataclass
class Table:
    """Rows of figures under a title, printed as one Markdown table."""

    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class Report:
    """What one benchmark measured: tables for people, goals, notes and raw numbers for tools."""

    name: str
    title: str
    tables: list[Table] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


def machine_load() -> dict[str, Any]:
    """The load averages (1, 5, 15 minutes) and the number of CPUs, for the record."""
    one, five, fifteen = os.getloadavg()
    return {"loadavg": [round(one, 2), round(five, 2), round(fifteen, 2)], "cpus": os.cpu_count()}


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``values`` (nearest rank; NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    """The median of ``values`` (NaN when empty)."""
    return statistics.median(values) if values else float("nan")
