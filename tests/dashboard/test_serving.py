"""Safe serving: the Host allow-list, the banner with the bound address, waitress, no cloud buttons."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carepulse.dashboard import components, serving


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
