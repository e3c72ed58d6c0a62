"""Pure figure builders: a tidy DataFrame (from metrics) and a locale in, a plotly Figure out.

No data access, no Dash: each builder can be called and checked in a test. Every builder copes with
an empty frame by returning :func:`empty_figure` with a sentence saying why it is empty. Labels
that come from data (teams, categories, accounts) are entity-escaped, because plotly reads a
few HTML tags (``<a href>``, ``<b>``) in text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import formatting as fmt
from dashboard.formatting import Locale

BLUE, GREEN, RED, GREY, ORANGE, PURPLE = "#0d6efd", "#198754", "#dc3545", "#adb5bd", "#fd7e14", "#6f42c1"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TIME_BREAKDOWNS = ("day", "week", "month")
DURATION_TICKS = ((60, "1 min"), (300, "5 min"), (900, "15 min"), (3600, "1 h"), (4 * 3600, "4 h"),
                  (86400, "1 day"), (3 * 86400, "3 days"), (7 * 86400, "1 week"), (30 * 86400, "30 days"))
MAX_CURVE_POINTS = 1500


def label(text: Any) -> str:
    """Data text made inert for plotly's HTML-ish text rendering."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _base(fig: go.Figure, locale: Locale, *, height: int = 300, legend: bool = True) -> go.Figure:
    fig.update_layout(
        template="plotly_white", height=height, separators=fmt.plotly_separators(locale),
        margin={"l": 50, "r": 20, "t": 30, "b": 40}, font={"size": 12},
        showlegend=legend, legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
    )
    return fig


def empty_figure(message: str, height: int = 300) -> go.Figure:
    """A blank chart that says why it is blank (and, where it helps, what to do)."""
    fig = go.Figure()
    fig.update_layout(template="plotly_white", height=height, margin={"l": 20, "r": 20, "t": 20, "b": 20},
                      xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[{"text": label(message), "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                                    "showarrow": False, "font": {"size": 13, "color": "#6c757d"}}])
    return fig


def _duration_scale(seconds: Sequence[float]) -> tuple[float, str]:
    """Divide seconds by this to plot in a unit a reader knows: minutes below 3 hours, else hours."""
    finite = [s for s in seconds if s is not None and not (isinstance(s, float) and math.isnan(s))]
    top = max(finite) if finite else 0
    return (60.0, "minutes") if top < 3 * 3600 else (3600.0, "hours")


def _as_float(values: Any) -> list[float | None]:
    return [None if v is None or pd.isna(v) else float(v) for v in values]


# ---- Pilot ---------------------------------------------------------------------------------------

def weekly_volume(frame: pd.DataFrame, locale: Locale, verdict: str | None = None) -> go.Figure:
    """Threads per complete week, and the forecast with its 95% prediction band."""
    if frame.empty:
        return empty_figure(verdict or "No complete week of threads in this selection")
    actual = frame[frame["kind"] == "actual"]
    forecast = frame[frame["kind"] == "forecast"]
    fig = go.Figure()
    day = fmt.plotly_week_hover(locale)
    fig.add_trace(go.Scatter(x=actual["week"], y=actual["threads"], name="threads per week", mode="lines+markers",
                             line={"color": BLUE}, hovertemplate=f"week of %{{x|{day}}}: %{{y:,.0f}} threads"
                                                                 "<extra></extra>"))
    if not forecast.empty:
        joined = pd.concat([actual.tail(1), forecast])
        band_x = list(forecast["week"]) + list(forecast["week"])[::-1]
        band_y = list(forecast["pi_high"]) + list(forecast["pi_low"])[::-1]
        fig.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", fillcolor="rgba(13,110,253,0.15)", mode="lines",
                                 line={"width": 0}, name="95% prediction band", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=joined["week"], y=joined["threads"], name="forecast", mode="lines+markers",
                                 line={"color": BLUE, "dash": "dash"},
                                 hovertemplate=f"week of %{{x|{day}}}: about %{{y:,.0f}} threads<extra></extra>"))
    fig.update_xaxes(tickformat=fmt.plotly_day_format(locale))
    fig.update_yaxes(title_text="threads", rangemode="tozero")
    return _base(fig, locale)


def speed_over_time(frame: pd.DataFrame, locale: Locale, sla_minutes: float) -> go.Figure:
    """Weekly first-response median (left axis) and the share answered within the SLA (right axis)."""
    if frame.empty or frame["first_response_median_s"].isna().all():
        return empty_figure("No answered threads in this selection")
    weeks = pd.to_datetime(frame["week"])
    medians = _as_float(frame["first_response_median_s"])
    scale, unit = _duration_scale([m for m in medians if m is not None])
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=weeks, y=[None if m is None else m / scale for m in medians], name=f"first response, median ({unit})",
        mode="lines+markers", line={"color": BLUE},
        customdata=[fmt.duration(m, locale) for m in medians],
        hovertemplate="median %{customdata}<extra></extra>"))
    if "first_response_km_median_s" in frame:
        km = _as_float(frame["first_response_km_median_s"])
        fig.add_trace(go.Scatter(
            x=weeks, y=[None if m is None else m / scale for m in km], name="Kaplan-Meier median",
            mode="lines", line={"color": PURPLE, "dash": "dot"},
            customdata=[fmt.duration(m, locale) for m in km],
            hovertemplate="Kaplan-Meier median %{customdata}<extra></extra>"))
    if "sla_met_share" in frame:
        shares = _as_float(frame["sla_met_share"])
        fig.add_trace(go.Scatter(
            x=weeks, y=shares, name=f"answered within {fmt.number(sla_minutes, locale)} min (share)",
            mode="lines+markers", line={"color": GREEN}, yaxis="y2",
            customdata=[fmt.percent(s, locale, 1) for s in shares],
            hovertemplate="SLA met %{customdata}<extra></extra>"))
    fig.update_layout(
        hovermode="x unified",
        yaxis={"title": {"text": unit}, "rangemode": "tozero"},
        yaxis2={"title": {"text": "SLA met"}, "overlaying": "y", "side": "right", "range": [0, 1.02],
                "tickformat": ".0%", "dtick": 0.25, "showgrid": False},
        xaxis={"tickformat": fmt.plotly_day_format(locale), "hoverformat": fmt.plotly_week_hover(locale)},
    )
    fig = _base(fig, locale)
    fig.update_layout(margin={"r": 55})
    return fig


