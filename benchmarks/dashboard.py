"""Step (f): the dashboard over HTTP against ``carepulse serve``, each callback beside its raw query time.

The HTTP side replays what a browser sends (``_dash-layout``, ``_dash-dependencies``,
``/_dash-update-component``). The raw side runs the same callbacks in this process through the
dashboard's data API (:class:`carepulse.dashboard.api.PageData`): their metric calls timed without
the server's cache, and the whole callback.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.processes import ROOT, carepulse, peak_rss_mb, wait_for
from benchmarks.report import percentiles
from carepulse.dashboard.api import PAGES, PageData


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Http:
    """Tiny HTTP client on urllib (one request per call; the server is on this machine). It keeps cookies
    and sends the page's ``Origin``, as a browser does: with a login, every request carries the session."""

    def __init__(self, base: str) -> None:
        from http.cookiejar import CookieJar

        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.opener.addheaders = [("Origin", base)]

    def get(self, path: str) -> tuple[float, bytes]:
        started = time.perf_counter()
        with self.opener.open(self.base + path, timeout=300) as response:
            body = response.read()
        return time.perf_counter() - started, body

    def login(self, name: str, password: str) -> float:
        """The login form as a browser fills it (its token from the form); seconds until logged in."""
        from urllib.parse import urlencode

        started = time.perf_counter()
        _, form = self.get("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', form)
        if token is None:
            raise RuntimeError("no login form: is the dashboard serving without users?")
        body = urlencode({"csrf_token": token.group(1).decode(), "next": "/", "name": name,
                          "password": password}).encode()
        request = urllib.request.Request(self.base + "/login", data=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        with self.opener.open(request, timeout=300) as response:
            response.read()
            if response.url.rstrip("/").endswith("/login"):
                raise RuntimeError("the benchmark's login was refused")
        return time.perf_counter() - started

    def post(self, path: str, payload: dict[str, Any]) -> tuple[float, Any]:
        data = json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, headers={"Content-Type": "application/json"})
        started = time.perf_counter()
        with self.opener.open(request, timeout=300) as response:
            body = response.read()
        elapsed = time.perf_counter() - started
        return elapsed, json.loads(body) if body else None


def split_output(output: str) -> list[dict[str, str]] | dict[str, str]:
    """Dash's output string (``a.b`` or ``..a.b...c.d..``) as the ``outputs`` field of a request."""
    def one(text: str) -> dict[str, str]:
        component, prop = text.rsplit(".", 1) if "@" not in text else text.split(".", 1)
        return {"id": component, "property": prop}

    if output.startswith("..") and output.endswith(".."):
        return [one(part) for part in output[2:-2].split("...")]
    return one(output)


def payload(dep: dict[str, Any], values: dict[tuple[str, str], Any], changed: Sequence[str]) -> dict[str, Any]:
    def filled(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": i["id"], "property": i["property"], "value": values.get((i["id"], i["property"]))}
                for i in items]

    return {"output": dep["output"], "outputs": split_output(dep["output"]), "inputs": filled(dep["inputs"]),
            "state": filled(dep["state"]), "changedPropIds": list(changed)}


def find_store(layout: Any, store_id: str) -> dict[str, Any] | None:
    """The ``data`` of the page's query store in a rendered layout (what the page's callbacks get)."""
    if isinstance(layout, dict):
        props = layout.get("props")
        if isinstance(props, dict) and props.get("id") == store_id:
            data = props.get("data")
            return data if isinstance(data, dict) else {}
        for value in layout.values():
            found = find_store(value, store_id)
            if found is not None:
                return found
    elif isinstance(layout, list):
        for value in layout:
            found = find_store(value, store_id)
            if found is not None:
                return found
    return None


@dataclass
class Dashboard:
    http: Http
    deps: list[dict[str, Any]]

    def dep(self, prefix: str) -> dict[str, Any]:
        return next(d for d in self.deps if d["output"].startswith(prefix))

    def data_callbacks(self, page: str) -> list[dict[str, Any]]:
        """Server callbacks with the page's query store among their inputs: they fire when the page is
        drawn and whenever a filter changes the store (Explore's threads list among them)."""
        store = f"{page}-query"
        return [d for d in self.deps if (store, "data") in [(i["id"], i["property"]) for i in d["inputs"]]
                and not d.get("clientside_function")]

    def route(self, pathname: str, search: str) -> tuple[float, Any]:
        dep = self.dep(".._pages_content.children")
        values = {("_pages_location", "pathname"): pathname, ("_pages_location", "search"): search}
        return self.http.post("/_dash-update-component", payload(dep, values, ["_pages_location.search"]))

    def shell(self, pathname: str, search: str) -> list[tuple[float, Any]]:
        values = {("url", "pathname"): pathname, ("url", "search"): search}
        out = []
        for dep in self.deps:
            if [i["id"] for i in dep["inputs"]] == ["url"] and not dep.get("clientside_function"):
                changed = [f"url.{dep['inputs'][0]['property']}"]
                out.append(self.http.post("/_dash-update-component", payload(dep, values, changed)))
        return out

    def page_callbacks(self, page: str, store: dict[str, Any]) -> dict[str, float]:
        """The page's data callbacks, sent at once as the browser does; seconds per callback."""
        deps = self.data_callbacks(page)

        def send(dep: dict[str, Any]) -> tuple[str, float]:
            return dep["output"], self.callback_alone(page, dep, store)

        with ThreadPoolExecutor(max_workers=max(1, len(deps))) as pool:
            return dict(pool.map(send, deps))

    def callback_alone(self, page: str, dep: dict[str, Any], store: dict[str, Any]) -> float:
        seconds, _ = self.http.post("/_dash-update-component",
                                    payload(dep, page_values(page, store), [f"{page}-query.data"]))
        return seconds

    def filter_change(self, page: str, account: str, store: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        """The filter bar's callback as the browser sends it when an account is picked: the page's query
        store comes back (the page is not drawn again; the address follows in the browser, no request)."""
        target = f"{page}-query"
        dep = self.dep(f"{target}.data")
        values: dict[tuple[str, str], Any] = {("filter-account", "value"): account, (target, "data"): store}
        seconds, answer = self.http.post("/_dash-update-component", payload(dep, values, ["filter-account.value"]))
        return seconds, dict(answer["response"][target]["data"]) if answer else store


def page_values(page: str, store: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """What the browser sends beside the page's query store: the address hash (Explore's drill-down), empty."""
    return {(f"{page}-query", "data"): store, ("url", "hash"): ""}


def wait_until_up(http: Http, proc: subprocess.Popen[Any], timeout: float = 120.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"carepulse serve exited with {proc.returncode}")
        try:
            http.get("/_dash-layout")
            return time.perf_counter() - started
        except urllib.error.HTTPError:  # it answers (401: a login is required)
            return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.05)
    raise RuntimeError("carepulse serve did not answer")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, timeout: float = 300.0) -> float:
    """The moment (``perf_counter``) the server stopped working on its own: its warm-up is done."""
    started = time.perf_counter()
    last = cpu_seconds(pid)
    while time.perf_counter() - started < timeout:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - last < 0.02:
            return time.perf_counter() - 0.5
        last = now
    return time.perf_counter()


def first_page_load(board: Dashboard, pathname: str = "/") -> dict[str, float]:
    """What a browser with an empty cache waits for: HTML, assets, layout and dependencies, then the
    routing and shell callbacks, then the page's data callbacks."""
    started = time.perf_counter()
    _, html = board.http.get(pathname)
    assets = sorted(set(re.findall(r'(?:src|href)="(/[^"]+)"', html.decode("utf-8", "replace"))))
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(board.http.get, [*assets, "/_dash-layout", "/_dash-dependencies"]))
    shell_s = time.perf_counter() - started
    with ThreadPoolExecutor(max_workers=2) as pool:
        routed = pool.submit(board.route, pathname, "")
        pool.submit(board.shell, pathname, "").result()
        _, layout = routed.result()
    page = next((p for p in PAGES if find_store(layout, f"{p}-query") is not None), "pilot")
    board.page_callbacks(page, find_store(layout, f"{page}-query") or {})
    return {"shell_s": shell_s, "with_data_s": time.perf_counter() - started, "assets": len(assets)}


