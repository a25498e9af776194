"""Charts of a summary as PNG images, and their text alternatives.

Five charts, by name: ``referrals_by_group``, ``end_reasons``, ``throughput_trend``,
``closer_to_work`` and ``health``. They use the Okabe–Ito colour-blind safe palette, write the
figure on every bar or point, and have Swedish titles and axis labels. A hidden count is drawn
as no bar with ``<5`` (or ``..`` when it is hidden to protect another) beside it; a chart whose
figures are all hidden or zero is not drawn (:func:`chart_is_empty`). Every chart has a text alternative that states its numbers, for
the web page (``alt`` or a long description) and for the picture in Word.

matplotlib is used without pyplot (a :class:`~matplotlib.figure.Figure` of its own per chart,
drawn by Agg), so nothing global changes. It is imported on first use: it takes most of a second
to load, and the text alternatives do not need it.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.codes import END_REASONS, REPORTED_END_REASONS
from reports.format import (
    CLOSER_TO_WORK_ANSWERS,
    HEALTH_ANSWERS,
    REFERRER_GROUP_LABELS,
    Summary,
    count_at,
    date_at,
    format_decimal,
    format_period,
    lookup,
    number_at,
    period_label,
    shown_count,
    text_at,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Chart names and their Swedish titles, in the order they appear in the report.
CHART_TITLES = {
    "referrals_by_group": "Nya deltagare per remitterande aktör",
    "end_reasons": "Avslut per avslutsorsak",
    "throughput_trend": "Genomströmningstid per halvår",
    "closer_to_work": "Har du kommit närmare arbete eller studier?",
    "health": "Självskattat allmänt hälsotillstånd",
}

# Okabe & Ito (2008), "Color Universal Design": blue and vermillion stay apart with every common
# colour vision and reach 3:1 against white (WCAG 1.4.11); their labels use darker shades (4.5:1).
BLUE, VERMILLION = "#0072B2", "#D55E00"
DARK_BLUE, DARK_VERMILLION, GREY = "#005A8C", "#9E4500", "#595959"
# 1200 × 675 pixels drawn as a small figure (6.4 × 3.6 inches): the text is large beside the
# bars, so it stays readable when the picture is shrunk to a phone's width (about a third).
_SIZE_INCHES, _DPI = (6.4, 3.6), 187.5
TITLE_SIZE, TEXT_SIZE, NOTE_SIZE = 15, 13, 12
#: Category labels longer than this many characters wrap onto more lines.
LABEL_WIDTH = 22


@dataclass(frozen=True)
class _Bars:
    """A bar chart's data: one bar per label, None for a hidden count."""

    title: str
    axis_label: str
    labels: tuple[str, ...]
    values: tuple[int | None, ...]
    shown: tuple[str, ...]  # each value as written: ``12``, ``<5`` or ``..``


@dataclass(frozen=True)
class _Lines:
    """The throughput trend: mean and median months per half-year."""

    title: str
    labels: tuple[str, ...]
    means: tuple[float | None, ...]
    medians: tuple[float | None, ...]


def _bars(summary: Summary, name: str, path: str, labels: Mapping[str, str], axis: str) -> _Bars:
    """The counts at ``path`` for each code in ``labels``, as bars."""
    paths = {code: f"{path}.{code}" for code in labels}
    return _bars_at(summary, name, paths, labels, axis)


def _bars_at(
    summary: Summary, name: str, paths: Mapping[str, str], labels: Mapping[str, str], axis: str
) -> _Bars:
    """The counts at ``paths`` (by code), labelled by ``labels``, as bars."""
    values = tuple(count_at(summary, p) for p in paths.values())
    shown = tuple(shown_count(summary, p) for p in paths.values())
    return _Bars(CHART_TITLES[name], axis, tuple(labels[c] for c in paths), values, shown)


def _end_reason_bars(summary: Summary) -> _Bars:
    """Ended participants by end reason, leaving out reasons nobody ended with; pooled last."""
    pooled = lookup(summary, "outcomes.other_reasons_codes")
    pooled = pooled if isinstance(pooled, list) else []
    paths = {
        code: f"outcomes.by_reason.{code}"
        for code in REPORTED_END_REASONS
        if code not in pooled and count_at(summary, f"outcomes.by_reason.{code}") != 0
    }
    labels = {code: END_REASONS[code].sv for code in paths}
    if pooled:
        paths["ovriga_avslut"] = "outcomes.other_reasons"
        labels["ovriga_avslut"] = "Övriga avslut"
    return _bars_at(summary, "end_reasons", paths, labels, "Antal avslutade")


