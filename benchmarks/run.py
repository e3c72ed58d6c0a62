"""Benchmarks at TWCS scale, in one run on one generated file, side by side with the floor and pandas.

    python -m benchmarks.run [--tweets 3000000] [--out benchmarks/RESULTS.md] [--quick]

Steps (each a separate process, timed from outside: wall time, and peak RSS from ``wait4``):

a. the floor: DuckDB ``read_csv`` of the file into a table with parsed timestamps, nothing else, in a
   fresh file database, checkpoint included;
b. the usual way: the vectorised pandas pipeline (:mod:`benchmarks.pandas_pipeline`) doing the same job;
c. ``carepulse ingest twcs`` of the file into a fresh warehouse, complete;
d. an incremental load of 10 k new tweets (``--id-offset``: their orphans reply to earlier tweets) into
   that warehouse (wall time, and the loader's own seconds);
e. ``carepulse metrics --by account --format json`` (median of 5, Python start-up included);
f. the dashboard over HTTP against ``carepulse serve``: the first page load (the HTML and every asset,
   ``_dash-layout``, ``_dash-dependencies``, then the routing and page callbacks a browser fires), and
   filter changes replayed as the browser sends them (``/_dash-update-component`` with the payloads
   built from ``_dash-dependencies`` and the store the page renders), p50 and p95 over ``--reps``
   changes, each next to the raw time of the metric calls behind it (the same functions called directly
   against the warehouse, uncached).

Every filter change picks another brand account, so no answer comes from the dashboard's cache.
Step d runs last, because it changes the warehouse. ``--quick`` runs everything on a tiny file (the
test suite does, so this code never rots). The table goes to stdout and, with ``--out``, between the
``results`` markers of that Markdown file (the prose around them is kept); ``--json`` keeps the raw
numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
START_MARK = "<!-- results:start -->"
END_MARK = "<!-- results:end -->"
PAGES = ("pilot", "team", "explore")  # pages whose data callbacks are replayed (input: the page's query store)
TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
TARGETS = {
    "ingest_vs_floor": 2.5,  # (c) / (a) at most
    "pandas_vs_ingest": 5.0,  # (b) / (c) at least
    "ingest_rss_mb": 1536.0,  # (c) peak RSS at most (1.5 GB)
    "incremental_s": 0.5,  # (d) at most
    "metrics_s": 1.0,  # (e) at most
    "callback_vs_query": 1.5,  # (f) / its query at most
    "first_page_s": 2.0,  # first page load at most
}


# ---- processes -----------------------------------------------------------------------------------

@dataclass
class Child:
    """One finished child process: wall time, peak resident memory, exit code and output."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


GNU_TIME = Path("/usr/bin/time")


def run_child(cmd: Sequence[str], *, timeout: float | None = None) -> Child:
    """Run ``cmd`` to the end; peak RSS is the kernel's, not a sampled guess.

    The kernel charges a child the resident set of the process it was forked from (the high-water
    mark of the address space ``exec`` replaces), so a child of this runner, which holds a dashboard
    app by step (d), would be charged the runner's memory. GNU ``time`` forks the command from a
    tiny process and reports its peak alone; without it, ``wait4``'s figure is an upper bound.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME.exists() else list(cmd)
        started = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=out, stderr=err, cwd=ROOT)
        rusage = _wait(proc, timeout)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        reported = rss.read().strip().splitlines()
        peak_kb = float(reported[-1]) if reported and reported[-1].isdigit() else float(rusage.ru_maxrss)
        return Child(wall, peak_kb / 1024.0, proc.returncode, out.read(), err.read())


def peak_rss_mb(pid: int) -> float | None:
    """A running process's own peak resident set (``VmHWM``), or None where /proc does not say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def _wait(proc: subprocess.Popen[Any], timeout: float | None) -> Any:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, rusage = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return rusage
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            deadline = None
        time.sleep(0.01)


def checked(child: Child, what: str) -> Child:
    if child.returncode != 0:
        raise RuntimeError(f"{what} failed with exit code {child.returncode}:\n{child.stderr[-3000:]}")
    return child


