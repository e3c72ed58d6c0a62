"""Pure figure builders for the Pilot page's economics: the payback chart, the hotline's evidence and the
staffing heatmap.

They take the model's own objects (:class:`metrics.economics.Pilot`, :class:`metrics.itsa.ItsResult`,
:class:`metrics.staffing.Scenario`) rather than frames, because those objects already hold every
series the charts draw (months with net and cumulative balance, weeks with fitted and counterfactual
values, the 7 x 24 agent grid): the dashboard draws them and computes nothing of its own, so a chart
can never disagree with the sentence beside it. Kept apart from :mod:`carepulse.dashboard.figures` so that
module does not grow; the house layout, template and colours are shared from there. Figures are
plain dicts in plotly's JSON schema, as in :mod:`carepulse.dashboard.figures`; hover texts are formatted here
through :mod:`carepulse.dashboard.formatting`, so they follow the locale like every other number, and their
words go through :func:`carepulse.dashboard.i18n._` in that locale.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.figures import (
    BLUE,
    GREEN,
    GREY,
    NO_EXTRA,
    ORANGE,
    RED,
    Figure,
    _figure,
    _layout,
    colorscale,
    empty_figure,
    label,
    weekdays,
)
from carepulse.dashboard.formatting import Locale
from carepulse.dashboard.i18n import _
from carepulse.metrics.economics import Pilot, Projection
from carepulse.metrics.itsa import ItsResult
from carepulse.metrics.staffing import Scenario

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LIGHT_GREEN, LIGHT_RED = "rgba(0,158,115,0.45)", "rgba(213,94,0,0.45)"  # partial months: lighter and hatched


def month_label(month: str | None, locale: Locale) -> str:
    """A ``YYYY-MM`` month as a reader writes it: ``05.2026`` (de) or ``May 2026`` (en).

    The same spelling as the month ticks of the charts (``%m.%Y`` / ``%b %Y``), so a sentence and the
    axis it refers to name a month alike.
    """
    if not month:
        return fmt.MISSING
    year, mon = month.split("-")[:2]
    return f"{mon}.{year}" if locale == "de" else f"{_EN_MONTHS[int(mon) - 1]} {year}"


def _month_start(month: str) -> date:
    return date.fromisoformat(month + "-01")


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _month_axis(locale: Locale) -> dict[str, Any]:
    return {"type": "date", "tickformat": "%m.%Y" if locale == "de" else "%b %Y", "ticklabelmode": "period"}


def payback_chart(pilot: Pilot, projection: Projection | None, setup_eur: float, locale: Locale) -> Figure:
    """Each pilot month's net benefit (bars) and the running balance from minus the set-up cost (line).

    The balance is plotted at month ends: it starts at ``-setup_eur`` on the first pilot month's first
    day and after each month is that month's ``cumulative_eur`` (computed in :mod:`carepulse.metrics.economics`).
    Partial months (the pilot's first and the current one, usually) are lighter and hatched, with a
    hover note, because a half month's net benefit looks like a bad month otherwise. The payback
    month is shaded when reached; else the projected payback month with its 95 % range, when the
    projection has one.
    """
    if not pilot.months:
        return empty_figure(pilot.reason or _("No pilot month in this selection", locale))
    months = pilot.months
    starts = [_month_start(m.month) for m in months]
    partial_note = " " + _("(partial month: only the days with data count)", locale)
    bars = {
        "type": "bar", "name": _("net benefit of the month", locale), "x": [d.isoformat() for d in starts],
        "y": [m.net_eur for m in months], "xperiod": "M1", "xperiodalignment": "middle",
        "marker": {"color": [(LIGHT_GREEN if m.partial else GREEN) if m.net_eur >= 0 else
                             (LIGHT_RED if m.partial else RED) for m in months],
                   "pattern": {"shape": ["/" if m.partial else "" for m in months], "solidity": 0.25}},
        "customdata": [[month_label(m.month, locale), fmt.money(m.net_eur, locale),
                        partial_note if m.partial else ""] for m in months],
        "hovertemplate": _("{month}: net benefit {amount}", locale).format(
            month="%{customdata[0]}", amount="%{customdata[1]}") + "%{customdata[2]}" + NO_EXTRA,
    }
    ends = [_next_month(d) for d in starts]
    balance = [-setup_eur] + [m.cumulative_eur for m in months]
    end_of = _("end of {month}", locale)
    where = [_("start: the set-up cost", locale)] + [end_of.format(month=month_label(m.month, locale)) for m in months]
    line = {
        "type": "scatter", "mode": "lines+markers", "name": _("running balance, set-up cost included", locale),
        "x": [starts[0].isoformat()] + [d.isoformat() for d in ends], "y": balance,
        "line": {"color": BLUE, "width": 2}, "marker": {"size": 6},
        "customdata": [[w, fmt.money(b, locale)] for w, b in zip(where, balance, strict=True)],
        "hovertemplate": _("{when}: balance {amount}", locale).format(
            when="%{customdata[0]}", amount="%{customdata[1]}") + NO_EXTRA,
    }
    shapes: list[dict[str, Any]] = [{"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": 0,
                                     "y1": 0, "line": {"color": "#495057", "width": 1}}]
    annotations: list[dict[str, Any]] = []

    right = ends[-1]

    def band(first: str, last: str, colour: str, lines: list[str], anchor: str) -> None:
        """A shaded span of months with its words in short lines (the axis is not stretched to fit them)."""
        nonlocal right
        x0, x1 = _month_start(first), _next_month(_month_start(last))
        right = max(right, x1)
        shapes.append({"type": "rect", "xref": "x", "x0": x0.isoformat(), "x1": x1.isoformat(), "yref": "y domain",
                       "y0": 0, "y1": 1, "fillcolor": colour, "line": {"width": 0}, "layer": "below"})
        annotations.append({"text": "<br>".join(label(t) for t in lines), "xref": "x",
                            "x": (x0 if anchor == "left" else x1).isoformat(), "xanchor": anchor, "align": anchor,
                            "yref": "y domain", "y": 1, "yanchor": "top", "showarrow": False,
                            "font": {"size": 11, "color": "#495057"}, "bgcolor": "rgba(255,255,255,0.7)"})

    if pilot.payback_month:
        band(pilot.payback_month, pilot.payback_month, "rgba(0,158,115,0.15)",
             [_("paid back", locale), _("in {month}", locale).format(month=month_label(pilot.payback_month, locale))],
             "left")
    elif projection is not None and projection.month:
        low, high = projection.low or projection.month, projection.high
        until = month_label(high, locale) if high else _("beyond the horizon", locale)
        band(low, high or projection.month, "rgba(13,110,253,0.12)",
             [_("projected payback {month}", locale).format(month=month_label(projection.month, locale)),
              _("{share} range {low} to {high}", locale).format(
                  share=fmt.percent(0.95, locale), low=month_label(low, locale), high=until)], "right")
        mid = _month_start(projection.month) + timedelta(days=14)
        shapes.append({"type": "line", "xref": "x", "x0": mid.isoformat(), "x1": mid.isoformat(), "yref": "y domain",
                       "y0": 0, "y1": 1, "line": {"color": BLUE, "dash": "dash", "width": 1}})
    # An explicit range: plotly would otherwise widen the axis to make room for the annotation's text.
    xaxis = {**_month_axis(locale), "range": [(starts[0] - timedelta(days=10)).isoformat(),
                                              (right + timedelta(days=10)).isoformat()]}
    layout = _layout(locale, height=320, shapes=shapes, annotations=annotations, bargap=0.15,
                     xaxis=xaxis, yaxis={"title": {"text": "EUR"}, "tickformat": ",.0f"})
    return _figure([bars, line], layout)


def hotline_chart(its: ItsResult | None, reason: str, locale: Locale) -> Figure:
    """Weekly hotline cases, the fitted segmented trend, and after the launch the pre-launch trend
    carried on (the counterfactual the ITS estimate compares with); the launch is marked.

    The fitted line breaks at the launch (the model lets the level jump there), and the
    counterfactual is drawn only after it: before the launch it equals the fit and would only
    hide it. Without an estimate (``its.value`` None) the chart is an empty state with ``reason``.
    """
    if its is None or its.value is None or not its.weeks:
        return empty_figure(reason or _("No hotline series to compare with", locale))
    week = f"%{{x|{fmt.plotly_week_hover(locale)}}}"
    weeks = [w.isoformat() for w in its.weeks]
    observed = {
        "type": "scatter", "mode": "lines+markers", "name": _("hotline cases per week", locale), "x": weeks,
        "y": list(its.observed), "line": {"color": GREY, "width": 1}, "marker": {"color": "#6c757d", "size": 5},
        "customdata": fmt.numbers(its.observed, locale),
        "hovertemplate": _("week of {week}: {n} hotline cases", locale).format(week=week, n="%{customdata}")
        + NO_EXTRA}
    pre = [i for i, w in enumerate(its.weeks) if w < its.launch]
    post = [i for i, w in enumerate(its.weeks) if w >= its.launch]
    gap_x = [its.launch.isoformat()] if pre and post else []
    fitted_x = [weeks[i] for i in pre] + gap_x + [weeks[i] for i in post]
    fitted_y: list[float | None] = [its.fitted[i] for i in pre] + [None] * len(gap_x) + [its.fitted[i] for i in post]
    fitted = {
        "type": "scatter", "mode": "lines", "name": _("fitted trend", locale), "x": fitted_x, "y": fitted_y,
        "line": {"color": ORANGE, "width": 2}, "connectgaps": False,
        "customdata": fmt.numbers(fitted_y, locale, 1),
        "hovertemplate": _("week of {week}: fitted {n}", locale).format(week=week, n="%{customdata}") + NO_EXTRA}
    counter_y = [its.counterfactual[i] for i in post]
    counterfactual = {
        "type": "scatter", "mode": "lines", "name": _("without the launch (pre-launch trend carried on)", locale),
        "x": [weeks[i] for i in post], "y": counter_y, "line": {"color": ORANGE, "width": 2, "dash": "dash"},
        "customdata": fmt.numbers(counter_y, locale, 1),
        "hovertemplate": _("week of {week}: pre-launch trend {n}", locale).format(week=week, n="%{customdata}")
        + NO_EXTRA}
    launch = its.launch.isoformat()
    shapes = [{"type": "line", "xref": "x", "x0": launch, "x1": launch, "yref": "y domain", "y0": 0, "y1": 1,
               "line": {"color": BLUE, "dash": "dot"}}]
    annotations = [{"text": _("Twitter launch {day}", locale).format(day=fmt.day(its.launch, locale)), "xref": "x",
                    "x": launch,
                    "xanchor": "left", "yref": "y domain", "y": 1, "yanchor": "top", "showarrow": False,
                    "font": {"size": 11, "color": BLUE}}]
    layout = _layout(locale, height=320, shapes=shapes, annotations=annotations, hovermode="closest",
                     xaxis={"tickformat": fmt.plotly_day_format(locale)},
                     yaxis={"title": {"text": _("hotline cases per week", locale)}, "rangemode": "tozero",
                            "tickformat": ",.0f"})
    return _figure([observed, fitted, counterfactual], layout)


def staffing_heatmap(scenario: Scenario | None, reason: str, locale: Locale) -> Figure:
    """Agents needed on the desk per local weekday and hour (Erlang C), the scenario's 7 x 24 grid as it is."""
    if scenario is None:
        return empty_figure(reason or _("No staffing plan for this selection", locale))
    z = [list(row) for row in scenario.agents]
    heatmap = {"type": "heatmap", "z": z, "x": list(range(24)), "y": weekdays(locale),
               "text": [fmt.numbers(row, locale) for row in z], "colorscale": colorscale("Blues"),
               "hovertemplate": _("{weekday} {hour}:00 · {n} agents on the desk", locale).format(
                   weekday="%{y}", hour="%{x}", n="%{text}") + NO_EXTRA,
               "colorbar": {"title": {"text": _("agents", locale)}, "thickness": 12}, "xgap": 1, "ygap": 1,
               "zmin": 0}
    return _figure([heatmap], _layout(locale, height=260, legend=False, yaxis={"autorange": "reversed"},
                                      xaxis={"title": {"text": _("hour of day (local)", locale)}, "dtick": 2}))
