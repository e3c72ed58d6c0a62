"""Pilot: for management. Does Twitter support pay off, are customers more satisfied, are we fast enough?

The economics part answers "does the pilot pay off, since when, how sure, and under which assumptions"
from one :class:`metrics.pilot_view.PilotView` per selection: the cards, the plain-words answer, the
payback chart, the sensitivity table, the hotline's evidence and the staffing what-if all read the
same object, so no two of them can disagree. The page formats and arranges; every figure is the
model's (``metrics/economics.py``, ``metrics/hotline_evidence.py``).

The page holds the layout and the callbacks; the sentences are built in ``dashboard/pilot_words.py``
and the cards and tables in ``dashboard/pilot_cards.py`` (re-exported here).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from carepulse.dashboard import components, figures, ids, period_compare, state
from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.economics_figures import hotline_chart, payback_chart, staffing_heatmap
from carepulse.dashboard.filters import filter_bar, filters_from_store, follow_filters, options, query_store
from carepulse.dashboard.i18n import N_, _
from carepulse.dashboard.pilot_cards import (
    answer_block,
    answered_within,
    economics_cards,
    head_total,
    kpi_cards,
    payback_card,
    sensitivity_table,
    staffing_block,
    today_scenario,
    verdict_list,
    yardstick_rows,
)
from carepulse.dashboard.pilot_words import (
    bare_reason,
    capital,
    economics_sentences,
    filter_note,
    glossary,
    localized,
    no_crm,
    period_words,
    setup_cost,
)
from carepulse.metrics import data_views, deltas, engine, periods, views
from carepulse.metrics.pilot_view import PilotView, pilot_view

__all__ = [
    "answer_block",
    "answered_within",
    "economics_cards",
    "economics_sentences",
    "filter_note",
    "glossary",
    "kpi_cards",
    "layout",
    "localized",
    "no_crm",
    "payback_card",
    "period_words",
    "sensitivity_table",
    "staffing_block",
    "verdict_list",
    "warm_up",
]

dash.register_page(__name__, path="/", name="Pilot", title="carepulse · Pilot", order=0)
follow_filters(ids.PILOT_QUERY)

# The economics have their own cards and sentences (from PilotView), so the headline asks only for
# the service figures: one statement per question on the page.
HEADLINE = ("threads", "answered_threads", "response_rate", "first_response_median_s", "first_response_km_median_s",
            "sla_met_share", "cases", "resolution_rate", "csat_mean", "csat_diff_twitter_hotline",
            "resolution_diff_twitter_hotline", "first_response_trend_s_per_week", "threads_forecast_4w")
HEADLINE_BY_CHANNEL = ("cases", "resolution_rate")
SPEED = ("first_response_median_s", "first_response_km_median_s", "sla_met_share")
COMPARE_LABELS = {"previous": N_("the previous period"), "year": N_("the same period a year before"),
                  "none": N_("nothing")}


def layout(**query: Any) -> html.Div:
    settings = state.settings()
    locale = state.locale()
    setup = fmt.money(settings.cost.pilot_setup_eur, locale)
    return html.Div([
        components.page_header(_("Pilot"), _("Does Twitter support pay off, are customers more satisfied, "
                                           "and are we fast enough?")),
        filter_bar(query),
        query_store(ids.PILOT_QUERY, query, cmp=query.get("cmp") if query.get("cmp") != "previous" else None),
        dbc.Row([dbc.Col(compare_control(query.get("cmp"), locale), md="auto"),
                 dbc.Col(report_links(locale), md="auto", className="d-flex align-items-center")],
                className="g-3 align-items-center"),
        components.loading(html.Div(id=ids.PILOT_ECONOMICS_KPIS, className="mb-2", style={"minHeight": "120px"})),
        components.loading(html.Div(id=ids.PILOT_KPIS, className="mb-2", style={"minHeight": "120px"})),
        html.H5(_("Does the pilot pay off?"), className="mt-3"),
        components.card(_("In plain words: the pilot's economics"),
                        [components.loading(html.Div(id=ids.PILOT_ECONOMICS_ANSWER)), glossary(locale)]),
        dbc.Row([
            dbc.Col(components.card(
                _("Net benefit per month and the running balance"),
                components.loading(components.graph(ids.PILOT_PAYBACK)),
                subtitle=_("bars: each month's net benefit (hatched: a partial month); line: the running balance, "
                           "starting at minus the set-up cost of {setup}, so set-up cost included")
                .format(setup=setup)), lg=8),
            dbc.Col(components.card(_("How sure: other deflection shares"),
                                    components.loading(html.Div(id=ids.PILOT_SENSITIVITY)),
                                    subtitle=_("net benefit over the pilot months, set-up cost not included")), lg=4),
        ]),
        dbc.Row([
            dbc.Col(components.card(
                _("Did the hotline get lighter after the launch?"),
                [components.loading(html.Div(id=ids.PILOT_HOTLINE_NOTE)),
                 components.loading(components.graph(ids.PILOT_HOTLINE))],
                subtitle=_("weekly hotline cases against the pre-launch trend carried on (interrupted time series)")),
                lg=7),
            dbc.Col(components.card(_("Cost per case by channel"), components.loading(html.Div(id=ids.PILOT_COST)),
                                    subtitle=_("Twitter in blue, the hotline in orange; all months of the selection "
                                               "(the cost card above compares the pilot months only)")),
                    lg=5),
        ]),
        components.card(
            _("Staffing what-if: a Twitter desk staffed to the SLA"),
            dbc.Row([
                dbc.Col(components.loading(html.Div(id=ids.PILOT_STAFFING)), lg=6),
                dbc.Col([html.Div(_("Agents needed on the desk at today's volume"), className="small fw-semibold"),
                         components.loading(components.graph(ids.PILOT_STAFFING_HEATMAP, 260))], lg=6),
            ]),
            subtitle=_("Erlang C at today's volume and more")),
        html.H5(_("Are customers satisfied, and are we fast enough?"), className="mt-3"),
        dbc.Row([
            dbc.Col(components.card(_("In plain words: service"),
                                    [components.loading(html.Div(id=ids.PILOT_VERDICTS)), glossary(locale)]), lg=7),
            dbc.Col(components.card(_("Published yardsticks beside our numbers"),
                                    components.loading(html.Div(id=ids.PILOT_YARDSTICKS))), lg=5),
        ]),
        dbc.Row([
            dbc.Col(components.card(_("Threads per week and the next four"), components.loading(
                components.graph(ids.PILOT_VOLUME)), subtitle=_("complete weeks; band: 95% prediction interval")),
                lg=6),
            dbc.Col(components.card(_("Speed per week"), components.loading(components.graph(ids.PILOT_SPEED)),
                                    subtitle=_("first response medians and the share answered within the SLA")), lg=6),
        ]),
    ])


def report_links(locale: fmt.Locale) -> html.Div:
    """Downloads of the management report (``carepulse report``) for the usual periods."""
    label = _("Report (PDF):")
    periods_shown = (("LAST-4-WEEKS", periods.PRESET_LABELS["last-4-weeks"][locale]), ("LAST-1-WEEKS", _("Last week")))
    links = [html.A(text, href=f"/report.pdf?period={code}", className="ms-2", id=f"pilot-report-{code.lower()}",
                    download="") for code, text in periods_shown]
    return html.Div([html.Span(label, className="text-muted"), *links], className="small mb-1")


def compare_mode(value: Any) -> str:
    """The page key ``cmp``: what the cards are compared with (``previous`` unless the URL says otherwise)."""
    return value if value in periods.COMPARE_MODES else "previous"


def compare_control(value: Any, locale: fmt.Locale) -> html.Div:
    label = _("Compare the cards with")
    return html.Div([
        html.Label(label, htmlFor=ids.PILOT_COMPARE, className="small text-muted me-2 mb-0"),
        dcc.Dropdown(id=ids.PILOT_COMPARE, value=compare_mode(value), clearable=False, searchable=False,
                     options=[{"label": _(COMPARE_LABELS[m]), "value": m} for m in periods.COMPARE_MODES],
                     style={"minWidth": "16rem"}, labels=components.dropdown_labels(locale)),
    ], className="d-flex align-items-center mb-2")


def with_compare(data: dict[str, Any] | None, mode: str | None) -> Any:
    """The page's query with ``cmp`` set (the default, ``previous``, is left out of the address)."""
    current = dict(data or {})
    new = {k: v for k, v in current.items() if k != "cmp"}
    if mode and mode != "previous":
        new["cmp"] = mode
    return dash.no_update if new == current else new


