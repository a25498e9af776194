"""Charts as PNG images, and the text alternatives that state their numbers."""

from __future__ import annotations

import io

import pytest
from matplotlib._pylab_helpers import Gcf
from PIL import Image

from reports import charts as charts_module
from reports.charts import CHART_TITLES, chart_alt_texts, chart_figures, render_charts
from reports.suppression import suppress
from tests.reports.conftest import sample_summary

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def charts() -> dict[str, bytes]:
    """The charts of the suppressed sample summary, rendered once for this module."""
    return render_charts(suppress(sample_summary()))


def test_all_five_charts_are_rendered(charts):
    assert list(charts) == [
        "referrals_by_group",
        "end_reasons",
        "throughput_trend",
        "closer_to_work",
        "health",
    ]


@pytest.mark.parametrize("name", list(CHART_TITLES))
def test_chart_is_a_png_of_a_readable_size(charts, name):
    png = charts[name]
    image = Image.open(io.BytesIO(png))

    assert png.startswith(PNG_SIGNATURE)
    assert image.format == "PNG"
    assert image.size == (1200, 675)
    assert 10_000 < len(png) < 300_000


def test_rendering_leaves_no_pyplot_figures_behind(charts):
    assert Gcf.get_num_fig_managers() == 0


def test_chart_with_nothing_to_show_still_renders(raw_summary):
    raw_summary["outcomes"]["by_reason"] = dict.fromkeys(raw_summary["outcomes"]["by_reason"], 0)
    raw_summary |= {"trend": []}
    raw_summary["outcomes"] |= {"throughput_months_mean": None, "throughput_months_median": None}

    charts = render_charts(raw_summary)

    assert Image.open(io.BytesIO(charts["end_reasons"])).size == (1200, 675)
    assert Image.open(io.BytesIO(charts["throughput_trend"])).size == (1200, 675)


def test_suppressed_and_raw_figures_give_different_charts(charts, raw_summary):
    raw = render_charts(raw_summary)

    assert raw["referrals_by_group"] != charts["referrals_by_group"]


def test_bar_alt_text_states_every_figure_and_what_hidden_means(summary):
    alt = chart_alt_texts(summary)["referrals_by_group"]

    assert alt == (
        "Stapeldiagram för 1 januari – 30 juni 2025. Nya deltagare per remitterande aktör. "
        "Antal nya deltagare: Kommun: 9; Arbetsförmedlingen: 6; Försäkringskassan: <5; "
        "Region: ..; Övriga (egenanmälan, annan): 0. ”<5” betyder ett antal från 1 till 4 "
        "som inte visas. ”..” betyder ett tal som inte visas för att skydda ett litet antal."
    )


def test_raw_alt_text_has_no_note_on_hidden_figures(raw_summary):
    alt = chart_alt_texts(raw_summary)["referrals_by_group"]

    assert "Försäkringskassan: 3" in alt
    assert "betyder" not in alt


def test_end_reason_alt_text_leaves_out_reasons_nobody_ended_with(summary):
    alt = chart_alt_texts(summary)["end_reasons"]

    assert "Arbete: 5" in alt
    assert "Övrigt" not in alt


def test_survey_alt_text_keeps_the_question_mark(summary):
    alt = chart_alt_texts(summary)["closer_to_work"]

    assert alt.startswith(
        "Stapeldiagram för 1 januari – 30 juni 2025. Har du kommit närmare arbete eller studier? "
        "Antal svar: Ja, mycket: 7; Ja, lite: 11;"
    )


def test_trend_alt_text_states_mean_and_median_per_half_year(summary):
    alt = chart_alt_texts(summary)["throughput_trend"]

    assert "2023 H1: medelvärde 13,9, median 13,1" in alt
    assert alt.endswith("2025 H1: medelvärde 20,4, median 18,9.")


def test_trend_alt_text_explains_a_dash(summary):
    summary["trend"][0]["throughput_months_mean"] = None

    alt = chart_alt_texts(summary)["throughput_trend"]

    assert "2023 H1: medelvärde –, median 13,1" in alt
    assert alt.endswith(
        "Ett streck betyder att uppgiften saknas eller inte visas (färre än 10 avslut)."
    )


def test_throughput_axis_ticks_are_whole_distinct_numbers():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from reports.charts import _draw_lines, _Lines

    figure = Figure()
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    _draw_lines(
        axes, _Lines("Genomströmningstid", ("2024 H1", "2024 H2"), (15.2, 15.6), (15.3, 15.5))
    )
    figure.canvas.draw()
    ticks = [t.get_text() for t in axes.get_yticklabels() if t.get_text()]

    assert len(ticks) == len(set(ticks)) >= 2
    assert all(t.lstrip("−-").isdigit() for t in ticks)


def test_each_chart_has_its_numbers_as_a_table_with_hidden_counts_as_shown():
    tables = chart_figures(suppress(sample_summary()))

    assert list(tables) == list(CHART_TITLES)
    header, rows = tables["end_reasons"]
    assert header == ("", "Antal avslutade")
    assert ("Studier", "<5") in rows and ("Arbete", "5") in rows
    header, rows = tables["throughput_trend"]
    assert header[1:] == ("Medelvärde, månader", "Median, månader") and len(rows) > 1


def test_chart_text_is_large_enough_to_read_at_a_phones_width():
    """Shrunk from 1200 to 343 pixels wide, the smallest text is still about 9 pixels high."""
    smallest_points = min(charts_module.NOTE_SIZE, charts_module.TEXT_SIZE)
    pixels = smallest_points / 72 * charts_module._DPI
    assert pixels * 343 / 1200 >= 8.9