def chart_is_empty(summary: Summary, name: str) -> bool:
    """True when the chart ``name`` would show no figure: all are zero, missing or hidden."""
    data = _chart_data(summary)[name]
    if isinstance(data, _Lines):
        return all(v is None for v in data.means + data.medians)
    return not any(data.values)


def _trend_lines(summary: Summary) -> _Lines:
    """Mean and median throughput per earlier half-year, then for the period itself."""
    trend = summary.get("trend")
    rows = [r for r in trend if isinstance(r, Mapping)] if isinstance(trend, list) else []
    labels = [text_at(r, "label") or "" for r in rows]
    means = [number_at(r, "throughput_months_mean") for r in rows]
    medians = [number_at(r, "throughput_months_median") for r in rows]
    start, end = date_at(summary, "period.from"), date_at(summary, "period.to")
    labels.append(period_label(start, end) if start and end else "Perioden")
    means.append(number_at(summary, "outcomes.throughput_months_mean"))
    medians.append(number_at(summary, "outcomes.throughput_months_median"))
    return _Lines(CHART_TITLES["throughput_trend"], tuple(labels), tuple(means), tuple(medians))


def _chart_data(summary: Summary) -> dict[str, _Bars | _Lines]:
    """The data behind each chart, by chart name."""
    return {
        "referrals_by_group": _bars(
            summary,
            "referrals_by_group",
            "participants.new_by_referrer",
            REFERRER_GROUP_LABELS,
            "Antal nya deltagare",
        ),
        "end_reasons": _end_reason_bars(summary),
        "throughput_trend": _trend_lines(summary),
        "closer_to_work": _bars(
            summary,
            "closer_to_work",
            "survey.closer_to_work.by_answer",
            CLOSER_TO_WORK_ANSWERS,
            "Antal svar",
        ),
        "health": _bars(summary, "health", "survey.health.by_answer", HEALTH_ANSWERS, "Antal svar"),
    }


def chart_alt_texts(summary: Summary) -> dict[str, str]:
    """A Swedish text alternative for each chart that states all of its numbers, by chart name."""
    start, end = date_at(summary, "period.from"), date_at(summary, "period.to")
    period = format_period(start, end) if start and end else "perioden"
    texts = {}
    for name, data in _chart_data(summary).items():
        if isinstance(data, _Lines):
            texts[name] = _lines_alt_text(data)
        else:
            texts[name] = _bars_alt_text(data, period)
    return texts


def _bars_alt_text(bars: _Bars, period: str) -> str:
    """``Stapeldiagram för <period>. <Title>. <Axis>: label: 9; label: <5.``"""
    title = bars.title if bars.title.endswith("?") else f"{bars.title}."
    if all(value == 0 for value in bars.values):
        return f"Stapeldiagram för {period}. {title} Inga uppgifter för perioden."
    figures = "; ".join(
        f"{label}: {shown}" for label, shown in zip(bars.labels, bars.shown, strict=True)
    )
    text = f"Stapeldiagram för {period}. {title} {bars.axis_label}: {figures}."
    small = next((s for s in bars.shown if s.startswith("<")), None)
    if small:
        text += f" ”{small}” betyder ett antal från 1 till {int(small[1:]) - 1} som inte visas."
    if ".." in bars.shown:
        text += " ”..” betyder ett tal som inte visas för att skydda ett litet antal."
    return text


def _lines_alt_text(lines: _Lines) -> str:
    """``Linjediagram: title … 2024 H1: medelvärde 16,0, median 15,5; …``"""
    points = "; ".join(
        f"{label}: medelvärde {format_decimal(mean)}, median {format_decimal(median)}"
        for label, mean, median in zip(lines.labels, lines.means, lines.medians, strict=True)
    )
    text = (
        f"Linjediagram: {lines.title}, i månader från start till avslut för dem som "
        f"avslutades under halvåret. {points}."
    )
    if None in lines.means + lines.medians:
        text += " Ett streck betyder att uppgiften saknas eller inte visas (färre än 10 avslut)."
    return text


FigureTable = tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]


