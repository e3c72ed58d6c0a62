"""Figure builders are pure: small hand-made frames in, plotly figures (plain dicts) out, checked trace by trace.

The builders skip plotly's validation for speed, so every figure built here is also handed to
``plotly.graph_objects.Figure``, which rejects any property plotly does not know.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from carepulse.dashboard import figures, i18n


@pytest.fixture(autouse=True)
def _valid_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every figure a test builds passes plotly's own validation (property names, types and values)."""
    for name in ("weekly_volume", "speed_over_time", "cost_per_case", "first_response_histogram", "km_curve",
                 "sla_by_day", "weekday_hour_heatmap", "metric_chart", "link_coverage", "empty_figure"):
        builder = getattr(figures, name)

        def validated(*args: Any, builder: Any = builder, **kwargs: Any) -> figures.Figure:
            fig = builder(*args, **kwargs)
            assert set(fig) == {"data", "layout"}
            go.Figure(fig)  # raises ValueError on anything plotly does not know
            return fig

        monkeypatch.setattr(figures, name, validated)


def annotation_text(fig: figures.Figure) -> str:
    return " ".join(a["text"] for a in fig["layout"].get("annotations", []))


def traces(fig: figures.Figure) -> list[dict[str, Any]]:
    return fig["data"]


def test_empty_frames_give_a_figure_that_says_why() -> None:
    empty = pd.DataFrame()
    cases = [
        figures.weekly_volume(pd.DataFrame(columns=["week", "kind", "threads", "pi_low", "pi_high"]), "de",
                              "not enough data (weeks = 3, minimum 8)"),
        figures.speed_over_time(pd.DataFrame({"week": [], "first_response_median_s": []}), "de", 60),
        figures.cost_per_case(empty, "de", "phone"),
        figures.first_response_histogram(pd.DataFrame({"bin": [], "threads": []}), "de", 3600),
        figures.km_curve(pd.DataFrame(columns=["time_s", "share_answered", "ci_low", "ci_high"]), "de", 3600),
        figures.sla_by_day(empty, "de"),
        figures.weekday_hour_heatmap(empty, "de", "threads"),
        figures.metric_chart(pd.DataFrame({"account": [], "threads": []}), "account", "threads", "Threads", "count",
                             "de"),
        figures.link_coverage(empty, "de"),
    ]
    for fig in cases:
        assert not fig["data"] and annotation_text(fig)
    assert "not enough data (weeks = 3" in annotation_text(cases[0])
    assert "carepulse ingest crm" in annotation_text(cases[-1])


def weekly() -> pd.DataFrame:
    weeks = pd.date_range("2026-05-04", periods=6, freq="7D")
    rows = [{"week": w, "kind": "actual", "threads": float(n), "pi_low": None, "pi_high": None}
            for w, n in zip(weeks[:4], (10, 12, 11, 13), strict=True)]
    rows += [{"week": w, "kind": "forecast", "threads": 13.5, "pi_low": 9.0, "pi_high": 18.0} for w in weeks[4:]]
    return pd.DataFrame(rows)


def test_weekly_volume_has_actuals_a_band_and_a_forecast_joined_to_the_last_week() -> None:
    fig = figures.weekly_volume(weekly(), "de")
    names = [t["name"] for t in traces(fig)]
    assert names == [i18n._(n, "de") for n in ("threads per week", "95% prediction band", "forecast")]
    assert traces(fig)[0]["y"] == [10, 12, 11, 13]
    assert traces(fig)[0]["x"] == ["2026-05-04T00:00:00", "2026-05-11T00:00:00", "2026-05-18T00:00:00",
                                   "2026-05-25T00:00:00"]
    assert traces(fig)[2]["y"] == [13, 13.5, 13.5]  # starts at the last actual week
    assert traces(fig)[2]["x"][0] == "2026-05-25T00:00:00"
    assert traces(fig)[1]["y"] == [18, 18, 9, 9]
    assert fig["layout"]["separators"] == ",."