def carepulse() -> list[str]:
    """The installed ``carepulse`` command (what a user runs), else ``python -m carepulse.cli``."""
    script = Path(sys.executable).with_name("carepulse")
    return [str(script)] if script.exists() else [sys.executable, "-m", "carepulse.cli"]


def python() -> list[str]:
    return [sys.executable]


# ---- steps ---------------------------------------------------------------------------------------

@dataclass
class Results:
    tweets: int
    quick: bool
    machine: dict[str, Any]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    dashboard: dict[str, Any] = field(default_factory=dict)


def generate(tweets: int, out: Path, id_offset: int = 0) -> None:
    if out.exists():
        return
    tmp = out.with_name(out.name + ".part")
    checked(run_child([*python(), "-m", "benchmarks.generate", "--tweets", str(tweets), "--id-offset", str(id_offset),
                       "--out", str(tmp)]), "generating " + out.name)
    tmp.replace(out)


def floor_step(csv: Path, db: Path) -> dict[str, Any]:
    """(a) in this process (run as a child): read_csv into a table, timestamps parsed, checkpointed."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(db))
    path = str(csv).replace("'", "''")
    con.execute(f"""
        CREATE TABLE tweets AS
        SELECT tweet_id, author_id, inbound, strptime(created_at, '{TWITTER_TIME}') AS created_at, text,
               response_tweet_id, in_response_to_tweet_id
        FROM read_csv('{path}', header = true, columns = {{
            'tweet_id': 'BIGINT', 'author_id': 'VARCHAR', 'inbound': 'BOOLEAN', 'created_at': 'VARCHAR',
            'text': 'VARCHAR', 'response_tweet_id': 'VARCHAR', 'in_response_to_tweet_id': 'BIGINT'}})
    """)
    con.execute("CHECKPOINT")
    rows = con.execute("SELECT count(*) FROM tweets").fetchone()
    con.close()
    return {"rows": rows[0] if rows else 0, "seconds": time.perf_counter() - started}


def _remove_db(db: Path) -> None:
    for path in (db, Path(f"{db}.wal"), Path(f"{db}.lock")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def loader_seconds(stdout: str) -> float | None:
    found = re.search(r"rebuilt in ([0-9.]+) s", stdout)
    return float(found.group(1)) if found else None


def step_floor(csv: Path, work: Path) -> dict[str, Any]:
    db = work / "floor.duckdb"
    _remove_db(db)
    child = checked(run_child([*python(), "-m", "benchmarks.run", "--step", "floor", "--file", str(csv),
                               "--db", str(db)]), "the floor")
    inner = json.loads(child.stdout.strip().splitlines()[-1])
    _remove_db(db)
    return {"wall_s": child.wall_s, "rss_mb": child.peak_rss_mb, "rows": inner["rows"], "inner_s": inner["seconds"]}


def step_pandas(csv: Path, engine: str = "c") -> dict[str, Any]:
    child = checked(run_child([*python(), "-m", "benchmarks.pandas_pipeline", str(csv), "--json", "--engine", engine]),
                    "pandas")
    inner = json.loads(child.stdout.strip().splitlines()[-1])
    return {"wall_s": child.wall_s, "rss_mb": child.peak_rss_mb, "result": inner}


def step_ingest(csv: Path, db: Path) -> dict[str, Any]:
    _remove_db(db)
    child = checked(run_child([*carepulse(), "ingest", "twcs", str(csv), "--db", str(db)]), "carepulse ingest")
    return {"wall_s": child.wall_s, "rss_mb": child.peak_rss_mb, "loader_s": loader_seconds(child.stdout),
            "db_mb": db.stat().st_size / 2**20, "output": child.stdout.strip()}


def step_incremental(csv: Path, db: Path) -> dict[str, Any]:
    child = checked(run_child([*carepulse(), "ingest", "twcs", str(csv), "--db", str(db)]), "incremental ingest")
    return {"wall_s": child.wall_s, "rss_mb": child.peak_rss_mb, "loader_s": loader_seconds(child.stdout),
            "output": child.stdout.strip()}


def step_metrics(db: Path, reps: int) -> dict[str, Any]:
    walls, rss, first = [], [], None
    for _ in range(reps):
        child = checked(run_child([*carepulse(), "metrics", "--by", "account", "--format", "json", "--db", str(db)]),
                        "carepulse metrics")
        walls.append(child.wall_s)
        rss.append(child.peak_rss_mb)
        first = first or json.loads(child.stdout)
    assert first is not None
    return {"wall_s": statistics.median(walls), "walls": walls, "rss_mb": max(rss), "result": first}


# ---- (f) the dashboard over HTTP -------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Http:
    """Tiny HTTP client on urllib (one request per call; the server is on this machine)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str) -> tuple[float, bytes]:
        started = time.perf_counter()
        with urllib.request.urlopen(self.base + path, timeout=300) as response:
            body = response.read()
        return time.perf_counter() - started, body

    def post(self, path: str, payload: dict[str, Any]) -> tuple[float, Any]:
        data = json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, headers={"Content-Type": "application/json"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=300) as response:
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