def interactions(board: Dashboard, page: str, accounts: Sequence[str], data: PageData) -> list[dict[str, Any]]:
    """Per account: the filter change (the filter bar's callback answers the page's new query store), then
    the page's data callbacks at once, as the browser sends them; then, in this process, the raw time of
    the queries behind the same change (:meth:`PageData.run`). The page is not drawn again: its layout
    (the store it starts from) is fetched once, untimed, as the browser has it before the first change."""
    pathname = "/" if page == "pilot" else f"/{page}"
    _, layout = board.route(pathname, "")
    store = find_store(layout, f"{page}-query") or {}
    out = []
    for account in accounts:
        started = time.perf_counter()
        change_s, store = board.filter_change(page, account, store)
        callbacks = board.page_callbacks(page, store)
        run: dict[str, Any] = {"account": account, "store": store, "change_s": change_s, "callbacks": callbacks,
                               "total_s": time.perf_counter() - started, "raw": {}, "python": {},
                               "raw_route": 0.0}  # no layout is drawn: the filter callback asks no query
        for output in callbacks:
            timing = data.run(page, output, store)
            run["raw"][output], run["python"][output] = timing.query_s, timing.python_s
        out.append(run)
    return out


def callbacks_alone(board: Dashboard, accounts: Sequence[str], reps: int, data: PageData) -> list[dict[str, Any]]:
    """Each data callback sent on its own, ``reps`` times, every time with a filter no request used before.

    The store differs per (callback, repetition) by a ``from`` day before all data (same rows, new
    cache key), so the server computes every answer instead of taking it from its snapshot cache.
    Right after each request the same callback runs in this process for the raw query time, so both
    sides of the ratio are taken under the same machine load (this machine is shared).
    """
    out = []
    number = 0
    for page in PAGES:
        for dep in board.data_callbacks(page):
            number += 1
            runs = []
            for rep in range(reps):
                store = {"from": f"2000-{1 + number // 28:02d}-{1 + number % 28:02d}",
                         "account": accounts[rep % len(accounts)]}
                run: dict[str, Any] = {"store": store, "http": board.callback_alone(page, dep, store)}
                timing = data.run(page, dep["output"], store)
                run["raw"], run["python"] = timing.query_s, timing.python_s
                runs.append(run)
            out.append({"page": page, "output": dep["output"], "runs": runs})
    return out