def cost_per_case(frame: pd.DataFrame, locale: Locale, hotline: str) -> go.Figure:
    """Cost per case by channel, Twitter and the hotline channel highlighted, value labels on the bars."""
    if frame.empty or "cost_per_case" not in frame or frame["cost_per_case"].isna().all():
        return empty_figure("No cost per case: it needs CRM cases with a channel (carepulse ingest crm ...)")
    rows = frame[frame["channel"] != "(total)"].dropna(subset=["cost_per_case"]).sort_values("cost_per_case")
    colours = [BLUE if c == "twitter" else ORANGE if c == hotline else GREY for c in rows["channel"]]
    fig = go.Figure(go.Bar(
        y=[label(c) for c in rows["channel"]], x=rows["cost_per_case"], orientation="h", marker_color=colours,
        text=[fmt.money(v, locale, 2) for v in rows["cost_per_case"]], textposition="auto",
        hovertemplate="%{y}: %{text} per case<extra></extra>"))
    fig.update_xaxes(title_text="EUR per case", rangemode="tozero")
    return _base(fig, locale, height=220, legend=False)


# ---- Team ----------------------------------------------------------------------------------------

def first_response_histogram(frame: pd.DataFrame, locale: Locale, sla_seconds: float) -> go.Figure:
    """Threads per first-response bin; bins past the SLA in red, still-unanswered threads in grey."""
    if frame.empty or frame["threads"].sum() == 0:
        return empty_figure("No threads in this selection")
    colours = []
    for bin_name, upper in zip(frame["bin"], _as_float(frame["upper_s"]), strict=True):
        if bin_name == "unanswered":
            colours.append(GREY)
        elif upper is not None and upper <= sla_seconds:
            colours.append(GREEN)
        else:
            colours.append(RED)
    shares = [fmt.percent(s, locale, 1) for s in frame["share"]]
    fig = go.Figure(go.Bar(x=list(frame["bin"]), y=frame["threads"], marker_color=colours, customdata=shares,
                           hovertemplate="%{x}: %{y:,.0f} threads (%{customdata})<extra></extra>"))
    fig.update_yaxes(title_text="threads")
    fig.update_xaxes(title_text="first response within", type="category")
    return _base(fig, locale, legend=False)


