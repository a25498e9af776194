"""Accessibility checks with axe-core (vendored, 4.14.1, MPL-2.0) in the real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
# The e2e fixtures add it as an init script (DevTools protocol), so the pages' CSP stays on.
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def axe_violations(page: Any, *, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """The axe-core violations of the page as it is now, for WCAG 2.1 A and AA rules."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        raise AssertionError("axe-core is not loaded: use a page from the e2e fixtures")
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        tags or WCAG_AA_TAGS,
    )
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable list of violations for an assertion message."""
    lines = []
    for v in violations:
        targets = [", ".join(node["target"]) for node in v["nodes"][:3]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return "\n".join(lines)