def test_speed_over_time_scales_seconds_and_puts_the_share_on_the_right() -> None:
    frame = pd.DataFrame({"week": ["2026-05-04", "2026-05-11"], "first_response_median_s": [600.0, 1200.0],
                          "first_response_km_median_s": [900.0, None], "sla_met_share": [0.5, 0.75]})
    fig = figures.speed_over_time(frame, "en", 60)
    median, km, share = traces(fig)
    assert median["y"] == [10.0, 20.0]  # minutes
    assert km["y"] == [15.0, None]
    assert share["yaxis"] == "y2" and share["y"] == [0.5, 0.75]
    assert median["customdata"] == ["10 min", "20 min"]
    assert median["x"] == ["2026-05-04T00:00:00", "2026-05-11T00:00:00"]
    assert fig["layout"]["yaxis2"]["overlaying"] == "y"
    hours = figures.speed_over_time(frame.assign(first_response_median_s=[7200.0, 36000.0]), "en", 60)
    assert traces(hours)[0]["y"] == [2.0, 10.0]


def test_cost_per_case_highlights_twitter_and_the_hotline() -> None:
    frame = pd.DataFrame({"channel": ["chat", "phone", "twitter", "(total)"],
                          "cost_per_case": [13.7, 10.28, 6.71, 9.4]})
    fig = figures.cost_per_case(frame, "de", "phone")
    bar = traces(fig)[0]
    assert bar["y"] == ["twitter", "phone", "chat"]  # cheapest first, total left out
    assert bar["x"] == [6.71, 10.28, 13.7]
    assert bar["marker"]["color"] == [figures.BLUE, figures.ORANGE, figures.GREY]
    assert bar["text"][0] == "6,71\u00a0€"


def test_histogram_colours_by_sla() -> None:
    frame = pd.DataFrame({"bin": ["< 5 min", "30-60 min", "1-2 h", "unanswered"], "lower_s": [0, 1800, 3600, None],
                          "upper_s": [300, 3600, 7200, None], "threads": [5, 3, 2, 1],
                          "share": [0.45, 0.27, 0.18, 0.09]})
    fig = figures.first_response_histogram(frame, "en", 3600)
    bar = traces(fig)[0]
    assert bar["marker"]["color"] == [figures.GREEN, figures.GREEN, figures.RED, figures.GREY]
    assert bar["marker"]["pattern"]["shape"] == ["", "", "/", ""]  # a second cue besides colour: hatched
    assert bar["customdata"] == ["45.0%", "27.0%", "18.0%", "9.0%"]
    assert bar["y"] == [5, 3, 2, 1] and bar["x"][-1] == "unanswered"


def test_km_curve_is_thinned_to_a_bounded_number_of_exact_steps() -> None:
    n = 20_000
    times = np.sort(np.random.default_rng(1).exponential(3600, n)) + 1
    share = np.arange(1, n + 1) / n
    frame = pd.DataFrame({"time_s": times, "share_answered": share, "ci_low": share * 0.9, "ci_high": share})
    frame.attrs["median_s"] = float(np.median(times))
    fig = figures.km_curve(frame, "de", 3600)
    curve = traces(fig)[1]
    assert len(curve["x"]) <= figures.MAX_CURVE_POINTS + 1
    assert curve["y"][-1] == 1.0  # the last step is kept
    lookup = dict(zip(frame["time_s"], frame["share_answered"], strict=True))
    assert all(lookup[t] == s for t, s in zip(curve["x"], curve["y"], strict=True))  # points lie on the real curve
    assert fig["layout"]["xaxis"]["type"] == "log"
    sla, median = fig["layout"]["shapes"]
    assert sla["x0"] == sla["x1"] == 3600 and sla["yref"] == "y domain"
    assert median["y0"] == median["y1"] == 0.5
    assert annotation_text(fig).startswith("SLA 60 min Median ")  # German: the locale given


