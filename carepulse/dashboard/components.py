"""Building blocks every page shares: cards, empty states, tables, loading wrappers, the thread view.

One component set: dash-bootstrap-components for layout and cards, dash-ag-grid for tables
(default text renderers only: AG Grid escapes cell text, so tweets stay plain text), dcc for
graphs, pickers and downloads. User content (tweet text, quarantined raw records) is only ever
passed as a string child or a grid cell, never as Markdown or HTML.

The components' own words go through :func:`carepulse.dashboard.i18n._`: in the ``locale`` given, else in
the request's language (:func:`language`); the texts a page hands in (titles, messages) it translates itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import dcc, html

from carepulse.dashboard import formatting as fmt
from carepulse.dashboard import state
from carepulse.dashboard.formatting import Locale
from carepulse.dashboard.i18n import N_, _
from carepulse.warehouse import values

Kind = Literal["text", "tweet", "raw", "count", "number", "share", "duration", "money", "datetime", "date", "bytes"]


@dataclass(frozen=True)
class Column:
    """One grid column: the frame's field, its header, and how its values read."""

    field: str
    header: str
    kind: Kind = "text"
    width: int | None = None
    pinned: bool = False
    digits: int | None = None


# Plotly's toolbar without its cloud: no "Edit in Chart Studio" / "Share" (an upload of the chart's data to
# plot.ly, one click away), no link to it, no logo. Downloading a PNG stays: it leaves nothing the machine.
GRAPH_CONFIG: Any = {
    "displaylogo": False, "responsive": True, "showSendToCloud": False, "showEditInChartStudio": False,
    "showLink": False, "modeBarButtonsToRemove": ["sendDataToCloud", "editInChartStudio"],
}


DROPDOWN_WORDS = {"select_all": N_("Select all"), "deselect_all": N_("Deselect all"),
                  "selected_count": N_("{num_selected} selected"), "search": N_("Search"),
                  "clear_search": N_("Clear search"), "clear_selection": N_("Clear selection"),
                  "no_options_found": N_("No options found")}
"""The words dcc.Dropdown draws itself (its ``labels`` property), marked for the catalog."""


def dropdown_labels(locale: Locale | None = None) -> Any:  # dcc.Dropdown.Labels, a TypedDict
    """``labels=`` for every dcc.Dropdown: its own words in the page's language."""
    return {key: _(words, language(locale)) for key, words in DROPDOWN_WORDS.items()}


def language(locale: Locale | None = None) -> Locale:
    """``locale`` when given, else the request's language; English (the words as written) when the dashboard
    is not configured yet, so a component can be built anywhere, e.g. in a test."""
    if locale is not None:
        return locale
    try:
        return state.locale()
    except RuntimeError:
        return "en"


def _formatter(kind: Kind, locale: Locale, digits: int | None) -> dict[str, str] | None:
    loc = "'de'" if locale == "de" else "'en'"
    calls = {
        "count": f"cpNumber(params.value, {loc}, 0)",
        "number": f"cpNumber(params.value, {loc}, {1 if digits is None else digits})",
        "share": f"cpPercent(params.value, {loc}, {1 if digits is None else digits})",
        "duration": f"cpDuration(params.value, {loc})",
        "money": f"cpMoney(params.value, {loc}, {2 if digits is None else digits})",
        "datetime": f"cpDateTime(params.value, {loc})",
        "date": f"cpDate(params.value, {loc})",
        "bytes": f"cpBytes(params.value, {loc})",
    }
    call = calls.get(kind)
    return {"function": call} if call else None


