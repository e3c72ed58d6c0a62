"""Login wired into the served dashboard: the navbar shows a user only the pages of their role, serving beyond
this machine without any user is refused, and a user is asked to log in."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from carepulse.cli import main

SCRIPT = r"""
import json, re, sys
from pathlib import Path
from carepulse.core.config import Settings
from carepulse.dashboard.app import create_app
db = Path(sys.argv[1])
app = create_app(db, Settings(db=db))
client = app.server.test_client()
out = {"anonymous": client.get("/").status_code}
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
done = client.post("/login", data={"name": "boss", "password": "a long pass phrase", "csrf_token": token,
                                   "next": "/"})
out["login"] = done.status_code
layout = client.get("/_dash-layout").get_data(as_text=True)
out["shell"] = "boss (management)" in layout and "Abmelden" in layout  # the German demo
def nav_items(node, found):
    if isinstance(node, dict):
        props = node.get("props", {})
        child = props.get("children")
        if node.get("type") == "NavItem" and isinstance(child, dict):
            found[child.get("props", {}).get("id")] = props.get("style")
        for value in props.values():
            nav_items(value, found)
    elif isinstance(node, list):
        for value in node:
            nav_items(value, found)
    return found
shown = nav_items(json.loads(layout), {})
out["nav"] = {k: v for k, v in shown.items() if k}
out["team_page"] = client.get("/team").status_code
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def guarded_db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("login") / "demo.duckdb"
    shutil.copyfile(demo_db, path)
    stdin = sys.stdin
    try:
        sys.stdin = io.StringIO("a long pass phrase\n")
        assert main(["users", "add", "boss", "--role", "management", "--password-stdin", "--db", str(path)]) == 0
    finally:
        sys.stdin = stdin
    return path


def test_the_navbar_shows_the_roles_pages_and_the_server_refuses_the_others(guarded_db: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(guarded_db)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["anonymous"] == 302 and out["login"] == 302
    assert out["shell"] is True
    hidden = {"display": "none"}
    assert out["nav"] == {"nav-pilot": None, "nav-team": hidden, "nav-explore": hidden, "nav-data": hidden}
    assert out["team_page"] == 403


def test_serving_beyond_this_machine_needs_a_user(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--db", str(demo_db), "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --host 0.0.0.0: serving beyond this machine needs a login")