def interactions(board: Dashboard, page: str, accounts: Sequence[str], timer: RawTimer) -> list[dict[str, Any]]:
    """Per account: the filter change (the filter bar's callback answers the page's new query store), then
    the page's data callbacks at once, as the browser sends them; then, in this process, the raw time of
    the queries behind the same change (see :class:`RawTimer`). The page is not drawn again: its layout
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
            run["raw"][output], run["python"][output] = timer.callback(output, page_values(page, store))
        out.append(run)
    return out


def callbacks_alone(board: Dashboard, accounts: Sequence[str], reps: int, timer: RawTimer) -> list[dict[str, Any]]:
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
                run["raw"], run["python"] = timer.callback(dep["output"], page_values(page, store))
                runs.append(run)
            out.append({"page": page, "output": dep["output"], "runs": runs})
    return out


def step_dashboard(db: Path, accounts: Sequence[str], reps: int) -> dict[str, Any]:
    port = free_port()
    http = Http(f"http://127.0.0.1:{port}")
    result: dict[str, Any] = {}
    timer = RawTimer(db)  # the app in this process too (before the server starts, so it does not compete)
    try:
        with tempfile.TemporaryFile("w+") as log:
            started = time.perf_counter()
            proc = subprocess.Popen([*carepulse(), "serve", "--db", str(db), "--port", str(port)], stdout=log,
                                    stderr=log, cwd=ROOT)
            _serve(proc, http, log, accounts, reps, started, result, timer)
    finally:
        timer.close()
    return result


def _serve(proc: subprocess.Popen[Any], http: Http, log: Any, accounts: Sequence[str], reps: int, started: float,
           result: dict[str, Any], timer: RawTimer) -> None:
    try:
        result["start_s"] = wait_until_up(http, proc)
        _, deps_body = http.get("/_dash-dependencies")
        board = Dashboard(http, json.loads(deps_body))
        result["first_page"] = first_page_load(board)
        result["warm_up_s"] = wait_until_idle(proc.pid) - started
        result["first_page_again"] = first_page_load(board, "/team")
        timer.warm(board)
        per_page = {}
        chosen = list(accounts)
        for number, page in enumerate(PAGES):
            picks = [chosen[(number * reps + i) % len(chosen)] for i in range(reps)]
            per_page[page] = interactions(board, page, picks, timer)
        result["pages"] = per_page
        result["alone"] = callbacks_alone(board, chosen, reps, timer)
    finally:
        own_peak = peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGINT)
        rusage = _wait(proc, 30)
        result["rss_mb"] = own_peak if own_peak is not None else rusage.ru_maxrss / 1024.0
        result["uptime_s"] = time.perf_counter() - started
        log.seek(0)
        result["log_tail"] = log.read()[-2000:]


class RawTimer:
    """Next to each replayed callback: the metric calls it makes, called directly (not over HTTP).

    The page's Python callback runs in this process with ``dashboard.state.load`` replaced by a
    recorder that times every metric call; the sum is the callback's query time. Like the server's
    snapshot cache, a call asked before (the same function and arguments: the filter options every
    page layout shows, a view two callbacks of one page share) is timed only the first time. The
    callers run it right after the HTTP request it belongs to, with the server idle, so both are
    measured under the same load.
    """

    def __init__(self, db: Path) -> None:
        from carepulse.core.config import load_settings
        from carepulse.dashboard import state
        from carepulse.dashboard.app import create_app

        create_app(db, load_settings(None, db=db))
        self.state = state
        self.original = state.load
        self.spent: list[float] = []
        self.memo: dict[Any, Any] = {}
        state.load = self.recording

    def recording(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        key = (function.__module__, function.__qualname__, args, tuple(sorted(kwargs.items())))
        if key in self.memo:
            return self.memo[key]
        current = self.state.current()
        began = time.perf_counter()
        value = function(*args, db=current.reader, settings=current.settings, **kwargs)
        self.spent.append(time.perf_counter() - began)
        self.memo[key] = value
        return value

    def warm(self, board: Dashboard) -> None:
        """Every page's layout and default views once, as the server did before (its warm-up)."""
        for page in PAGES:
            _page_layout(page)()
            for dep in board.data_callbacks(page):
                self.callback(dep["output"], page_values(page, {}))

    def callback(self, output: str, values: dict[tuple[str, str], Any]) -> tuple[float, float]:
        """(query seconds, whole Python callback seconds) of one data callback, called with the values the
        browser sends (its inputs, then its states; see :func:`page_values`)."""
        from dash._callback import GLOBAL_CALLBACK_MAP

        entry = GLOBAL_CALLBACK_MAP[output]
        function = getattr(entry["callback"], "__wrapped__", entry["callback"])
        args = [values.get((i["id"], i["property"])) for i in [*entry["inputs"], *entry["state"]]]
        self.spent.clear()
        began = time.perf_counter()
        function(*args)
        return sum(self.spent), time.perf_counter() - began

    def close(self) -> None:
        self.state.load = self.original


