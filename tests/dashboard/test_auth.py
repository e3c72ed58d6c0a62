"""Login and roles: the rule table as a pure function, and the real Flask app behind the login.

The app is built in a fresh process per warehouse (Dash registers page callbacks once per process), over
a copy of the TWCS warehouse, so that the users added here are seen by no other test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from carepulse.dashboard import auth
from carepulse.dashboard.auth import required_role, safe_next
from carepulse.warehouse import dashboard_users as users

PASSWORD = "a long enough secret"
UPDATE = "/_dash-update-component"


def callback(*outputs: str, pathname: str | None = None) -> dict:
    """A callback request's body as Dash's renderer sends it (one output, or several)."""
    names = [f"{o}.children" for o in outputs]
    body: dict = {"output": names[0] if len(names) == 1 else ".." + "...".join(names) + "..",
                  "outputs": [{"id": o, "property": "children"} for o in outputs], "inputs": []}
    if pathname is not None:
        body["inputs"] = [{"id": "_pages_location", "property": "pathname", "value": pathname},
                          {"id": "_pages_location", "property": "search", "value": ""}]
    return body


@pytest.mark.parametrize("path, role", [
    ("/login", None), ("/logout", None),
    ("/", "management"), ("/pilot", "management"), ("/team", "teamlead"), ("/team/", "teamlead"),
    ("/TEAM", "teamlead"), ("/explore", "analyst"), ("/data", "admin"), ("//data", "admin"),
    ("/export/threads.csv", "analyst"), ("/export/threads.xlsx", "analyst"),
    ("/report.pdf", "management"), ("/report.html", "management"),
    ("/_dash-layout", "management"), ("/_dash-dependencies", "management"),
    ("/assets/carepulse.css", "management"), ("/_dash-component-suites/dash/dcc/dash_core.js", "management"),
    ("/no-such-page", "admin"), ("/_dash-something-new", "admin"),
])
def test_required_role_by_path(path: str, role: str | None) -> None:
    assert required_role(path, None) == role


@pytest.mark.parametrize("body, role", [
    (callback("pilot-kpis"), "management"),
    (callback("team-queue"), "teamlead"),
    (callback("team-thread-panel-body"), "teamlead"),
    (callback("explore-table"), "analyst"),
    (callback("explore-download"), "analyst"),
    (callback("data-quarantine"), "admin"),
    (callback("url"), "management"), (callback("nav-team"), "management"),
    (callback("shell-as-of"), "management"), (callback("views-menu"), "management"),
    (callback("filter-dates"), "management"), (callback("warehouse-alert"), "management"),
    (callback("pilot-kpis", "data-runs"), "admin"),  # the strictest output decides
    (callback("_pages_content", "_pages_store", pathname="/"), "management"),
    (callback("_pages_content", "_pages_store", pathname="/team"), "teamlead"),
    (callback("_pages_content", "_pages_store", pathname="/data/"), "admin"),
    (callback("something-unknown"), "admin"),
    ({"output": "data-runs.rowData", "outputs": {"id": "pilot-kpis", "property": "children"}}, "admin"),
    ({"output": '{"index":1,"type":"explore-x"}.children'}, "analyst"),
    ({}, "admin"), (None, "admin"),
])
def test_required_role_of_a_callback(body: dict | None, role: str) -> None:
    assert required_role(UPDATE, body) == role


def test_every_page_has_a_rule() -> None:
    from carepulse.dashboard.filters import PAGES

    assert {path: required_role(path, None) for _, _, path in PAGES} == {
        "/": "management", "/team": "teamlead", "/explore": "analyst", "/data": "admin"}


@pytest.mark.parametrize("target, safe", [("/team?from=2026-01-01", "/team?from=2026-01-01"), (None, "/"),
                                          ("//evil.example", "/"), ("https://evil.example/", "/"),
                                          ("/\\evil.example", "/"), ("/x\r\nSet-Cookie: a=b", "/")])
def test_next_stays_on_this_site(target: str | None, safe: str) -> None:
    assert safe_next(target) == safe


# ---- the real app ------------------------------------------------------------------------------------

SCRIPT = r"""
import json, re, sys
from pathlib import Path
from carepulse.core.config import Settings
from carepulse.dashboard import auth
from carepulse.dashboard.app import create_app

