"""Pilot: for management. Does Twitter support pay off, are customers more satisfied, are we fast enough?"""

from __future__ import annotations

import functools
from typing import Any, Literal

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, html

from dashboard import components, figures, ids, state
from dashboard import formatting as fmt
from dashboard.filters import filter_bar, filters_from_store, follow_filters, query_store
from dashboard.yardsticks import YARDSTICKS
from metrics import engine, views

dash.register_page(__name__, path="/", name="Pilot", title="carepulse · Pilot", order=0)
follow_filters(ids.PILOT_QUERY)

HEADLINE = ("threads", "answered_threads", "response_rate", "first_response_median_s", "first_response_km_median_s",
            "sla_met_share", "cases", "resolution_rate", "csat_mean", "pilot_net_benefit_eur", "pilot_payback_month",
            "csat_diff_twitter_hotline", "resolution_diff_twitter_hotline", "first_response_trend_s_per_week",
            "threads_forecast_4w")
BY_CHANNEL = ("cases", "cost_per_case", "cost_per_resolved_case", "resolution_rate", "csat_mean")
SPEED = ("first_response_median_s", "first_response_km_median_s", "sla_met_share")


def layout(**query: Any) -> html.Div:
    return html.Div([
        components.page_header("Pilot", "Does Twitter support pay off, are customers more satisfied, "
                                        "and are we fast enough?"),
        filter_bar(query),
        query_store(ids.PILOT_QUERY, query),
        components.loading(html.Div(id=ids.PILOT_KPIS, className="mb-2", style={"minHeight": "120px"})),
        dbc.Row([
            dbc.Col(components.card("In plain words", components.loading(html.Div(id=ids.PILOT_VERDICTS))), lg=7),
            dbc.Col(components.card("Published yardsticks beside our numbers",
                                    components.loading(html.Div(id=ids.PILOT_YARDSTICKS))), lg=5),
        ]),
        dbc.Row([
            dbc.Col(components.card("Threads per week and the next four", components.loading(
                components.graph(ids.PILOT_VOLUME)), subtitle="complete weeks; band: 95% prediction interval"), lg=6),
            dbc.Col(components.card("Speed per week", components.loading(components.graph(ids.PILOT_SPEED)),
                                    subtitle="first response medians and the share answered within the SLA"), lg=6),
        ]),
        components.card("Cost per case by channel", components.loading(html.Div(id=ids.PILOT_COST)),
                        subtitle="Twitter in blue, the hotline in orange"),
    ])


def _total(head: dict[str, Any], name: str) -> Any:
    return head["total"].get(name)


def _ci(head: dict[str, Any], name: str) -> tuple[Any, Any]:
    return head["total"].get(f"{name}_ci_low"), head["total"].get(f"{name}_ci_high")


def _verdict(head: dict[str, Any], label: str) -> str | None:
    for sentence in head.get("verdicts", []):
        if sentence.startswith(label + ":"):
            return sentence[len(label) + 1:].strip()
    return None


def _channel(by_channel: dict[str, Any], channel: str, name: str) -> Any:
    return by_channel["groups"].get(channel, {}).get(name)


