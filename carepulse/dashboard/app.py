"""The app shell: navigation, the URL that holds the filters, the pages, and the server.

``create_app(db, settings)`` builds a Dash app over one warehouse file; ``serve(db, host, port,
settings)`` runs it (127.0.0.1 unless told otherwise). Pages live in ``dashboard/pages/`` (one
module each, registered with ``dash.register_page``); their layouts are functions of the URL query.
A filter change does not draw the page again: it updates the page's query store and the address
(``filters.follow_filters``); only a change of page, or of Explore's view, goes through the routing.
Styles and grid formatters are served from ``dashboard/assets/`` (no CDN: the dashboard works offline).

One app per process: the pages register their callbacks globally (``@dash.callback``) when Dash
imports them, so a second ``create_app`` in the same process would register them twice.

A warehouse that cannot be read is a page, not a crash: ``serve`` refuses to start on one (one
``error:`` line), and if the file goes bad while serving, every page's body becomes an error panel
saying why (``_guarded_layout``), the shell shows the same panel above any page already open, and a
callback that meets the failure updates that panel instead of answering HTTP 500 (``_callback_failed``).
"""

from __future__ import annotations

import functools
import gc
import importlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from carepulse.core.config import Settings, load_settings
from carepulse.core.errors import ConfigError
from carepulse.dashboard import auth, filters, i18n, ids, serving, state, views_menu
from carepulse.dashboard import formatting as fmt
from carepulse.metrics import data_views

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
PAGE_MODULES = tuple(f"carepulse.dashboard.pages.{name}" for name in ("pilot", "team", "explore", "data"))
LANDING_PAGE = "carepulse.dashboard.pages.pilot"  # the page "/" opens: prepared before the server listens
LANDING_WAIT_S = 60.0  # the longest the address waits for it
# imported by metrics.stats on first use; imported at start instead (see import_statistics)
STATISTICS_MODULES = ("scipy.stats", "statsmodels.api", "statsmodels.stats.proportion",
                      "statsmodels.duration.survfunc", "statsmodels.tsa.exponential_smoothing.ets")
WAREHOUSE_ALERT = "warehouse-alert"  # the shell's error panel, above every page


def warehouse_error_panel(problem: str | None) -> dbc.Alert | None:
    """What a page shows instead of its data when the warehouse cannot be read: what and why."""
    if problem is None:
        return None
    return dbc.Alert([
        html.H4("The warehouse cannot be read", className="alert-heading"),
        html.P(problem.removeprefix("cannot read the warehouse: "), className="cp-warehouse-problem"),
        html.P("No figures are shown until it can be read again. Fix or replace the file as the message says, "
               "then reload this page.", className="mb-0 small"),
    ], color="danger", className="mt-3")


def shell() -> html.Div:
    """Navigation bar, the URL, and the page container; the same on every page."""
    user = auth.current_user()  # None: no login configured (one user on this machine), every page shown
    links = [dbc.NavItem(dbc.NavLink(i18n._(title), href=path, id=ids.NAV_PREFIX + key,
                                     active="exact" if path == "/" else "partial"),
                         style=None if user is None or auth.may_open(user[1], path) else {"display": "none"})
             for key, title, path in filters.PAGES]
    here = state.locale()
    languages = [html.A(code.upper(), href=f"/lang/{code}", id=f"shell-lang-{code}", lang=code,
                        title=i18n.LANGUAGE_NAMES[code],
                        className="navbar-text small me-2 " + ("fw-bold text-light" if code == here else "text-light"))
                 for code in i18n.LANGUAGES]
    account = [] if user is None else [
        html.Span(f"{user[0]} ({user[1]})", className="navbar-text small text-light me-2"),
        html.A(i18n._("Log out"), href="/logout", className="btn btn-sm btn-outline-light me-2", id="shell-logout")]
    navbar = dbc.Navbar(dbc.Container([
        dbc.NavbarBrand("carepulse", href="/", className="fw-bold"),
        dbc.Nav(links, navbar=True, className="me-auto"),
        *views_menu.navbar_items(),
        *languages,
        *account,
        html.Span(id=ids.AS_OF, className="navbar-text small text-light"),
    ], fluid=True), color="dark", dark=True, className="py-1")
    return html.Div([
        # refresh=False: writing it (a filter change, a drill-down) changes the address without telling
        # Dash's routing Location, so the page is not drawn again (see filters.follow_filters)
        dcc.Location(id=ids.URL, refresh=False),
        navbar,
        dbc.Container(html.Div(id=WAREHOUSE_ALERT), fluid=True),
        dbc.Container(dash.page_container, fluid=True, className="pb-4 cp-page"),
    ])