db = Path(sys.argv[1])
settings = Settings(db=db)
app = create_app(db, settings)
auth.install(app.server, db, settings)
auth.install(app.server, db, settings)  # twice: as create_app will once it calls it itself
client = app.server.test_client()
SAME = {"Origin": "http://localhost"}
out = {}

def status(response):
    return [response.status_code, response.headers.get("Location"), response.get_data(as_text=True)[:3000]]

def token(c):
    page = c.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return found.group(1) if found else ""

def login(c, name, password, addr="127.0.0.1", with_token=True):
    form = {"name": name, "password": password, "next": "/team?from=2026-01-01"}
    if with_token:
        form["csrf_token"] = token(c)
    return status(c.post("/login", data=form, environ_base={"REMOTE_ADDR": addr}))

def post(c, body, headers=SAME):
    return status(c.post("/_dash-update-component", json=body, headers=headers))

def cb(output, pathname="/"):
    return {"output": output + ".children", "outputs": {"id": output, "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": pathname}], "changedPropIds": [],
            "state": []}

routing = lambda path: {
    "output": ".._pages_content.children..._pages_store.data..",
    "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
    "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
               {"id": "_pages_location", "property": "search", "value": ""}], "changedPropIds": [], "state": []}

out["anonymous"] = {path: status(client.get(path)) for path in
                    ("/", "/team?from=2026-01-01", "/_dash-layout", "/export/threads.csv", "/login")}
out["anonymous_callback"] = post(client, cb("shell-as-of"))
out["no_token"] = login(client, "manager", "wrong password", with_token=False)
out["wrong"] = login(client, "manager", "wrong password")
out["unknown"] = login(client, "nobody", "wrong password")
out["per_address"] = [login(client, f"guess{i}", "wrong", addr="10.0.0.2")[0] for i in range(6)]
out["per_name"] = [login(client, "analyst", "wrong", addr=f"10.0.1.{i}")[0] for i in range(6)]
out["locked_name_right_password"] = login(client, "analyst", sys.argv[2], addr="10.0.2.1")[0]

manager = app.server.test_client()
out["manager_login"] = login(manager, "manager", sys.argv[2])
out["manager"] = {
    "/": status(manager.get("/"))[0], "/team": status(manager.get("/team"))[0],
    "/data": status(manager.get("/data"))[0], "/_dash-layout": status(manager.get("/_dash-layout"))[0],
    "/assets/carepulse.css": status(manager.get("/assets/carepulse.css"))[0],
    "export": status(manager.get("/export/threads.csv")),
    "shell_callback": post(manager, cb("shell-as-of"))[0],
    "explore_callback": post(manager, cb("explore-notes")),
    "route_pilot": post(manager, routing("/"))[0], "route_data": post(manager, routing("/data"))[0],
    "no_origin": post(manager, cb("shell-as-of"), headers={}),
    "foreign_origin": post(manager, cb("shell-as-of"), headers={"Origin": "http://evil.example"})[0],
    "same_referer": post(manager, cb("shell-as-of"), headers={"Referer": "http://localhost/team"})[0],
}
cookie = manager.get_cookie("carepulse_session").value
logout_page = manager.get("/logout").get_data(as_text=True)
out["logout_no_token"] = status(manager.post("/logout"))[0]
logout_token = re.search(r'name="csrf_token" value="([^"]+)"', logout_page).group(1)
out["logout"] = status(manager.post("/logout", data={"csrf_token": logout_token}))
out["after_logout"] = status(manager.get("/"))[:2]
replay = app.server.test_client()
replay.set_cookie("carepulse_session", cookie)
out["replayed_cookie"] = status(replay.get("/"))[:2]

