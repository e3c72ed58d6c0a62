"""Team: for team leads. Who is still waiting, where are we slow (by time of day, by day), who answers how fast."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from carepulse.dashboard import components, figures, ids, privacy, state, thread
from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.components import Column
from carepulse.dashboard.filters import filter_bar, filters_from_store, follow_filters, query_store, to_search
from carepulse.dashboard.i18n import N_, _
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
# The headers are English here (marked for the catalog) and translated where the grid is drawn (columns()).
QUEUE_COLUMNS = (
    Column("waiting_seconds", N_("Waiting"), "duration", width=105, pinned=True),
    Column("account", N_("Account"), width=150),
    Column("customer_handle", N_("Customer"), width=150),
    Column("started_at", N_("First tweet at"), "datetime", width=150),
    Column("customer_tweets", N_("Tweets"), "count", width=95),
    Column("first_text", N_("First customer tweet"), "tweet"),
)
AGENT_COLUMNS = (
    Column("agent", N_("Agent"), pinned=True),
    Column("n", N_("Answered threads (n)"), "count"),
    Column("first_response_median_s", N_("First response, median"), "duration"),
    Column("ci_low", N_("95% CI from"), "duration"),
    Column("ci_high", N_("95% CI to"), "duration"),
    Column("sla_met_share", N_("SLA met"), "share"),
    Column("sla_met_n", N_("SLA decided (n)"), "count"),
    Column("sla_breached", N_("SLA breached (n)"), "count"),
)


def columns(defined: tuple[Column, ...], locale: fmt.Locale) -> list[Column]:
    """The grid's columns with their headers in ``locale``."""
    return [replace(c, header=_(c.header, locale)) for c in defined]


def layout(**query: Any) -> html.Div:
    locale = state.locale()
    sla = fmt.number(state.settings().sla_minutes, locale)
    age = _days(state.settings().queue_max_age_days, locale)
    return html.Div([
        components.page_header(_("Team"), _("Who is still waiting, where are we slow, and who answers how fast?")),
        filter_bar(query),
        query_store(ids.TEAM_QUERY, query),
        components.card(_("Waiting threads, longest first"), [
            components.loading(html.Div(id=ids.TEAM_QUEUE_NOTE, className="small mb-1")),
            html.Div(id=TEAM_QUEUE_AS_OF, className="small text-muted mb-1"),
            components.grid(ids.TEAM_QUEUE, columns(QUEUE_COLUMNS, locale), None, locale, height="560px",
                            row_id="thread_id", open_on_keys=True),
            dcc.Store(id=TEAM_SNAPSHOT, data=_snapshot()),
            dcc.Interval(id=TEAM_REFRESH, interval=REFRESH_SECONDS * 1000),
        ], subtitle=_("started in the last {age}; click a row, or press Enter on it, to read the thread")
            .format(age=age)),
        dbc.Row([
            dbc.Col(components.card(_("First response"), components.loading(components.graph(ids.TEAM_HISTOGRAM)),
                                    subtitle=_("green: within the SLA ({sla} min)").format(sla=sla)), lg=6),
            dbc.Col(components.card(_("Share answered within t (Kaplan-Meier)"),
                                    components.loading(components.graph(ids.TEAM_KM)),
                                    subtitle=_("waiting threads count until now")), lg=6),
        ]),
        components.card(_("SLA by day"), components.loading(components.graph(ids.TEAM_SLA, height=300)),
                        subtitle=_("breached: answered late, or waiting longer than the SLA")),
        components.card(_("SLA breaches: who and when"), dbc.Row([
            dbc.Col(components.loading(components.graph(TEAM_BREACH_AGENTS, height=figures.BREACH_HEIGHT)), lg=7),
            dbc.Col(components.loading(components.graph(TEAM_BREACH_WEEKDAYS, height=280)), lg=5),
        ]), subtitle=_("breached threads (answered later than {sla} min, or waiting longer) by the local hour they "
                       "started; the {top} agents with the most breaches, the rest summed")
            .format(sla=sla, top=fmt.number(breaches.TOP_AGENTS, locale))),
        dbc.Row([
            dbc.Col(components.card(_("When customers write"), components.loading(
                components.graph(ids.TEAM_HEAT_ARRIVALS, height=280)), subtitle=_("threads started, local time")),
                lg=6),
            dbc.Col(components.card(_("How fast we answer then"), components.loading(
                components.graph(ids.TEAM_HEAT_SPEED, height=280)), subtitle=_("median first response")), lg=6),
        ]),
        components.card(_("Agents"), components.loading(html.Div([
            components.grid(ids.TEAM_AGENTS, columns(AGENT_COLUMNS, locale), None, locale,
                            rows_at_once=components.PAGE_ROWS),
            html.Div(id=ids.TEAM_AGENTS_NOTE, className="small text-muted mt-1")])),
            subtitle=_("in business hours (the time the desk is open), so that the agent who opens the desk "
                       "is not charged with the night; CRM agent, else the signature ending the first response")),
        components.thread_panel(PAGE, link=True),
    ])


