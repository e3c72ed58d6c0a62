"""The audit log: a round trip, the dashboard's logins and downloads, user changes, and erasures that keep
no handle."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carepulse.cli import main
from carepulse.warehouse import audit
from tests.metrics.fixtures import load_twcs
from tests.twcs_helpers import at, row

HANDLE = "Quibbleton77"


def test_record_and_recent_round_trip(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    assert audit.recent(db) == []
    assert audit.record(db, "ana", "login", {"addr": "10.0.0.1"})
    assert audit.record(db, "ben", "export", {"route": "/export/threads.csv", "query": '{"by": "account"}'})
    entries = audit.recent(db)
    assert [(e.actor, e.action) for e in entries] == [("ben", "export"), ("ana", "login")]  # newest first
    assert entries[1].detail == {"addr": "10.0.0.1"}
    assert entries[0].at.tzinfo is not None and abs((datetime.now(UTC) - entries[0].at).total_seconds()) < 60
    assert [e.actor for e in audit.recent(db, limit=1)] == ["ben"]
    with sqlite3.connect(audit.audit_path(db)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert [c[1] for c in con.execute("PRAGMA table_info(audit)")] == ["at", "actor", "action", "detail"]


def test_a_failed_audit_write_is_a_warning_not_a_failure(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="carepulse.warehouse.audit"):
        assert audit.record(tmp_path / "no" / "such" / "dir" / "wh.duckdb", "ana", "login", {}) is False
    assert "could not write the audit log" in caplog.text


def test_the_data_page_shows_entries_as_text() -> None:
    from dash.testing import ignore_register_page

    with ignore_register_page():
        from carepulse.dashboard.pages.data import audit_rows
    entry = audit.AuditEntry(datetime(2026, 1, 5, 12, 0, tzinfo=UTC), "<b>x</b>", "login.failure",
                             {"addr": "10.0.0.1", "known_user": False, "query": None})
    assert audit_rows([entry], "Europe/Berlin", "de") == [{
        "at": "2026-01-05T13:00:00", "actor": "<b>x</b>", "action": "fehlgeschlagene Anmeldung",
        "detail": "Adresse: 10.0.0.1 · bekannter Benutzer: nein · Filterabfrage: -"}]
    english = audit_rows([entry], "Europe/Berlin", "en")[0]
    assert english["detail"] == "address: 10.0.0.1 · known user: no · filter query: -"


SCRIPT = r"""
import json, re, sys
from pathlib import Path
from urllib.parse import urlencode
from carepulse.core.config import Settings
from carepulse.dashboard.app import create_app
db = Path(sys.argv[1])
client = create_app(db, Settings(db=db)).server.test_client()
def token(path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)
def login(name, password):
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token("/login"),
                                       "next": "/"}).status_code
out = {"wrong": login("ana", "not her password"), "unknown": login("my secret pass", "x"),
       "login": login("ana", "a long pass phrase")}
out["export"] = client.get("/export/threads.csv?" + urlencode({"q": json.dumps({"by": "account"})})).status_code
out["logout"] = client.post("/logout", data={"csrf_token": token("/logout")}).status_code
print(json.dumps(out))
"""


def test_logins_exports_and_user_changes_are_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = load_twcs(tmp_path, [row(1, "c1", False, at("09:00"), "@AcmeCare help"),
                                     row(2, "AcmeCare", True, at("09:10"), "@c1 sure", 1)])
    db = warehouse.path
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long pass phrase\n"))
    assert main(["users", "add", "ana", "--role", "analyst", "--password-stdin", "--db", str(db)]) == 0
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(db)], capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"wrong": 401, "unknown": 401, "login": 302, "export": 200, "logout": 302}
    assert main(["users", "set-role", "ana", "admin", "--db", str(db)]) == 0

    entries = list(reversed(audit.recent(db)))
    assert [(e.actor, e.action) for e in entries] == [
        (audit.os_user(), "users.add"), ("ana", "login.failure"), ("(unknown name)", "login.failure"),
        ("ana", "login"), ("ana", "export"), ("ana", "logout"), (audit.os_user(), "users.set-role")]
    assert entries[0].detail == {"name": "ana", "role": "analyst"}
    assert entries[1].detail == {"addr": "127.0.0.1", "known_user": True}
    assert entries[3].detail == {"addr": "127.0.0.1"}
    assert entries[4].detail["route"] == "/export/threads.csv"
    assert json.loads(entries[4].detail["query"]) == {"by": "account"}
    assert b"my secret pass" not in audit.audit_path(db).read_bytes() + _wal(db)
    _the_data_page_lists_them(db, monkeypatch)


def _the_data_page_lists_them(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dash.testing import ignore_register_page

    from carepulse.core.config import Settings
    from carepulse.dashboard import state

    with ignore_register_page():
        from carepulse.dashboard.pages import data as data_page
    monkeypatch.setattr(state, "_state", None)  # put back after the test
    state.configure(db, Settings(db=db))
    rows, note = data_page.show_audit({})
    assert note is None and [r["action"] for r in rows][:2] == ["Rolle geändert", "Abmeldung"] and len(rows) == 7
    audit.audit_path(db).write_bytes(b"not a database" * 100)
    Path(str(audit.audit_path(db)) + "-wal").unlink(missing_ok=True)
    rows, note = data_page.show_audit({})
    from carepulse.dashboard import i18n

    assert rows == [] and i18n._("The audit log cannot be read: {error}").split(":")[0] in str(note)


def _wal(db: Path) -> bytes:
    wal = Path(str(audit.audit_path(db)) + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_an_erasure_is_recorded_without_the_handle(tmp_path: Path) -> None:
    warehouse = load_twcs(tmp_path, [row(1, HANDLE, False, at("09:00"), "@AcmeCare help"),
                                     row(2, "AcmeCare", True, at("09:10"), f"@{HANDLE} sure", 1),
                                     row(3, "c2", False, at("10:00"), "@AcmeCare hi")])
    db = warehouse.path
    assert main(["erase", "--customer", HANDLE.lower(), "--db", str(db), "--yes"]) == 0
    assert main(["erase", "--customer", HANDLE, "--db", str(db), "--yes"]) == 0  # nothing left: recorded too
    first, second = reversed(audit.recent(db))
    assert first.actor == audit.os_user() and first.action == "erase"
    assert first.detail["customer"] == audit.handle_digest(db, f"@{HANDLE}") == second.detail["customer"]
    assert first.detail["tweets"] == 1 and first.detail["brand_replies"] == 1 and first.detail["threads"] == 1
    assert first.detail["nothing_found"] is False and second.detail["nothing_found"] is True
    stored = (audit.audit_path(db).read_bytes() + _wal(db)).lower()
    assert HANDLE.lower().encode() not in stored
    assert HANDLE.lower().encode() not in db.read_bytes().lower()