def _page_layout(page: str) -> Callable[..., Any]:
    import dash

    path = "/" if page == "pilot" else f"/{page}"
    return next(p["layout"] for p in dash.page_registry.values() if p["path"] == path)


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


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        if len(ordered) == 1:
            return ordered[0]
        pos = q * (len(ordered) - 1)
        low = int(pos)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)

    return {"p50": at(0.5), "p95": at(0.95), "n": len(ordered)}


# ---- the machine -----------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    import dash
    import duckdb
    import numpy
    import pandas

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines()
                          if x.startswith("MemTotal")).split()[1])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(), "cpu": cpu,
        "ram_gb": round(mem_kb / 2**20, 1), "os": platform.platform(), "python": platform.python_version(),
        "duckdb": duckdb.__version__, "pandas": pandas.__version__, "numpy": numpy.__version__,
        "dash": dash.__version__, "load_before": os.getloadavg(),
    }


# ---- the table ---------------------------------------------------------------------------------------

def _s(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f} s" if x >= 0.1 else f"{x * 1000:.0f} ms"


def _mb(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f} MB"


def _ok(ok: bool | None) -> str:
    return "" if ok is None else "met" if ok else "**missed**"


def dashboard_rows(board: dict[str, Any], dash_summary: dict[str, Any]) -> list[str]:
    """The (f) rows of the steps table: first page loads and whole filter changes."""
    lines: list[str] = []
    if not board:
        return lines
    first = board["first_page"]
    again = board["first_page_again"]
    lines.append(
        f"| (f) | dashboard: first page load right after start (HTML, {first['assets']} assets, layout, "
        f"dependencies / until the Pilot page shows its data) | {_s(first['shell_s'])} / "
        f"{_s(first['with_data_s'])} | {_mb(board['rss_mb'])} | server answers {_s(board['start_s'])} after "
        f"launch; it is idle again (its background warm-up of every page's default views and this load "
        f"done) {_s(board['warm_up_s'])} after launch |")
    lines.append(
        f"| (f) | dashboard: first load of another page (Team) after the warm-up | {_s(again['shell_s'])} / "
        f"{_s(again['with_data_s'])} | | |")
    for change in dash_summary.get("changes", []):
        lines.append(
            f"| (f) | {change['page']}: filter change until the page is drawn with data, callbacks sent at once "
            f"as the browser does (p50 / p95, n = "
            f"{change['http']['n']}) | {_s(change['http']['p50'])} / {_s(change['http']['p95'])} | | raw queries "
            f"{_s(change['raw']['p50'])} / {_s(change['raw']['p95'])} |")
    return lines


