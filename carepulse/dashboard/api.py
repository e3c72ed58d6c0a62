"""What a page's data needs, computed in this process without a browser or a server: the dashboard's data API.

A page's data callbacks take its query store (the filters, as the address has them) and ask metrics
through :func:`carepulse.dashboard.state.load`. :class:`PageData` runs those callbacks as plain
functions for a given query and says what they cost: the metric calls behind them (each distinct call
computed once, timed, the snapshot cache left out) and the whole callback with its figures and tables.
The benchmark (``benchmarks/dashboard.py``) sets these numbers beside the same callbacks over HTTP.

Callbacks are named as Dash names them in ``/_dash-dependencies`` (``pilot-volume.figure``, or
``..a.children...b.figure..`` for several outputs), so the two sides pair up.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash

from carepulse.core.config import Settings, load_settings
from carepulse.dashboard import state
from carepulse.dashboard.app import create_app

PAGES = ("pilot", "team", "explore")
"""The pages whose data callbacks take the page's query store (``<page>-query``)."""


@dataclass(frozen=True)
class Timing:
    """One data callback run for one query."""

    query_s: float
    """Seconds in the metric calls it made that were not asked before (see :class:`state.Measure`)."""
    python_s: float
    """Seconds for the whole callback: the metric calls and the figures, tables and sentences."""
    calls: int
    """Metric calls computed (those asked before are not counted)."""


class PageData:
    """The dashboard over ``db`` in this process, for computing pages' data directly.

    One per process (the dashboard's state is process-wide). Metric calls are remembered for the
    object's lifetime, as the server's snapshot cache remembers them, so a call two callbacks share
    is timed once.
    """

    def __init__(self, db: Path | str, settings: Settings | None = None) -> None:
        self.app = create_app(db, settings or load_settings(None, db=Path(db)))
        # The callbacks as a browser learns them: what the app serves at /_dash-dependencies (Dash's public
        # protocol), asked of its view directly, since the route itself needs a login when the warehouse has users.
        with self.app.server.test_request_context("/_dash-dependencies"):
            self.app._setup_server()  # Dash's first-request setup (the pages' callbacks), without the login check
            response = self.app.dependencies()
        self._deps: list[dict[str, Any]] = json.loads(response.get_data(as_text=True))
        self._measure = state.Measure()

    def data_callbacks(self, page: str) -> list[str]:
        """The page's server callbacks with its query store among their inputs: those that run when the
        page is drawn and whenever a filter changes the store."""
        store = (f"{page}-query", "data")
        return [d["output"] for d in self._deps if store in [(i["id"], i["property"]) for i in d["inputs"]]
                and not d.get("clientside_function")]

    def layout(self, page: str, **query: Any) -> Any:
        """The page's layout for the query (its filter options read through the same measured calls)."""
        path = "/" if page == "pilot" else f"/{page}"
        draw = next(p["layout"] for p in dash.page_registry.values() if p["path"] == path)
        with state.measuring(self._measure):
            return draw(**query)

    def run(self, page: str, output: str, query: dict[str, Any] | None, url_hash: str = "") -> Timing:
        """Run one data callback of ``page`` for ``query`` (the page's query store) and time it.

        Its other inputs and states get what a browser sends beside the store: the address hash
        (Explore's drill-down) and nothing else.
        """
        dep = next(d for d in self._deps if d["output"] == output)
        values = {(f"{page}-query", "data"): query, ("url", "hash"): url_hash}
        args = [values.get((i["id"], i["property"])) for i in [*dep["inputs"], *dep["state"]]]
        callback = self.app.callback_map[output]["callback"]
        function = getattr(callback, "__wrapped__", callback)
        self._measure.seconds.clear()
        with state.measuring(self._measure):
            began = time.perf_counter()
            function(*args)
            python_s = time.perf_counter() - began
        return Timing(sum(self._measure.seconds), python_s, len(self._measure.seconds))

    def run_page(self, page: str, query: dict[str, Any] | None) -> dict[str, Timing]:
        """Every data callback of the page for the query, one after another."""
        return {output: self.run(page, output, query) for output in self.data_callbacks(page)}

    def warm(self) -> None:
        """Every page's layout and unfiltered data once, as the server does before it listens."""
        for page in PAGES:
            self.layout(page)
            self.run_page(page, {})
