"""Explore: for analysts. Any metrics by any breakdown, down to the threads and tweets behind a number, exported.

The URL query holds the global filters and the view (``metrics``, ``by``, ``ci``, ``chart``); the
URL hash holds the drill-down (``#group=...&thread=...``), so drilling does not redraw the page and
a copied link still opens the same rows and the same conversation.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, Patch, State, dcc, html

from carepulse.core.text import Text
from carepulse.dashboard import components, exports, figures, ids, privacy, state, thread
from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.components import Column, Kind
from carepulse.dashboard.filters import (
    checked_value,
    filter_bar,
    filters_from_store,
    follow_filters,
    parse_search,
    query_store,
    to_search,
)
from carepulse.dashboard.i18n import LANGUAGES, N_, _, breakdown_label, metric_description, metric_label
from carepulse.dashboard.pilot_words import localized
from carepulse.metrics import data_views, engine, units, views
from carepulse.metrics.registry import BREAKDOWNS, PROXY_CHECKS, Metric, get, list_metrics
from carepulse.warehouse import values

dash.register_page(__name__, path="/explore", name="Explore", title="carepulse · Explore", order=2)
follow_filters(ids.EXPLORE_QUERY)

DEFAULT_METRICS = ("threads", "response_rate", "first_response_median_s", "first_response_km_median_s",
                   "sla_met_share", "resolution_rate", "csat_mean")
DEFAULT_BY = "account"
NO_BREAKDOWN = "none"
PAGE = "explore"
THREAD_LIMIT = 500
TOTAL_KEY = N_("(total)")
MISSING_GROUPS = {"(unassigned)": N_("(unassigned)"), "(none)": N_("(none)")}
"""The engine's names for a missing group value (``engine.MISSING_KEYS``), as the table and chart word them."""
WHOLE = N_("whole selection")
SLOW_SOURCES = ("texts",)
UNIT_WORDS = {"count": N_("count"), "share": N_("share"), "seconds": N_("seconds"), "score": N_("score"),
              "points": N_("points"), "month": N_("month"), "follower-hours": N_("follower-hours"),
              "seconds/week": N_("seconds/week")}
"""The registry's units as the definitions name them (EUR, FTE, AUC and rho read alike in both languages)."""
STATUS_WORDS = {values.ANSWERED: N_("answered"), values.UNANSWERED: N_("unanswered")}
"""The thread statuses (``views.threads``) as the threads list words them."""
THREAD_COLUMNS = (
    Column("started_at", N_("Started"), "datetime", width=155),
    Column("status", N_("Status"), width=110),
    Column("account", N_("Account"), width=150),
    Column("customer_handle", N_("Customer"), width=150),
    Column("first_response_seconds", N_("First response"), "duration", width=110),
    Column("waiting_seconds", N_("Waiting"), "duration", width=100),
    Column("agent", N_("Agent"), width=110),
    Column("first_text", N_("First customer tweet"), "tweet", width=320),
)


# ---- the view asked for ------------------------------------------------------------------------------

def chosen_metrics(text: Any) -> tuple[str, ...]:
    """Metric names from the URL (comma separated); unknown names are dropped, none means the defaults."""
    known = {m.name for m in list_metrics()}
    names = [n.strip() for n in str(text or "").split(",") if n.strip()]
    kept = tuple(dict.fromkeys(n for n in names if n in known))
    return kept or DEFAULT_METRICS


def chosen_by(text: Any) -> str | None:
    if text == NO_BREAKDOWN:
        return None
    return str(text) if text in BREAKDOWNS else DEFAULT_BY


def metric_options(locale: fmt.Locale = "en") -> list[dict[str, str]]:
    """The metrics dropdown's choices (English unless ``locale`` says otherwise: callable without a dashboard)."""
    slow = _("{metric} (slow: scores tweet text)", locale)
    out = []
    for m in list_metrics():
        name = metric_label(m, locale)
        label = slow.format(metric=name) if m.source in SLOW_SOURCES else name
        out.append({"label": label, "value": m.name, "title": metric_description(m, locale)})
    return out