def test_sla_by_day_stacks_three_states() -> None:
    frame = pd.DataFrame({"day": ["2026-05-04", "2026-05-05"], "threads": [3, 2], "met": [1, 2], "breached": [2, 0],
                          "undecided": [0, 0], "sla_met_share": [1 / 3, 1.0]})
    fig = figures.sla_by_day(frame, "de")
    assert [t["name"] for t in traces(fig)] == ["verletzt", "eingehalten", "noch innerhalb des SLA"]
    assert [t["y"] for t in traces(fig)] == [[2, 0], [1, 2], [0, 0]]
    assert traces(fig)[0]["x"] == ["2026-05-04T00:00:00", "2026-05-05T00:00:00"]
    assert fig["layout"]["barmode"] == "stack"


def test_heatmap_is_seven_by_twenty_four_with_gaps_filled_for_counts_only() -> None:
    frame = pd.DataFrame({"weekday_no": [1, 7], "weekday": ["Mon", "Sun"], "hour": [0, 23], "threads": [4, 2],
                          "first_response_median_s": [600.0, None]})
    arrivals = figures.weekday_hour_heatmap(frame, "de", "threads")
    z = np.array(traces(arrivals)[0]["z"])
    assert z.shape == (7, 24) and z[0][0] == 4 and z[6][23] == 2 and z[3][3] == 0
    assert traces(arrivals)[0]["y"] == figures.weekdays("de") == ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"]
    assert traces(arrivals)[0]["x"] == list(range(24))
    assert traces(arrivals)[0]["colorscale"][0] == [0.0, "rgb(247,251,255)"]  # plotly.py's Blues, not plotly.js's
    speed = figures.weekday_hour_heatmap(frame, "de", "first_response_median_s")
    zs = np.array(traces(speed)[0]["z"], dtype=float)
    assert zs[0][0] == 10.0 and np.isnan(zs[3][3])  # minutes; no answer is no colour, not zero
    assert traces(speed)[0]["text"][0][0] == "10 min" and traces(speed)[0]["text"][3][3] == "keine Antwort"


def test_heatmap_cells_take_the_first_row_of_their_weekday_and_hour() -> None:
    """As ``pivot_table(aggfunc="first")``: a repeated cell shows its first row, a NaN is no row, a weekday or
    hour outside the grid is left out."""
    frame = pd.DataFrame({"weekday_no": [2, 2, 3, 3, 8, 4], "hour": [5, 5, 6, 6, 1, 24],
                          "first_response_median_s": [60.0, 120.0, None, 180.0, 240.0, 300.0]})
    z = np.array(traces(figures.weekday_hour_heatmap(frame, "en", "first_response_median_s"))[0]["z"], dtype=float)
    assert z[1][5] == 1.0 and z[2][6] == 3.0  # minutes: the first of 60 s and 120 s; the NaN row is skipped
    assert np.count_nonzero(~np.isnan(z)) == 2


def test_metric_chart_kinds_and_intervals() -> None:
    frame = pd.DataFrame({"account": ["a", "b", "(total)"], "response_rate": [0.9, 0.8, 0.85],
                          "response_rate_ci_low": [0.85, 0.7, 0.8], "response_rate_ci_high": [0.95, 0.9, 0.9]})
    bars = figures.metric_chart(frame, "account", "response_rate", "Response rate", "share", "de")
    bar = traces(bars)[0]
    assert bar["orientation"] == "h" and bar["y"] == ["a", "b"]
    assert [round(v, 6) for v in bar["error_x"]["array"]] == [0.05, 0.1]
    assert [round(v, 6) for v in bar["error_x"]["arrayminus"]] == [0.05, 0.1]
    assert bar["customdata"] == ["90,0\u202f%", "80,0\u202f%"]
    assert bars["layout"]["xaxis"]["tickformat"] == ".0%"
    weeks = pd.DataFrame({"week": ["2026-05-04", "2026-05-11"], "first_response_median_s": [600.0, 900.0]})
    line = figures.metric_chart(weeks, "week", "first_response_median_s", "First response", "seconds", "en")
    assert traces(line)[0]["mode"] == "lines+markers" and traces(line)[0]["y"] == [10.0, 15.0]
    assert line["layout"]["yaxis"]["title"]["text"] == "First response (minutes)"
    whole = figures.metric_chart(pd.DataFrame({"threads": [42]}), None, "threads", "Threads", "count", "en")
    assert traces(whole)[0]["x"] == [42] and traces(whole)[0]["y"] == ["whole selection"]