def column_defs(columns: Sequence[Column], locale: Locale) -> list[dict[str, Any]]:
    defs: list[dict[str, Any]] = []
    for c in columns:
        d: dict[str, Any] = {"field": c.field, "headerName": c.header, "headerTooltip": c.header}
        formatter = _formatter(c.kind, locale, c.digits)
        if formatter:
            d["valueFormatter"] = formatter
        if c.kind in ("count", "number", "share", "duration", "money", "bytes"):
            d["type"] = "rightAligned"
        if c.kind == "tweet":
            d.update(flex=3, minWidth=c.width or 260, wrapText=True, autoHeight=True, tooltipField=c.field,
                     cellStyle={"lineHeight": "1.35", "whiteSpace": "normal", "paddingTop": "4px",
                                "paddingBottom": "4px"})
        elif c.kind == "raw":
            d.update(flex=3, minWidth=c.width or 260, tooltipField=c.field)
        elif c.width:
            d["width"] = c.width
        else:
            d.update(flex=1, minWidth=110)
        if c.pinned:
            d["pinned"] = "left"
        defs.append(d)
    return defs


def records(frame: pd.DataFrame, fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """JSON-ready rows: missing values as None, timestamps as naive ISO text, numpy scalars as Python.

    Converted column by column (whole numeric columns at once), then zipped into rows.
    """
    if fields is not None:
        frame = frame[[f for f in fields if f in frame.columns]]
    names = [str(c) for c in frame.columns]
    columns = [_plain_column(column) for _, column in frame.items()]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] if columns else \
        [{} for _ in range(len(frame))]


def _plain_column(column: pd.Series) -> list[Any]:
    """One column as plain Python values, as :func:`_plain` makes them, whole numeric columns at once."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else None
    if kind in ("i", "u", "b"):
        return column.tolist()
    if kind == "f":
        return [None if math.isnan(v) else v for v in column.tolist()]
    return [_plain(v) for v in column.tolist()]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    try:
        if value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    return value


# Rows a table shows at once when it sizes to its rows (``rows_at_once``): a 53-agent table reads as
# 25 rows, then a page button, not 8 rows in a scroll box.
PAGE_ROWS = 25


def sized_to_rows(rows: int = PAGE_ROWS) -> dict[str, Any]:
    """Grid options for a table as tall as its rows: pages of ``rows`` (25, 50, 100 to choose), the
    grid's height following the rows shown, so nothing scrolls inside a small box."""
    return {"pagination": True, "paginationPageSize": rows, "paginationPageSizeSelector": [rows, rows * 2, rows * 4],
            "domLayout": "autoHeight"}