analyst = app.server.test_client()
out["analyst_login"] = login(analyst, "boss", sys.argv[2])
out["analyst"] = {"export": status(analyst.get("/export/threads.csv"))[0],
                  "explore": status(analyst.get("/explore"))[0], "data": status(analyst.get("/data"))[0],
                  "explore_callback": post(analyst, cb("explore-notes"))[0] != 403}
print(json.dumps(out))
"""

OPEN_SCRIPT = r"""
import json, sys
from pathlib import Path
from carepulse.core.config import Settings
from carepulse.dashboard import auth
from carepulse.dashboard.app import create_app

db = Path(sys.argv[1])
settings = Settings(db=db)
app = create_app(db, settings)
print("configured", auth.users_configured(db))
auth.install(app.server, db, settings)
client = app.server.test_client()
out = {path: client.get(path).status_code for path in ("/", "/team", "/explore", "/data", "/_dash-layout",
                                                         "/export/threads.csv")}
out["login"] = client.get("/login").status_code
print(json.dumps(out))
"""


def _run(script: str, *args: str, cwd: Path) -> tuple[str, dict]:
    env = {k: v for k, v in os.environ.items() if k != "CAREPULSE_SECRET_KEY"}
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=180,
                          check=False, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    return "\n".join(lines[:-1]), json.loads(lines[-1])


@pytest.fixture(scope="module")
def guarded(twcs_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    db = tmp_path_factory.mktemp("auth") / "wh.duckdb"
    shutil.copyfile(twcs_db, db)
    users.add_user(db, "manager", "management", PASSWORD)
    users.add_user(db, "analyst", "analyst", PASSWORD)
    users.add_user(db, "boss", "analyst", PASSWORD)
    return db, _run(SCRIPT, str(db), PASSWORD, cwd=db.parent)[1]


def test_without_users_the_dashboard_opens_as_before(twcs_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    shutil.copyfile(twcs_db, db)
    printed, out = _run(OPEN_SCRIPT, str(db), cwd=tmp_path)
    assert printed == "configured False"
    assert out == {"/": 200, "/team": 200, "/explore": 200, "/data": 200, "/_dash-layout": 200,
                   "/export/threads.csv": 200, "login": 200}  # /login: Dash's catch-all page, no form
    assert not (tmp_path / ".carepulse-secret").exists()


def test_anonymous_requests_go_to_the_login(guarded: tuple[Path, dict]) -> None:
    out = guarded[1]["anonymous"]
    assert out["/"][:2] == [302, "/login?next=%2F"]
    assert out["/team?from=2026-01-01"][:2] == [302, "/login?next=%2Fteam%3Ffrom%3D2026-01-01"]
    assert out["/_dash-layout"] == [401, None, "login required\n"]
    assert out["/export/threads.csv"] == [401, None, "login required\n"]
    assert out["/login"][0] == 200 and 'type="password"' in out["/login"][2]
    assert '<html lang="de">' in out["/login"][2] and 'href="/lang/en?next=/login"' in out["/login"][2]
    assert guarded[1]["anonymous_callback"][0] == 401


def test_a_failed_login_says_only_wrong_name_or_password(guarded: tuple[Path, dict]) -> None:
    out = guarded[1]
    assert out["no_token"][0] == 403
    for answer in (out["wrong"], out["unknown"]):
        assert answer[0] == 401 and "Falscher Name oder falsches Passwort." in answer[2]  # a German warehouse
    assert out["wrong"][2].replace("manager", "nobody") == out["unknown"][2]  # same page but for the name typed


def test_failed_logins_are_limited_per_address_and_per_name(guarded: tuple[Path, dict]) -> None:
    out = guarded[1]
    assert out["per_address"] == [401] * 5 + [429]
    assert out["per_name"] == [401] * 5 + [429]
    assert out["locked_name_right_password"] == 429  # locked means locked, even with the right password


def test_management_sees_the_pilot_page_only(guarded: tuple[Path, dict]) -> None:
    out = guarded[1]
    assert out["manager_login"][:2] == [302, "/team?from=2026-01-01"]
    seen = out["manager"]
    assert [seen[p] for p in ("/", "/team", "/data", "/_dash-layout", "/assets/carepulse.css")] == [
        200, 403, 403, 200, 200]
    assert seen["export"][0] == 403 and seen["export"][2] == (
        "forbidden: this needs the analyst role (you are manager, management)\n")
    assert seen["shell_callback"] == 200
    assert seen["explore_callback"][0] == 403
    assert (seen["route_pilot"], seen["route_data"]) == (200, 403)


def test_a_dash_post_must_come_from_this_site(guarded: tuple[Path, dict]) -> None:
    seen = guarded[1]["manager"]
    assert seen["no_origin"][0] == 403 and seen["no_origin"][2].startswith("refused: a cross-site request")
    assert seen["foreign_origin"] == 403
    assert seen["same_referer"] == 200


def test_logout_ends_the_session(guarded: tuple[Path, dict]) -> None:
    out = guarded[1]
    assert out["logout_no_token"] == 403
    assert out["logout"][:2] == [302, "/login"]
    assert out["after_logout"] == [302, "/login?next=%2F"]
    assert out["replayed_cookie"] == [302, "/login?next=%2F"]  # a copy of the cookie died with the logout


def test_an_analyst_gets_the_export(guarded: tuple[Path, dict]) -> None:
    out = guarded[1]
    assert out["analyst_login"][0] == 302
    assert out["analyst"] == {"export": 200, "explore": 200, "data": 403, "explore_callback": True}


def test_the_secret_is_made_once_and_private(guarded: tuple[Path, dict]) -> None:
    secret = guarded[0].parent / ".carepulse-secret"
    assert secret.exists() and secret.stat().st_mode & 0o777 == 0o600
    assert len(secret.read_text().strip()) >= 60


SSO_SCRIPT = r"""
import json, os, sys
from pathlib import Path
from carepulse.core.config import Settings
from carepulse.dashboard import auth
from carepulse.dashboard.app import create_app