dash.callback(Output(ids.PILOT_QUERY, "data", allow_duplicate=True), Input(ids.PILOT_COMPARE, "value"),
              State(ids.PILOT_QUERY, "data"), prevent_initial_call=True)(lambda mode, data: with_compare(data, mode))


def card_deltas(filters: engine.Filters, mode: str) -> tuple[period_compare.Comparison | None,
                                                              dict[str, deltas.Delta]]:
    """Each card's change against the comparison period (the resolution card's on Twitter cases, as the
    card shows them)."""
    cmp = period_compare.comparison(filters, options(), mode)
    if cmp is None or not cmp.has_data:
        return cmp, {}
    names = tuple(m for m in period_compare.CARD_METRICS.values() if m != "resolution_rate")
    calls = [lambda: state.load(deltas.compare_periods, names, cmp.current_filters, cmp.previous_filters)]
    if filters.channel in (None, "twitter"):
        twitter = ("resolution_rate",)
        current, previous = (replace(f, channel="twitter") for f in (cmp.current_filters, cmp.previous_filters))
        calls.append(lambda: state.load(deltas.compare_periods, twitter, current, previous))
    found: dict[str, deltas.Delta] = {}
    for answer in state.together(*calls):
        found.update(answer)
    return cmp, found


# ---- callbacks --------------------------------------------------------------------------------------

