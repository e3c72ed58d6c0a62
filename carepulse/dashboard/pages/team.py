"""Team: for team leads. Who is still waiting, where are we slow (by time of day, by day), who answers how fast."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from carepulse.dashboard import components, figures, ids, privacy, state, thread
from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.components import Column
from carepulse.dashboard.filters import filter_bar, filters_from_store, follow_filters, query_store, to_search
from carepulse.metrics import breaches, data_views, views

dash.register_page(__name__, path="/team", name="Team", title="carepulse · Team", order=1)
follow_filters(ids.TEAM_QUERY)

# This page's new ids (they belong in ids.py, with the other Team ids, when that file is next edited).
TEAM_QUEUE_AS_OF = "team-queue-as-of"
TEAM_SNAPSHOT = "team-snapshot"  # store: the warehouse snapshot the queue shows
TEAM_REFRESH = "team-refresh"  # interval: look for a newer snapshot
TEAM_BREACH_AGENTS = "team-breach-agents"
TEAM_BREACH_WEEKDAYS = "team-breach-weekdays"

PAGE = "team"
QUEUE_LIMIT = 200
REFRESH_SECONDS = 30
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
    Column("n", "Answered threads (n)", "count"),
    Column("first_response_median_s", "First response, median", "duration"),
    Column("ci_low", "95% CI from", "duration"),
    Column("ci_high", "95% CI to", "duration"),
    Column("sla_met_share", "SLA met", "share"),
    Column("sla_met_n", "SLA decided (n)", "count"),
    Column("sla_breached", "SLA breached (n)", "count"),
)


def layout(**query: Any) -> html.Div:
    locale = state.locale()
    sla = fmt.number(state.settings().sla_minutes, locale)
    age = _days(state.settings().queue_max_age_days, locale)
    return html.Div([
        components.page_header("Team", "Who is still waiting, where are we slow, and who answers how fast?"),
        filter_bar(query),
        query_store(ids.TEAM_QUERY, query),
        components.card("Waiting threads, longest first", [
            components.loading(html.Div(id=ids.TEAM_QUEUE_NOTE, className="small mb-1")),
            html.Div(id=TEAM_QUEUE_AS_OF, className="small text-muted mb-1"),
            components.grid(ids.TEAM_QUEUE, QUEUE_COLUMNS, None, locale, height="560px", row_id="thread_id",
                            open_on_keys=True),
            dcc.Store(id=TEAM_SNAPSHOT, data=_snapshot()),
            dcc.Interval(id=TEAM_REFRESH, interval=REFRESH_SECONDS * 1000),
        ], subtitle=f"started in the last {age}; click a row, or press Enter on it, to read the thread"),
        dbc.Row([
            dbc.Col(components.card("First response", components.loading(components.graph(ids.TEAM_HISTOGRAM)),
                                    subtitle=f"green: within the SLA ({sla} min)"), lg=6),
            dbc.Col(components.card("Share answered within t (Kaplan-Meier)",
                                    components.loading(components.graph(ids.TEAM_KM)),
                                    subtitle="waiting threads count until now"), lg=6),
        ]),
        components.card("SLA by day", components.loading(components.graph(ids.TEAM_SLA, height=300)),
                        subtitle="breached: answered late, or waiting longer than the SLA"),
        components.card("SLA breaches: who and when", dbc.Row([
            dbc.Col(components.loading(components.graph(TEAM_BREACH_AGENTS, height=figures.BREACH_HEIGHT)), lg=7),
            dbc.Col(components.loading(components.graph(TEAM_BREACH_WEEKDAYS, height=280)), lg=5),
        ]), subtitle=f"breached threads (answered later than {sla} min, or waiting longer) by the local hour they "
                     f"started; the {breaches.TOP_AGENTS} agents with the most breaches, the rest summed"),
        dbc.Row([
            dbc.Col(components.card("When customers write", components.loading(
                components.graph(ids.TEAM_HEAT_ARRIVALS, height=280)), subtitle="threads started, local time"), lg=6),
            dbc.Col(components.card("How fast we answer then", components.loading(
                components.graph(ids.TEAM_HEAT_SPEED, height=280)), subtitle="median first response"), lg=6),
        ]),
        components.card("Agents", components.loading(html.Div([
            components.grid(ids.TEAM_AGENTS, AGENT_COLUMNS, None, locale, rows_at_once=components.PAGE_ROWS),
            html.Div(id=ids.TEAM_AGENTS_NOTE, className="small text-muted mt-1")])),
            subtitle="in business hours (the time the desk is open), so that the agent who opens the desk "
                     "is not charged with the night; CRM agent, else the signature ending the first response"),
        components.thread_panel(PAGE, link=True),
    ])


def _threads(count: int, locale: fmt.Locale) -> str:
    return f"{fmt.number(count, locale)} thread" + ("" if count == 1 else "s")


def _days(days: float, locale: fmt.Locale) -> str:
    return fmt.number(days, locale, 0 if float(days).is_integer() else 1) + (" day" if days == 1 else " days")


def queue_note(shown: int, waiting: int, breached: int, older: int, max_age_days: float, locale: fmt.Locale,
               sla_minutes: float) -> str:
    """What the queue holds, and what it leaves out on purpose: threads older than ``max_age_days``
    are no longer actionable, but a reader must not think they vanished from the figures."""
    age = _days(max_age_days, locale)
    if waiting == 0 and older == 0:
        return "Nobody is waiting: every thread in this selection has a response."
    if waiting == 0:
        head = f"No thread from the last {age} is waiting for a first response."
    else:
        verb = "is" if waiting == 1 else "are"
        head = (f"{_threads(waiting, locale)} from the last {age} {verb} waiting for a first response, "
                f"{fmt.number(breached, locale)} of them longer than the SLA ({fmt.number(sla_minutes, locale)} min).")
        if shown < waiting:
            head += f" Showing the {fmt.number(shown, locale)} longest."
    if older == 0:
        return head
    one = older == 1
    return (f"{head} {fmt.number(older, locale)} older unanswered {'thread' if one else 'threads'} (started more "
            f"than {age} before the as-of time) {'is' if one else 'are'} left out here: "
            f"{'it counts' if one else 'they count'} in the response rate and every other figure, and Explore "
            f"lists {'it' if one else 'them'} (filter the threads by status).")


def measured_to(as_of: datetime | None, time_zone: str, locale: fmt.Locale) -> str:
    """What "waiting" is measured to: the data's as-of time, its newest record, not the clock on the wall
    (a warehouse loaded at 9:00 with tweets up to 8:40 measures waiting to 8:40)."""
    return (f"Waiting measured to {fmt.moment(as_of, locale)} ({time_zone}): the data's as-of time, its newest "
            f"record. The queue reloads when a newer load is published (checked every {REFRESH_SECONDS} s).")


def _snapshot() -> list[int] | None:
    key = state.snapshot_key()
    return list(key) if key is not None else None


def snapshot_changed(current: list[int] | None, shown: Any) -> bool:
    """Whether a load was published (or the file went) since the queue was drawn; ``shown`` is the
    store's JSON (a list, or None)."""
    return current != (list(shown) if isinstance(shown, list | tuple) else None)


