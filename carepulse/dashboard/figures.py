"""Pure figure builders: a tidy DataFrame (from metrics) and a locale in, a plotly figure out.

No data access, no Dash: each builder can be called and checked in a test. Every builder copes with
an empty frame by returning :func:`empty_figure` with a sentence saying why it is empty. Labels
that come from data (teams, categories, accounts) are entity-escaped, because plotly reads a
few HTML tags (``<a href>``, ``<b>``) in text.

Figures are plain dicts in plotly's JSON schema (``{"data": [trace, ...], "layout": {...}}``), the
form ``dcc.Graph`` takes and Dash sends as it is. They are what ``plotly.graph_objects`` would build
from the same calls, without its validation: building and serialising ``go.Figure`` objects cost
25-80 ms per callback, several times the 13-60 ms queries behind them. The consequence is that a
typo in a property name is not caught here; ``tests/dashboard/test_figures.py`` checks every builder's
output against plotly's own validator. Values are plain Python (lists, floats, ``None`` for a gap,
ISO date strings), so any JSON encoder can send them.

Words (titles, legend names, hover texts, empty states) are English in the code and shown through
:func:`carepulse.dashboard.i18n._` in the builder's ``locale``, so a figure's words, numbers and dates
speak one language; a hover template's sentence is translated whole, plotly's ``%{...}`` fields put in
its placeholders.
"""

from __future__ import annotations

import functools
import json
import math
import pkgutil
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.formatting import Locale
from carepulse.dashboard.i18n import N_, _

if TYPE_CHECKING:
    from carepulse.metrics.breaches import BreachCounts

Figure = dict[str, Any]

# Okabe-Ito: distinguishable with every common colour-vision deficiency (a Bootstrap green and red of equal
# luminance were not, with deuteranopia). Met/breached carry a second cue as well: breached bars are hatched.
BLUE, GREEN, RED, GREY, ORANGE, PURPLE = "#0072B2", "#009E73", "#D55E00", "#adb5bd", "#E69F00", "#CC79A7"
BREACHED_SHAPE = "/"
BREACHED_PATTERN = {"shape": BREACHED_SHAPE, "fgcolor": "#ffffff", "size": 6, "solidity": 0.3}
# The axis words below are English (marked for the catalog) and translated where a figure is drawn.
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
TIME_BREAKDOWNS = ("day", "week", "month")
DURATION_TICKS = ((60, N_("1 min")), (300, N_("5 min")), (900, N_("15 min")), (3600, N_("1 h")),
                  (4 * 3600, N_("4 h")), (86400, N_("1 day")), (3 * 86400, N_("3 days")), (7 * 86400, N_("1 week")),
                  (30 * 86400, N_("30 days")))
# The first-response bins' labels (from metrics.views.HISTOGRAM_BINS) that have words; the others read alike.
BIN_WORDS = (N_("1-3 days"), N_("> 3 days"), N_("unanswered"))
# Steps a survival curve is drawn with: one per 2 px or less of the chart's log-time axis (the curve is exact at
# each step it keeps); 1,500 made the Kaplan-Meier figure 124 kB of JSON, a third of its callback's time.
MAX_CURVE_POINTS = 400
# Breach counts: white to Okabe-Ito orange to vermillion, darker with more breaches in any colour vision;
# the count is written in each cell as well, so colour is never the only cue.
BREACH_SCALE = [[0.0, "#ffffff"], [0.5, ORANGE], [1.0, RED]]
# Bars of groups lie horizontally (every name written out, none skipped, however many), largest first: at
# most TOP_BARS bars of their own and one "others" bar, so 53 agents do not make 53 thin bars.
TOP_BARS = 12
LABEL_CHARS = 32
TEMPLATE = "plotly_white"
NO_EXTRA = "<extra></extra>"  # ends a hover template: no trace name beside the box
UNUSED_SUBPLOTS = ("polar", "ternary", "scene", "geo")  # template layout parts for subplots no figure here has


def weekdays(locale: Locale) -> list[str]:
    """Monday to Sunday, short, in ``locale`` (the rows of the weekday x hour grids)."""
    return [_(day, locale) for day in WEEKDAYS]