def dashboard_callback_table(board: dict[str, Any], dash_summary: dict[str, Any]) -> list[str]:
    """Each data callback replayed alone, next to its raw query time."""
    if not board:
        return []
    lines = ["", "Dashboard data callbacks, each replayed alone over HTTP with the payload the page sends after "
                 "a filter change (p50 / p95; every request a new filter, so no cached answer), next to the raw "
                 "time of the metric calls behind it (the same functions called directly, uncached) and the "
                 "whole Python callback in-process (queries plus figure building):", "",
             "| page | callback output | HTTP | raw queries | Python callback | HTTP / raw (p50) |",
             "|---|---|---:|---:|---:|---:|"]
    for cb in dash_summary.get("callbacks", []):
        ratio = cb["http"]["p50"] / cb["raw"]["p50"] if cb["raw"]["p50"] else None
        lines.append(f"| {cb['page']} | `{cb['output'].split('@')[0].strip('.')[:60]}` | {_s(cb['http']['p50'])} / "
                     f"{_s(cb['http']['p95'])} | {_s(cb['raw']['p50'])} / {_s(cb['raw']['p95'])} | "
                     f"{_s(cb['python']['p50'])} | {'–' if ratio is None else f'{ratio:.2f}x'} |")
    return lines


def table(results: Results) -> str:
    s, m = results.steps, results.machine
    a, b, c, d, e = s["floor"], s["pandas"], s["ingest"], s["incremental"], s["metrics"]
    b2 = results.checks["pandas_pyarrow"]
    dash_summary = results.dashboard.get("summary", {})
    lines = [
        f"{results.tweets:,} tweets, generated by `benchmarks/generate.py` (seed 42); {m['cores']} cores "
        f"({m['cpu'] or 'unknown CPU'}), {m['ram_gb']} GB RAM; Python {m['python']}, DuckDB {m['duckdb']}, "
        f"pandas {m['pandas']}, numpy {m['numpy']}, Dash {m['dash']}; {m['date']}; load average before "
        f"{'/'.join(f'{x:.2f}' for x in m['load_before'])}, after {'/'.join(f'{x:.2f}' for x in m['load_after'])}.",
        "",
        "| step | what | wall | peak RSS | notes |",
        "|---|---|---:|---:|---|",
        f"| (a) | DuckDB `read_csv` into a table, timestamps parsed, checkpointed (the floor) | {_s(a['wall_s'])} | "
        f"{_mb(a['rss_mb'])} | {a['rows']:,} rows |",
        f"| (b) | vectorised pandas pipeline: load, roots, first response per thread | {_s(b['wall_s'])} | "
        f"{_mb(b['rss_mb'])} | load {_s(b['result']['seconds']['load'])}, roots {_s(b['result']['seconds']['roots'])}, "
        f"threads {_s(b['result']['seconds']['threads'])} |",
        f"| (b') | the same pipeline with `read_csv(engine=\"pyarrow\")` | {_s(b2['wall_s'])} | {_mb(b2['rss_mb'])} | "
        f"load {_s(b2['result']['seconds']['load'])}, threads {_s(b2['result']['seconds']['threads'])} |",
        f"| (c) | `carepulse ingest twcs`, complete | {_s(c['wall_s'])} | {_mb(c['rss_mb'])} | loader "
        f"{_s(c['loader_s'])}; warehouse {c['db_mb']:,.0f} MB |",
        f"| (d) | incremental load of {results.checks.get('incremental_tweets', 0):,} new tweets | {_s(d['wall_s'])} | "
        f"{_mb(d['rss_mb'])} | loader's own {_s(d['loader_s'])} |",
        f"| (e) | `carepulse metrics --by account --format json` (median of {len(e['walls'])}) | {_s(e['wall_s'])} | "
        f"{_mb(e['rss_mb'])} | runs {', '.join(_s(w) for w in e['walls'])} |",
    ]
    board = results.dashboard
    lines += dashboard_rows(board, dash_summary)
    lines += ["", "Load average (1 min) when each step started: " + ", ".join(
        f"{k} {v:.2f}" for k, v in results.checks.get("load", {}).items()) + "."]
    lines += dashboard_callback_table(board, dash_summary)
    ratios = results.checks["ratios"]
    lines += ["", "Headline ratios and targets:", "", "| measure | value | target | |", "|---|---:|---:|---|"]
    for row in ratios:
        lines.append(f"| {row['what']} | {row['value']} | {row['target']} | {_ok(row['ok'])} |")
    same = results.checks["same_numbers"]
    lines += ["", f"Same numbers: pandas (b) and carepulse (e) agree on threads, answered threads and the median first "
                  f"response, in total and per account: **{'yes' if same['all'] else 'NO'}** "
                  f"({same['threads']:,} threads, {same['answered']:,} answered, median {same['median_s']} s)."]
    return "\n".join(lines) + "\n"