def test_labels_from_data_are_made_inert() -> None:
    frame = pd.DataFrame({"team": ['<a href="http://x">Team</a>'], "threads": [1]})
    fig = figures.metric_chart(frame, "team", "threads", "Threads", "count", "de")
    assert traces(fig)[0]["y"][0] == '&lt;a href="http://x"&gt;Team&lt;/a&gt;'
    assert "<" not in annotation_text(figures.empty_figure("<b>x</b>"))


def test_link_coverage_stacks_methods() -> None:
    frame = pd.DataFrame({"channel": ["twitter", "phone"], "cases": [10, 5], "conversation": [7, 0],
                          "handle_window": [3, 0], "none": [0, 5], "linked_share": [1.0, 0.0]})
    fig = figures.link_coverage(frame, "en")
    assert [t["name"] for t in traces(fig)] == ["by conversation id", "by handle and time window", "not linked"]
    assert traces(fig)[0]["x"] == [7, 0]


def test_weekly_volume_dates_in_the_locale() -> None:
    assert figures.weekly_volume(weekly(), "de")["layout"]["xaxis"]["tickformat"] == "%d.%m.%Y"
    assert figures.weekly_volume(weekly(), "en")["layout"]["xaxis"]["tickformat"] == "%d %b %Y"
    assert isinstance(weekly()["week"][0], datetime)


def test_the_template_is_plotly_white_for_the_traces_drawn() -> None:
    """plotly.js needs the template object; the figure carries plotly.py's plotly_white, less the parts
    for trace types and subplots it does not draw."""
    import plotly.io as pio

    white = pio.templates["plotly_white"].to_plotly_json()
    fig = figures.weekly_volume(weekly(), "de")
    template = fig["layout"]["template"]
    assert set(template["data"]) == {"scatter"} and template["data"]["scatter"] == white["data"]["scatter"]
    assert template["layout"] == {k: v for k, v in white["layout"].items() if k not in figures.UNUSED_SUBPLOTS}
    assert set(figures.empty_figure("x")["layout"]["template"]["data"]) == set()


def test_figures_are_plain_json() -> None:
    """Dash sends a figure as it is: nothing in it may need plotly's encoder (numpy, pandas, NaN)."""
    import json

    frame = pd.DataFrame({"weekday_no": [1, 7], "weekday": ["Mon", "Sun"], "hour": [0, 23], "threads": [4, 2],
                          "first_response_median_s": [600.0, None]})
    for fig in (figures.weekly_volume(weekly(), "de"), figures.weekday_hour_heatmap(frame, "de", "threads"),
                figures.weekday_hour_heatmap(frame, "en", "first_response_median_s")):
        json.dumps(fig, allow_nan=False)


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_met_and_breached_differ_in_lightness_not_only_in_hue() -> None:
    """With deuteranopia a red and a green of equal lightness look alike (the old Bootstrap pair: 0.1817 vs
    0.1819). The Okabe-Ito pair (made to stay apart for colour-blind readers) differs in lightness too (0.257 vs
    0.222), and breached bars are hatched as well."""
    assert abs(_luminance(figures.GREEN) - _luminance(figures.RED)) > 0.03
    assert figures.GREEN == "#009E73" and figures.RED == "#D55E00"