def _view(data: dict[str, Any] | None) -> PilotView:
    """The selection's economics, read once per warehouse snapshot and shared by every economics callback."""
    return state.load(pilot_view, filters_from_store(data))


@dash.callback(
    Output(ids.PILOT_KPIS, "children"),
    Output(ids.PILOT_VERDICTS, "children"),
    Output(ids.PILOT_YARDSTICKS, "children"),
    Input(ids.PILOT_QUERY, "data"),
)
def show_headline(data: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    if not state.warehouse_exists():
        message = components.empty_state(_(components.NO_WAREHOUSE), _("carepulse demo (or carepulse ingest ...)"))
        return message, None, None
    filters = filters_from_store(data)
    locale = state.locale()
    head, by_channel, histogram, (cmp, found) = state.together(
        lambda: state.load(engine.headline, HEADLINE, None, filters, ci=True),
        lambda: state.load(engine.headline, HEADLINE_BY_CHANNEL, "channel", filters, ci=True),
        lambda: state.load(views.first_response_histogram, filters),
        lambda: card_deltas(filters, compare_mode((data or {}).get("cmp"))))
    cards = kpi_cards(head, by_channel, locale, state.settings().hotline_channel)
    kpis: list[Any] = [period_compare.add_deltas(cards, found, cmp, locale)]
    if not head_total(head, "cases"):
        if state.load(data_views.warehouse_summary)["crm_cases"]:
            kpis.append(components.empty_state(_("No CRM cases in this selection: satisfaction and resolution need "
                                                 "CRM cases")))
        else:
            kpis.append(components.empty_state(_("No CRM data loaded: satisfaction and resolution need CRM cases"),
                                               components.CRM_COMMAND))
    return html.Div(kpis), verdict_list(head, locale), yardstick_rows(histogram, locale)


@dash.callback(
    Output(ids.PILOT_ECONOMICS_KPIS, "children"),
    Output(ids.PILOT_ECONOMICS_ANSWER, "children"),
    Output(ids.PILOT_PAYBACK, "figure"),
    Output(ids.PILOT_SENSITIVITY, "children"),
    Input(ids.PILOT_QUERY, "data"),
)
def show_economics(data: dict[str, Any] | None) -> tuple[Any, Any, figures.Figure, Any]:
    if not state.warehouse_exists():
        nothing = _(components.NO_WAREHOUSE)
        return None, components.empty_state(nothing), figures.empty_figure(nothing), None
    view = _view(data)
    locale = state.locale()
    cmp, found = card_deltas(filters_from_store(data), compare_mode((data or {}).get("cmp")))
    cards = period_compare.add_deltas(economics_cards(view, locale), found, cmp, locale)
    return (cards, answer_block(view, locale),
            payback_chart(view.pilot, view.projection, setup_cost(view), locale), sensitivity_table(view, locale))


@dash.callback(
    Output(ids.PILOT_HOTLINE, "figure"),
    Output(ids.PILOT_HOTLINE_NOTE, "children"),
    Input(ids.PILOT_QUERY, "data"),
)
def show_hotline(data: dict[str, Any] | None) -> tuple[figures.Figure, Any]:
    if not state.warehouse_exists():
        return figures.empty_figure(_(components.NO_WAREHOUSE)), None
    view = _view(data)
    locale = state.locale()
    verdict = localized(view.hotline_change.verdict, locale)
    if view.its is None or view.its.value is None:
        reason = localized(bare_reason(view.hotline_change.verdict or ""), locale)
        note = components.empty_state(_("No estimate: {reason}").format(reason=reason))
        return hotline_chart(view.its, _("No estimate for this selection (see above)"), locale), note
    return hotline_chart(view.its, verdict, locale), html.Div(verdict, className="small mb-1")


@dash.callback(
    Output(ids.PILOT_STAFFING, "children"),
    Output(ids.PILOT_STAFFING_HEATMAP, "figure"),
    Input(ids.PILOT_QUERY, "data"),
)
def show_staffing(data: dict[str, Any] | None) -> tuple[Any, figures.Figure]:
    if not state.warehouse_exists():
        return None, figures.empty_figure(_(components.NO_WAREHOUSE))
    view = _view(data)
    locale = state.locale()
    reason = capital(localized(bare_reason(view.staffing.summary), locale))
    return staffing_block(view.staffing, locale), staffing_heatmap(today_scenario(view.staffing), reason, locale)


@dash.callback(Output(ids.PILOT_VOLUME, "figure"), Input(ids.PILOT_QUERY, "data"))
def show_volume(data: dict[str, Any] | None) -> figures.Figure:
    frame = state.load(views.weekly_series, filters_from_store(data))
    return figures.weekly_volume(frame, state.locale(), frame.attrs.get("forecast_verdict"))


@dash.callback(Output(ids.PILOT_SPEED, "figure"), Input(ids.PILOT_QUERY, "data"))
def show_speed(data: dict[str, Any] | None) -> figures.Figure:
    frame = state.load(engine.query, SPEED, "week", filters_from_store(data))
    return figures.speed_over_time(frame, state.locale(), state.settings().sla_minutes)


@dash.callback(Output(ids.PILOT_COST, "children"), Input(ids.PILOT_QUERY, "data"))
def show_cost(data: dict[str, Any] | None) -> Any:
    """Cost per case by channel from the same ledger as the economics (no second read of the warehouse)."""
    view = _view(data)
    locale = state.locale()
    settings = state.settings()
    if no_crm(view):
        return components.empty_state(_("No CRM data loaded: cost per case needs CRM cases"), components.CRM_COMMAND)
    frame = channel_frame(view)
    if frame.empty or frame["cost_per_case"].isna().all():
        return components.empty_state(_("No cost per case in this selection"))
    cost = settings.cost
    channels = frame["channel"].tolist()
    assumptions = [
        _("{channel}: {hourly} per agent hour, {fixed} fixed per month, {minutes} min per case without handled "
          "minutes").format(channel=channel, hourly=fmt.money(c.hourly_cost_eur, locale),
                            fixed=fmt.money(c.fixed_monthly_eur, locale),
                            minutes=fmt.number(c.default_handled_minutes, locale))
        for channel, c in cost.channels.items() if channel in set(channels)
    ]
    assumptions.append(_("Twitter threads without a CRM case: {reply} min per brand tweet, {dm} min more when handed "
                         "to DM; pilot set-up {setup}.").format(
        reply=fmt.number(cost.minutes_per_brand_tweet, locale), dm=fmt.number(cost.minutes_per_dm_case, locale),
        setup=fmt.money(cost.pilot_setup_eur, locale)))
    missing = []
    if settings.hotline_channel not in set(frame.dropna(subset=["cost_per_case"])["channel"]):
        missing.append(components.empty_state(
            _("No {channel} (hotline) cases in this selection to compare with").format(
                channel=settings.hotline_channel)))
    return html.Div([
        *missing, components.graph_figure(figures.cost_per_case(frame, locale, settings.hotline_channel), 220),
        html.Div(_("Assumptions (carepulse.toml, [cost])"), className="small fw-semibold"),
        html.Ul([html.Li(a) for a in assumptions], className="small mb-0"),
    ])


def channel_frame(view: PilotView) -> Any:
    """One row per channel of the ledger: cases costed and cost per case (what the bar chart draws)."""
    import pandas as pd

    rows = [{"channel": ch, "cases": line.cases, "cost_per_case": line.cost_per_case}
            for ch, line in view.channels.items()]
    return pd.DataFrame(rows, columns=["channel", "cases", "cost_per_case"])


def warm_up() -> None:
    """The unfiltered page's data, loaded at start before the server listens (see dashboard.app.serve):
    the layout (its filter options) and every callback of the page at once, as the browser asks for them."""
    shows = (show_headline, show_economics, show_hotline, show_staffing, show_volume, show_speed, show_cost)
    state.run_at_once([layout, *(functools.partial(show, {}) for show in shows)])