def view_columns(metrics: tuple[str, ...], by: str | None, ci: bool, locale: fmt.Locale) -> list[Any]:
    """The table's columns: the group, then per metric its value (with 95% interval and n when asked)."""
    columns: list[Any] = [Column("group", breakdown_label(by, locale) if by else _("selection", locale), pinned=True,
                                 width=170)]
    for name in metrics:
        m = get(name)
        unit = units.unit_format(m.unit)  # the unit's one formatter says how its column reads
        kind: Kind = unit.grid
        digits = unit.digits
        extra = []
        if ci and (m.ci or m.kind == "statistic"):
            extra += [Column(f"{name}_ci_low", _("95% from", locale), kind, width=95, digits=digits),
                      Column(f"{name}_ci_high", _("95% to", locale), kind, width=95, digits=digits)]
        if ci and m.kind not in ("count", "sum", "derived"):
            extra.append(Column(f"{name}_n", "n", "count", width=80))
        if extra:
            value = Column(name, _("value", locale), kind, width=105, digits=digits)
            columns.append(components.column_group(metric_label(m, locale), [value, *extra], locale))
        else:
            columns.append(Column(name, metric_label(m, locale), kind, width=130, digits=digits))
    return columns


def view_frame(result: dict[str, Any], by: str | None) -> pd.DataFrame:
    """The headline as a table: one row per group, then the whole selection."""
    rows = [{"group": _(MISSING_GROUPS[key]) if key in MISSING_GROUPS else key, **values}
            for key, values in result["groups"].items()] if by else []
    rows.append({"group": _(TOTAL_KEY) if by else _(WHOLE), **result["total"]})  # shown: in the page's language
    return pd.DataFrame(rows)


def translated(columns: tuple[Column, ...], locale: fmt.Locale) -> list[Column]:
    """Grid columns with their headers (marked with N_ where defined) in ``locale``."""
    return [replace(c, header=_(c.header, locale)) for c in columns]


def parse_hash(hash_: str | None) -> dict[str, str]:
    return parse_search((hash_ or "").lstrip("#"))


def to_hash(values: dict[str, Any]) -> str:
    text = to_search(values)
    return "#" + text[1:] if text else ""


# ---- layout ----------------------------------------------------------------------------------------