def keyboard_rows() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Grid options and event listeners for rows that open something (assets/gridKeyboard.js): the grid
    is one tab stop (Tab leaves it), the arrows move, Enter or Space opens the row as a click does."""
    options = {"tabToNextCell": {"function": "cpLeaveGridOnTab(params)"}}
    return options, {"cellKeyDown": ["cpOpenRowOnKey(params, setGridProps)"]}


# AG Grid's own words (pagination, filters, loading) in German; English is the grid's default. Keys are AG
# Grid's localeText names (docs: "Localisation"); a word the grid draws itself cannot go through _().
GRID_WORDS: dict[str, dict[str, str]] = {"de": {
    "page": "Seite", "of": "von", "to": "bis", "more": "mehr", "pageSizeSelectorLabel": "Zeilen pro Seite:",
    "firstPage": "Erste Seite", "previousPage": "Vorige Seite", "nextPage": "Nächste Seite", "lastPage": "Letzte Seite",
    "pageLastRowUnknown": "?", "loadingOoo": "Wird geladen …", "filterOoo": "Filtern …", "applyFilter": "Anwenden",
    "resetFilter": "Zurücksetzen", "clearFilter": "Leeren", "cancelFilter": "Abbrechen", "equals": "gleich",
    "notEqual": "ungleich", "contains": "enthält", "notContains": "enthält nicht", "startsWith": "beginnt mit",
    "endsWith": "endet mit", "blank": "leer", "notBlank": "nicht leer", "lessThan": "kleiner als",
    "greaterThan": "größer als", "lessThanOrEqual": "kleiner oder gleich", "greaterThanOrEqual": "größer oder gleich",
    "inRange": "zwischen", "inRangeStart": "von", "inRangeEnd": "bis", "andCondition": "UND", "orCondition": "ODER",
    "dateFormatOoo": "tt.mm.jjjj", "selectAll": "(Alle auswählen)", "searchOoo": "Suchen …",
    "noMatches": "Keine Treffer", "ariaFilterInput": "Filtereingabe", "ariaPageSizeSelectorLabel": "Zeilen pro Seite",
}}


def grid(grid_id: str | dict[str, Any], columns: Sequence[Column | dict[str, Any]], frame: pd.DataFrame | None,
         locale: Locale, *, height: str = "360px", row_id: str | None = None, page_size: int | None = None,
         auto_height: bool = False, empty_text: str | None = None,
         filters: bool = True, rows_at_once: int | None = None, open_on_keys: bool = False) -> dag.AgGrid:
    """A sortable, filterable AG Grid with the house formatters; rows are clicked, not edited.

    ``columns`` may mix :class:`Column` and ready AG Grid column groups (``{"headerName", "children"}``).
    ``empty_text`` is plain text (AG Grid's locale text, not an HTML overlay template; by default "Nothing
    to show for this selection" in ``locale``). ``filters``
    adds a filter to every column (for long lists; short tables only sort). ``rows_at_once`` sizes the
    grid to its rows in pages of that many (:func:`sized_to_rows`); ``open_on_keys`` lets the keyboard
    open a row (:func:`keyboard_rows`).
    """
    if empty_text is None:
        empty_text = _("Nothing to show for this selection", locale)
    options: dict[str, Any] = {"animateRows": False, "tooltipShowDelay": 400, "enableCellTextSelection": True,
                               "ensureDomOrder": True, "localeText": {**GRID_WORDS.get(locale, {}),
                                                                      "noRowsToShow": empty_text}}
    if page_size:
        options.update(pagination=True, paginationPageSize=page_size,
                       paginationPageSizeSelector=[page_size, page_size * 2, page_size * 4])
    if auto_height:
        options["domLayout"] = "autoHeight"
    if rows_at_once:
        options.update(sized_to_rows(rows_at_once))
        auto_height = True
    kwargs: dict[str, Any] = {}
    if open_on_keys:
        key_options, listeners = keyboard_rows()
        options.update(key_options)
        kwargs["eventListeners"] = listeners
    if row_id:
        kwargs["getRowId"] = f"params.data.{row_id}"
    plain = [c for c in columns if isinstance(c, Column)]
    fields = [c.field for c in plain] + [f["field"] for g in columns if isinstance(g, dict)
                                         for f in g.get("children", [])]
    defs = [column_defs([c], locale)[0] if isinstance(c, Column) else c for c in columns]
    return dag.AgGrid(
        id=grid_id,
        columnDefs=defs,
        rowData=records(frame, fields + ([row_id] if row_id else [])) if frame is not None else [],
        defaultColDef={"sortable": True, "resizable": True, "filter": filters, "wrapHeaderText": True,
                       "autoHeaderHeight": True},
        dashGridOptions=options,
        style={"width": "100%"} if auto_height else {"height": height, "width": "100%"},
        **kwargs,
    )


def column_group(header: str, columns: Sequence[Column], locale: Locale) -> dict[str, Any]:
    """Columns under one header, e.g. a metric's value, its 95% interval and n."""
    return {"headerName": header, "headerTooltip": header, "children": column_defs(columns, locale),
            "marryChildren": True}


def loading(child: Any) -> dcc.Loading:
    """A spinner over a slow output while its callback runs."""
    return dcc.Loading(child, type="default", delay_show=250, color="#0072B2")


def graph(graph_id: str, height: int = 320) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config=GRAPH_CONFIG,
                     style={"height": f"{height}px"})


def graph_figure(figure: Any, height: int) -> dcc.Graph:
    """A graph drawn once with a ready figure (no callback of its own)."""
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG,
                     style={"height": f"{height}px"})


def card(title: str, body: Any, *, subtitle: str | None = None, class_name: str = "mb-3") -> dbc.Card:
    header = [html.Span(title, className="fw-semibold")]
    if subtitle:
        header.append(html.Span(f" · {subtitle}", className="text-muted small"))
    return dbc.Card([dbc.CardHeader(header, className="py-2"), dbc.CardBody(body, className="p-2")],
                    className=class_name)