LOGIN = ("benchmark-admin", "a long benchmark password, never used elsewhere")


def add_login_user(db: Path) -> None:
    """An admin in the warehouse (``carepulse users add``), so that ``serve`` requires a login."""
    listed = subprocess.run([*carepulse(), "users", "list", "--db", str(db)], capture_output=True, text=True,
                            cwd=ROOT, check=False)
    if LOGIN[0] in listed.stdout:
        return
    subprocess.run([*carepulse(), "users", "add", LOGIN[0], "--role", "admin", "--password-stdin", "--db", str(db)],
                   input=LOGIN[1] + "\n", capture_output=True, text=True, cwd=ROOT, check=True)


def step_dashboard(db: Path, accounts: Sequence[str], reps: int, login: bool = False) -> dict[str, Any]:
    """Step (f); ``login``: with a dashboard user in the warehouse, every request as a logged-in admin."""
    port = free_port()
    http = Http(f"http://127.0.0.1:{port}")
    result: dict[str, Any] = {"login": login}
    if login:
        add_login_user(db)
    data = PageData(db)  # the app in this process too (before the server starts, so it does not compete)
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        env = {**os.environ, "CAREPULSE_SECRET_KEY": os.environ.get("CAREPULSE_SECRET_KEY", "b" * 48)}
        proc = subprocess.Popen([*carepulse(), "serve", "--db", str(db), "--port", str(port)], stdout=log,
                                stderr=log, cwd=ROOT, env=env)
        _serve(proc, http, log, accounts, reps, started, result, data)
    return result


def _serve(proc: subprocess.Popen[Any], http: Http, log: Any, accounts: Sequence[str], reps: int, started: float,
           result: dict[str, Any], data: PageData) -> None:
    try:
        result["start_s"] = wait_until_up(http, proc)
        if result.get("login"):
            result["login_s"] = http.login(*LOGIN)
        _, deps_body = http.get("/_dash-dependencies")
        board = Dashboard(http, json.loads(deps_body))
        result["first_page"] = first_page_load(board)
        result["warm_up_s"] = wait_until_idle(proc.pid) - started
        result["first_page_again"] = first_page_load(board, "/team")
        data.warm()  # every page's layout and default views once, as the server did before (its warm-up)
        per_page = {}
        chosen = list(accounts)
        for number, page in enumerate(PAGES):
            picks = [chosen[(number * reps + i) % len(chosen)] for i in range(reps)]
            per_page[page] = interactions(board, page, picks, data)
        result["pages"] = per_page
        result["alone"] = callbacks_alone(board, chosen, reps, data)
    finally:
        own_peak = peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGINT)
        rusage = wait_for(proc, 30)
        result["rss_mb"] = own_peak if own_peak is not None else rusage.ru_maxrss / 1024.0
        result["uptime_s"] = time.perf_counter() - started
        log.seek(0)
        result["log_tail"] = log.read()[-2000:]


def summarise_dashboard(dashboard: dict[str, Any]) -> dict[str, Any]:
    """p50/p95 per replayed callback and per whole filter change, each next to its raw query time."""
    summary: dict[str, Any] = {"callbacks": [], "changes": []}
    for callback in dashboard["alone"]:
        runs = callback["runs"]
        summary["callbacks"].append({"page": callback["page"], "output": callback["output"],
                                     "http": percentiles([r["http"] for r in runs]),
                                     "raw": percentiles([r["raw"] for r in runs]),
                                     "python": percentiles([r["python"] for r in runs])})
    for page, runs in dashboard["pages"].items():
        totals = [r["total_s"] for r in runs]
        raw_totals = [sum(r["raw"].values()) + r["raw_route"] for r in runs]
        summary["changes"].append({"page": page, "http": percentiles(totals), "raw": percentiles(raw_totals)})
    return summary