def layout(**query: Any) -> html.Div:
    locale = state.locale()
    metrics = chosen_metrics(query.get("metrics"))
    by = chosen_by(query.get("by"))
    ci = str(query.get("ci", "1")) != "0"
    chart = query.get("chart") if query.get("chart") in metrics else metrics[0]
    breakdowns = [{"label": _("no breakdown"), "value": NO_BREAKDOWN}] + [{"label": breakdown_label(b), "value": b}
                                                                         for b in BREAKDOWNS]
    export_buttons = [
        dbc.Button(fmt_.upper(), id=ids.export_button(prefix, fmt_), size="sm", color="secondary", outline=True,
                   className="me-1")
        for prefix in (ids.EXPLORE_EXPORT_VIEW,) for fmt_ in ids.EXPORT_FORMATS
    ]
    thread_buttons = [
        dbc.Button(fmt_.upper(), id=ids.export_button(ids.EXPLORE_EXPORT_THREADS, fmt_), size="sm", color="secondary",
                   outline=True, className="me-1", external_link=True, href=threads_export_href(fmt_, None, None),
                   download=f"carepulse-threads.{fmt_}")
        for fmt_ in ids.EXPORT_FORMATS
    ]
    controls = dbc.Row([
        dbc.Col([dbc.Label(_("Metrics"), className="small mb-0"),
                 dcc.Dropdown(id=ids.EXPLORE_METRICS, options=metric_options(locale), value=list(metrics), multi=True,
                              labels=components.dropdown_labels(locale),
                              clearable=False)], lg=6),
        dbc.Col([dbc.Label(_("Breakdown"), className="small mb-0"),
                 dcc.Dropdown(id=ids.EXPLORE_BY, options=breakdowns, value=by or NO_BREAKDOWN,
                              labels=components.dropdown_labels(locale),
                              clearable=False)], lg=2),
        dbc.Col([dbc.Label(_("Chart"), className="small mb-0"),
                 dcc.Dropdown(id=ids.EXPLORE_CHART_METRIC, value=chart, clearable=False,
                              labels=components.dropdown_labels(locale),
                              options=[{"label": metric_label(get(m)), "value": m} for m in metrics])], lg=2),
        dbc.Col(dbc.Checklist(id=ids.EXPLORE_CI, options=[{"label": _("95% intervals and n"), "value": "ci"}],
                              value=["ci"] if ci else [], switch=True, className="small mt-3"), lg=2),
    ], className="g-2 mb-2")
    return html.Div([
        components.page_header(_("Explore"), _("Any metric by any breakdown, down to the threads behind it; "
                                             "export what you see.")),
        filter_bar(query),
        query_store(ids.EXPLORE_QUERY, query, metrics=",".join(metrics), by=by or NO_BREAKDOWN,
                    ci="1" if ci else "0", chart=chart),
        controls,
        components.card(_("Table"), [
            components.loading(components.grid(ids.EXPLORE_TABLE, view_columns(metrics, by, ci, locale), None,
                                               locale, row_id="group", filters=False,
                                               rows_at_once=components.PAGE_ROWS)),
            html.Div([html.Span(_("Export this table:"), className="small me-1"), *export_buttons], className="mt-2"),
        ], subtitle=_("click a row to list its threads")),
        components.loading(html.Div(id=ids.EXPLORE_NOTES)),
        components.card(_("Chart"), components.loading(components.graph(ids.EXPLORE_CHART, height=440))),  # 13 bars
        components.card(_("Threads"), [
            html.Div(id=ids.EXPLORE_DRILL_TITLE, className="small mb-1"),
            components.loading(components.grid(ids.EXPLORE_THREADS, translated(THREAD_COLUMNS, locale), None, locale,
                                               height="640px", row_id="thread_id")),
            html.Div([html.Span(_("Export these threads (one row per thread, all of them):"), className="small me-1"),
                      *thread_buttons], className="mt-2"),
        ], subtitle=_("click a thread to read the conversation")),
        html.Details([html.Summary(_("Definitions and SQL of the chosen metrics"), className="small"),
                      html.Div(id=ids.EXPLORE_DEFINITIONS)], className="mb-3"),
        components.thread_panel(PAGE),
        dcc.Store(id=ids.EXPLORE_GROUP),
        dcc.Download(id=ids.EXPLORE_DOWNLOAD),
    ])


# ---- callbacks -------------------------------------------------------------------------------------

def updated_view_search(search: str | None, metrics: list[str] | None, by: str | None, ci: list[str] | None,
                        chart: str | None) -> str:
    query = parse_search(search)
    names = [m for m in (metrics or []) if m]
    query["metrics"] = ",".join(names)
    query["by"] = by or NO_BREAKDOWN
    query["ci"] = "1" if ci else "0"
    query["chart"] = chart if chart in names else (names[0] if names else "")
    return to_search(query)


@dash.callback(
    Output(ids.PAGES_LOCATION, "search"),
    Output(ids.PAGES_LOCATION, "hash"),
    Input(ids.EXPLORE_METRICS, "value"),
    Input(ids.EXPLORE_BY, "value"),
    Input(ids.EXPLORE_CI, "value"),
    Input(ids.EXPLORE_CHART_METRIC, "value"),
    State(ids.URL, "search"),
    State(ids.URL, "hash"),
    prevent_initial_call=True,
)
def write_view_to_url(metrics: list[str] | None, by: str | None, ci: list[str] | None, chart: str | None,
                      search: str | None, hash_: str | None) -> Any:
    """A new view draws the page again (its table columns and chart choices follow the metrics).

    Written to Dash's routing Location, unlike a filter change: that one redraws. The shell's ``url``
    holds the current address (filters changed in place included); the drill-down in its hash is kept.
    """
    if not metrics or same_view(search, metrics, by, ci, chart):
        return dash.no_update, dash.no_update  # e.g. a control settling on mount: the page shows this view
    return updated_view_search(search, metrics, by, ci, chart), hash_ or ""