def chart_figures(summary: Summary) -> dict[str, FigureTable]:
    """The numbers of each chart as a small table, ``(header, rows)`` by chart name: shown
    beside the picture, so nobody has to read small text in an image."""
    tables: dict[str, FigureTable] = {}
    for name, data in _chart_data(summary).items():
        rows: tuple[tuple[str, ...], ...]
        if isinstance(data, _Lines):
            rows = tuple(
                (label, _decimal_or_dash(mean), _decimal_or_dash(median))
                for label, mean, median in zip(data.labels, data.means, data.medians, strict=True)
            )
            tables[name] = (("Halvår", "Medelvärde, månader", "Median, månader"), rows)
        else:
            rows = tuple(zip(data.labels, data.shown, strict=True))
            tables[name] = (("", data.axis_label), rows)
    return tables


def _decimal_or_dash(value: float | None) -> str:
    return "–" if value is None else format_decimal(value)


def _wrapped(label: str) -> str:
    return "\n".join(textwrap.wrap(label, LABEL_WIDTH, break_on_hyphens=False)) or label


def render_charts(summary: Summary) -> dict[str, bytes]:
    """The five charts as PNG images (1200 × 675 pixels), by chart name."""
    from matplotlib.figure import Figure  # slow to import; see the module docstring

    images = {}
    for name, data in _chart_data(summary).items():
        figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI, layout="constrained")
        figure.suptitle(data.title, x=0.01, ha="left", fontsize=TITLE_SIZE, fontweight="bold")
        axes = figure.add_subplot()
        axes.spines[["top", "right"]].set_visible(False)
        if isinstance(data, _Lines):
            _draw_lines(axes, data)
        else:
            _draw_bars(axes, data)
        images[name] = _png(figure)
    return images


def _draw_bars(axes: Axes, bars: _Bars) -> None:
    """Horizontal bars, top to bottom in the given order, each labelled with its count."""
    from matplotlib.ticker import MaxNLocator

    if all(value == 0 for value in bars.values):
        _no_data(axes)
        return
    positions = range(len(bars.labels))
    lengths = [value or 0 for value in bars.values]
    drawn = axes.barh(positions, lengths, color=BLUE, height=0.65)
    axes.bar_label(drawn, labels=list(bars.shown), padding=4, fontsize=TEXT_SIZE)
    labels = [_wrapped(label) for label in bars.labels]
    axes.set_yticks(
        list(positions), labels=labels, fontsize=TEXT_SIZE if len(labels) < 7 else NOTE_SIZE
    )
    axes.invert_yaxis()
    axes.set_xlabel(bars.axis_label, fontsize=TEXT_SIZE)
    axes.tick_params(axis="x", labelsize=NOTE_SIZE)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max(max(lengths), 1) * 1.15)


def _draw_lines(axes: Axes, lines: _Lines) -> None:
    """Mean (solid, circles) and median (dashed, squares) per half-year, each point labelled."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if all(v is None for v in lines.means + lines.medians):
        _no_data(axes, "Inga uppgifter att visa")
        return
    positions = list(range(len(lines.labels)))
    series = (
        ("Medelvärde", lines.means, BLUE, DARK_BLUE, "-", "o", 8),
        ("Median", lines.medians, VERMILLION, DARK_VERMILLION, "--", "s", -16),
    )
    for name, values, colour, text_colour, style, marker, offset in series:
        heights = [float("nan") if v is None else v for v in values]
        axes.plot(positions, heights, style, color=colour, marker=marker, label=name, linewidth=2)
        for x, value in zip(positions, values, strict=True):
            if value is not None:
                axes.annotate(
                    format_decimal(value),
                    (x, value),
                    textcoords="offset points",
                    xytext=(0, offset),
                    ha="center",
                    fontsize=NOTE_SIZE,
                    color=text_colour,
                )
    axes.set_xticks(positions, labels=list(lines.labels), fontsize=NOTE_SIZE)
    axes.set_ylabel("Månader", fontsize=TEXT_SIZE)
    axes.tick_params(axis="y", labelsize=NOTE_SIZE)
    axes.margins(x=0.08, y=0.2)
    low, high = axes.get_ylim()  # whole months at both ends, at least two apart
    low, high = math.floor(max(low, 0)), math.ceil(high)
    axes.set_ylim(low, max(high, low + 2))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole, distinct ticks
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_decimal(v, 0)))
    axes.legend(frameon=False, fontsize=NOTE_SIZE)


def _no_data(axes: Axes, message: str = "Inga uppgifter för perioden") -> None:
    """A chart with nothing to draw says so instead of showing empty axes."""
    axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=TEXT_SIZE, color=GREY)
    axes.set_axis_off()


def _png(figure: Figure) -> bytes:
    """The figure as PNG bytes, without a timestamp or version in its metadata."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
