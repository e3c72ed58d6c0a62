"""Team: for team leads. Who is still waiting, where are we slow (by time of day, by day), who answers how fast."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, State, html

from dashboard import components, figures, ids, state, thread
from dashboard import formatting as fmt
from dashboard.components import Column
from dashboard.filters import filter_bar, filters_from_store, query_store, to_search
from metrics import engine, views

dash.register_page(__name__, path="/team", name="Team", title="carepulse · Team", order=1)

PAGE = "team"
QUEUE_LIMIT = 200
QUEUE_COLUMNS = (
    Column("waiting_seconds", "Waiting", "duration", width=105, pinned=True),
    Column("account", "Account", width=150),
    Column("customer_handle", "Customer", width=150),
    Column("started_at", "First tweet at", "datetime", width=150),
    Column("customer_tweets", "Tweets", "count", width=95),
    Column("first_text", "First customer tweet", "tweet"),
)
AGENT_COLUMNS = (
    Column("agent", "Agent", pinned=True),
    Column("answered_threads", "Answered threads", "count"),
    Column("brand_tweets", "Brand tweets", "count"),
    Column("first_response_median_s", "First response, median", "duration"),
    Column("first_response_p90_s", "First response, p90", "duration"),
    Column("sla_met_share", "SLA met", "share"),
)


def layout(**query: Any) -> html.Div:
    locale = state.locale()
    sla = fmt.number(state.settings().sla_minutes, locale)
    return html.Div([
        components.page_header("Team", "Who is still waiting, where are we slow, and who answers how fast?"),
        filter_bar(query),
        query_store(ids.TEAM_QUERY, query),
        components.card("Waiting threads, longest first", [
            components.loading(html.Div(id=ids.TEAM_QUEUE_NOTE, className="small mb-1")),
            components.grid(ids.TEAM_QUEUE, QUEUE_COLUMNS, None, locale, height="330px", row_id="thread_id"),
        ], subtitle="click a row to read the thread"),
        dbc.Row([
            dbc.Col(components.card("First response", components.loading(components.graph(ids.TEAM_HISTOGRAM)),
                                    subtitle=f"green: within the SLA ({sla} min)"), lg=6),
            dbc.Col(components.card("Share answered within t (Kaplan-Meier)",
                                    components.loading(components.graph(ids.TEAM_KM)),
                                    subtitle="waiting threads count until now"), lg=6),
        ]),
        components.card("SLA by day", components.loading(components.graph(ids.TEAM_SLA, height=300)),
                        subtitle="breached: answered late, or waiting longer than the SLA"),
        dbc.Row([
            dbc.Col(components.card("When customers write", components.loading(
                components.graph(ids.TEAM_HEAT_ARRIVALS, height=280)), subtitle="threads started, local time"), lg=6),
            dbc.Col(components.card("How fast we answer then", components.loading(
                components.graph(ids.TEAM_HEAT_SPEED, height=280)), subtitle="median first response"), lg=6),
        ]),
        components.card("Agents", components.loading(
            components.grid(ids.TEAM_AGENTS, AGENT_COLUMNS, None, locale, height="320px")),
            subtitle="CRM agent, else the signature ending the first response; click a header to sort"),
        components.thread_panel(PAGE, link=True),
    ])


def queue_note(shown: int, waiting: int, breached: int, locale: fmt.Locale, sla_minutes: float) -> str:
    if waiting == 0:
        return "Nobody is waiting: every thread in this selection has a response."
    tail = f" Showing the {fmt.number(shown, locale)} longest." if shown < waiting else ""
    return (f"{fmt.number(waiting, locale)} threads are waiting for a first response, "
            f"{fmt.number(breached, locale)} of them longer than the SLA ({fmt.number(sla_minutes, locale)} min)."
            + tail)


@dash.callback(
    Output(ids.TEAM_QUEUE, "rowData"),
    Output(ids.TEAM_QUEUE_NOTE, "children"),
    Input(ids.TEAM_QUERY, "data"),
)
def show_queue(data: dict[str, Any] | None) -> tuple[list[dict[str, Any]], str]:
    filters = filters_from_store(data)
    settings = state.settings()
    waiting = state.load(views.threads, filters, status="unanswered", order="waiting_seconds", limit=QUEUE_LIMIT)
    total, breached = waiting_counts(state.load(views.first_response_histogram, filters),
                                     state.load(views.sla_breaches_by_day, filters))
    note = queue_note(len(waiting), total, breached, state.locale(), settings.sla_minutes)
    return components.records(waiting), note


def waiting_counts(histogram: Any, by_day: Any) -> tuple[int, int]:
    """(threads waiting, of them past the SLA): unanswered minus those still within the SLA."""
    waiting = int(histogram.loc[histogram["bin"] == "unanswered", "threads"].sum()) if not histogram.empty else 0
    undecided = int(by_day["undecided"].sum()) if not by_day.empty else 0
    return waiting, max(waiting - undecided, 0)


@dash.callback(
    Output(ids.TEAM_HISTOGRAM, "figure"),
    Output(ids.TEAM_KM, "figure"),
    Input(ids.TEAM_QUERY, "data"),
)
def show_distributions(data: dict[str, Any] | None) -> tuple[go.Figure, go.Figure]:
    filters = filters_from_store(data)
    sla_s = float(state.settings().sla_minutes) * 60.0
    locale = state.locale()
    histogram = state.load(views.first_response_histogram, filters)
    curve = state.load(views.km_curve, filters)
    return figures.first_response_histogram(histogram, locale, sla_s), figures.km_curve(curve, locale, sla_s)


@dash.callback(Output(ids.TEAM_SLA, "figure"), Input(ids.TEAM_QUERY, "data"))
def show_sla(data: dict[str, Any] | None) -> go.Figure:
    return figures.sla_by_day(state.load(views.sla_breaches_by_day, filters_from_store(data)), state.locale())


@dash.callback(
    Output(ids.TEAM_HEAT_ARRIVALS, "figure"),
    Output(ids.TEAM_HEAT_SPEED, "figure"),
    Input(ids.TEAM_QUERY, "data"),
)
def show_heatmaps(data: dict[str, Any] | None) -> tuple[go.Figure, go.Figure]:
    frame = state.load(views.arrivals_heatmap, filters_from_store(data))
    locale = state.locale()
    return (figures.weekday_hour_heatmap(frame, locale, "threads"),
            figures.weekday_hour_heatmap(frame, locale, "first_response_median_s"))


@dash.callback(Output(ids.TEAM_AGENTS, "rowData"), Input(ids.TEAM_QUERY, "data"))
def show_agents(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    frame = state.load(engine.agent_table, filters_from_store(data))
    return components.records(frame)


@dash.callback(
    Output(ids.thread_panel(PAGE), "is_open"),
    Output(ids.thread_panel_body(PAGE), "children"),
    Output(ids.thread_panel_link(PAGE), "href"),
    Input(ids.TEAM_QUEUE, "cellClicked"),
    State(ids.TEAM_QUERY, "data"),
    prevent_initial_call=True,
)
def open_thread(cell: dict[str, Any] | None, data: dict[str, Any] | None) -> tuple[bool, Any, str]:
    thread_id = (cell or {}).get("rowId")
    if not thread_id:
        return dash.no_update, dash.no_update, dash.no_update  # type: ignore[return-value]
    link = "/explore" + to_search(data or {}) + "#" + to_search({"thread": thread_id})[1:]
    return True, thread.render(thread_id), link


def warm_up() -> None:
    """The unfiltered page's data, loaded once after start (see dashboard.app.serve)."""
    for show in (show_queue, show_distributions, show_sla, show_heatmaps, show_agents):
        show({})