def same_view(search: str | None, metrics: list[str], by: str | None, ci: list[str] | None,
              chart: str | None) -> bool:
    """Whether the controls ask for the view the URL already shows (defaults filled in)."""
    current = parse_search(search)
    shown = chosen_metrics(current.get("metrics"))
    shown_chart = current.get("chart") if current.get("chart") in shown else shown[0]
    return (shown == tuple(metrics) and (chosen_by(current.get("by")) or NO_BREAKDOWN) == (by or NO_BREAKDOWN)
            and (current.get("ci", "1") != "0") == bool(ci) and shown_chart == chart)


def _view(data: dict[str, Any] | None) -> tuple[tuple[str, ...], str | None, bool, dict[str, Any]]:
    data = data or {}
    metrics = chosen_metrics(data.get("metrics"))
    by = chosen_by(data.get("by"))
    ci = data.get("ci", "1") != "0"
    result = state.load(engine.headline, metrics, by, filters_from_store(data), ci=ci)
    return metrics, by, ci, result


@dash.callback(
    Output(ids.EXPLORE_TABLE, "rowData"),
    Output(ids.EXPLORE_TABLE, "dashGridOptions"),
    Output(ids.EXPLORE_CHART, "figure"),
    Output(ids.EXPLORE_NOTES, "children"),
    Output(ids.EXPLORE_DEFINITIONS, "children"),
    Input(ids.EXPLORE_QUERY, "data"),
)
def show_view(data: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Patch, figures.Figure, Any, Any]:
    metrics, by, _ci, result = _view(data)
    locale = state.locale()
    frame = view_frame(result, by)
    rows = components.records(frame)
    options = Patch()  # the total stays in sight below the groups, whatever the sort
    options["pinnedBottomRowData"] = rows[-1:] if by else []
    chart = (data or {}).get("chart")
    chart = chart if chart in metrics else metrics[0]
    m = get(chart)
    shown = [c for c in (m.name, f"{m.name}_ci_low", f"{m.name}_ci_high") if c in frame]  # what the chart draws
    groups_only = frame.iloc[:-1] if by else frame  # the total row (named in the page's language) is no bar
    chart_frame = groups_only[shown].assign(**{by: groups_only["group"]}) if by else frame[shown]
    figure = figures.metric_chart(chart_frame, by, m.name, metric_label(m, locale), m.unit, locale,
                                  additive=m.kind in ("count", "sum"))  # only counts and sums add up to "others"
    groups = rows[:-1] if by else rows
    checks = proxy_checks(metrics, filters_from_store(data))
    return groups, options, figure, notes(result, metrics, by, checks), definitions(metrics, by, data)


def proxy_checks(metrics: tuple[str, ...], filters: Any) -> list[str]:
    """The checks of the text proxies on show against the linked CSAT (registry.PROXY_CHECKS), as sentences."""
    wanted = tuple(dict.fromkeys(PROXY_CHECKS[m] for m in metrics if m in PROXY_CHECKS))
    if not wanted:
        return []
    checked = state.load(engine.headline, wanted, None, filters)
    locale = state.locale()
    return [_("How far the text proxies stand for satisfaction: {verdict}", locale).format(verdict=localized(v, locale))
            for v in checked.get("verdicts", [])]