def _thin_curve(frame: pd.DataFrame, points: int = MAX_CURVE_POINTS) -> pd.DataFrame:
    """A step curve with at most ``points`` steps: the value at log-spaced times (the curve stays exact there)."""
    if len(frame) <= points:
        return frame
    times = frame["time_s"].to_numpy(dtype=float)
    low, high = max(times[0], 1.0), times[-1]
    grid = np.unique(np.concatenate([np.geomspace(low, high, points), times[-1:]]))
    index = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(times) - 1)
    return frame.iloc[np.unique(index)]


def km_curve(frame: pd.DataFrame, locale: Locale, sla_seconds: float) -> go.Figure:
    """'Share answered within t' (Kaplan-Meier, waiting threads censored) with its 95% band, log time axis."""
    if frame.empty:
        return empty_figure("No thread answered in this selection, so no curve")
    curve = _thin_curve(frame)
    x = curve["time_s"].clip(lower=1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(x) + list(x)[::-1], y=list(curve["ci_high"]) + list(curve["ci_low"])[::-1],
                             fill="toself", fillcolor="rgba(13,110,253,0.15)", mode="lines",
                             line={"width": 0, "shape": "hv"},
                             name="95% band", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=curve["share_answered"], mode="lines", line={"color": BLUE, "shape": "hv"},
                             name="share answered",
                             customdata=[[fmt.duration(t, locale), fmt.percent(s, locale, 1)]
                                         for t, s in zip(curve["time_s"], curve["share_answered"], strict=True)],
                             hovertemplate="within %{customdata[0]}: %{customdata[1]} answered<extra></extra>"))
    fig.add_vline(x=max(sla_seconds, 1), line={"color": RED, "dash": "dot"},
                  annotation_text=f"SLA {fmt.duration(sla_seconds, locale)}", annotation_position="top left")
    median = frame.attrs.get("median_s")
    if median:
        fig.add_hline(y=0.5, line={"color": GREY, "dash": "dot"},
                      annotation_text=f"median {fmt.duration(median, locale)}", annotation_position="bottom right")
    top = float(frame["time_s"].max())
    ticks = [(t, text) for t, text in DURATION_TICKS if t <= top * 1.5] or list(DURATION_TICKS[:3])
    fig.update_xaxes(type="log", tickvals=[t for t, _ in ticks], ticktext=[t for _, t in ticks],
                     title_text="time since the customer's first tweet")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title_text="answered")
    return _base(fig, locale)


def sla_by_day(frame: pd.DataFrame, locale: Locale) -> go.Figure:
    """Threads per day that met the SLA, breached it, or are still undecided (stacked)."""
    if frame.empty:
        return empty_figure("No threads in this selection")
    days = pd.to_datetime(frame["day"])
    fig = go.Figure()
    for column, name, colour in (("breached", "breached", RED), ("met", "met", GREEN),
                                 ("undecided", "still within the SLA", GREY)):
        fig.add_trace(go.Bar(x=days, y=frame[column], name=name, marker_color=colour,
                             hovertemplate=f"%{{y:,.0f}} {name}<extra></extra>"))
    fig.update_layout(barmode="stack", hovermode="x unified", bargap=0.1,
                      xaxis={"tickformat": fmt.plotly_day_format(locale), "hoverformat": fmt.plotly_day_format(locale)})
    fig.update_yaxes(title_text="threads")
    return _base(fig, locale)


def weekday_hour_heatmap(frame: pd.DataFrame, locale: Locale, value: str) -> go.Figure:
    """Weekday x hour grid of ``threads`` (arrivals) or ``first_response_median_s`` (shown in minutes)."""
    if frame.empty:
        return empty_figure("No threads in this selection")
    is_speed = value == "first_response_median_s"
    grid = frame.pivot_table(index="weekday_no", columns="hour", values=value, aggfunc="first")
    grid = grid.reindex(index=range(1, 8), columns=range(24))
    if not is_speed:
        grid = grid.fillna(0)
    z = grid.to_numpy(dtype=float)
    if is_speed:
        scale, unit = _duration_scale([v for v in z.flatten() if not math.isnan(v)])
        text = [[fmt.duration(v, locale) if not math.isnan(v) else "no answer" for v in row] for row in z]
        z = z / scale
        colours, bar_title = "YlOrRd", unit
        hover = "%{y} %{x}:00 · median first response %{text}<extra></extra>"
    else:
        text = [[fmt.number(v, locale) for v in row] for row in z]
        colours, bar_title = "Blues", "threads"
        hover = "%{y} %{x}:00 · %{text} threads started<extra></extra>"
    fig = go.Figure(go.Heatmap(z=z, x=list(range(24)), y=list(WEEKDAYS), text=text, colorscale=colours,
                               hovertemplate=hover, colorbar={"title": {"text": bar_title}, "thickness": 12},
                               xgap=1, ygap=1, hoverongaps=False))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="hour of day (local)", dtick=2)
    return _base(fig, locale, height=280, legend=False)