def label(text: Any) -> str:
    """Data text made inert for plotly's HTML-ish text rendering."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@functools.cache
def _plotly_white() -> dict[str, Any]:
    """Plotly's ``plotly_white`` template as plotly.py ships it, read once from plotly's package data."""
    raw = pkgutil.get_data("plotly", f"package_data/templates/{TEMPLATE}.json")
    if raw is None:  # pragma: no cover - plotly always ships it
        raise FileNotFoundError(f"plotly template {TEMPLATE}")
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


@functools.cache
def template(trace_types: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``plotly_white`` for a figure drawing these trace types (plotly.js needs the object, not its name).

    A template's ``data`` part styles only traces of its own type, and its polar, ternary, 3-D and geo
    layouts only those subplots, so leaving out the parts a figure does not draw changes nothing on
    screen and sends 2 KB instead of 7 KB per figure. Shared by every figure: nobody may change it.
    """
    full = _plotly_white()
    layout = {k: v for k, v in full["layout"].items() if k not in UNUSED_SUBPLOTS}
    return {"data": {k: v for k, v in full["data"].items() if k in trace_types}, "layout": layout}


@functools.cache
def colorscale(name: str) -> list[list[Any]]:
    """A named plotly.py colour scale as plotly.py expands it (plotly.js has other scales by these names)."""
    import plotly.colors

    return [[float(at), colour] for at, colour in plotly.colors.get_colorscale(name)]


def _layout(locale: Locale, *, height: int = 300, legend: bool = True, **extra: Any) -> dict[str, Any]:
    """The house layout every chart shares, plus the chart's own settings."""
    layout: dict[str, Any] = {
        "height": height, "separators": fmt.plotly_separators(locale),
        "margin": {"l": 50, "r": 20, "t": 30, "b": 40}, "font": {"size": 12}, "showlegend": legend,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
    }
    layout.update(extra)
    return layout


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> Figure:
    layout["template"] = template(frozenset(trace["type"] for trace in traces))
    return {"data": traces, "layout": layout}