@dash.callback(Output(WAREHOUSE_ALERT, "children"), Input(ids.URL, "pathname"))
def clear_warehouse_alert(_pathname: str | None) -> None:
    """A change of page clears the panel a failed callback put above the last page: the new page's body,
    drawn by its guarded layout, is itself the panel if the warehouse still cannot be read."""
    return None


@dash.callback(Output(ids.AS_OF, "children"), Input(ids.URL, "pathname"))
def show_as_of(_pathname: str | None) -> str:
    if not state.warehouse_exists():
        return i18n._("no warehouse at {path}").format(path=state.current().path)
    if state.warehouse_problem() is not None:
        return i18n._("cannot read {name}").format(name=state.current().path.name)
    summary = state.load(data_views.warehouse_summary)
    return i18n._("data as of {moment} · {name}").format(moment=fmt.moment(summary.get("as_of"), state.locale()),
                                                         name=state.current().path.name)


INDEX = """<!DOCTYPE html>
<html lang="{lang}">
    <head>
        {{%metas%}}
        <title>{{%title%}}</title>
        {{%favicon%}}
        {{%css%}}
    </head>
    <body>
        {{%app_entry%}}
        <footer>
            {{%config%}}
            {{%scripts%}}
            {{%renderer%}}
        </footer>
    </body>
</html>"""


class _Dash(dash.Dash):
    """Dash with ``<html lang>`` set per request: the language the page is drawn in (``i18n``)."""

    def interpolate_index(self, **kwargs: Any) -> str:  # type: ignore[override]
        page: str = super().interpolate_index(**kwargs)
        return page.replace('<html lang="__lang__">', f'<html lang="{state.locale()}">', 1)


# The language links keep the page and its filters: /lang/de?next=<this address>.
dash.clientside_callback(
    """function (pathname, search) {
        const next = encodeURIComponent((pathname || "/") + (search || ""));
        return LANGS.map(function (code) { return "/lang/" + code + "?next=" + next; });
    }""".replace("LANGS", json.dumps(list(i18n.LANGUAGES))),
    [Output(f"shell-lang-{code}", "href") for code in i18n.LANGUAGES],
    Input(ids.URL, "pathname"), Input(ids.URL, "search"),
)


def create_app(db: Path | str, settings: Settings, *,
               allowed_hosts: frozenset[str] = serving.LOOPBACK_NAMES) -> dash.Dash:
    """The dashboard over the warehouse file ``db`` (read through snapshots; loads may run meanwhile), answering
    only requests whose Host is in ``allowed_hosts`` (see :mod:`carepulse.dashboard.serving`)."""
    state.configure(db, settings)
    app = _Dash(
        "carepulse.dashboard",  # Dash imports the pages as <name>.pages.<page>: the real module names
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        suppress_callback_exceptions=True,  # page components appear only with their page
        title="carepulse",
        update_title="",  # no "Updating..." flicker in the tab title
        serve_locally=True,
        on_error=_callback_failed,
    )
    app.layout = shell
    app.index_string = INDEX.format(lang="__lang__")
    serving.protect(app, allowed_hosts)
    auth.install(app.server, Path(db), settings)
    i18n.install(app.server)
    for page in dash.page_registry.values():
        if callable(page.get("layout")):
            page["layout"] = _guarded_layout(page["layout"])
    app.server.before_request(_pilot_alias)
    app.server.add_url_rule("/export/threads.<fmt>", "export_threads", export_route)
    app.server.add_url_rule("/report.<fmt>", "report", report_route)
    app.server.register_error_handler(Exception, _route_failed)
    return app