def notes(result: dict[str, Any], metrics: tuple[str, ...], by: str | None, checks: list[str] | None = None) -> Any:
    locale = state.locale()
    lines = [html.Li(localized(v, locale)) for v in result.get("verdicts", [])]
    lines += [html.Li(c, className="text-body") for c in checks or []]
    whole_only = [metric_label(get(n), locale) for n in metrics if by and by not in get(n).breakdowns]
    if whole_only:
        lines.append(html.Li(_("Not broken down by {by} (whole selection only): {metrics}.")
                             .format(by=breakdown_label(by, locale) if by else "", metrics=", ".join(whole_only))))
    lines.append(html.Li(_("– means no value: an estimate that stands for more than what happened (resolution, "
                           "recontact, CSAT, NPS, the proxy checks, comparisons) from fewer than {n} observations, "
                           "or a metric that does not apply to the group. Counts, shares and medians of what "
                           "happened are shown at any n: read them with their n (100 % of 2 threads is 2 threads).")
                         .format(n=state.settings().min_sample)))
    return html.Ul(lines, className="small text-muted mb-2")


def definitions(metrics: tuple[str, ...], by: str | None, data: dict[str, Any] | None) -> Any:
    items = []
    filters = filters_from_store(data)
    for name in metrics:
        m: Metric = get(name)
        sql = state.load(engine.explain, name, by, filters)
        items.append(html.Div([
            html.Div([html.Span(metric_label(m), className="fw-semibold"),
                      html.Span([" (", html.Code(m.name), f", {_(UNIT_WORDS.get(m.unit, m.unit))})"],
                                className="text-muted")]),
            html.Div(metric_description(m), className="small"),
            html.Pre(sql, className="small bg-light p-2 mb-2", style={"maxHeight": "220px", "overflow": "auto"}),
        ]))
    return items


@dash.callback(
    Output(ids.URL, "hash", allow_duplicate=True),
    Input(ids.EXPLORE_TABLE, "cellClicked"),
    prevent_initial_call=True,
)
def drill_into_row(cell: dict[str, Any] | None) -> Any:
    key = row_key(cell)
    return dash.no_update if key is None else to_hash({"group": key})


def row_key(cell: dict[str, Any] | None) -> str | None:
    """The group of a clicked table row (its row id is the group; the pinned total row is ``(total)``)."""
    key = (cell or {}).get("rowId")
    return None if key is None else str(key)


@dash.callback(
    Output(ids.URL, "hash", allow_duplicate=True),
    Input(ids.EXPLORE_THREADS, "cellClicked"),
    State(ids.URL, "hash"),
    prevent_initial_call=True,
)
def open_thread_row(cell: dict[str, Any] | None, hash_: str | None) -> Any:
    thread_id = (cell or {}).get("rowId")
    if not thread_id:
        return dash.no_update
    return to_hash({**parse_hash(hash_), "thread": thread_id})


def drill_group(data: dict[str, Any] | None, hash_: str | None) -> tuple[str, str] | None:
    """The (breakdown, key) the threads list is narrowed to, or None for the whole selection."""
    by = chosen_by((data or {}).get("by"))
    key, problem = checked_value("group", parse_hash(hash_).get("group"))
    if by is None or not key or problem or key in {_(k, lang) for k in (TOTAL_KEY, WHOLE) for lang in LANGUAGES}:
        return None  # a group no breakdown can name (too long, not text) narrows nothing
    shown_as = {_(words, lang): code for code, words in MISSING_GROUPS.items() for lang in LANGUAGES}
    return (by, shown_as.get(key, key))  # "(nicht zugeordnet)" is the engine's "(unassigned)"


def drill_title(group: tuple[str, str] | None, shown: int, locale: fmt.Locale) -> str:
    where = f"{group[0]} = {group[1]}" if group else _("the whole selection", locale)
    if shown == 0:
        return _("No Twitter threads behind {where}: the row may count CRM cases of another channel, "
                 "or the selection has no threads.", locale).format(where=where)
    if shown >= THREAD_LIMIT:
        return _("{n} threads of {where} (the latest {limit}; the export has all), newest first.", locale).format(
            n=fmt.number(shown, locale), where=where, limit=fmt.number(THREAD_LIMIT, locale))
    return _("{n} threads of {where}, newest first.", locale).format(n=fmt.number(shown, locale), where=where)


