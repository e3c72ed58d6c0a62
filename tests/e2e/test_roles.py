"""Logins in the browser: each role logs in through the form, sees the pages of its role in the navbar and
nothing else, and the server refuses the other pages and the downloads its role may not have."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import VIEWPORT, _free_port

pytestmark = pytest.mark.e2e

PASSWORD = "a long pass phrase for the browser"
ROLES = ("management", "teamlead", "analyst", "admin")
PAGES = {"nav-pilot": "/", "nav-team": "/team", "nav-explore": "/explore", "nav-data": "/data"}
SEES = {"management": {"nav-pilot"}, "teamlead": {"nav-pilot", "nav-team"},
        "analyst": {"nav-pilot", "nav-team", "nav-explore"}, "admin": set(PAGES)}


@pytest.fixture(scope="module")
def guarded_url(e2e_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo served with one user per role (``carepulse users add``), as a team would run it."""
    folder = tmp_path_factory.mktemp("roles")
    db = folder / "demo.duckdb"
    shutil.copyfile(e2e_db, db)
    for role in ROLES:
        subprocess.run([sys.executable, "-m", "carepulse.cli", "users", "add", f"{role}1", "--role", role,
                        "--password-stdin", "--db", str(db)], input=PASSWORD + "\n", text=True, check=True,
                       capture_output=True, cwd=folder)
    port = _free_port()
    env = {**os.environ, "CAREPULSE_SECRET_KEY": "k" * 48}
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "carepulse.cli", "serve", "--db", str(db), "--port", str(port)],
                              cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/login", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "serve.log").read_text()) from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def log_in(browser: Any, url: str, role: str) -> Any:
    context = browser.new_context(viewport=VIEWPORT, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url + "/")
    assert "/login" in page.url  # nothing before the login
    page.fill("#name", f"{role}1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#nav-pilot")
    return page


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_pages(browser: Any, guarded_url: str, role: str) -> None:
    page = log_in(browser, guarded_url, role)
    try:
        shown = {nav for nav in PAGES if page.locator(f"#{nav}").is_visible()}
        assert shown == SEES[role]
        assert f"{role}1 ({role})" in page.inner_text("nav")
        for nav, path in PAGES.items():
            answer = page.goto(guarded_url + path)
            assert answer is not None
            assert (answer.status == 200) == (nav in SEES[role]), (role, path, answer.status)
        download = page.request.get(guarded_url + "/export/threads.csv")
        assert (download.status == 200) == (role in ("analyst", "admin")), (role, download.status)
    finally:
        page.context.close()


def test_a_wrong_password_stays_on_the_login(browser: Any, guarded_url: str) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(guarded_url + "/login")
        page.fill("#name", "admin1")
        page.fill("#password", "not the password at all")
        page.click("button[type=submit]")
        assert "/login" in page.url and page.locator("[role=alert]").is_visible()
        assert page.request.get(guarded_url + "/_dash-layout").status == 401
    finally:
        context.close()