def _guarded_layout(layout: Any) -> Any:
    """A page layout that becomes the error panel when the warehouse cannot be read (before or while drawing)."""
    if getattr(layout, "carepulse_guarded", False):
        return layout

    @functools.wraps(layout)
    def guarded(**query: Any) -> Any:
        problem = state.warehouse_problem()
        if problem is None:
            try:
                return layout(**query)
            except Exception as exc:
                problem = state.failure_message(exc)
                if problem is None:
                    raise
        return warehouse_error_panel(problem)

    guarded.carepulse_guarded = True  # type: ignore[attr-defined]
    return guarded


def _callback_failed(exc: Exception) -> None:
    """Dash's handler for an exception in any callback: a warehouse failure updates the shell's error panel
    (the callback's own outputs stay as they are: no HTTP 500, no traceback); anything else is a bug and
    is raised again, to be logged with its traceback."""
    problem = state.failure_message(exc)
    if problem is None:
        raise exc
    log.warning("a callback met a warehouse it cannot read: %s", problem)
    dash.set_props(WAREHOUSE_ALERT, {"children": warehouse_error_panel(problem)})


def _route_failed(exc: Exception) -> Any:
    """A plain route (the thread export) that meets an unreadable warehouse answers 503 with the reason.

    Registered for every exception (DuckDB's are among them, and the dashboard keeps off the DuckDB module):
    HTTP errors pass through as they are, and anything else is raised again, a bug with its traceback.
    """
    import flask
    from werkzeug.exceptions import HTTPException

    if isinstance(exc, HTTPException):
        return exc
    problem = state.failure_message(exc)
    if problem is None:
        raise exc
    return flask.Response(f"The warehouse cannot be read: {problem}\n", status=503, mimetype="text/plain")


def export_route(fmt: str) -> Any:
    """The Explore page's thread export as a plain download (see ``explore.threads_export_href``)."""
    import flask

    from carepulse.dashboard import ids
    from carepulse.dashboard.filters import BadQuery, query_from_json
    from carepulse.dashboard.pages import explore

    if fmt not in ids.EXPORT_FORMATS:
        flask.abort(404)
    try:
        data = query_from_json(flask.request.args.get("q"))
    except BadQuery as exc:
        return flask.Response(f"error: {exc}\n", status=400, mimetype="text/plain")
    # ?csv=raw: the text as stored, for machines that read CSV as data (docs/dashboard.md, exports)
    raw = flask.request.args.get("csv") == "raw"
    content, filename, media = explore.threads_file(fmt, data, flask.request.args.get("hash"), not raw)
    _audit("export", {"route": flask.request.path, "query": flask.request.args.get("q"), "csv_raw": raw})
    return flask.Response(content, mimetype=media,
                          headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                   "Cache-Control": "no-store"})


def report_route(fmt: str) -> Any:
    """The management report (``carepulse report``) as a download: ``/report.pdf?period=LAST-4-WEEKS``."""
    import flask

    from carepulse.core.errors import CarepulseError
    from carepulse.report import FORMATS, render_report

    if fmt not in FORMATS:
        flask.abort(404)
    period = flask.request.args.get("period", "LAST-4-WEEKS")[:40]
    compare = flask.request.args.get("compare", "previous")[:20]
    try:
        # in the reader's language (the switch's cookie, else the configured locale), as the page they came from
        content = state.load(render_report, period, fmt, compare=compare, language=state.locale())
    except CarepulseError as exc:
        return flask.Response(f"error: {exc}\n", status=400, mimetype="text/plain")
    _audit("report", {"route": flask.request.path, "period": period, "compare": compare})
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    name = "carepulse-report-" + "".join(c for c in period if c.isalnum() or c == "-") + "." + fmt
    return flask.Response(content, mimetype=media,
                          headers={"Content-Disposition": f'attachment; filename="{name}"',
                                   "Cache-Control": "no-store"})


def _audit(action: str, detail: dict[str, Any]) -> None:
    """A download in the audit log: by the logged-in user, or "local" when the dashboard has no login."""
    import flask

    from carepulse.warehouse import audit

    user = auth.current_user()
    audit.record(state.current().path, user[0] if user else "local", action,
                 {**detail, "addr": flask.request.remote_addr})


def _pilot_alias() -> Any:
    """``/pilot`` is the Pilot page too (it lives at ``/``); the query, and with it the filters, is kept."""
    import flask

    if flask.request.path.rstrip("/") == "/pilot":
        query = flask.request.query_string.decode("latin-1")
        return flask.redirect("/" + (f"?{query}" if query else ""))
    return None