@dash.callback(
    Output(ids.EXPLORE_THREADS, "rowData"),
    Output(ids.EXPLORE_DRILL_TITLE, "children"),
    Output(ids.EXPLORE_GROUP, "data"),
    Input(ids.EXPLORE_QUERY, "data"),
    Input(ids.URL, "hash"),
    State(ids.EXPLORE_GROUP, "data"),
)
def show_threads(data: dict[str, Any] | None, hash_: str | None, shown_group: Any) -> Any:
    group = drill_group(data, hash_)
    # the group test first: called outside a request (the benchmark's raw timer), ctx is never read
    if shown_group == {"group": list(group) if group else None} and dash.ctx.triggered_id == ids.URL:
        return dash.no_update, dash.no_update, dash.no_update  # only the thread in the hash changed
    return threads_view(data, group)


def threads_view(data: dict[str, Any] | None, group: tuple[str, str] | None) -> tuple[list[dict[str, Any]], str,
                                                                                     dict[str, Any]]:
    """The threads list of a drilled group: rows, the sentence above them, and the group shown."""
    frame = privacy.masked(state.load(views.threads, filters_from_store(data), group=group, limit=THREAD_LIMIT))
    shown = {"group": list(group) if group else None}
    locale = state.locale()
    if "status" in frame:  # the words of the list, in the page's language (the export keeps the codes)
        words = {code: _(word, locale) for code, word in STATUS_WORDS.items()}
        frame = frame.assign(status=frame["status"].map(lambda code: words.get(code, code)))
    return components.records(frame), drill_title(group, len(frame), locale), shown


@dash.callback(
    Output(ids.thread_panel(PAGE), "is_open"),
    Output(ids.thread_panel_body(PAGE), "children"),
    Input(ids.URL, "hash"),
    Input(ids.EXPLORE_THREADS, "cellClicked"),
)
def show_thread(hash_: str | None, cell: dict[str, Any] | None) -> tuple[bool, Any]:
    """Open the panel on the thread in the URL hash, or on the row just clicked (even the same one again)."""
    clicked = (cell or {}).get("rowId") if dash.ctx.triggered_id == ids.EXPLORE_THREADS else None
    return thread_panel_content(clicked or parse_hash(hash_).get("thread"))


def thread_panel_content(thread_id: str | None) -> tuple[bool, Any]:
    if not thread_id:
        return False, None
    return True, thread.render(thread_id)


@dash.callback(
    Output(ids.EXPLORE_DOWNLOAD, "data"),
    [Input(ids.export_button(ids.EXPLORE_EXPORT_VIEW, f), "n_clicks") for f in ids.EXPORT_FORMATS],
    State(ids.EXPLORE_QUERY, "data"),
    State(ids.URL, "hash"),
    prevent_initial_call=True,
)
def export(*args: Any) -> Any:
    data, hash_ = args[-2], args[-1]
    clicked = dash.ctx.triggered_id
    if not clicked or not any(args[:-2]):
        return dash.no_update
    what, fmt_ = str(clicked).rsplit("-", 1)
    return export_file(what, fmt_, data, hash_)


def export_file(what: str, fmt_: str, data: dict[str, Any] | None, hash_: str | None) -> dict[str, Any]:
    """The dcc.Download payload for the table (``explore-export-view``); the threads are a plain download."""
    _metrics, by, _ci, result = _view(data)
    stamp = date.today().isoformat()
    about = export_about(data, None, len(result.get("groups") or {}) or 1)
    return exports.table_download(result, f"carepulse-explore-{by or 'total'}-{stamp}", fmt_, state.locale(),
                                  about=about)