def empty_figure(message: str, height: int = 300) -> Figure:
    """A blank chart that says why it is blank (and, where it helps, what to do)."""
    return _figure([], {
        "height": height, "margin": {"l": 20, "r": 20, "t": 20, "b": 20},
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
        "annotations": [{"text": label(message), "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                         "showarrow": False, "font": {"size": 13, "color": "#6c757d"}}]})


def _duration_scale(seconds: Iterable[float | None]) -> tuple[float, str]:
    """Divide seconds by this to plot in a unit a reader knows: minutes below 3 hours, else hours (the
    unit's name in English, for ``_()``)."""
    finite = [s for s in seconds if s is not None and not (isinstance(s, float) and math.isnan(s))]
    top = max(finite) if finite else 0
    return (60.0, N_("minutes")) if top < 3 * 3600 else (3600.0, N_("hours"))


def _as_float(values: Any) -> list[float | None]:
    """Numbers as Python floats, a missing value as ``None`` (a gap in the line, not zero)."""
    array = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return [None if math.isnan(v) else v for v in array.tolist()]


def _scaled(values: Sequence[float | None], scale: float) -> list[float | None]:
    return [None if v is None else v / scale for v in values]


def _numbers(values: Any) -> list[Any]:
    """A column as plain Python numbers (ints stay ints), missing values as ``None``."""
    series = pd.Series(values)
    if series.dtype.kind in "iub" and not series.isna().any():
        return [int(v) for v in series.tolist()]
    return _as_float(series)


def _dates(values: Any) -> list[str | None]:
    """Dates and times as ISO text, which plotly.js reads as dates (metrics give ISO strings or datetimes)."""
    series = pd.Series(values)
    if series.dtype.kind != "M":
        try:
            series = pd.to_datetime(series, format="ISO8601")
        except (ValueError, TypeError):
            series = pd.to_datetime(series)
    if getattr(series.dt, "tz", None) is not None:
        return [None if pd.isna(t) else t.isoformat() for t in series]
    text = np.datetime_as_string(series.to_numpy(dtype="datetime64[us]"), unit="s").tolist()
    return [None if t == "NaT" else t for t in text]


# ---- Pilot ---------------------------------------------------------------------------------------

def weekly_volume(frame: pd.DataFrame, locale: Locale, verdict: str | None = None) -> Figure:
    """Threads per complete week, and the forecast with its 95% prediction band."""
    if frame.empty:
        return empty_figure(verdict or _("No complete week of threads in this selection", locale))
    actual = frame[frame["kind"] == "actual"]
    forecast = frame[frame["kind"] == "forecast"]
    week = f"%{{x|{fmt.plotly_week_hover(locale)}}}"
    traces: list[dict[str, Any]] = [{
        "type": "scatter", "x": _dates(actual["week"]), "y": _numbers(actual["threads"]),
        "name": _("threads per week", locale), "mode": "lines+markers", "line": {"color": BLUE},
        "hovertemplate": _("week of {week}: {n} threads", locale).format(week=week, n="%{y:,.0f}") + NO_EXTRA}]
    if not forecast.empty:
        joined = pd.concat([actual.tail(1), forecast])
        weeks = _dates(forecast["week"])
        traces.append({"type": "scatter", "x": weeks + weeks[::-1],
                       "y": _numbers(forecast["pi_high"]) + _numbers(forecast["pi_low"])[::-1],
                       "fill": "toself", "fillcolor": "rgba(13,110,253,0.15)", "mode": "lines", "line": {"width": 0},
                       "name": _("95% prediction band", locale), "hoverinfo": "skip"})
        traces.append({"type": "scatter", "x": _dates(joined["week"]), "y": _numbers(joined["threads"]),
                       "name": _("forecast", locale), "mode": "lines+markers", "line": {"color": BLUE, "dash": "dash"},
                       "hovertemplate": _("week of {week}: about {n} threads", locale).format(week=week, n="%{y:,.0f}")
                       + NO_EXTRA})
    return _figure(traces, _layout(locale, xaxis={"tickformat": fmt.plotly_day_format(locale)},
                                   yaxis={"title": {"text": _("threads", locale)}, "rangemode": "tozero"}))


def speed_over_time(frame: pd.DataFrame, locale: Locale, sla_minutes: float) -> Figure:
    """Weekly first-response median (left axis) and the share answered within the SLA (right axis)."""
    if frame.empty or frame["first_response_median_s"].isna().all():
        return empty_figure(_("No answered threads in this selection", locale))
    weeks = _dates(frame["week"])
    medians = _as_float(frame["first_response_median_s"])
    scale, unit = _duration_scale(medians)
    traces: list[dict[str, Any]] = [{
        "type": "scatter", "x": weeks, "y": _scaled(medians, scale),
        "name": _("first response, median ({unit})", locale).format(unit=_(unit, locale)),
        "mode": "lines+markers", "line": {"color": BLUE}, "customdata": fmt.durations(medians, locale),
        "hovertemplate": _("median {duration}", locale).format(duration="%{customdata}") + NO_EXTRA}]
    if "first_response_km_median_s" in frame:
        km = _as_float(frame["first_response_km_median_s"])
        traces.append({"type": "scatter", "x": weeks, "y": _scaled(km, scale), "name": _("Kaplan-Meier median", locale),
                       "mode": "lines", "line": {"color": PURPLE, "dash": "dot"},
                       "customdata": fmt.durations(km, locale),
                       "hovertemplate": _("Kaplan-Meier median {duration}", locale).format(duration="%{customdata}")
                       + NO_EXTRA})
    if "sla_met_share" in frame:
        shares = _as_float(frame["sla_met_share"])
        traces.append({"type": "scatter", "x": weeks, "y": shares,
                       "name": _("answered within {sla} min (share)", locale).format(
                           sla=fmt.number(sla_minutes, locale)),
                       "mode": "lines+markers", "line": {"color": GREEN}, "yaxis": "y2",
                       "customdata": fmt.percents(shares, locale, 1),
                       "hovertemplate": _("SLA met {share}", locale).format(share="%{customdata}") + NO_EXTRA})
    layout = _layout(
        locale, hovermode="x unified",
        yaxis={"title": {"text": _(unit, locale)}, "rangemode": "tozero"},
        yaxis2={"title": {"text": _("SLA met", locale)}, "overlaying": "y", "side": "right", "range": [0, 1.02],
                "tickformat": ".0%", "dtick": 0.25, "showgrid": False},
        xaxis={"tickformat": fmt.plotly_day_format(locale), "hoverformat": fmt.plotly_week_hover(locale)})
    layout["margin"] = {**layout["margin"], "r": 55}
    return _figure(traces, layout)


def cost_per_case(frame: pd.DataFrame, locale: Locale, hotline: str) -> Figure:
    """Cost per case by channel, Twitter and the hotline channel highlighted, value labels on the bars."""
    if frame.empty or "cost_per_case" not in frame or frame["cost_per_case"].isna().all():
        return empty_figure(_("No cost per case: it needs CRM cases with a channel ({command})", locale).format(
            command="carepulse ingest crm ..."))
    pairs = zip(frame["channel"].tolist(), _as_float(frame["cost_per_case"]), strict=True)
    rows = sorted(((channel, cost) for channel, cost in pairs if channel != "(total)" and cost is not None),
                  key=lambda row: row[1])  # cheapest first
    channels, costs = [channel for channel, _cost in rows], [cost for _channel, cost in rows]
    colours = [BLUE if c == "twitter" else ORANGE if c == hotline else GREY for c in channels]
    bar = {"type": "bar", "y": [label(c) for c in channels], "x": costs, "orientation": "h",
           "marker": {"color": colours}, "text": [fmt.money(v, locale, 2) for v in costs], "textposition": "auto",
           "hovertemplate": _("{channel}: {cost} per case", locale).format(channel="%{y}", cost="%{text}") + NO_EXTRA}
    return _figure([bar], _layout(locale, height=220, legend=False,
                                  xaxis={"title": {"text": _("EUR per case", locale)}, "rangemode": "tozero"}))


# ---- Team ----------------------------------------------------------------------------------------

def first_response_histogram(frame: pd.DataFrame, locale: Locale, sla_seconds: float) -> Figure:
    """Threads per first-response bin; bins past the SLA in red, still-unanswered threads in grey."""
    if frame.empty or frame["threads"].sum() == 0:
        return empty_figure(_("No threads in this selection", locale))
    colours, shapes = [], []
    for bin_name, upper in zip(frame["bin"], _as_float(frame["upper_s"]), strict=True):
        if bin_name == "unanswered":
            colours.append(GREY)
            shapes.append("")
        elif upper is not None and upper <= sla_seconds:
            colours.append(GREEN)
            shapes.append("")
        else:
            colours.append(RED)
            shapes.append(BREACHED_SHAPE)
    shares = fmt.percents(_as_float(frame["share"]), locale, 1)
    bar = {"type": "bar", "x": [_(str(b), locale) for b in frame["bin"]], "y": _numbers(frame["threads"]),
           "marker": {"color": colours, "pattern": {**BREACHED_PATTERN, "shape": shapes}}, "customdata": shares,
           "hovertemplate": _("{bin}: {n} threads ({share})", locale).format(bin="%{x}", n="%{y:,.0f}",
                                                                              share="%{customdata}") + NO_EXTRA}
    return _figure([bar], _layout(locale, legend=False, yaxis={"title": {"text": _("threads", locale)}},
                                  xaxis={"title": {"text": _("first response within", locale)}, "type": "category"}))


def _thin_curve(frame: pd.DataFrame, points: int = MAX_CURVE_POINTS) -> pd.DataFrame:
    """A step curve with at most ``points`` steps: the value at log-spaced times (the curve stays exact there)."""
    if len(frame) <= points:
        return frame
    times = frame["time_s"].to_numpy(dtype=float)
    low, high = max(times[0], 1.0), times[-1]
    grid = np.unique(np.concatenate([np.geomspace(low, high, points), times[-1:]]))
    index = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(times) - 1)
    return frame.iloc[np.unique(index)]


def km_curve(frame: pd.DataFrame, locale: Locale, sla_seconds: float) -> Figure:
    """'Share answered within t' (Kaplan-Meier, waiting threads censored) with its 95% band, log time axis."""
    if frame.empty:
        return empty_figure(_("No thread answered in this selection, so no curve", locale))
    curve = _thin_curve(frame)
    times = _numbers(curve["time_s"])
    x = [None if t is None else max(t, 1) for t in times]
    shares = _as_float(curve["share_answered"])
    traces = [
        {"type": "scatter", "x": x + x[::-1], "y": _as_float(curve["ci_high"]) + _as_float(curve["ci_low"])[::-1],
         "fill": "toself", "fillcolor": "rgba(13,110,253,0.15)", "mode": "lines", "line": {"width": 0, "shape": "hv"},
         "name": _("95% band", locale), "hoverinfo": "skip"},
        {"type": "scatter", "x": x, "y": shares, "mode": "lines", "line": {"color": BLUE, "shape": "hv"},
         "name": _("share answered", locale),
         "customdata": list(map(list, zip(fmt.durations(times, locale), fmt.percents(shares, locale, 1),
                                          strict=True))),
         "hovertemplate": _("within {time}: {share} answered", locale).format(
             time="%{customdata[0]}", share="%{customdata[1]}") + NO_EXTRA},
    ]
    sla_x = max(sla_seconds, 1)
    shapes = [{"type": "line", "x0": sla_x, "x1": sla_x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
               "line": {"color": RED, "dash": "dot"}}]
    annotations = [{"text": _("SLA {duration}", locale).format(duration=fmt.duration(sla_seconds, locale)),
                    "showarrow": False, "x": sla_x, "xref": "x",
                    "xanchor": "right", "y": 1, "yref": "y domain", "yanchor": "top"}]
    median = frame.attrs.get("median_s")
    if median:
        shapes.append({"type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": 0.5, "y1": 0.5, "yref": "y",
                       "line": {"color": GREY, "dash": "dot"}})
        annotations.append({"text": _("median {duration}", locale).format(duration=fmt.duration(median, locale)),
                            "showarrow": False, "x": 1,
                            "xref": "x domain", "xanchor": "right", "y": 0.5, "yref": "y", "yanchor": "top"})
    top = float(frame["time_s"].max())
    ticks = [(t, text) for t, text in DURATION_TICKS if t <= top * 1.5] or list(DURATION_TICKS[:3])
    return _figure(traces, _layout(
        locale, shapes=shapes, annotations=annotations,
        xaxis={"type": "log", "tickvals": [t for t, _text in ticks],
               "ticktext": [_(text, locale) for _t, text in ticks],
               "title": {"text": _("time since the customer's first tweet", locale)}},
        yaxis={"range": [0, 1.02], "tickformat": ".0%", "title": {"text": _("answered", locale)}}))


def sla_by_day(frame: pd.DataFrame, locale: Locale) -> Figure:
    """Threads per day that met the SLA, breached it, or are still undecided (stacked)."""
    if frame.empty:
        return empty_figure(_("No threads in this selection", locale))
    days = _dates(frame["day"])
    states = (("breached", _("breached", locale), _("{n} breached", locale), RED),
              ("met", _("met", locale), _("{n} met", locale), GREEN),
              ("undecided", _("still within the SLA", locale), _("{n} still within the SLA", locale), GREY))
    traces = [{"type": "bar", "x": days, "y": _numbers(frame[column]), "name": name,
               "marker": {"color": colour, **({"pattern": BREACHED_PATTERN} if column == "breached" else {})},
               "hovertemplate": hover.format(n="%{y:,.0f}") + NO_EXTRA}
              for column, name, hover, colour in states]
    return _figure(traces, _layout(
        locale, barmode="stack", hovermode="x unified", bargap=0.1,
        xaxis={"tickformat": fmt.plotly_day_format(locale), "hoverformat": fmt.plotly_day_format(locale)},
        yaxis={"title": {"text": _("threads", locale)}}))


def _grid(frame: pd.DataFrame, value: str) -> np.ndarray:
    """Weekday (1-7) x hour (0-23) as a 7 x 24 float array, NaN where the frame has no row."""
    grid = np.full((7, 24), np.nan)
    weekdays = pd.to_numeric(frame["weekday_no"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    hours = pd.to_numeric(frame["hour"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    inside = (weekdays >= 1) & (weekdays <= 7) & (hours >= 0) & (hours <= 23)
    known = inside & ~np.isnan(values)  # a NaN counts as no row
    cells = (weekdays[known] - 1).astype(int) * 24 + hours[known].astype(int)
    # the first row of each (weekday, hour) wins, as with pivot_table(aggfunc="first")
    _, first = np.unique(cells, return_index=True)
    grid.flat[cells[first]] = values[known][first]
    return grid


def weekday_hour_heatmap(frame: pd.DataFrame, locale: Locale, value: str) -> Figure:
    """Weekday x hour grid of ``threads`` (arrivals) or ``first_response_median_s`` (shown in minutes)."""
    if frame.empty:
        return empty_figure(_("No threads in this selection", locale))
    is_speed = value == "first_response_median_s"
    z = _grid(frame, value)
    if not is_speed:
        z = np.nan_to_num(z, nan=0.0)
    cells = z.tolist()
    if is_speed:
        scale, unit = _duration_scale(v for row in cells for v in row)
        no_answer = _("no answer", locale)
        text = [[no_answer if math.isnan(v) else t for v, t in zip(row, fmt.durations(row, locale), strict=True)]
                for row in cells]
        shown = [[None if math.isnan(v) else v / scale for v in row] for row in cells]
        colours, bar_title = "YlOrRd", _(unit, locale)
        hover = _("{weekday} {hour}:00 · median first response {duration}", locale).format(
            weekday="%{y}", hour="%{x}", duration="%{text}") + NO_EXTRA
    else:
        text = [fmt.numbers(row, locale) for row in cells]
        shown = cells
        colours, bar_title = "Blues", _("threads", locale)
        hover = _("{weekday} {hour}:00 · {n} threads started", locale).format(
            weekday="%{y}", hour="%{x}", n="%{text}") + NO_EXTRA
    heatmap = {"type": "heatmap", "z": shown, "x": list(range(24)), "y": weekdays(locale), "text": text,
               "colorscale": colorscale(colours), "hovertemplate": hover,
               "colorbar": {"title": {"text": bar_title}, "thickness": 12}, "xgap": 1, "ygap": 1,
               "hoverongaps": False}
    return _figure([heatmap], _layout(locale, height=280, legend=False, yaxis={"autorange": "reversed"},
                                      xaxis={"title": {"text": _("hour of day (local)", locale)}, "dtick": 2}))


BREACH_HEIGHT = 480  # room for the top agents, "others" and "no agent": 17 rows of readable cells


def breaches_by_agent(counts: BreachCounts, locale: Locale) -> Figure:
    """Breached threads per agent (top agents, the rest summed) x local hour the thread started."""
    from carepulse.metrics.breaches import NO_AGENT, OTHERS

    words = {OTHERS: _("others ({n} agents)", locale).format(n=fmt.number(counts.others, locale)),
             NO_AGENT: _("no agent (waiting, unsigned)", locale)}
    rows = [words.get(row) or label(row) for row in counts.rows]
    return _breach_heatmap(counts.by_agent, rows, counts, locale, height=BREACH_HEIGHT)


def breaches_by_weekday(counts: BreachCounts, locale: Locale) -> Figure:
    """Breached threads per local weekday x hour the thread started."""
    return _breach_heatmap(counts.by_weekday, weekdays(locale), counts, locale, height=280)


def _breach_heatmap(cells: Sequence[Sequence[int]], rows: list[str], counts: BreachCounts, locale: Locale, *,
                    height: int) -> Figure:
    """Counts in the cells (blank for none) over a colour-blind-safe scale; hover repeats the count in words."""
    if counts.total == 0:
        return empty_figure(_("No SLA breach in this selection", locale), height)
    grid = [list(map(int, row)) for row in cells]
    top = max(max(row) for row in grid)
    heatmap = {
        "type": "heatmap", "z": grid, "x": list(range(24)), "y": rows, "colorscale": BREACH_SCALE, "zmin": 0,
        "zmax": max(top, 1), "text": [[fmt.number(v, locale) if v else "" for v in row] for row in grid],
        "texttemplate": "%{text}", "textfont": {"size": 10}, "customdata": [fmt.numbers(row, locale) for row in grid],
        "hovertemplate": _("{row} · {hour}:00-{hour}:59: {n} breached", locale).format(
            row="%{y}", hour="%{x}", n="%{customdata}") + NO_EXTRA,
        "colorbar": {"title": {"text": _("breaches", locale)}, "thickness": 12}, "xgap": 1, "ygap": 1}
    return _figure([heatmap], _layout(
        locale, height=height, legend=False,
        yaxis={"autorange": "reversed", "type": "category", "automargin": True, "dtick": 1},
        xaxis={"title": {"text": _("hour the thread started ({timezone})", locale).format(
            timezone=label(counts.timezone))}, "dtick": 1}))


# ---- Explore -------------------------------------------------------------------------------------

def metric_chart(frame: pd.DataFrame, by: str | None, metric: str, metric_label: str, unit: str,
                 locale: Locale, *, additive: bool = False) -> Figure:
    """One metric per group: a line over time breakdowns, bars in time order for hours and weekdays, and
    otherwise horizontal bars largest first (:func:`ranked_bars`). ``additive`` (counts, sums): the groups past the
    top add up to an "others" bar. 95% intervals when present."""
    if frame.empty or metric not in frame or frame[metric].isna().all():
        return empty_figure(_("{metric}: no value in this selection (see the notes below the table)", locale).format(
            metric=metric_label))
    rows = frame
    key = by or "selection"
    if by is None:
        rows = frame.assign(selection=_("whole selection", locale))
    rows = rows[rows[key] != "(total)"] if by else rows
    values = _as_float(rows[metric])
    low = _as_float(rows[f"{metric}_ci_low"]) if f"{metric}_ci_low" in rows else None
    high = _as_float(rows[f"{metric}_ci_high"]) if f"{metric}_ci_high" in rows else None
    scale, axis = 1.0, metric_label
    tickformat = None
    if unit == "seconds":
        scale, axis_unit = _duration_scale(values)
        axis = f"{metric_label} ({_(axis_unit, locale)})"
    elif unit == "share":
        tickformat = ".0%"
    elif unit == "EUR":
        axis = f"{metric_label} (EUR)"
    value_axis = {"title": {"text": axis}, "rangemode": "tozero", **({"tickformat": tickformat} if tickformat else {})}
    if by in TIME_BREAKDOWNS:
        trace: dict[str, Any] = {"name": metric_label, "customdata": [fmt.value(v, unit, locale) for v in values]}
        trace.update(type="scatter", x=_dates(list(rows[key])), y=_scaled(values, scale), mode="lines+markers",
                     line={"color": BLUE}, hovertemplate="%{x}: %{customdata}<extra></extra>")
        x_format = "%m.%Y" if by == "month" and locale == "de" else "%b %Y" if by == "month" else \
            fmt.plotly_day_format(locale)
        trace.update(_error(values, low, high, scale, "y"))
        return _figure([trace], _layout(locale, legend=False, xaxis={"tickformat": x_format}, yaxis=value_axis))
    keys = [str(k) for k in rows[key]]
    if by in ("hour", "weekday"):  # an order of their own: time of day, day of week
        order, others, rest = list(range(len(keys))), None, 0
    else:
        order, others, rest = ranked_bars(keys, values, additive=additive)
    names = [label(keys[i]) for i in order]
    shown = [values[i] for i in order]
    lows = [low[i] for i in order] if low is not None else None
    highs = [high[i] for i in order] if high is not None else None
    colours = [BLUE] * len(order)
    texts = [fmt.value(v, unit, locale) for v in shown]
    if rest:
        names.append(_("others ({n} groups)", locale).format(n=fmt.number(rest, locale)))
        shown.append(others)
        lows, highs = (None if lows is None else [*lows, None]), (None if highs is None else [*highs, None])
        colours.append(GREY)
        texts.append(fmt.value(others, unit, locale) if others is not None else
                     _("not one number: see the table", locale))
    ticks = {"type": "category", "tickmode": "array", "tickvals": names, "automargin": True,
             "ticktext": [_short(n) for n in names]}  # every label written, long ones shortened (hover has all)
    bar: dict[str, Any] = {"type": "bar", "name": metric_label, "customdata": texts, "marker": {"color": colours}}
    if by not in ("hour", "weekday"):  # names read across, however many and long
        bar.update(y=names, x=_scaled(shown, scale), orientation="h",
                   hovertemplate="%{y}: %{customdata}<extra></extra>")
        bar.update(_error(shown, lows, highs, scale, "x"))
        layout = _layout(locale, height=max(180, min(900, 26 * len(names) + 90)), legend=False, bargap=0.25,
                         yaxis={**ticks, "autorange": "reversed"}, xaxis=value_axis)
    else:
        bar.update(x=names, y=_scaled(shown, scale), hovertemplate="%{x}: %{customdata}<extra></extra>")
        bar.update(_error(shown, lows, highs, scale, "y"))
        layout = _layout(locale, legend=False, xaxis=ticks, yaxis=value_axis)
    return _figure([bar], layout)


def ranked_bars(keys: Sequence[str], values: Sequence[float | None], *, additive: bool,
                top: int = TOP_BARS) -> tuple[list[int], float | None, int]:
    """Which groups get a bar: indices largest value first (no value last, ties by name), then what the
    rest sums to (``None`` unless ``additive``: a median or a share of the rest is not a sum) and how many
    groups that is. One group past ``top`` is drawn itself rather than as "others (1)"."""
    order = sorted(range(len(keys)), key=lambda i: (values[i] is None, -(values[i] or 0.0), keys[i]))
    if len(order) <= top + 1:
        return order, None, 0
    rest = order[top:]
    others = float(sum(v for i in rest if (v := values[i]) is not None)) if additive else None
    return order[:top], others, len(rest)


def _short(text: str, chars: int = LABEL_CHARS) -> str:
    return text if len(text) <= chars else text[:chars - 1] + "…"


def _error(values: Sequence[float | None], low: Sequence[float | None] | None, high: Sequence[float | None] | None,
           scale: float, axis: str) -> dict[str, Any]:
    """Error bars of the 95% interval (``error_x`` or ``error_y``); none without an interval."""
    if low is None or high is None:
        return {}
    plus = [None if v is None or hi is None or math.isinf(hi) else (hi - v) / scale
            for v, hi in zip(values, high, strict=True)]
    minus = [None if v is None or lo is None else (v - lo) / scale for v, lo in zip(values, low, strict=True)]
    return {f"error_{axis}": {"type": "data", "array": plus, "arrayminus": minus, "visible": True,
                              "color": "#495057"}}


# ---- Data ----------------------------------------------------------------------------------------

def link_coverage(frame: pd.DataFrame, locale: Locale) -> Figure:
    """CRM cases per channel by how they link to a Twitter thread (stacked horizontal bars)."""
    if frame.empty:
        return empty_figure(_("No CRM data loaded: run {command}", locale).format(
            command="carepulse ingest crm FILE --mapping MAPPING.toml"))
    channels = [label(c) for c in frame["channel"]]
    methods = (("conversation", _("by conversation id", locale), GREEN),
               ("handle_window", _("by handle and time window", locale), BLUE),
               ("none", _("not linked", locale), GREY))
    hover = _("{channel}: {n} cases {method}", locale)
    traces = [{"type": "bar", "y": channels, "x": _numbers(frame[column]), "name": name, "orientation": "h",
               "marker": {"color": colour},
               "hovertemplate": hover.format(channel="%{y}", n="%{x:,.0f}", method=name) + NO_EXTRA}
              for column, name, colour in methods]
    return _figure(traces, _layout(locale, height=240, barmode="stack",
                                   xaxis={"title": {"text": _("CRM cases", locale)}}))