def _threads(count: int, locale: fmt.Locale) -> str:
    return (_("{n} thread", locale) if count == 1 else _("{n} threads", locale)).format(n=fmt.number(count, locale))


def _days(days: float, locale: fmt.Locale) -> str:
    n = fmt.number(days, locale, 0 if float(days).is_integer() else 1)
    return (_("{n} day", locale) if days == 1 else _("{n} days", locale)).format(n=n)


def queue_note(shown: int, waiting: int, breached: int, older: int, max_age_days: float, locale: fmt.Locale,
               sla_minutes: float) -> str:
    """What the queue holds, and what it leaves out on purpose: threads older than ``max_age_days``
    are no longer actionable, but a reader must not think they vanished from the figures."""
    age = _days(max_age_days, locale)
    if waiting == 0 and older == 0:
        return _("Nobody is waiting: every thread in this selection has a response.", locale)
    if waiting == 0:
        head = _("No thread from the last {age} is waiting for a first response.", locale).format(age=age)
    else:
        waits = (_("{threads} from the last {age} is waiting for a first response, {breached} of them longer than "
                   "the SLA ({sla} min).", locale) if waiting == 1 else
                 _("{threads} from the last {age} are waiting for a first response, {breached} of them longer than "
                   "the SLA ({sla} min).", locale))
        head = waits.format(threads=_threads(waiting, locale), age=age, breached=fmt.number(breached, locale),
                            sla=fmt.number(sla_minutes, locale))
        if shown < waiting:
            head += " " + _("Showing the {n} longest.", locale).format(n=fmt.number(shown, locale))
    if older == 0:
        return head
    left_out = (_("{n} older unanswered thread (started more than {age} before the as-of time) is left out here: "
                  "it counts in the response rate and every other figure, and Explore lists it (filter the "
                  "threads by status).", locale) if older == 1 else
                _("{n} older unanswered threads (started more than {age} before the as-of time) are left out here: "
                  "they count in the response rate and every other figure, and Explore lists them (filter the "
                  "threads by status).", locale))
    return head + " " + left_out.format(n=fmt.number(older, locale), age=age)


def measured_to(as_of: datetime | None, time_zone: str, locale: fmt.Locale) -> str:
    """What "waiting" is measured to: the data's as-of time, its newest record, not the clock on the wall
    (a warehouse loaded at 9:00 with tweets up to 8:40 measures waiting to 8:40)."""
    return _("Waiting measured to {as_of} ({time_zone}): the data's as-of time, its newest record. The queue "
             "reloads when a newer load is published (checked every {seconds} s).", locale).format(
        as_of=fmt.moment(as_of, locale), time_zone=time_zone, seconds=fmt.number(REFRESH_SECONDS, locale))


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
    histogram, curve = state.together(lambda: state.load(views.first_response_histogram, filters),
                                      lambda: state.load(views.km_curve, filters))
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
    return _("Not in the table: {threads} without an agent ({answered} of them answered without a signature or a "
             "CRM agent, the rest still waiting); they count in every figure above.", locale).format(
        threads=_threads(left, locale), answered=fmt.number(answered, locale))


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