def threads_file(fmt_: str, data: dict[str, Any] | None, hash_: str | None,
                 neutralise_formulas: bool = True) -> tuple[bytes, str, str]:
    """One row per thread of the selection (narrowed to the drilled group): (content, name, media type)."""
    group = drill_group(data, hash_)
    frame = privacy.masked(views.threads(filters_from_store(data), db=state.current().reader,
                                         settings=state.settings(), group=group, limit=None))
    name = f"carepulse-threads-{group[0]}-{group[1]}" if group else "carepulse-threads"
    return exports.file(frame, _safe_name(f"{name}-{date.today().isoformat()}"), fmt_, state.locale(),
                        neutralise_formulas, about=export_about(data, group, len(frame)),
                        time_zone=state.settings().timezone)


def export_about(data: dict[str, Any] | None, group: tuple[str, str] | None, rows: int) -> dict[str, str]:
    """What produced an export, for whoever opens it later: the selection, the data's as-of time and
    snapshot, the version, where the definitions are."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from carepulse import __version__

    summary = state.load(data_views.warehouse_summary)
    as_of = summary.get("as_of")  # local time of the configured zone, without tzinfo
    if isinstance(as_of, datetime) and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=ZoneInfo(state.settings().timezone))
    filters = filters_from_store(data).describe()
    return {
        "what": Text("carepulse thread export: one row per thread"),
        "rows": str(rows),
        "filters": json.dumps(filters, ensure_ascii=False) if filters else Text("none (every thread)"),
        "drilled group": f"{group[0]} = {group[1]}" if group else Text("none (the whole selection)"),
        "data as of (UTC)": as_of.astimezone(UTC).isoformat() if isinstance(as_of, datetime) else str(as_of),
        "warehouse snapshot": ":".join(str(v) for v in (state.snapshot_key() or ())),
        "exported at (UTC)": datetime.now(UTC).isoformat(timespec="seconds"),
        "carepulse version": __version__,
        "times": Text("local times of {zone}, as each column's header says", zone=state.settings().timezone),
        "definitions": Text("docs/metrics.md and docs/definitions.md; carepulse metrics --explain NAME"),
    }


THREADS_EXPORT_PATH = "/export/threads."


def threads_export_href(fmt_: str, data: dict[str, Any] | None, hash_: str | None) -> str:
    """The address the thread export buttons link to: the selection travels in the query.

    The thread export can hold every thread of a large warehouse (hundreds of MB as CSV), so it is a
    plain HTTP download the browser streams to disk (served by :func:`dashboard.app.export_route`),
    not a callback answer that would carry it base64-encoded inside JSON and hold the page meanwhile.
    """
    from urllib.parse import urlencode

    query = urlencode({"q": json.dumps(data or {}, sort_keys=True), "hash": hash_ or ""})
    return f"{THREADS_EXPORT_PATH}{fmt_}?{query}"


# The same address built in the browser when the selection changes (no round trip to the server):
# the query as JSON and the drilled group, as :func:`threads_export_href` builds it for the layout.
dash.clientside_callback(
    """function (data, hash) {
        const query = new URLSearchParams({q: JSON.stringify(data || {}), hash: hash || ""}).toString();
        return FORMATS.map(function (fmt) { return PATH + fmt + "?" + query; });
    }""".replace("FORMATS", json.dumps(list(ids.EXPORT_FORMATS))).replace("PATH", json.dumps(THREADS_EXPORT_PATH)),
    [Output(ids.export_button(ids.EXPLORE_EXPORT_THREADS, f), "href") for f in ids.EXPORT_FORMATS],
    Input(ids.EXPLORE_QUERY, "data"),
    Input(ids.URL, "hash"),
)


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:120]


def warm_up() -> None:
    """The default view's data, loaded once after start (see dashboard.app.serve)."""
    data = {"metrics": ",".join(DEFAULT_METRICS), "by": DEFAULT_BY, "ci": "1", "chart": DEFAULT_METRICS[0]}
    show_view(data)
    state.load(views.threads, filters_from_store(data), group=None, limit=THREAD_LIMIT)
