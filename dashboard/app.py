"""The app shell: navigation, the URL that holds the filters, the pages, and the server.

``create_app(db, settings)`` builds a Dash app over one warehouse file; ``serve(db, host, port,
settings)`` runs it (127.0.0.1 unless told otherwise). Pages live in ``dashboard/pages/`` (one
module each, registered with ``dash.register_page``); their layouts are functions of the URL query.
Styles and grid formatters are served from ``dashboard/assets/`` (no CDN: the dashboard works offline).

One app per process: the pages register their callbacks globally (``@dash.callback``) when Dash
imports them, so a second ``create_app`` in the same process would register them twice.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from carepulse.config import Settings, load_settings
from dashboard import filters, ids, state
from dashboard import formatting as fmt
from metrics import data_views

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
PAGE_MODULES = ("dashboard.pages.pilot", "dashboard.pages.team", "dashboard.pages.explore", "dashboard.pages.data")


def shell() -> html.Div:
    """Navigation bar, the URL, and the page container; the same on every page."""
    links = [dbc.NavItem(dbc.NavLink(title, href=path, id=ids.NAV_PREFIX + key,
                                     active="exact" if path == "/" else "partial"))
             for key, title, path in filters.PAGES]
    navbar = dbc.Navbar(dbc.Container([
        dbc.NavbarBrand("carepulse", href="/", className="fw-bold"),
        dbc.Nav(links, navbar=True, className="me-auto"),
        html.Span(id=ids.AS_OF, className="navbar-text small text-light"),
    ], fluid=True), color="dark", dark=True, className="py-1")
    return html.Div([
        dcc.Location(id=ids.URL, refresh="callback-nav"),
        navbar,
        dbc.Container(dash.page_container, fluid=True, className="pb-4 cp-page"),
    ])


@dash.callback(Output(ids.AS_OF, "children"), Input(ids.URL, "pathname"))
def show_as_of(_pathname: str | None) -> str:
    if not state.warehouse_exists():
        return f"no warehouse at {state.current().path}"
    summary = state.load(data_views.warehouse_summary)
    return f"data as of {fmt.moment(summary.get('as_of'), state.locale())} · {state.current().path.name}"


def create_app(db: Path | str, settings: Settings) -> dash.Dash:
    """The dashboard over the warehouse file ``db`` (read through snapshots; loads may run meanwhile)."""
    state.configure(db, settings)
    app = dash.Dash(
        "dashboard",
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        suppress_callback_exceptions=True,  # page components appear only with their page
        title="carepulse",
        update_title="",  # no "Updating..." flicker in the tab title
        serve_locally=True,
    )
    app.layout = shell
    app.server.before_request(_pilot_alias)
    return app


def _pilot_alias() -> Any:
    """``/pilot`` is the Pilot page too (it lives at ``/``); the query, and with it the filters, is kept."""
    import flask

    if flask.request.path.rstrip("/") == "/pilot":
        query = flask.request.query_string.decode("latin-1")
        return flask.redirect("/" + (f"?{query}" if query else ""))
    return None


def warm_up_jobs() -> list[Any]:
    """Each page's default views (no filters), loaded once in the background after start."""
    jobs = []
    for name in PAGE_MODULES:
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "warm_up"):
            jobs.append(module.warm_up)
    return jobs


def serve(db: Path | str, host: str = "127.0.0.1", port: int = 8050, settings: Settings | None = None) -> None:
    """Run the dashboard until Ctrl-C. Binds 127.0.0.1 by default: the data stays on this machine."""
    settings = settings or load_settings(db=Path(db))
    app = create_app(db, settings)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {host}: anyone who can reach this machine on port {port} can read the data",
              file=sys.stderr)
    state.warm_up(warm_up_jobs())
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"carepulse dashboard on http://{shown}:{port}/ (warehouse {db}; Ctrl-C to stop)", flush=True)
    app.run(host=host, port=port, debug=False)