db = Path(sys.argv[1])
settings = Settings(db=db)
app = create_app(db, settings)
auth.install(app.server, db, settings)
client = app.server.test_client()
def get(path, user=None):
    r = client.get(path, headers={"X-Forwarded-User": user} if user else {})
    return [r.status_code, r.get_data(as_text=True)[:200]]
print(json.dumps({
    "none": get("/"), "stranger": get("/", "mallory"),
    "manager_pilot": get("/", "manager")[0], "manager_team": get("/team", "manager")[0],
    "manager_export": get("/export/threads.csv", "manager")[0],
    "analyst_export": get("/export/threads.csv", "analyst")[0],
    "session_ignored": client.get("/", headers={"X-Other": "manager"}).status_code,
}))
"""


def test_single_sign_on_through_a_proxy_header(guarded: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch) -> None:
    """``$CAREPULSE_SSO_USER_HEADER``: the authenticating proxy names the user, the dashboard's user table
    gives the role; a name it does not know is refused, a request without the header is not logged in."""
    db = guarded[0]
    monkeypatch.setenv(auth.SSO_HEADER_ENV, "X-Forwarded-User")
    out = _run(SSO_SCRIPT, str(db), cwd=db.parent)[1]
    assert out["none"] == [401, "login required: the sign-on proxy named no user (header X-Forwarded-User)\n"]
    assert out["stranger"][0] == 403 and "mallory is not a dashboard user" in out["stranger"][1]
    assert (out["manager_pilot"], out["manager_team"], out["manager_export"]) == (200, 403, 403)
    assert out["analyst_export"] == 200 and out["session_ignored"] == 401


def test_single_sign_on_refuses_a_server_beyond_this_machine(guarded: tuple[Path, dict],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from carepulse.core.errors import ConfigError
    from carepulse.dashboard.app import serve

    monkeypatch.setenv(auth.SSO_HEADER_ENV, "X-Forwarded-User")
    with pytest.raises(ConfigError, match="trusts a header only from a proxy on this machine"):
        serve(guarded[0], host="0.0.0.0", port=0)