@dash.callback(Output(TEAM_SNAPSHOT, "data"), Input(TEAM_REFRESH, "n_intervals"), State(TEAM_SNAPSHOT, "data"),
               prevent_initial_call=True)
def check_snapshot(_ticks: int | None, shown: Any) -> Any:
    """Cheap (the reader's id of the published snapshot): the queue callback runs only when it changed."""
    current = _snapshot()
    return current if snapshot_changed(current, shown) else dash.no_update


@dash.callback(
    Output(ids.TEAM_QUEUE, "rowData"),
    Output(ids.TEAM_QUEUE_NOTE, "children"),
    Input(ids.TEAM_QUERY, "data"),
    Input(TEAM_SNAPSHOT, "data"),
)
def show_queue(data: dict[str, Any] | None, _snapshot_shown: Any = None) -> tuple[list[dict[str, Any]], str]:
    """The queue; a newer snapshot in the store reloads it (``state.load`` answers for the new snapshot)."""
    filters = filters_from_store(data)
    queue = privacy.masked(state.load(views.waiting_queue, filters, limit=QUEUE_LIMIT))
    counts = queue.attrs
    note = queue_note(len(queue), counts["waiting"], counts["breached"], counts["older"], counts["max_age_days"],
                      state.locale(), state.settings().sla_minutes)
    return components.records(queue, ["thread_id", *(c.field for c in QUEUE_COLUMNS)]), note


