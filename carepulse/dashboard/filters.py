"""The global filters, kept in the URL so that a link reproduces the view.

Query keys: ``from`` and ``to`` (local days, ISO), ``account``, ``channel``, ``team``, ``category``.
Pages may add their own keys (Explore: ``metrics``, ``by``, ``ci``, ``chart``); changing a
global filter keeps them. The filter bar is drawn by every page's layout from the query it was
given, and the page keeps that query in its store (``<page>-query``). Changing a control changes
only the store, so the page stays drawn and only its data callbacks run; the browser then writes the
store into the address bar (see :func:`follow_filters`), so a copied link or a reload shows the same
view.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, dcc, html

from carepulse.core.config import FIRST_DAY, LAST_DAY
from carepulse.core.errors import ConfigError
from carepulse.dashboard import components, ids, state
from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.i18n import N_, _
from carepulse.metrics import data_views, periods
from carepulse.metrics.context import Filters

FILTER_KEYS = ("from", "to", "account", "channel", "team", "category", "agent")
DIMENSIONS = ("account", "channel", "team", "category", "agent")
# Filters the URL carries that have no control in the bar (an agent is picked from the Team page's agent
# table or a link): a filter change keeps them, the bar names them with a link that removes them.
LINK_ONLY = ("agent",)
LINK_ONLY_NAMES = {"agent": N_("agent")}
LINK_ONLY_ALL = {"agent": N_("all agents")}


def parse_search(search: str | None) -> dict[str, str]:
    """``?a=1&b=2`` -> ``{"a": "1", "b": "2"}`` (the last value wins, blanks dropped)."""
    return {k: v for k, v in parse_qsl((search or "").lstrip("?"), keep_blank_values=False)}


def to_search(query: Mapping[str, Any]) -> str:
    """The inverse of :func:`parse_search`; empty values are left out, key order kept."""
    items = [(k, str(v)) for k, v in query.items() if v not in (None, "", [], ())]
    return "?" + urlencode(items) if items else ""


# A filter value longer than this is not a name anyone picked from a list; shown shortened in notices.
MAX_VALUE_CHARS = 500
SHOWN_CHARS = 60
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def shown(value: Any) -> str:
    """A user's value as a notice quotes it: shortened, unprintable characters escaped."""
    text = str(value)
    text = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
    return text.encode("unicode_escape", errors="backslashreplace").decode("ascii") if not text.isprintable() \
        else text


def _day(key: str, value: Any) -> tuple[date | None, str | None]:
    """A local day from the URL, or why it is ignored: only a whole ``YYYY-MM-DD`` within
    FIRST_DAY..LAST_DAY (``2026-01-01junk`` is not cut to a date, ``0001-01-01`` not sent to the database)."""
    if not value:
        return None, None
    text = str(value).strip()
    if not _ISO_DAY.fullmatch(text):
        return None, f"ignored {key}={shown(text)}: not a date like 2026-05-31"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, f"ignored {key}={text}: no such day"
    if not FIRST_DAY <= day <= LAST_DAY:
        return None, f"ignored {key}={text}: outside {FIRST_DAY.year} to {LAST_DAY.year}"
    return day, None


def checked_value(key: str, value: Any) -> tuple[str | None, str | None]:
    """A dimension value from the URL, or why it is ignored (too long, or not text: a lone surrogate)."""
    if value in (None, ""):
        return None, None
    if not isinstance(value, str):
        return None, f"ignored {key}: not text"
    text = value.strip()
    if len(text) > MAX_VALUE_CHARS:
        return None, f"ignored {key}={shown(text)}: longer than {MAX_VALUE_CHARS} characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None, f"ignored {key}={shown(text)}: not valid text"
    if any(ord(c) < 32 for c in text):
        return None, f"ignored {key}={shown(text)}: holds control characters"
    return text or None, None


def filters_from_query(query: Mapping[str, Any]) -> tuple[Filters, list[str]]:
    """The Filters a URL asks for, and the parts of it that could not be used (said on the page,
    refused with 400 by an export: a download never silently drops a filter)."""
    problems: list[str] = []
    (start, bad_start), (end, bad_end) = _day("from", query.get("from")), _day("to", query.get("to"))
    problems += [p for p in (bad_start, bad_end) if p]
    if start and end and end < start:
        problems.append(f"ignored the date range: {end} is before {start}")
        start = end = None
    values: dict[str, str | None] = {}
    for key in DIMENSIONS:
        values[key], problem = checked_value(key, query.get(key))
        if problem:
            problems.append(problem)
    try:
        return Filters(date_from=start, date_to=end, **values), problems
    except ConfigError as exc:
        return Filters(), [*problems, str(exc)]


MAX_QUERY_CHARS = 20_000


class BadQuery(ValueError):
    """A query a download cannot be made from; the message says why (sent with HTTP 400)."""


