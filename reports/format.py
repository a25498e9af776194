"""Swedish formatting of report figures, and typed access to the summary dict.

Swedish style as used in the teams' reports: decimal comma, one decimal for means, whole
percent with a space before the sign (``62 %``), a space between thousands (``1 234``), and
dates written out (``1 januari – 30 juni 2025``). A suppressed count is shown as ``<5`` (with
the summary's threshold); a share or mean that is missing or hidden as an en dash.

The summary is the JSON-shaped dict described in INTERFACES.md ("Summary JSON"); the helpers at
the end read it by dotted path (``participants.new_by_referrer.fk``, ``trend.0.ended``) with
the types checked, so that the rest of ``reports`` never trusts an ``Any``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Summary = Mapping[str, Any]

#: Shown where a share or mean is missing (nothing to divide) or hidden (denominator under 10).
MISSING = "–"

REFERRER_GROUP_LABELS = {
    "kommun": "Kommun",
    "af": "Arbetsförmedlingen",
    "fk": "Försäkringskassan",
    "region": "Region",
    "other": "Övriga (egenanmälan, annan)",
}
INCOME_GROUP_LABELS = {
    "socialtjanst": "Försörjningsstöd",
    "fk": "Ersättning från Försäkringskassan",
    "annan": "Annan eller ingen",
}
#: Answers to ``narmare_arbete`` in scale order; the first two count as closer to work.
CLOSER_TO_WORK_ANSWERS = {
    "ja_mycket": "Ja, mycket",
    "ja_lite": "Ja, lite",
    "nej_ingen_skillnad": "Nej, ingen skillnad",
    "nej_langre_ifran": "Nej, längre ifrån",
    "vet_inte": "Vet inte",
}
#: Answers to ``halsa`` in scale order; the first two count as good health.
HEALTH_ANSWERS = {
    "mycket_bra": "Mycket bra",
    "bra": "Bra",
    "nagorlunda": "Någorlunda",
    "daligt": "Dåligt",
    "mycket_daligt": "Mycket dåligt",
}
#: Options of ``aktiviteter`` in the default survey (surveys/default.yaml).
DEFAULT_ACTIVITY_LABELS = {
    "gruppcoachning": "Gruppcoachning/samtalsgrupper",
    "enskilda_samtal": "Enskilda samtal",
    "traning": "Träning/gym",
    "studiebesok": "Studiebesök",
    "arbetstraning": "Arbetsträning/praktik",
    "social_samvaro": "Social samvaro",
    "myndighetsstod": "Stöd i kontakter med myndigheter",
    "annat": "Annat",
}

_MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)


def _rounded(value: float, decimals: int) -> Decimal:
    """``value`` rounded half up (as people round), via its shortest decimal form."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _swedish(number: Decimal) -> str:
    """A rounded number with a space between thousands and a decimal comma."""
    grouped = f"{number:,}".replace(",", " ")
    return grouped.replace(".", ",")


def format_count(count: int | None, threshold: int | None = 5) -> str:
    """A count (``1 234``); a hidden count as ``<threshold``, or a dash without a threshold."""
    if count is None:
        return f"<{threshold}" if threshold else MISSING
    return _swedish(Decimal(count))


def format_decimal(value: float | None, decimals: int = 1) -> str:
    """A mean or median with a decimal comma (``17,4``); a dash when missing."""
    return MISSING if value is None else _swedish(_rounded(value, decimals))


def format_percent(share: float | None) -> str:
    """A share from 0 to 1 as whole percent, Swedish style (``62 %``); a dash when missing."""
    return MISSING if share is None else f"{_swedish(_rounded(share * 100, 0))} %"


def format_date(day: date) -> str:
    """A date written out in Swedish: ``1 januari 2025``."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_period(start: date, end: date) -> str:
    """A period of dates: ``1 januari – 30 juni 2025`` (the year once when it is the same)."""
    if start.year == end.year:
        return f"{start.day} {_MONTHS[start.month - 1]} – {format_date(end)}"
    return f"{format_date(start)} – {format_date(end)}"


def period_label(start: date, end: date) -> str:
    """A short name for a period: ``2025 H1``, ``2025 H2``, ``2025`` or the two dates."""
    if start.year == end.year and start.day == 1 and end == _last_of_month(end):
        if (start.month, end.month) == (1, 6):
            return f"{start.year} H1"
        if (start.month, end.month) == (7, 12):
            return f"{start.year} H2"
        if (start.month, end.month) == (1, 12):
            return str(start.year)
    return f"{start.isoformat()}–{end.isoformat()}"


def _last_of_month(day: date) -> date:
    """The last day of the month ``day`` is in."""
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def format_timestamp(stamp: str) -> str:
    """An ISO timestamp as ``2025-07-03 14:05``; the text itself when it is not one."""
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def lookup(tree: object, path: str) -> object:
    """The value at dotted ``path`` in nested dicts and lists; None when there is none."""
    node = tree
    for key in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def count_at(summary: object, path: str) -> int | None:
    """The count at ``path``; None when it is hidden or absent."""
    value = lookup(summary, path)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number_at(summary: object, path: str) -> float | None:
    """The share, mean or count at ``path`` as a float; None when it is hidden or absent."""
    value = lookup(summary, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def mapping_at(summary: object, path: str) -> Mapping[str, Any]:
    """The mapping at ``path``; empty when there is none."""
    value = lookup(summary, path)
    return value if isinstance(value, Mapping) else {}


def text_at(summary: object, path: str) -> str | None:
    """The string at ``path``; None when there is none."""
    value = lookup(summary, path)
    return value if isinstance(value, str) else None


def date_at(summary: object, path: str) -> date | None:
    """The ISO date at ``path``; None when there is none or it is not a date."""
    text = text_at(summary, path)
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def threshold_of(summary: Summary) -> int | None:
    """The suppression threshold the summary was built with; None when not suppressed."""
    return count_at(summary, "suppression.threshold")