@dash.callback(Output(TEAM_QUEUE_AS_OF, "children"), Input(TEAM_SNAPSHOT, "data"))
def show_measured_to(_snapshot_shown: Any) -> str:
    as_of = state.load(data_views.warehouse_summary).get("as_of")
    return measured_to(as_of, state.settings().timezone, state.locale())


@dash.callback(Output(TEAM_BREACH_AGENTS, "figure"), Output(TEAM_BREACH_WEEKDAYS, "figure"),
               Input(ids.TEAM_QUERY, "data"))
def show_breaches(data: dict[str, Any] | None) -> tuple[figures.Figure, figures.Figure]:
    counts = state.load(breaches.sla_breaches, filters_from_store(data))
    locale = state.locale()
    return figures.breaches_by_agent(counts, locale), figures.breaches_by_weekday(counts, locale)


@dash.callback(
    Output(ids.TEAM_HISTOGRAM, "figure"),
    Output(ids.TEAM_KM, "figure"),
    Input(ids.TEAM_QUERY, "data"),
)
def show_distributions(data: dict[str, Any] | None) -> tuple[figures.Figure, figures.Figure]:
    filters = filters_from_store(data)
    sla_s = float(state.settings().sla_minutes) * 60.0
    locale = state.locale()
    histogram = state.load(views.first_response_histogram, filters)
    curve = state.load(views.km_curve, filters)
    return figures.first_response_histogram(histogram, locale, sla_s), figures.km_curve(curve, locale, sla_s)


@dash.callback(Output(ids.TEAM_SLA, "figure"), Input(ids.TEAM_QUERY, "data"))
def show_sla(data: dict[str, Any] | None) -> figures.Figure:
    return figures.sla_by_day(state.load(views.sla_breaches_by_day, filters_from_store(data)), state.locale())


@dash.callback(
    Output(ids.TEAM_HEAT_ARRIVALS, "figure"),
    Output(ids.TEAM_HEAT_SPEED, "figure"),
    Input(ids.TEAM_QUERY, "data"),
)
def show_heatmaps(data: dict[str, Any] | None) -> tuple[figures.Figure, figures.Figure]:
    frame = state.load(views.arrivals_heatmap, filters_from_store(data))
    locale = state.locale()
    return (figures.weekday_hour_heatmap(frame, locale, "threads"),
            figures.weekday_hour_heatmap(frame, locale, "first_response_median_s"))


@dash.callback(Output(ids.TEAM_AGENTS, "rowData"), Output(ids.TEAM_AGENTS_NOTE, "children"),
               Input(ids.TEAM_QUERY, "data"))
def show_agents(data: dict[str, Any] | None) -> tuple[list[dict[str, Any]], str]:
    frame = state.load(views.agent_speed, filters_from_store(data))
    return components.records(frame), agents_note({str(k): v for k, v in frame.attrs.items()}, state.locale())


def agents_note(attrs: dict[str, Any], locale: fmt.Locale) -> str:
    """Why the table has no "(none)" row, and how many threads that leaves out."""
    left = int(attrs.get("unattributed_threads", 0))
    if not left:
        return ""
    answered = int(attrs.get("unattributed_answered", 0))
    return (f"Not in the table: {_threads(left, locale)} without an agent ({fmt.number(answered, locale)} of them "
            "answered without a signature or a CRM agent, the rest still waiting); they count in every figure "
            "above.")


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
    for show in (show_queue, show_distributions, show_sla, show_heatmaps, show_breaches, show_agents):
        show({})