def headline_ratios(results: Results) -> list[dict[str, Any]]:
    s = results.steps
    a, b, c, d, e = s["floor"], s["pandas"], s["ingest"], s["incremental"], s["metrics"]
    rows = [
        {"what": "(c) / (a): ingest against the floor", "value": f"{c['wall_s'] / a['wall_s']:.2f}x",
         "target": f"<= {TARGETS['ingest_vs_floor']}x", "ok": c["wall_s"] / a["wall_s"] <= TARGETS["ingest_vs_floor"]},
        {"what": "(b) / (c): pandas against ingest", "value": f"{b['wall_s'] / c['wall_s']:.2f}x",
         "target": f">= {TARGETS['pandas_vs_ingest']}x",
         "ok": b["wall_s"] / c["wall_s"] >= TARGETS["pandas_vs_ingest"]},
        {"what": "(b') / (c): pandas with the pyarrow parser against ingest",
         "value": f"{results.checks['pandas_pyarrow']['wall_s'] / c['wall_s']:.2f}x", "target": "none (reference)",
         "ok": None},
        {"what": "(c) peak RSS", "value": _mb(c["rss_mb"]), "target": "<= 1,536 MB",
         "ok": c["rss_mb"] <= TARGETS["ingest_rss_mb"]},
        {"what": "(d) incremental load, wall", "value": _s(d["wall_s"]), "target": "<= 0.50 s",
         "ok": d["wall_s"] <= TARGETS["incremental_s"]},
        {"what": "(e) metrics by account, wall (median)", "value": _s(e["wall_s"]), "target": "<= 1.00 s",
         "ok": e["wall_s"] <= TARGETS["metrics_s"]},
    ]
    rows += dashboard_ratios(results.dashboard)
    return rows