def kpi(title: str, value_text: str, detail: str | None = None, *, comparison: str | None = None,
        tone: Literal["neutral", "good", "bad"] = "neutral", kpi_id: str | None = None) -> dbc.Card:
    """A headline number: title, the value, and the line that says what it is compared with."""
    colour = {"neutral": "", "good": "text-success", "bad": "text-danger"}[tone]
    body: list[Any] = [html.Div(title, className="text-muted small text-uppercase fw-semibold"),
                       html.Div(value_text, className=f"fs-4 fw-bold {colour}")]
    if comparison:
        body.append(html.Div(comparison, className="small"))
    if detail:
        body.append(html.Div(detail, className="small text-muted"))
    kwargs = {"id": kpi_id} if kpi_id else {}
    return dbc.Card(dbc.CardBody(body, className="p-2"), className="h-100", **kwargs)


def empty_state(message: str, command: str | None = None, *, tone: str = "secondary",
                locale: Locale | None = None) -> dbc.Alert:
    """What is missing and what to do about it, e.g. the command that loads the data.

    ``message`` and ``command`` are shown as given (the caller translates them); the sentence joining
    them ("...: run ...") is in ``locale``, else the request's language, the command set as code.
    """
    body: list[Any] = [html.Span(message)]
    if command:
        sentence = _("{message}: run {command}", language(locale))
        body = [html.Code(command) if piece == "{command}" else html.Span(message) if piece == "{message}"
                else html.Span(piece) for piece in re.split(r"(\{message\}|\{command\})", sentence) if piece]
    return dbc.Alert(body, color=tone, className="mb-2 py-2 small")


# Empty states a page shows: English here (marked for the catalog), translated where shown (``_(NO_CRM)``).
NO_WAREHOUSE = N_("No warehouse file yet")
NO_CRM = N_("No CRM data loaded")
NO_TWEETS = N_("No tweets loaded")
CRM_COMMAND = "carepulse ingest crm FILE --mapping MAPPING.toml"
TWEETS_COMMAND = N_("carepulse ingest twcs FILE (or: carepulse ingest jsonl FILE --account HANDLE)")


def page_header(title: str, question: str, extra: Any = None) -> html.Div:
    """The page's title and the question its audience brings to it."""
    return html.Div([html.H4(title, className="mb-0"), html.Div(question, className="text-muted small mb-2"),
                     extra or html.Span()], className="mt-2")


def thread_panel(page: str, link: bool = False, locale: Locale | None = None) -> dbc.Offcanvas:
    """The side panel a thread opens in, beside the list it was picked from (its words in ``locale``, else
    in the request's language)."""
    from carepulse.dashboard import ids

    words = language(locale)
    footer = [dbc.Button(_("Open in Explore (a link to this thread)", words), id=ids.thread_panel_link(page),
                         href="/explore", color="link", size="sm", className="px-0")] if link else []
    return dbc.Offcanvas([*footer, loading(html.Div(id=ids.thread_panel_body(page)))], id=ids.thread_panel(page),
                         title=_("Thread", words), placement="end", is_open=False, scrollable=True,
                         style={"width": "min(720px, 92vw)"})


# ---- the thread view ----------------------------------------------------------------------------

ROLE_COLOURS = {"customer": "primary", "brand": "success", "other customer": "secondary"}
# The words below are English (marked for the catalog) and translated where a thread is drawn.
ROLE_WORDS = {"customer": N_("customer"), "brand": N_("brand"), "other customer": N_("other customer")}
LINK_WORDS = {"conversation": N_("linked by conversation id"), "handle_window": N_("linked by handle and time window"),
              "none": N_("not linked")}
CASE_FIELDS = {"agent": N_("agent {value}"), "team": N_("team {value}"), "category": N_("category {value}")}


