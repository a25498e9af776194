"""Measure theme coding against the labelled answers: precision, recall, F1 and speed.

Run: ``.venv/bin/python bench/theme_quality.py [--errors dev|test] [--codebook PATH]``.
Prints one table per labelled set (overall and per theme), then answers per second.
``--errors`` lists the answers the coder got wrong in that set (use it on dev only: the
codebook is tuned on dev, and the test set must stay unseen to measure honestly).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.themes import Codebook, code_text, load_codebook  # noqa: E402

DATA = ROOT / "tests" / "core" / "data"
SETS = {"dev": DATA / "labelled_dev.yaml", "test": DATA / "labelled_test.yaml"}


@dataclass(frozen=True)
class Labelled:
    """One answer with the themes a human coder gave it."""

    text: str
    themes: frozenset[str]
    language: str


@dataclass(frozen=True)
class Score:
    """True positives, false positives and false negatives, with the usual ratios."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """Share of the coder's themes that the human also gave (1.0 when it gave none)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of the human's themes that the coder found (1.0 when there were none)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def read_labelled(path: Path) -> list[Labelled]:
    """The labelled answers in a YAML file."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Labelled(e["text"], frozenset(e["themes"]), e["lang"]) for e in entries]


def score(answers: list[Labelled], codebook: Codebook, theme: str | None = None) -> Score:
    """Micro-averaged score over ``answers``, for one theme or all."""
    counts: Counter[str] = Counter()
    for answer in answers:
        found = set(code_text(answer.text, codebook))
        expected = set(answer.themes)
        if theme is not None:
            found, expected = found & {theme}, expected & {theme}
        counts["tp"] += len(found & expected)
        counts["fp"] += len(found - expected)
        counts["fn"] += len(expected - found)
    return Score(counts["tp"], counts["fp"], counts["fn"])


def answers_per_second(answers: list[Labelled], codebook: Codebook, seconds: float = 1.0) -> float:
    """How many answers the coder handles per second (warm cache, repeated over the set)."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for answer in answers:
            code_text(answer.text, codebook)
        done += len(answers)
    return done / (time.perf_counter() - start)


def print_table(name: str, answers: list[Labelled], codebook: Codebook) -> None:
    """One table: the set overall, per language, then per theme."""
    print(f"\n{name}: {len(answers)} answers")
    print(f"{'':14}{'n':>5}{'precision':>11}{'recall':>8}{'F1':>7}")
    rows: list[tuple[str, list[Labelled], str | None]] = [("overall", answers, None)]
    for language in ("sv", "en", "ar"):
        rows.append((f"  lang {language}", [a for a in answers if a.language == language], None))
    rows += [(f"  {code}", answers, code) for code in codebook.codes]
    for label, subset, theme in rows:
        result = score(subset, codebook, theme)
        n = len(subset) if theme is None else sum(theme in a.themes for a in subset)
        print(f"{label:14}{n:>5}{result.precision:>11.3f}{result.recall:>8.3f}{result.f1:>7.3f}")


def print_errors(answers: list[Labelled], codebook: Codebook) -> None:
    """The answers where the coder and the human disagree."""
    for answer in answers:
        found = set(code_text(answer.text, codebook))
        if found != answer.themes:
            extra, missed = sorted(found - answer.themes), sorted(answer.themes - found)
            print(f"+{extra} -{missed}  {answer.text}")


def main() -> None:
    """Print the quality tables and the speed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codebook", type=Path, default=None)
    parser.add_argument("--errors", choices=sorted(SETS))
    args = parser.parse_args()
    codebook = load_codebook(args.codebook)
    sets = {name: read_labelled(path) for name, path in SETS.items()}
    for name, answers in sets.items():
        print_table(name, answers, codebook)
    everything = [a for answers in sets.values() for a in answers]
    print(f"\nspeed: {answers_per_second(everything, codebook):,.0f} answers/second")
    if args.errors:
        print(f"\nerrors in {args.errors}:")
        print_errors(sets[args.errors], codebook)


if __name__ == "__main__":
    main()