def import_statistics() -> None:
    """The statistics libraries metrics imports on first use (about 1.2 s, mostly scipy.stats).

    Imported at start, beside the landing page's queries (DuckDB runs without the GIL), so that no
    request pays for them.
    """
    for name in STATISTICS_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # a page that needs it says so when it asks
            log.debug("could not import %s", name, exc_info=True)


def prepare_landing() -> None:
    """Everything a browser opening ``/`` asks for, computed at once: the shell's as-of line, the Pilot
    page's layout and data callbacks, and, beside them, the statistics imports."""
    landing = sys.modules.get(LANDING_PAGE)
    jobs: list[Any] = [import_statistics, functools.partial(show_as_of, "/")]
    if landing is not None and hasattr(landing, "warm_up"):
        jobs.append(landing.warm_up)
    state.run_at_once(jobs)


def warm_up_jobs() -> list[Any]:
    """The other pages' default views (no filters), loaded once in the background after start; then the
    objects start-up made are put out of the garbage collector's way (:func:`freeze_start_up`)."""
    jobs = []
    for name in PAGE_MODULES:
        module = sys.modules.get(name)
        if name != LANDING_PAGE and module is not None and hasattr(module, "warm_up"):
            jobs.append(module.warm_up)
    return [*jobs, freeze_start_up]


def freeze_start_up() -> None:
    """Leave what start-up made (modules, pages, the warm views: about 230,000 objects) out of every later
    garbage collection.

    Those objects live as long as the server. A request allocates enough (figures, frames) to set off the
    collector's oldest generation now and then, and each of those walked all of them: 2 to 4 ms on a
    15 ms callback (the Team page's heat maps, measured p50 over HTTP). Garbage is collected first, so
    only live objects are frozen; what requests make later is collected as before.
    """
    gc.collect()
    gc.freeze()


def serve(db: Path | str, host: str = "127.0.0.1", port: int = 8050, settings: Settings | None = None,
          allow_hosts: tuple[str, ...] = ()) -> None:
    """Run the dashboard until Ctrl-C. Binds 127.0.0.1 by default: the data stays on this machine.

    The address is printed, and the server listens, once the Pilot page (where ``/`` opens) is ready:
    its default views computed and the statistics libraries imported, so the first page a user opens
    shows its data at once instead of waiting for the same work. The address appears that much later
    (the Pilot page's own cost: seconds on a warehouse of millions of tweets; at most
    ``LANDING_WAIT_S``, after which the server listens anyway and a request joins the computation
    still running). The other pages warm up in the background after.
    """
    settings = settings or load_settings(db=Path(db))
    from carepulse.warehouse import Warehouse

    if not serving.is_loopback(host) and auth.sso_header():
        raise ConfigError(f"--host {host}: ${auth.SSO_HEADER_ENV} trusts a header only from a proxy on this "
                          "machine: bind 127.0.0.1 and let the proxy forward to it (docs/security.md)")
    if not serving.is_loopback(host) and not auth.users_configured(Path(db)):
        raise ConfigError(f"--host {host}: serving beyond this machine needs a login; add a user first: "
                          "carepulse users add NAME --role admin")
    probe = Warehouse(db).reader()  # refuse to start on a file that cannot be read: one error line, exit 2
    try:
        probe.connection().close()
    finally:
        probe.close()
    app = create_app(db, settings, allowed_hosts=serving.allowed_hosts(host, allow_hosts))
    print(f"carepulse dashboard: preparing the Pilot page (warehouse {db}) ...", flush=True)
    started = time.perf_counter()
    landing = state.warm_up([prepare_landing])
    landing.join(LANDING_WAIT_S)
    if landing.is_alive():
        log.warning("the Pilot page is still being prepared after %.0f s; serving anyway", LANDING_WAIT_S)
    else:
        log.info("Pilot page prepared in %.2f s", time.perf_counter() - started)
    state.warm_up(warm_up_jobs())
    state.release_replaced()  # an idle server lets go of a base a compaction replaced (docs/warehouse.md)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    serving.run(app, host, port, lambda url: print(
        f"carepulse dashboard on {url} (warehouse {db}; Ctrl-C to stop)", flush=True))