def query_from_json(text: str | None) -> dict[str, Any]:
    """The page query an export link carries as JSON (``q``): a flat object of text, numbers and lists of
    text, at most MAX_QUERY_CHARS long, whose filters all apply. Anything else is refused with the reason,
    never guessed at: a download that silently dropped a filter would be read as the filtered data."""
    if not text:
        return {}
    if len(text) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query is longer than {MAX_QUERY_CHARS:,} characters")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadQuery("the query is not valid JSON") from exc
    plain = (str, int, float, bool, type(None))
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and (isinstance(v, plain) or (isinstance(v, list) and all(isinstance(i, str)
                                                                                          for i in v)))
            for k, v in data.items()):
        raise BadQuery("the query must be an object of text values")
    problems = filters_from_query(data)[1]
    if problems:
        raise BadQuery("; ".join(problems))
    return data


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def filters_from_store(data: Mapping[str, Any] | None) -> Filters:
    """The page's query store back into Filters (the store holds the query's filter keys)."""
    return filters_from_query(data or {})[0]


def filter_query(query: Mapping[str, Any]) -> dict[str, str]:
    """Only the global filter keys of a query, for stores and links to other pages."""
    return {k: str(query[k]) for k in FILTER_KEYS if query.get(k)}


def options() -> data_views.FilterOptions | None:
    if not state.warehouse_exists():
        return None
    return state.load(data_views.filter_options)


# Option labels are shortened for display (the value stays whole): a CRM category of 6,000 characters
# made the searchable dropdown index it on every page and froze the browser for 30 s.
OPTION_LABEL_CHARS = 80


def option(value: str) -> dict[str, str]:
    """A dropdown option: the whole value, a shortened label, and the same short text to search in."""
    label = value if len(value) <= OPTION_LABEL_CHARS else value[:OPTION_LABEL_CHARS - 1] + "…"
    return {"label": label, "value": value, "search": label, "title": label}


def _select(component_id: str, placeholder: str, choices: tuple[str, ...], value: str | None) -> dcc.Dropdown:
    values = list(choices)
    if value and value not in values:  # keep what the link asks for, even when no data has it (yet)
        values.append(value)
    return dcc.Dropdown(id=component_id, options=[option(v) for v in values], value=value,
                        placeholder=placeholder, clearable=True, searchable=True, className="cp-filter",
                        labels=components.dropdown_labels())


# Said on every page (issue 12): a thread's team and category are those of its linked CRM case, so these two
# filters keep only the threads that have one, and a response rate on them reads higher than the desk's.
TEAM_CATEGORY_NOTE = N_("team and category come from CRM cases: set, they keep only the Twitter threads that "
                        "have a CRM case")


def filter_bar(query: Mapping[str, Any]) -> html.Div:
    """The filter controls, set from the URL query; a note when the URL held something unusable."""
    opts = options()
    locale = state.locale()
    range_note = default_range_note(query, opts, locale)
    filters, problems = filters_from_query(with_default_range(query, opts))
    first = opts.first_day if opts else None
    last = opts.last_day if opts else None
    picker = dcc.DatePickerRange(
        id=ids.FILTER_DATES,
        start_date=filters.date_from.isoformat() if filters.date_from else None,
        end_date=filters.date_to.isoformat() if filters.date_to else None,
        min_date_allowed=first.isoformat() if first else None,
        max_date_allowed=last.isoformat() if last else None,
        initial_visible_month=_iso(filters.date_to or last),
        display_format=fmt.picker_format(locale), first_day_of_week=1, clearable=True,
        updatemode="bothdates", start_date_placeholder_text=_("from"), end_date_placeholder_text=_("to"),
        className="cp-dates",
    )
    span = (_("data from {first} to {last}").format(first=fmt.day(first, locale), last=fmt.day(last, locale))
            if first and last else _("no data loaded"))
    row = dbc.Row([
        dbc.Col(picker, xs=12, lg=3, className="mb-1"),
        dbc.Col(_select(ids.FILTER_ACCOUNT, _("All accounts"), opts.accounts if opts else (), filters.account),
                xs=6, lg=2, className="mb-1"),
        dbc.Col(_select(ids.FILTER_CHANNEL, _("All channels"), opts.channels if opts else (), filters.channel),
                xs=6, lg=2, className="mb-1"),
        dbc.Col(_select(ids.FILTER_TEAM, _("All teams"), opts.teams if opts else (), filters.team),
                xs=6, lg=2, className="mb-1"),
        dbc.Col(_select(ids.FILTER_CATEGORY, _("All categories"), opts.categories if opts else (), filters.category),
                xs=6, lg=2, className="mb-1"),
        dbc.Col(dbc.Button(_("Reset"), id=ids.FILTER_RESET, color="link", size="sm", className="px-0",
                           title=_("clear every filter")), xs=12, lg=1, className="mb-1 d-flex align-items-center"),
    ], className="g-2 align-items-center")
    link_only = [html.Span([f" · {_(LINK_ONLY_NAMES[key])}: {shown(value)} (",
                            html.A(_(LINK_ONLY_ALL[key]), href=to_search({k: v for k, v in query.items() if k != key})
                                   or "?"), ")"])
                 for key in LINK_ONLY if (value := getattr(filters, key, None))]
    notes = [html.Div([span, *([range_note] if range_note else []), *link_only,
                       html.Span(" · " + _(TEAM_CATEGORY_NOTE))], className="small text-muted")]
    notes += [dbc.Alert(p, color="warning", className="py-1 px-2 mb-1 small") for p in problems]
    return html.Div([row, preset_row(opts, locale), *notes], className="cp-filter-bar border-bottom pb-2 mb-2")