# ---- Explore -------------------------------------------------------------------------------------

def metric_chart(frame: pd.DataFrame, by: str | None, metric: str, metric_label: str, unit: str,
                 locale: Locale) -> go.Figure:
    """One metric per group: a line over time breakdowns, bars otherwise; 95% intervals when present."""
    if frame.empty or metric not in frame or frame[metric].isna().all():
        return empty_figure(f"{metric_label}: no value in this selection (see the notes below the table)")
    rows = frame
    key = by or "selection"
    if by is None:
        rows = frame.assign(selection="whole selection")
    rows = rows[rows[key] != "(total)"] if by else rows
    values = _as_float(rows[metric])
    low = _as_float(rows[f"{metric}_ci_low"]) if f"{metric}_ci_low" in rows else None
    high = _as_float(rows[f"{metric}_ci_high"]) if f"{metric}_ci_high" in rows else None
    scale, axis = 1.0, metric_label
    tickformat = None
    if unit == "seconds":
        scale, axis_unit = _duration_scale([v for v in values if v is not None])
        axis = f"{metric_label} ({axis_unit})"
    elif unit == "share":
        tickformat = ".0%"
    elif unit == "EUR":
        axis = f"{metric_label} (EUR)"
    y = [None if v is None else v / scale for v in values]
    text = [fmt.value(v, unit, locale) for v in values]
    error = None
    if low is not None and high is not None:
        plus = [None if v is None or hi is None or math.isinf(hi) else (hi - v) / scale
                for v, hi in zip(values, high, strict=True)]
        minus = [None if v is None or lo is None else (v - lo) / scale for v, lo in zip(values, low, strict=True)]
        error = {"type": "data", "array": plus, "arrayminus": minus, "visible": True, "color": "#495057"}
    keys = [label(k) for k in rows[key]]
    fig = go.Figure()
    if by in TIME_BREAKDOWNS:
        fig.add_trace(go.Scatter(x=pd.to_datetime(list(rows[key])), y=y, mode="lines+markers", name=metric_label,
                                 line={"color": BLUE}, error_y=error, customdata=text,
                                 hovertemplate="%{x}: %{customdata}<extra></extra>"))
        fig.update_xaxes(tickformat="%m.%Y" if by == "month" and locale == "de" else
                         "%b %Y" if by == "month" else fmt.plotly_day_format(locale))
    elif by in ("hour", "weekday"):
        fig.add_trace(go.Bar(x=keys, y=y, marker_color=BLUE, error_y=error, customdata=text, name=metric_label,
                             hovertemplate="%{x}: %{customdata}<extra></extra>"))
        fig.update_xaxes(type="category")
    else:
        fig.add_trace(go.Bar(y=keys, x=y, orientation="h", marker_color=BLUE, error_x=error, customdata=text,
                             name=metric_label, hovertemplate="%{y}: %{customdata}<extra></extra>"))
        fig.update_yaxes(type="category", autorange="reversed")
        fig.update_xaxes(title_text=axis, tickformat=tickformat, rangemode="tozero")
        height = max(180, min(900, 30 * len(keys) + 90))
        fig.update_layout(bargap=0.25)
        return _base(fig, locale, height=height, legend=False)
    fig.update_yaxes(title_text=axis, tickformat=tickformat, rangemode="tozero")
    return _base(fig, locale, legend=False)


# ---- Data ----------------------------------------------------------------------------------------

def link_coverage(frame: pd.DataFrame, locale: Locale) -> go.Figure:
    """CRM cases per channel by how they link to a Twitter thread (stacked horizontal bars)."""
    if frame.empty:
        return empty_figure("No CRM data loaded: run carepulse ingest crm FILE --mapping MAPPING.toml")
    fig = go.Figure()
    for column, name, colour in (("conversation", "by conversation id", GREEN),
                                 ("handle_window", "by handle and time window", BLUE), ("none", "not linked", GREY)):
        fig.add_trace(go.Bar(y=[label(c) for c in frame["channel"]], x=frame[column], name=name, orientation="h",
                             marker_color=colour, hovertemplate=f"%{{y}}: %{{x:,.0f}} cases {name}<extra></extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="CRM cases")
    return _base(fig, locale, height=240)