def thread_view(detail: dict[str, Any] | None, tweets: pd.DataFrame, cases: pd.DataFrame, locale: Locale,
                sla_seconds: float) -> html.Div:
    """One thread: who, which account, status and speed, its CRM cases, then every tweet in order."""
    if detail is None:
        return html.Div(empty_state(_("This thread is not in the warehouse (any more); pick another one", locale)))
    answered = detail.get("status") == values.ANSWERED
    frs = detail.get("first_response_seconds")
    status = (dbc.Badge(_("answered", locale), color="success", className="me-1") if answered
              else dbc.Badge(_("waiting", locale), color="danger", className="me-1"))
    if not answered:
        speed = _("no response yet", locale)
    elif frs is not None and frs <= sla_seconds:
        speed = _("first response after {duration} (within the SLA)", locale).format(duration=fmt.duration(frs, locale))
    else:
        speed = _("first response after {duration} (SLA missed)", locale).format(duration=fmt.duration(frs, locale))
    header = html.Div([
        html.Div([status, html.Span(f"@{detail.get('customer_handle')}", className="fw-semibold"),
                  html.Span(" → "), html.Span(f"@{detail.get('account') or _('unassigned', locale)}")]),
        html.Div(_("started {moment} · {speed} · {tweets} customer tweets, {replies} brand replies", locale).format(
            moment=fmt.moment(detail.get("started_at"), locale), speed=speed,
            tweets=fmt.number(detail.get("customer_tweets"), locale),
            replies=fmt.number(detail.get("brand_replies"), locale)), className="small text-muted"),
        html.Div(_("thread {id}", locale).format(id=detail.get("thread_id")),
                 className="small text-muted font-monospace"),
    ], className="mb-2")
    crm: Any = html.Div(_("No CRM case is linked to this thread.", locale), className="small text-muted mb-2")
    if not cases.empty:
        crm = html.Ul([html.Li(_case_line(case, locale)) for case in cases.to_dict("records")],
                      className="small mb-2 ps-3")
    conversation = [_tweet_item(t, locale) for t in tweets.itertuples(index=False)]
    if not conversation:
        conversation = [dbc.ListGroupItem(_("No tweets found for this thread.", locale))]
    return html.Div([header, crm, dbc.ListGroup(conversation, className="thread-conversation")])


def _case_line(case: dict[Any, Any], locale: Locale) -> str:
    """One linked CRM case in words, with how it was linked to the thread."""
    method = str(case.get("link_method"))
    outcome = case.get("outcome") if _present(case.get("outcome")) else _("none", locale)
    parts = [_("CRM case {id}", locale).format(id=case.get("case_id")),
             _(LINK_WORDS[method], locale) if method in LINK_WORDS else method,
             _("channel {channel}", locale).format(channel=case.get("channel")),
             _("outcome {outcome}", locale).format(outcome=outcome)]
    if _present(case.get("csat")):
        parts.append(_("CSAT {score}", locale).format(score=int(case["csat"])))
    for key, words in CASE_FIELDS.items():
        if _present(case.get(key)):
            parts.append(_(words, locale).format(value=case[key]))
    return " · ".join(parts)


def _present(value: Any) -> bool:
    try:
        return value is not None and not pd.isna(value)
    except (TypeError, ValueError):
        return True


def _tweet_item(tweet: Any, locale: Locale) -> dbc.ListGroupItem:
    role = str(tweet.role)
    wait = tweet.wait_seconds
    meta = [dbc.Badge(_(ROLE_WORDS[role], locale) if role in ROLE_WORDS else role,
                      color=ROLE_COLOURS.get(role, "secondary"), className="me-2"),
            html.Span(f"@{tweet.author_handle}", className="fw-semibold me-2"),
            html.Span(fmt.moment(tweet.created_at, locale), className="text-muted small me-2")]
    if _present(wait):
        meta.append(html.Span(_("+{duration} after the previous tweet", locale).format(
            duration=fmt.duration(wait, locale)), className="text-muted small"))
    first = getattr(tweet, "is_first_response", None)
    if _present(first) and bool(first):
        meta.append(dbc.Badge(_("first response", locale), color="info", className="ms-2"))
    # The tweet text is a plain string child: React escapes it, nothing in it is interpreted.
    text = html.Div(str(tweet.text or ""), className="tweet-text", style={"whiteSpace": "pre-wrap"})
    return dbc.ListGroupItem([html.Div(meta), text], className="py-2")