def preset_ranges(opts: data_views.FilterOptions | None, launch: date | None) -> dict[str, list[str]]:
    """Each preset's days (``metrics.periods``), counted back from the data's last day; empty without data.
    ``since-launch`` starts at the pilot's start (cost settings), else where the data is."""
    if opts is None or opts.last_day is None:
        return {}
    start = launch or opts.main_first_day or opts.first_day
    out = {}
    for name in periods.PRESETS:
        period = periods.preset_period(name, opts.last_day, start)
        out[name] = [period.start.isoformat(), period.end.isoformat()]
    return out


def preset_row(opts: data_views.FilterOptions | None, locale: fmt.Locale) -> html.Div:
    """One-click ranges. A click sets the date picker (in the browser), which changes the page's query
    like any other filter change, so the other filters stay as they are."""
    ranges = preset_ranges(opts, state.settings().cost.pilot_start)
    buttons = [dbc.Button(periods.PRESET_LABELS[name][locale], id=ids.FILTER_PRESET_PREFIX + name, color="link",
                          size="sm", className="px-1 py-0", disabled=name not in ranges,
                          title=" – ".join(ranges.get(name, [])))
               for name in periods.PRESETS]
    label = _("Range:")
    return html.Div([html.Span(label, className="small text-muted me-1"), *buttons,
                     dcc.Store(id=ids.FILTER_PRESETS, data=ranges)],
                    className="d-flex flex-wrap align-items-center cp-presets")


def with_default_range(query: Mapping[str, Any], opts: data_views.FilterOptions | None) -> dict[str, Any]:
    """The query with the default start day where it names none: where the data is, after the last gap of
    weeks without any record (``FilterOptions.main_first_day``); the whole range stays one click away."""
    out = dict(query)
    if not out.get("from") and not out.get("to") and opts is not None and opts.main_first_day is not None:
        out["from"] = opts.main_first_day.isoformat()
    return out


def default_range_note(query: Mapping[str, Any], opts: data_views.FilterOptions | None,
                       locale: fmt.Locale) -> Any:
    """What the default range leaves out, with a link to the whole range; None when nothing is left out."""
    if query.get("from") or query.get("to") or opts is None or opts.main_first_day is None or not opts.first_day:
        return None
    whole = to_search({**dict(query), "from": opts.first_day.isoformat()})
    return html.Span([
        " · " + _("from {day}, where the data is: {n} thread(s) before a gap of weeks without data are left out (")
        .format(day=fmt.day(opts.main_first_day, locale), n=fmt.number(opts.threads_before_main, locale)),
        html.A(_("whole range"), href=whole, id=ids.FILTER_WHOLE_RANGE), ")",
    ])


def query_store(store_id: str, query: Mapping[str, Any], **page_keys: Any) -> dcc.Store:
    """The page's inputs as data: its callbacks fire once when the page is drawn, from this store."""
    dated = query.get("from") or query.get("to")  # the data's range is looked up only when it is needed
    data = filter_query(query if dated else with_default_range(query, options()))
    data.update({k: v for k, v in page_keys.items() if v not in (None, "", [], ())})
    return dcc.Store(id=store_id, data=data)


# ---- callbacks -----------------------------------------------------------------------------------

CONTROLS = ((ids.FILTER_DATES, "start_date"), (ids.FILTER_DATES, "end_date"), (ids.FILTER_ACCOUNT, "value"),
            (ids.FILTER_CHANNEL, "value"), (ids.FILTER_TEAM, "value"), (ids.FILTER_CATEGORY, "value"))
"""The filter bar's controls in the order :func:`apply_filters` takes them (and reset clears them)."""