def dashboard_ratios(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """(f) against its targets: first page loads, the worst callback and each whole filter change."""
    rows: list[dict[str, Any]] = []
    summary = dashboard.get("summary")
    if not summary:
        return rows
    for label, key in (("right after start", "first_page"), ("after the warm-up", "first_page_again")):
        first = dashboard[key]
        rows.append({"what": f"(f) first page load with data, {label}", "value": _s(first["with_data_s"]),
                     "target": "<= 2.00 s", "ok": first["with_data_s"] <= TARGETS["first_page_s"]})
    worst = max(summary["callbacks"], key=lambda cb: cb["http"]["p50"] / max(cb["raw"]["p50"], 1e-9))
    ratio = worst["http"]["p50"] / max(worst["raw"]["p50"], 1e-9)
    rows.append({"what": f"(f) / query, worst callback (p50; {worst['page']} "
                         f"`{worst['output'].split('@')[0].strip('.')[:30]}`)",
                 "value": f"{ratio:.2f}x", "target": f"<= {TARGETS['callback_vs_query']}x",
                 "ok": ratio <= TARGETS["callback_vs_query"]})
    for change in summary["changes"]:
        ratio = change["http"]["p50"] / max(change["raw"]["p50"], 1e-9)
        rows.append({"what": f"(f) / query, whole {change['page']} filter change (p50)", "value": f"{ratio:.2f}x",
                     "target": f"<= {TARGETS['callback_vs_query']}x", "ok": ratio <= TARGETS["callback_vs_query"]})
    return rows


def same_numbers(pandas_result: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    total = metrics["total"]
    groups = {k: (v["threads"], v["answered_threads"], v["first_response_median_s"])
              for k, v in metrics["groups"].items() if v["threads"]}
    theirs = {k: (v["threads"], v["answered"], v["median_s"]) for k, v in pandas_result["by_account"].items()}
    same_total = (pandas_result["threads"], pandas_result["answered"], pandas_result["median_s"]) == (
        total["threads"], total["answered_threads"], total["first_response_median_s"])
    return {"total": same_total, "by_account": groups == theirs, "all": same_total and groups == theirs,
            "threads": total["threads"], "answered": total["answered_threads"],
            "median_s": total["first_response_median_s"]}


def write_markdown(out: Path, text: str) -> None:
    block = f"{START_MARK}\n{text}{END_MARK}"
    if out.exists():
        current = out.read_text(encoding="utf-8")
        if START_MARK in current and END_MARK in current:
            head, rest = current.split(START_MARK, 1)
            tail = rest.split(END_MARK, 1)[1]
            out.write_text(head + block + tail, encoding="utf-8")
            return
        out.write_text(current.rstrip() + "\n\n" + block + "\n", encoding="utf-8")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Benchmark results\n\n" + block + "\n", encoding="utf-8")


# ---- main --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def workdir(path: Path | None, quick: bool) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
    elif quick:
        with tempfile.TemporaryDirectory(prefix="carepulse-bench-") as tmp:
            yield Path(tmp)
    else:
        default = ROOT / "data" / "bench"
        default.mkdir(parents=True, exist_ok=True)
        yield default


def say(text: str) -> None:
    print(f"{text} (load average {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)


def size_label(n: int) -> str:
    """3000000 -> 3m, 10000 -> 10k (the file names the lead's instructions use)."""
    for unit, suffix in ((1_000_000, "m"), (1_000, "k")):
        if n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def run(tweets: int, quick: bool, work: Path, reps: int, metric_reps: int, incremental: int) -> Results:
    results = Results(tweets=tweets, quick=quick, machine=machine())
    base = work / f"twcs_{size_label(tweets)}.csv"
    batch = work / f"twcs_{size_label(incremental)}_after_{size_label(tweets)}.csv"
    db = work / f"bench_{size_label(tweets)}.duckdb"
    say(f"generating {base.name} and {batch.name} (kept for the next run)")
    generate(tweets, base)
    generate(incremental, batch, id_offset=tweets)
    results.checks["incremental_tweets"] = incremental
    say("(a) the floor: DuckDB read_csv")
    results.checks.setdefault("load", {})["floor"] = os.getloadavg()[0]
    results.steps["floor"] = step_floor(base, work)
    say("(b) the pandas pipeline, and the same with pandas' pyarrow CSV parser")
    results.checks.setdefault("load", {})["pandas"] = os.getloadavg()[0]
    results.steps["pandas"] = step_pandas(base)
    results.checks["pandas_pyarrow"] = step_pandas(base, "pyarrow")
    say("(c) carepulse ingest twcs")
    results.checks.setdefault("load", {})["ingest"] = os.getloadavg()[0]
    results.steps["ingest"] = step_ingest(base, db)
    say(f"(e) carepulse metrics --by account, {metric_reps} runs")
    results.checks.setdefault("load", {})["metrics"] = os.getloadavg()[0]
    results.steps["metrics"] = step_metrics(db, metric_reps)
    accounts = sorted((k for k, v in results.steps["metrics"]["result"]["groups"].items()
                       if v.get("threads") and not k.startswith("(")),
                      key=lambda k: -results.steps["metrics"]["result"]["groups"][k]["threads"])
    say(f"(f) the dashboard: first page load and {reps} filter changes per page")
    results.checks.setdefault("load", {})["dashboard"] = os.getloadavg()[0]
    results.dashboard = step_dashboard(db, accounts, reps)
    results.dashboard["summary"] = summarise_dashboard(results.dashboard)
    say(f"(d) incremental load of {incremental:,} tweets")
    results.checks.setdefault("load", {})["incremental"] = os.getloadavg()[0]
    results.steps["incremental"] = step_incremental(batch, db)
    results.machine["load_after"] = os.getloadavg()
    results.checks["same_numbers"] = same_numbers(results.steps["pandas"]["result"], results.steps["metrics"]["result"])
    results.checks["ratios"] = headline_ratios(results)
    return results


def dashboard_only(db: Path, reps: int, json_out: Path | None) -> int:
    """Step (f) alone against an existing warehouse: ``--step dashboard --db PATH [--reps N] [--json FILE]``.

    The accounts come from one ``carepulse metrics --by account`` run, busiest first, as in the full run.
    """
    metrics = step_metrics(db, 1)["result"]
    accounts = sorted((k for k, v in metrics["groups"].items() if v.get("threads") and not k.startswith("(")),
                      key=lambda k: -metrics["groups"][k]["threads"])
    say(f"(f) the dashboard: first page load and {reps} filter changes per page")
    load_before = os.getloadavg()[0]
    board = step_dashboard(db, accounts, reps)
    board["summary"] = summarise_dashboard(board)
    lines = [f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}", "",
             "| step | what | wall | peak RSS | notes |", "|---|---|---:|---:|---|",
             *dashboard_rows(board, board["summary"]), *dashboard_callback_table(board, board["summary"]), "",
             "| measure | value | target | |", "|---|---:|---:|---|"]
    lines += [f"| {row['what']} | {row['value']} | {row['target']} | {_ok(row['ok'])} |"
              for row in dashboard_ratios(board)]
    print("\n".join(lines))
    if json_out:
        json_out.write_text(json.dumps(board, indent=1, default=str), encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=None, help="tweets in the generated file (default 3,000,000)")
    parser.add_argument("--quick", action="store_true", help="everything on a tiny file (for the test suite)")
    parser.add_argument("--out", type=Path, default=None, help="Markdown file to write the table into")
    parser.add_argument("--json", type=Path, default=None, help="write every raw number here")
    parser.add_argument("--workdir", type=Path, default=None, help="where files and warehouses go (default data/bench)")
    parser.add_argument("--reps", type=int, default=None, help="filter changes per dashboard page (default 20)")
    parser.add_argument("--step", choices=("floor", "dashboard"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step == "floor":
        print(json.dumps(floor_step(args.file, args.db)))
        return 0
    if args.step == "dashboard":  # step (f) alone, against an existing warehouse (not written to)
        return dashboard_only(args.db, args.reps or 20, args.json)
    tweets = args.tweets or (3_000 if args.quick else 3_000_000)
    reps = args.reps or (2 if args.quick else 20)
    with workdir(args.workdir, args.quick) as work:
        results = run(tweets, args.quick, work, reps, metric_reps=2 if args.quick else 5,
                      incremental=100 if args.quick else 10_000)
    text = table(results)
    print(text)
    if args.out:
        write_markdown(args.out, text)
    if args.json:
        args.json.write_text(json.dumps(asdict(results), indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
