"""The Pilot cards' comparison with another period: which period, and the line each card shows.

The numbers and the noise test are :mod:`carepulse.metrics.deltas`' (the management report uses the
same); this module picks the comparison period from the page's filters and writes the line. A change
is coloured only when it is beyond noise, and the words say better/worse and within/beyond noise, so
colour is never the only cue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.i18n import _
from carepulse.metrics import data_views, deltas, periods
from carepulse.metrics.context import Filters
from carepulse.metrics.registry import resolve

# Which metric's change each card shows (the card's main number).
CARD_METRICS: dict[str, str] = {
    "kpi-response": "response_rate",
    "kpi-speed": "first_response_median_s",
    "kpi-csat": "csat_diff_twitter_hotline",
    "kpi-resolution": "resolution_rate",
    "kpi-benefit": "pilot_net_benefit_eur",
    "kpi-cost": "cost_per_case",
}



@dataclass(frozen=True)
class Comparison:
    """The selection as a closed period, what it is compared with, and the filters of both."""

    current: periods.Period
    previous: periods.Period
    current_filters: Filters
    previous_filters: Filters
    has_data: bool


def comparison(filters: Filters, opts: data_views.FilterOptions | None, mode: str) -> Comparison | None:
    """None when there is nothing to compare (no data, or ``mode`` is ``none``)."""
    if opts is None or mode == "none":
        return None
    current = periods.selected_period(filters.date_from, filters.date_to, opts.main_first_day or opts.first_day,
                                      opts.last_day)
    if current is None:
        return None
    previous = periods.comparison_period(current, mode)
    if previous is None:
        return None
    has_data = opts.first_day is not None and previous.end >= opts.first_day
    return Comparison(current, previous, replace(filters, date_from=current.start, date_to=current.end),
                      replace(filters, date_from=previous.start, date_to=previous.end), has_data)


def period_text(period: periods.Period, locale: fmt.Locale) -> str:
    return f"{fmt.day(period.start, locale)} – {fmt.day(period.end, locale)}"


def delta_line(delta: deltas.Delta | None, unit: str, previous: periods.Period, locale: fmt.Locale,
               why_not: str | None = None) -> html.Div:
    """``▲ +3.1 pp vs 9 Sep – 6 Oct · better · beyond noise``; the test's name in the tooltip."""
    if delta is None or delta.change is None:
        why = why_not or _("no data in {period}", locale).format(period=period_text(previous, locale))
        text = _("no comparison: {why}", locale).format(why=why)
        return html.Div(text, className="small text-muted cp-delta")
    arrow = "▲" if delta.change > 0 else "▼" if delta.change < 0 else "="
    versus = _("vs", locale)
    parts = [f"{arrow} {deltas.change_text(delta, unit, locale)} {versus} {period_text(previous, locale)}"]
    if delta.better is not None:
        parts.append(_("better", locale) if delta.better else _("worse", locale))
    parts.append(_("no test", locale) if delta.beyond_noise is None else
                 _("beyond noise", locale) if delta.beyond_noise else _("within noise", locale))
    tone = ("text-success" if delta.better else "text-danger") if delta.beyond_noise and delta.better is not None \
        else "text-muted"
    title = (_("{method}, Holm-adjusted over the cards: p = {p}", locale).format(method=_(delta.method, locale),
                                                                         p=fmt.number(delta.p, locale, 3))
             if delta.p is not None and delta.method else None)
    return html.Div(" · ".join(parts), className=f"small cp-delta {tone}", title=title)


def with_delta(card: dbc.Card, line: html.Div) -> dbc.Card:
    """The card with the comparison line appended to its body."""
    body = card.children
    body.children = [*body.children, line]
    return card


def add_deltas(row: dbc.Row, found: dict[str, deltas.Delta], cmp: Comparison | None, locale: fmt.Locale,
               why_not: str | None = None) -> dbc.Row:
    """Append each card's line to the cards of ``row`` (found by their ids, ``CARD_METRICS``)."""
    units = {m.name: m.unit for m in resolve(list(CARD_METRICS.values()))}
    for col in row.children:
        card: Any = col.children
        metric = CARD_METRICS.get(getattr(card, "id", None) or "")
        if metric is None:
            continue
        if cmp is None:
            if why_not:
                line = _("no comparison: {why}", locale).format(why=why_not)
                with_delta(card, html.Div(line, className="small text-muted"))
            continue
        with_delta(card, delta_line(found.get(metric) if cmp.has_data else None, units[metric], cmp.previous,
                                    locale))
    return row
