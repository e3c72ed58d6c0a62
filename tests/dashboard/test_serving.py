"""Safe serving: the Host allow-list, the banner with the bound address, waitress, no cloud buttons."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmarks.processes import held_base
from carepulse.core.config import Settings
from carepulse.dashboard import app as dashboard_app
from carepulse.dashboard import components, serving, state
from carepulse.etl.loader import ingest_tweets
from carepulse.warehouse import Warehouse, delta, store
from tests.twcs_helpers import at, row, write_twcs


def test_host_names() -> None:
    assert serving.host_name("Example.ORG:8050") == "example.org"
    assert serving.host_name("[::1]:8050") == "::1"
    assert serving.host_name("127.0.0.1") == "127.0.0.1"
    assert serving.is_loopback("127.0.0.2") and serving.is_loopback("localhost") and not serving.is_loopback("10.0.0.1")


def test_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAREPULSE_ALLOWED_HOSTS", raising=False)
    local = serving.allowed_hosts("127.0.0.1")
    assert local == serving.LOOPBACK_NAMES
    monkeypatch.setenv("CAREPULSE_ALLOWED_HOSTS", "Dash.Example.org, ")
    wide = serving.allowed_hosts("0.0.0.0", ["proxy.internal"])
    assert {"dash.example.org", "proxy.internal", "127.0.0.1"} <= wide and "0.0.0.0" not in wide
    assert "10.1.2.3" in serving.allowed_hosts("10.1.2.3")


def test_no_chart_offers_the_plotly_cloud() -> None:
    config = components.GRAPH_CONFIG
    assert config["displaylogo"] is False and config["showSendToCloud"] is False
    assert config["showEditInChartStudio"] is False and config["showLink"] is False
    graph = components.graph("x")
    assert graph.config is config


def test_served_by_waitress_on_the_bound_port_refusing_foreign_hosts(demo_db: Path) -> None:
    command = [sys.executable, "-m", "carepulse.cli", "serve", "--db", str(demo_db), "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "CAREPULSE_ALLOWED_HOSTS": ""})
    try:
        deadline = time.monotonic() + 90
        url = None
        assert server.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            found = re.search(r"carepulse dashboard on (http://127\.0\.0\.1:(\d+)/)", line)
            if found:
                url, port = found.group(1), int(found.group(2))
        assert url is not None and port != 0  # the banner names the port really bound

        def get(host: str) -> http.client.HTTPResponse:
            con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            con.request("GET", "/", headers={"Host": host})
            return con.getresponse()

        ok = get(f"127.0.0.1:{port}")
        assert ok.status == 200 and ok.getheader("Server") == "carepulse"  # waitress, not Flask's dev server
        assert "frame-ancestors 'none'" in (ok.getheader("Content-Security-Policy") or "")
        rebinding = get(f"attacker.example:{port}")
        assert rebinding.status == 400 and b"host name" in rebinding.read()
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_an_idle_server_lets_go_of_a_base_a_compaction_replaced(
        demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The background release a served dashboard runs: with no request at all, the readers close a replaced
    base within one round (its interval and the retire delay shortened here)."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(demo_db, db)
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(store, "RETIRE_AFTER_S", 0.0)
    reader = Warehouse(db).reader()
    reader.connection().close()  # a query: the reader now holds the base
    batch = write_twcs(tmp_path / "b.csv", [row(9_500_001, "c1", False, at("10:00"), "@acme hello")])
    ingest_tweets(Warehouse(db), "twcs", [batch], Settings(db=db))
    assert Warehouse(db).compact()
    assert held_base(db) == [f"{db} (deleted)"]
    stop = threading.Event()
    thread = state.release_replaced(every_s=0.05, stop=stop)
    try:
        deadline = time.monotonic() + 10
        while held_base(db) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert held_base(db) == []
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_serve_starts_the_background_release(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[float] = []
    monkeypatch.setattr(state, "release_replaced",
                        lambda every_s=state.RELEASE_EVERY_S, stop=None: started.append(every_s))
    monkeypatch.setattr(serving, "run", lambda *args, **kwargs: None)  # everything up to listening, then return
    dashboard_app.serve(demo_db)
    for thread in threading.enumerate():  # the warm-up still running: let it end inside the test, not at exit
        if thread.name.startswith("carepulse-"):
            thread.join(60)
    assert started == [state.RELEASE_EVERY_S]
