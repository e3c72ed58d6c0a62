"""Data: what is in the warehouse, every load with its accounting, every rejected record, CRM link coverage,
and the audit log (who logged in, downloaded, changed users or erased a customer)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, html

from carepulse.dashboard import components, figures, ids, state
from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.components import Column
from carepulse.dashboard.filters import filter_bar, filters_from_store, follow_filters, query_store
from carepulse.dashboard.i18n import N_, _
from carepulse.metrics import data_views, engine
from carepulse.warehouse import audit

dash.register_page(__name__, path="/data", name="Data", title="carepulse · Data", order=3)
follow_filters(ids.DATA_QUERY)

RUN_COLUMNS = (
    Column("run_id", N_("Run"), "text", width=75),
    Column("source", N_("Source"), width=90),
    Column("file", N_("File"), "tweet", width=220),
    Column("started_at", N_("Loaded at"), "datetime", width=150),
    Column("seconds", N_("Seconds"), "number", width=100),
    Column("file_bytes", N_("Size"), "bytes", width=100),
    Column("records_read", N_("Read"), "count", width=100),
    Column("loaded", N_("Loaded"), "count", width=100),
    Column("updated", N_("Updated"), "count", width=100),
    Column("duplicate", N_("Duplicate"), "count", width=105),
    Column("quarantined", N_("Quarantined"), "count", width=120),
    Column("status", N_("Status"), width=150),
)
REASON_COLUMNS = (
    Column("reason_kind", N_("Reason"), "tweet"),
    Column("source", N_("Source"), width=90),
    Column("records", N_("Records"), "count", width=100),
    Column("runs", N_("Runs"), "count", width=80),
)
QUARANTINE_COLUMNS = (
    Column("run_id", N_("Run"), width=75),
    Column("file", N_("File"), width=200),
    Column("line", N_("Line"), "text", width=85),
    Column("record_no", N_("Record"), "text", width=105),
    Column("reason", N_("Reason"), width=280),
    Column("raw", N_("Raw record (as read, hover for all of it)"), "raw"),
)
COVERAGE_COLUMNS = (
    Column("channel", N_("Channel")),
    Column("cases", N_("Cases"), "count"),
    Column("conversation", N_("By conversation id"), "count"),
    Column("handle_window", N_("By handle and time"), "count"),
    Column("none", N_("Not linked"), "count"),
    Column("linked_share", N_("Linked"), "share"),
)
QUARANTINE_LIMIT = 1000
COVERAGE_TABLE = "data-coverage-table"
AUDIT_GRID, AUDIT_NOTE = "data-audit", "data-audit-note"  # "data-" ids: the page's admin rule covers them
AUDIT_LIMIT = 200
AUDIT_COLUMNS = (
    Column("at", N_("When"), "datetime", width=160),
    Column("actor", N_("Who"), width=150),
    Column("action", N_("What"), width=140),
    Column("detail", N_("Detail"), "raw"),
)


def layout(**query: Any) -> html.Div:
    locale = state.locale()
    return html.Div([
        components.page_header(_("Data"), _("What was loaded, what was rejected and why, and how CRM cases link to "
                                          "tweets.")),
        filter_bar(query),
        query_store(ids.DATA_QUERY, query),
        components.loading(html.Div(id=ids.DATA_SUMMARY)),
        components.card(_("Loads"), components.loading(
            components.grid(ids.DATA_RUNS, translated(RUN_COLUMNS, locale), None, locale, auto_height=True,
                            page_size=10, empty_text=_("No loads yet: run {ingest} or {demo}").format(
                                ingest="carepulse ingest ...", demo="carepulse demo"), filters=False)),
            subtitle=_("one row per file: read = loaded + duplicate + quarantined (filters do not apply)")),
        dbc.Row([
            dbc.Col(components.card(_("Quarantine by reason"), components.loading(
                components.grid(ids.DATA_REASONS, translated(REASON_COLUMNS, locale), None, locale, height="300px",
                                empty_text=_("Nothing quarantined"), filters=False)),
                subtitle=_("values in quotes and numbers blanked")), lg=4),
            dbc.Col(components.card(_("Quarantined records"), components.loading(
                components.grid(ids.DATA_QUARANTINE, translated(QUARANTINE_COLUMNS, locale), None, locale,
                                height="300px",
                                empty_text=_("Nothing quarantined: every record read was loaded or was a duplicate"))),
                subtitle=_("newest run first, up to {n}; raw text shown as stored").format(
                    n=fmt.number(QUARANTINE_LIMIT, locale))),
                lg=8),
        ]),
        components.card(_("CRM link coverage"), [
            components.loading(html.Div(id=ids.DATA_COVERAGE)),
            components.loading(components.graph(ids.DATA_COVERAGE_CHART, height=240)),
        ], subtitle=_("how CRM cases find their Twitter thread (filters apply)")),
        components.card(_("Audit log"), [
            html.Div(id=AUDIT_NOTE),
            components.loading(components.grid(AUDIT_GRID, translated(AUDIT_COLUMNS, locale), None, locale,
                                               height="360px", empty_text=_("Nothing recorded yet"))),
        ], subtitle=_("the newest {n} entries: logins, downloads, user changes, erasures (filters do not "
                      "apply)").format(n=fmt.number(AUDIT_LIMIT, locale))),
    ])


def translated(columns: tuple[Column, ...], locale: fmt.Locale) -> list[Column]:
    """Grid columns with their headers (marked with N_ where defined) in ``locale``."""
    return [replace(c, header=_(c.header, locale)) for c in columns]


def summary_cards(summary: dict[str, Any], locale: fmt.Locale) -> dbc.Row:
    def n(key: str) -> str:
        return fmt.number(summary.get(key), locale)

    def span(first: str, last: str, none: str) -> str:
        if not summary.get(first):
            return none
        return _("{first} to {last}", locale).format(first=fmt.day(summary.get(first), locale),
                                                     last=fmt.day(summary.get(last), locale))

    tweets_span = span("first_tweet_at", "last_tweet_at", _("no tweets loaded", locale))
    cases_span = span("first_case_at", "last_case_at", _("no CRM data loaded", locale))
    cards = [
        components.kpi(_("Tweets", locale), n("tweets"), tweets_span),
        components.kpi(_("Threads", locale), n("threads"), _("{n} answered", locale).format(n=n("answered_threads"))),
        components.kpi(_("CRM cases", locale), n("crm_cases"), cases_span),
        components.kpi(_("Brand accounts", locale), n("brand_accounts")),
        components.kpi(_("Loads", locale), n("ingest_runs"),
                       _("last {moment}", locale).format(moment=fmt.moment(summary.get("last_load_at"), locale))),
        components.kpi(_("Quarantined", locale), n("quarantined"), _("records rejected with a reason", locale),
                       tone="bad" if summary.get("quarantined") else "neutral"),
        components.kpi(_("As of", locale), fmt.day(summary.get("as_of"), locale),
                       _("{time}, the latest tweet: the metrics' 'now'", locale).format(
                           time=fmt.moment(summary.get("as_of"), locale)[-5:])),
    ]
    return dbc.Row([dbc.Col(c, xs=6, md=3, xl=True, className="mb-2") for c in cards], className="g-2")


@dash.callback(Output(ids.DATA_SUMMARY, "children"), Input(ids.DATA_QUERY, "data"))
def show_summary(_data: dict[str, Any] | None) -> Any:
    if not state.warehouse_exists():
        return components.empty_state(_(components.NO_WAREHOUSE), _("carepulse demo (or carepulse ingest ...)"))
    summary = state.load(data_views.warehouse_summary)
    notes = []
    if not summary.get("tweets"):
        notes.append(components.empty_state(_(components.NO_TWEETS), components.TWEETS_COMMAND))
    if not summary.get("crm_cases"):
        notes.append(components.empty_state(_(components.NO_CRM), components.CRM_COMMAND))
    return html.Div([summary_cards(summary, state.locale()), *notes])


@dash.callback(Output(ids.DATA_RUNS, "rowData"), Input(ids.DATA_QUERY, "data"))
def show_runs(_data: dict[str, Any] | None) -> list[dict[str, Any]]:
    runs = state.load(data_views.ingest_runs)
    if "status" in runs:  # the run log's codes in the page's words
        words = {code: _(word) for code, word in RUN_STATUS.items()}
        runs = runs.assign(status=runs["status"].map(lambda code: words.get(code, code)))
    return components.records(runs)


RUN_STATUS = {"ok": N_("ok"), "ok_with_quarantine": N_("ok, some records quarantined")}
"""The statuses the run log records (``etl.runs``), as the runs table words them."""


@dash.callback(
    Output(ids.DATA_REASONS, "rowData"),
    Output(ids.DATA_QUARANTINE, "rowData"),
    Input(ids.DATA_QUERY, "data"),
)
def show_quarantine(_data: dict[str, Any] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    reasons = state.load(data_views.quarantine_reasons)
    records = state.load(data_views.quarantine, limit=QUARANTINE_LIMIT)
    return components.records(reasons), components.records(records)


@dash.callback(
    Output(ids.DATA_COVERAGE, "children"),
    Output(ids.DATA_COVERAGE_CHART, "figure"),
    Input(ids.DATA_QUERY, "data"),
)
def show_coverage(data: dict[str, Any] | None) -> tuple[Any, figures.Figure]:
    filters = filters_from_store(data)
    locale = state.locale()
    coverage = state.load(data_views.crm_link_coverage, filters)
    if coverage.empty:
        missing = _(components.NO_CRM)
        message = components.empty_state(_("{missing} (or none in this selection)").format(missing=missing),
                                         components.CRM_COMMAND)
        return message, figures.link_coverage(coverage, locale)
    shares = state.load(engine.headline, ("crm_link_coverage", "crm_link_conversation_share",
                                          "crm_link_handle_window_share"), None, filters, ci=False)["total"]
    sentence = html.Div(
        _("{linked} of Twitter threads in this selection have a CRM case: {conversation} linked by conversation id, "
          "{handle} by handle within {hours} hours.").format(
            linked=fmt.percent(shares.get("crm_link_coverage"), locale, 1),
            conversation=fmt.percent(shares.get("crm_link_conversation_share"), locale, 1),
            handle=fmt.percent(shares.get("crm_link_handle_window_share"), locale, 1),
            hours=fmt.number(state.settings().crm_link_window_hours, locale)), className="small mb-2")
    table = components.grid(COVERAGE_TABLE, translated(COVERAGE_COLUMNS, locale), coverage, locale,
                            auto_height=True, filters=False)
    return html.Div([sentence, table]), figures.link_coverage(coverage, locale)


def audit_rows(entries: Sequence[audit.AuditEntry], timezone: str, locale: str | None = None) -> list[dict[str, Any]]:
    """Grid rows for audit entries: the time in the display zone (naive ISO, as the grid's formatter
    expects), the detail as one line of ``key: value`` text. Plain strings only: actors and details are
    whatever a login form or a URL carried, and the grid shows text, never HTML. ``locale``: the words'
    language (default: the request's)."""
    zone = ZoneInfo(timezone)
    rows = []
    for entry in entries:
        detail = " · ".join(f"{_(AUDIT_KEYS[key], locale) if key in AUDIT_KEYS else key}: {_text(value, locale)}"
                            for key, value in sorted(entry.detail.items()))
        action = _(AUDIT_ACTIONS[entry.action], locale) if entry.action in AUDIT_ACTIONS else entry.action
        rows.append({"at": entry.at.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds"),
                     "actor": entry.actor, "action": action, "detail": detail})
    return rows


# The audit log's codes (``warehouse/audit.py``, docs/security.md) in the page's words; a key not listed here
# (an erasure's per-table counts) is a table name and stays as it is.
AUDIT_ACTIONS = {"login": N_("login"), "login.failure": N_("failed login"), "logout": N_("logout"),
                 "export": N_("download"), "report": N_("report"), "users.add": N_("user added"),
                 "users.remove": N_("user removed"), "users.set-role": N_("role changed"), "erase": N_("erasure")}
AUDIT_KEYS = {"addr": N_("address"), "known_user": N_("known user"), "route": N_("route"),
              "query": N_("filter query"), "csv_raw": N_("raw CSV"), "period": N_("period"),
              "compare": N_("compared with"), "name": N_("name"), "role": N_("role"), "customer": N_("customer key"),
              "nothing_found": N_("nothing found")}


def _text(value: Any, locale: str | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return _("yes", locale) if value else _("no", locale)
    return str(value)


@dash.callback(Output(AUDIT_GRID, "rowData"), Output(AUDIT_NOTE, "children"), Input(ids.DATA_QUERY, "data"))
def show_audit(_data: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
    """The audit log's newest entries; read from its own file at each call (it is not part of a snapshot)."""
    try:
        entries = audit.recent(state.current().path, limit=AUDIT_LIMIT)
    except sqlite3.Error as exc:
        return [], html.Div(_("The audit log cannot be read: {error}").format(error=exc),
                        className="text-danger small mb-2")
    return audit_rows(entries, state.settings().timezone), None


def warm_up() -> None:
    """The unfiltered page's data, loaded once after start (see dashboard.app.serve)."""
    for show in (show_summary, show_runs, show_quarantine, show_coverage):
        show({})