def updated_query(data: Mapping[str, Any] | None, start: str | None, end: str | None, account: str | None,
                  channel: str | None, team: str | None, category: str | None) -> dict[str, str]:
    """The page's query after a filter change: filter keys as the controls now say, page keys kept.

    Filter keys come first, as :func:`query_store` puts them, so the address reads the same whether
    the page was opened from a link or changed in place.
    """
    chosen = {"from": start[:10] if start else None, "to": end[:10] if end else None,
              "account": account, "channel": channel, "team": team, "category": category}
    query = {k: str(v) for k, v in chosen.items() if v}
    query.update({k: str(v) for k, v in (data or {}).items()
                  if (k not in FILTER_KEYS or k in LINK_ONLY) and v not in (None, "")})
    return query


def address(data: Mapping[str, Any] | None) -> str:
    """The address query that reproduces a page: its query store, blanks dropped.

    The rule ``carepulse.writeAddress`` (``assets/address.js``) applies in the browser after a filter
    change; :func:`query_store` reads it back on a reload, so a copied link shows the same view.
    """
    return to_search(data or {})


def apply_filters(start: str | None, end: str | None, account: str | None, channel: str | None, team: str | None,
                  category: str | None, data: dict[str, Any] | None) -> Any:
    new = updated_query(data, start, end, account, channel, team, category)
    if new == (data or {}):
        return dash.no_update  # e.g. a control settling on mount: the page already shows this selection
    return new


def follow_filters(store_id: str) -> None:
    """Wire a page's query store to the filter bar and to the address bar (every page calls it once).

    A filter change updates only the store, so the page stays mounted and only its data callbacks
    run; redrawing the page through Dash's routing (``_pages_location``) would re-send its whole
    layout on every change. The address follows in the browser with ``history.replaceState``, which
    no ``dcc.Location`` hears, and the shell's ``url`` (``refresh=False``) is told the new query so the
    navbar links and the drill-down's hash writes carry it.
    """
    dash.callback(
        Output(store_id, "data"),
        *[Input(component, prop) for component, prop in CONTROLS],
        State(store_id, "data"),
        prevent_initial_call=True,
    )(apply_filters)
    dash.clientside_callback(
        ClientsideFunction(namespace="carepulse", function_name="writeAddress"),
        Output(ids.URL, "search", allow_duplicate=True),
        Input(store_id, "data"),
        prevent_initial_call=True,
    )


# Reset clears the controls in the browser; their new values reach the page's query store like any
# other change (the page is not drawn again, so the controls must be told).
dash.clientside_callback(
    f"function (_clicks) {{ return [{', '.join(['null'] * len(CONTROLS))}]; }}",
    *[Output(component, prop) for component, prop in CONTROLS],
    Input(ids.FILTER_RESET, "n_clicks"),
    prevent_initial_call=True,
)


# A preset sets the date picker; the page's query follows as after any other change of the picker.
dash.clientside_callback(
    """function () {
        const ranges = arguments[arguments.length - 1] || {};
        const trigger = dash_clientside.callback_context.triggered_id || "";
        const chosen = ranges[String(trigger).replace(PREFIX, "")];
        if (!chosen) { return [dash_clientside.no_update, dash_clientside.no_update]; }
        return chosen;
    }""".replace("PREFIX", json.dumps(ids.FILTER_PRESET_PREFIX)),
    Output(ids.FILTER_DATES, "start_date", allow_duplicate=True),
    Output(ids.FILTER_DATES, "end_date", allow_duplicate=True),
    *[Input(ids.FILTER_PRESET_PREFIX + name, "n_clicks") for name in periods.PRESETS],
    State(ids.FILTER_PRESETS, "data"),
    prevent_initial_call=True,
)


PAGES = (("pilot", N_("Pilot"), "/"), ("team", N_("Team"), "/team"), ("explore", N_("Explore"), "/explore"),
         ("data", N_("Data"), "/data"))


def nav_hrefs(search: str | None) -> list[str]:
    """Links to every page carrying the current global filters (page keys stay behind).

    The rule the navbar follows; the browser applies it itself (the clientside callback below), and
    the unit tests pin it here.
    """
    tail = to_search(filter_query(parse_search(search)))
    return [path + tail for _, _, path in PAGES]


# :func:`nav_hrefs` in the browser: the links follow every filter change without a round trip
# (the global filter keys in their order, the last value of a key winning, blanks dropped).
dash.clientside_callback(
    """function (search) {
        const params = new URLSearchParams(search || "");
        const kept = new URLSearchParams();
        KEYS.forEach(function (key) {
            const values = params.getAll(key).filter(function (v) { return v !== ""; });
            if (values.length) { kept.set(key, values[values.length - 1]); }
        });
        const tail = kept.toString() ? "?" + kept.toString() : "";
        return PATHS.map(function (path) { return path + tail; });
    }""".replace("KEYS", json.dumps(list(FILTER_KEYS))).replace("PATHS", json.dumps([p for _, _, p in PAGES])),
    [Output(ids.NAV_PREFIX + key, "href") for key, _, _ in PAGES],
    Input(ids.URL, "search"),
)