def kpi_cards(head: dict[str, Any], by_channel: dict[str, Any], locale: fmt.Locale, hotline: str) -> dbc.Row:
    """Six cards: cost, benefit, satisfaction, resolution, response, speed."""
    tw_cost, ho_cost = _channel(by_channel, "twitter", "cost_per_case"), _channel(by_channel, hotline, "cost_per_case")
    cost_tone: Literal["neutral", "good", "bad"] = "neutral"
    if tw_cost is not None and ho_cost is not None:
        cost_tone = "good" if tw_cost < ho_cost else "bad"
    cost = components.kpi("Cost per case, Twitter", fmt.money(tw_cost, locale, 2),
                          comparison=f"{hotline} (hotline): {fmt.money(ho_cost, locale, 2)}",
                          detail="handled time x hourly cost + fixed costs, per case", tone=cost_tone,
                          kpi_id="kpi-cost")

    benefit = _total(head, "pilot_net_benefit_eur")
    payback = _total(head, "pilot_payback_month")
    payback_text = f"paid back in {payback}" if payback else (_verdict(head, "Payback month") or "not yet paid back")
    net = components.kpi("Net benefit of the pilot", fmt.money(benefit, locale), comparison=payback_text,
                         detail="hotline cost avoided minus Twitter's cost",
                         tone="neutral" if benefit is None else "good" if benefit > 0 else "bad", kpi_id="kpi-benefit")

    diff = _total(head, "csat_diff_twitter_hotline")
    low, high = _ci(head, "csat_diff_twitter_hotline")
    csat_sentence = _verdict(head, "CSAT: Twitter minus hotline") or ""
    clear = low is not None and high is not None and (low > 0 or high < 0)
    csat = components.kpi(
        "CSAT, Twitter minus hotline", fmt.points(diff, locale, 2) + " points" if diff is not None else fmt.MISSING,
        comparison=(f"95% CI {fmt.points(low, locale, 2)} to {fmt.points(high, locale, 2)}"
                    if low is not None else csat_sentence),
        detail=("a real difference" if clear else "no clear difference") if low is not None else None,
        tone="neutral" if not clear or diff is None else "good" if diff > 0 else "bad", kpi_id="kpi-csat")

    def rate(channel: str) -> tuple[str, str]:
        group = by_channel["groups"].get(channel, {})
        lo, hi = group.get("resolution_rate_ci_low"), group.get("resolution_rate_ci_high")
        interval = f"95% CI {fmt.percent(lo, locale)} to {fmt.percent(hi, locale)}" if lo is not None else ""
        return fmt.percent(group.get("resolution_rate"), locale, 1), interval

    tw_rate, tw_interval = rate("twitter")
    ho_rate, ho_interval = rate(hotline)
    resolution = components.kpi("Resolution rate, Twitter", tw_rate, comparison=tw_interval,
                                detail=f"{hotline}: {ho_rate}" + (f" ({ho_interval})" if ho_interval else ""),
                                kpi_id="kpi-resolution")

    answered, threads = _total(head, "answered_threads"), _total(head, "threads")
    sla_met = fmt.percent(_total(head, "sla_met_share"), locale, 1)
    response = components.kpi("Response rate", fmt.percent(_total(head, "response_rate"), locale, 1),
                              comparison=f"{fmt.number(answered, locale)} of {fmt.number(threads, locale)} threads "
                                         "answered", detail=f"within the SLA: {sla_met}", kpi_id="kpi-response")

    km = _total(head, "first_response_km_median_s")
    speed = components.kpi("First response, median", fmt.duration(_total(head, "first_response_median_s"), locale),
                           comparison=f"Kaplan-Meier median: {fmt.duration(km, locale) if km else 'not reached'}",
                           detail="answered threads only / counting the waiting ones", kpi_id="kpi-speed")
    cards = [cost, net, csat, resolution, response, speed]
    return dbc.Row([dbc.Col(c, xs=12, sm=6, lg=4, xl=2, className="mb-2") for c in cards], className="g-2")


def verdict_list(head: dict[str, Any]) -> html.Ul | dbc.Alert:
    sentences = [s for s in head.get("verdicts", []) if s]
    if not sentences:
        return components.empty_state("No statements for this selection")
    return html.Ul([html.Li(s) for s in sentences], className="mb-0 small")


def answered_within(histogram: Any, seconds: float) -> float | None:
    """Share of all threads (waiting ones included) answered within ``seconds``, from the histogram bins."""
    if histogram.empty or not histogram["threads"].sum():
        return None
    inside = histogram[(histogram["upper_s"].notna()) & (histogram["upper_s"] <= seconds)]["threads"].sum()
    return float(inside) / float(histogram["threads"].sum())


