"""What a role sees of the customers: pseudonyms for handles and hidden texts for analysts, everything for team
leads, admins and a dashboard without login; the pseudonym is stable and keyed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from carepulse.dashboard import privacy, state


def test_pseudonym_is_stable_keyed_and_case_blind() -> None:
    a = privacy.pseudonym("@Alice_K", b"k1")
    assert a == privacy.pseudonym("alice_k", b"k1") and a.startswith("cust-") and len(a) == 17
    assert a != privacy.pseudonym("alice_k", b"k2")  # without the key, hashing candidate handles finds nothing
    assert privacy.pseudonym(None, b"k1") is None


def test_masked_for_an_analyst_and_shown_to_a_team_lead(demo_state: state.DashboardState,
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = "test-key-of-at-least-thirty-two-characters"  # a short key is refused (core/local_secrets.py)
    monkeypatch.setenv(privacy.KEY_ENV, key)
    frame = pd.DataFrame({"thread_id": ["t1", "t2"], "customer_handle": ["Alice", None],
                          "first_text": ["my contract 123", None], "account": ["brand", "brand"]})
    conversation = pd.DataFrame({"role": ["customer", "brand", "other customer"],
                                 "author_handle": ["Alice", "brand", "Bob"],
                                 "text": ["@brand help, IBAN DE00", "@Alice DM us", "me too"]})
    monkeypatch.setattr(privacy.auth, "current_user", lambda: ("ana", "analyst"))
    shown = privacy.masked(frame)
    assert shown["customer_handle"].iloc[0] == privacy.pseudonym("alice", key.encode())
    assert shown["first_text"].iloc[0] == privacy.HIDDEN
    assert pd.isna(shown["customer_handle"].iloc[1]) and pd.isna(shown["first_text"].iloc[1])
    assert frame["customer_handle"].iloc[0] == "Alice"  # the cached frame is not changed
    talk = privacy.masked(conversation)
    alice = privacy.pseudonym("alice", key.encode())
    assert talk["text"].tolist() == [privacy.HIDDEN, f"@{alice} DM us", privacy.HIDDEN]  # a mention is personal too
    assert talk["author_handle"].tolist()[1] == "brand" and talk["author_handle"].tolist()[0].startswith("cust-")
    assert privacy.masked_detail({"customer_handle": "Alice"}) == {
        "customer_handle": privacy.pseudonym("Alice", key.encode())}
    monkeypatch.setattr(privacy.auth, "current_user", lambda: ("tl", "teamlead"))
    assert privacy.masked(frame) is frame
    monkeypatch.setattr(privacy.auth, "current_user", lambda: None)  # no login configured
    assert privacy.masked(frame) is frame


def test_the_key_file_is_made_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    first = privacy.key(tmp_path)
    assert first == privacy.key(tmp_path) and len(first) > 40
    assert (tmp_path / privacy.KEY_FILE).stat().st_mode & 0o777 == 0o600


SCRIPT = r"""
import csv, io, json, re, sys, urllib.parse
from pathlib import Path
from carepulse.core.config import Settings
from carepulse.dashboard.app import create_app
db = Path(sys.argv[1])
app = create_app(db, Settings(db=db))
out = {}
for name in ("ana", "tl"):
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"name": name, "password": "a long pass phrase", "csrf_token": token, "next": "/"})
    got = client.get("/export/threads.csv?csv=raw&q=" + urllib.parse.quote(json.dumps({})),
                     headers={"Referer": "http://localhost/explore"})
    text = got.get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";" if text.count(";") > text.count(",") else ","))
    out[name] = [got.status_code, sorted({r["customer_handle"][:5] for r in rows})[:3],
                 sorted({(r["first_text"] or "")[:22] for r in rows})[:2]]
print(json.dumps(out))
"""


def test_an_analysts_export_has_pseudonyms_and_no_texts(demo_db: Path, tmp_path: Path) -> None:
    from carepulse.cli import main

    db = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_db, db)
    for name, role in (("ana", "analyst"), ("tl", "admin")):
        stdin = sys.stdin
        try:
            import io

            sys.stdin = io.StringIO("a long pass phrase\n")
            assert main(["users", "add", name, "--role", role, "--password-stdin", "--db", str(db)]) == 0
        finally:
            sys.stdin = stdin
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(db)], capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    status, handles, texts = out["ana"]
    assert status == 200 and handles == ["cust-"] and texts in ([privacy.HIDDEN[:22]], ["", privacy.HIDDEN[:22]])
    status, handles, texts = out["tl"]
    assert status == 200 and "cust-" not in handles and privacy.HIDDEN[:22] not in texts
