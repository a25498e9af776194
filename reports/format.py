"""Swedish formatting of report figures, and typed access to the summary dict.

Swedish style as used in the teams' reports: decimal comma, one decimal for means, whole
percent with a space before the sign (``62 %``), a space between thousands (``1 234``), and
dates written out (``1 januari – 30 juni 2025``). A small count (1 to threshold−1) is shown as
``<5`` (with the summary's threshold), a figure hidden only to protect another as ``..`` (never
``<5``, which would be false), and a share or mean that is missing as an en dash.

The summary is the JSON-shaped dict described in INTERFACES.md ("Summary JSON"); the helpers at
the end read it by dotted path (``participants.new_by_referrer.fk``, ``trend.0.ended``) with
the types checked, so that the rest of ``reports`` never trusts an ``Any``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Summary = Mapping[str, Any]

#: Shown where a share or mean is missing (nothing to divide).
MISSING = "–"
#: Shown where a figure is hidden to protect another (secondary suppression) or is too uncertain.
SECONDARY = ".."
#: The footnote under a table with a secondary hidden cell.
SECONDARY_NOTE = (
    "”..” betyder att uppgiften inte visas, för att ett litet antal annars skulle gå att "
    "räkna fram ur de andra talen. Talet kan vara stort."
)

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
CLOSER_QUESTION = "Upplever du att du har kommit närmare arbete eller studier sedan du började här?"
HEALTH_QUESTION = "Hur bedömer du ditt allmänna hälsotillstånd?"
ACTIVITIES_QUESTION = "Vilka delar av verksamheten har varit till störst nytta för dig?"
#: Options of ``aktiviteter`` in the default survey (core/data/surveys/default.yaml).
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
    return Decimal(repr(float(value))).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP
    )


def _swedish(number: Decimal) -> str:
    """A rounded number with a space between thousands and a decimal comma."""
    grouped = f"{number:,}".replace(",", " ")
    return grouped.replace(".", ",")


def format_count(count: int | None, threshold: int | None = 5) -> str:
    """A count (``1 234``); a hidden count as ``<threshold``, or a dash without a threshold."""
    if count is None:
        return f"<{threshold}" if threshold else MISSING
    return _swedish(Decimal(count))


def hidden_mark(summary: Summary, path: str) -> str:
    """How the figure at ``path``, which is None, is shown: ``<5``, ``..`` or a dash.

    ``<5`` only for a path listed as small; ``..`` for any other suppressed figure (also in a
    summary suppressed before the lists were split); a dash when nothing was hidden.
    """
    threshold = threshold_of(summary)
    small = lookup(summary, "suppression.small")
    if threshold and isinstance(small, list) and path in small:
        return f"<{threshold}"
    listed = lookup(summary, "suppression.suppressed")
    merged = lookup(summary, "suppression.merged")
    if any(isinstance(x, list) and path in x for x in (listed, merged)):
        return SECONDARY
    return MISSING


def shown_count(summary: Summary, path: str) -> str:
    """The count at ``path`` as shown in a report: the number, ``<5``, ``..`` or a dash."""
    count = count_at(summary, path)
    return hidden_mark(summary, path) if count is None else format_count(count)


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


@dataclass(frozen=True)
class Measure:
    """A figure compared between periods, named as the subject of a Swedish sentence."""

    path: str
    subject: str  # definite form: "Genomströmningstiden", "Antalet nya deltagare"
    kind: str  # "count", "share" or "decimal"
    unit: str = ""
    neuter: bool = False  # "Antalet … är oförändrat", "Andelen … är oförändrad"

    def show(self, value: float) -> str:
        """The value as written in a sentence: ``23``, ``62 %``, ``17,4 månader``."""
        if self.kind == "share":
            return format_percent(value)
        shown = format_count(int(value)) if self.kind == "count" else format_decimal(value)
        return f"{shown} {self.unit}".rstrip()


#: The figures compared with the previous period, and measured by goals.
MEASURES = {
    m.path: m
    for m in (
        Measure("participants.new", "Antalet nya deltagare", "count", neuter=True),
        Measure("participants.ended", "Antalet avslutade deltagare", "count", neuter=True),
        Measure(
            "participants.active_at_end", "Antalet aktiva vid periodens slut", "count", neuter=True
        ),
        Measure("referrals.received", "Antalet inkomna remisser", "count", neuter=True),
        Measure("referrals.queue_at_end", "Antalet i kö vid periodens slut", "count", neuter=True),
        Measure("referrals.wait_days_mean", "Den genomsnittliga väntetiden", "decimal", "dagar"),
        Measure("outcomes.throughput_months_mean", "Genomströmningstiden", "decimal", "månader"),
        Measure("outcomes.share_result", "Andelen i mål", "share"),
        Measure("participants.mean_age_at_end", "Medelåldern", "decimal", "år"),
        Measure("participants.share_young_at_end", "Andelen unga (16–29 år)", "share"),
        Measure("survey.response_rate", "Svarsfrekvensen", "share"),
        Measure(
            "survey.closer_to_work.share",
            "Andelen som upplever att de har kommit närmare arbete eller studier",
            "share",
        ),
        Measure("survey.health.share_good", "Andelen som skattar sin hälsa som bra", "share"),
    )
}
#: How many of the figures that moved most the draft names.
MOST_MOVED = 5


def change_sentence(path: str, before: float | None, after: float | None) -> str | None:
    """How the figure at ``path`` changed, as a sentence; None when either value is missing.

    ``Genomströmningstiden har ökat från 17,4 till 20,4 månader.`` Values that look the same
    when rounded for display count as unchanged. ``path`` must be one of :data:`MEASURES`.
    """
    measure = MEASURES[path]
    if before is None or after is None:
        return None
    was, now = measure.show(before), measure.show(after)
    if was == now:
        state = "oförändrat" if measure.neuter else "oförändrad"
        return f"{measure.subject} är {state}, {now}."
    verb = "ökat" if after > before else "minskat"
    if measure.unit:
        was = was.removesuffix(f" {measure.unit}")
    return f"{measure.subject} har {verb} från {was} till {now}."


def changes_since_previous(summary: Summary) -> list[str]:
    """Sentences on the figures that moved most since ``previous``, the largest change first.

    Figures hidden or missing in either period are skipped; when none of the rest moved,
    one sentence says so. Empty when there is no previous period.
    """
    previous = summary.get("previous")
    if not isinstance(previous, Mapping):
        return []
    moved: list[tuple[float, str]] = []
    compared = 0
    for path, measure in MEASURES.items():
        before, after = number_at(previous, path), number_at(summary, path)
        sentence = change_sentence(path, before, after)
        if sentence is None or before is None or after is None:
            continue
        compared += 1
        if measure.show(before) != measure.show(after):
            moved.append((abs(after - before) / abs(before) if before else float("inf"), sentence))
    if not moved:
        return ["Nyckeltalen är oförändrade sedan föregående period."] if compared else []
    moved.sort(key=lambda change: -change[0])
    return [sentence for _, sentence in moved[:MOST_MOVED]]


def goal_sentence(goal: Mapping[str, Any]) -> str:
    """``Målet 'minst 50 % upplever en stegförflyttning' nåddes: 62 %.`` (or nåddes inte)."""
    name = f"Målet '{goal.get('text', '')}'"
    value, met = number_at(goal, "value"), goal.get("met")
    if not isinstance(met, bool):
        return f"{name} kan inte följas upp för perioden: underlaget saknas."
    if value is None:
        verdict = "nåddes" if met else "nåddes inte"
        return f"{name} {verdict} (värdet visas inte: underlaget är för litet)."
    path = str(goal.get("metric", ""))
    measure = MEASURES.get(path) or Measure(path, "", _kind_of(path))
    return f"{name} {'nåddes' if met else 'nåddes inte'}: {measure.show(value)}."


def _kind_of(path: str) -> str:
    """Whether the figure at ``path`` is a share, a mean or median, or a count, by its name."""
    key = path.rsplit(".", 1)[-1]
    if key.startswith("share") or key.endswith("rate"):
        return "share"
    return "decimal" if "mean" in key or "median" in key else "count"


def with_median(mean: float, median: float | None, unit: str) -> str:
    """``20,4 månader (median 18,9)``; without the brackets when the median is missing."""
    shown = f"{format_decimal(mean)} {unit}"
    return shown if median is None else f"{shown} (median {format_decimal(median)})"


def document_title(summary: Summary) -> str:
    """``Underlag till verksamhetsrapport – <team>``."""
    team = text_at(summary, "team_name") or text_at(summary, "team")
    return "Underlag till verksamhetsrapport" + (f" – {team}" if team else "")


def about(summary: Summary) -> list[tuple[str, str]]:
    """What a report covers, as (label, text): period, team, when it was made, small numbers."""
    start, end = date_at(summary, "period.from"), date_at(summary, "period.to")
    lines = [("Period", format_period(start, end) if start and end else "okänd")]
    if team := text_at(summary, "team_name") or text_at(summary, "team"):
        lines.append(("Team", team))
    if generated := text_at(summary, "generated_at"):
        lines.append(("Sammanställt", format_timestamp(generated)))
    threshold = threshold_of(summary)
    if threshold is None:
        lines.append(("Små tal", "Inte dolda. Underlaget är bara för teamets eget bruk."))
        return lines
    note = (
        f"Antal från 1 till {threshold - 1} visas som ”<{threshold}” för att skydda deltagarnas "
        "integritet. Tal som är dolda för att ett litet antal annars skulle gå att räkna fram "
        "visas som ”..” – de kan vara stora. Andelar och medelvärden som bygger på färre än 10 "
        "personer visas som ”..”. Små avslutsorsaker utanför resultatorsakerna är sammanslagna "
        "till ”Övriga avslut”. Ett streck (–) betyder att uppgiften saknas."
    )
    return [*lines, ("Små tal", note)]