def yardstick_rows(histogram: Any, locale: fmt.Locale) -> html.Div:
    items = []
    for y in YARDSTICKS:
        ours = answered_within(histogram, y.within_seconds)
        items.append(html.Div([
            html.Div(y.claim, className="small"),
            html.Div(y.source, className="small text-muted fst-italic"),
            html.Div(f"Ours: {fmt.percent(ours, locale)} of threads answered within "
                     f"{fmt.duration(y.within_seconds, locale)} (waiting threads count as not answered).",
                     className="small fw-semibold"),
        ], className="mb-2 border-start border-3 ps-2"))
    return html.Div(items)


@dash.callback(
    Output(ids.PILOT_KPIS, "children"),
    Output(ids.PILOT_VERDICTS, "children"),
    Output(ids.PILOT_YARDSTICKS, "children"),
    Input(ids.PILOT_QUERY, "data"),
)
def show_headline(data: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    if not state.warehouse_exists():
        message = components.empty_state(components.NO_WAREHOUSE, "carepulse demo (or carepulse ingest ...)")
        return message, None, None
    filters = filters_from_store(data)
    locale = state.locale()
    head = state.load(engine.headline, HEADLINE, None, filters, ci=True)
    by_channel = state.load(engine.headline, BY_CHANNEL, "channel", filters, ci=True)
    histogram = state.load(views.first_response_histogram, filters)
    kpis: list[Any] = [kpi_cards(head, by_channel, locale, state.settings().hotline_channel)]
    if not _total(head, "cases"):
        kpis.append(components.empty_state(components.NO_CRM + ": cost, satisfaction and resolution need CRM cases",
                                           components.CRM_COMMAND))
    return html.Div(kpis), verdict_list(head), yardstick_rows(histogram, locale)


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
    filters = filters_from_store(data)
    locale = state.locale()
    settings = state.settings()
    frame = state.load(engine.query, BY_CHANNEL, "channel", filters)
    if frame.empty or frame["cost_per_case"].isna().all():
        return components.empty_state(components.NO_CRM + ": cost per case needs CRM cases", components.CRM_COMMAND)
    cost = settings.cost
    channels = frame["channel"].tolist()
    priced = {channel for channel, value in zip(channels, frame["cost_per_case"].tolist(), strict=True)
              if value is not None and value == value}  # a cost, not None or NaN
    assumptions = [
        f"{channel}: {fmt.money(c.hourly_cost_eur, locale)} per agent hour, {fmt.money(c.fixed_monthly_eur, locale)} "
        f"fixed per month, {fmt.number(c.default_handled_minutes, locale)} min per case without handled minutes"
        for channel, c in cost.channels.items() if channel in set(channels)
    ]
    assumptions.append(f"Twitter threads without a CRM case: {fmt.number(cost.minutes_per_brand_tweet, locale)} min "
                       f"per brand tweet; pilot set-up {fmt.money(cost.pilot_setup_eur, locale)}.")
    missing = []
    if settings.hotline_channel not in priced:
        missing.append(components.empty_state(
            f"No {settings.hotline_channel} (hotline) cases to compare with: load the CRM export",
            components.CRM_COMMAND))
    return dbc.Row([
        dbc.Col([*missing, components.graph_figure(figures.cost_per_case(frame, locale, settings.hotline_channel),
                                                   220)], lg=7),
        dbc.Col([html.Div("Assumptions (carepulse.toml, [cost])", className="small fw-semibold"),
                 html.Ul([html.Li(a) for a in assumptions], className="small mb-0")], lg=5),
    ])


def warm_up() -> None:
    """The unfiltered page's data, loaded at start before the server listens (see dashboard.app.serve):
    the layout (its filter options) and the four callbacks at once, as the browser asks for them."""
    shows = (show_headline, show_volume, show_speed, show_cost)
    state.run_at_once([layout, *(functools.partial(show, {}) for show in shows)])
