"""The pull under budget, interruption, crash and resume, and the ``pull`` CLI."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import responses

from carepulse.cli import main
from carepulse.core.config import Settings
from carepulse.core.errors import SourceError
from carepulse.etl.twitter_api.puller import Puller, PullReport
from tests.etl.twitter_api_helpers import (
    CLEAN_CURSORS,
    CLEAN_REQUESTS,
    TOKEN,
    FakeTime,
    FakeX,
    connect,
    puller,
    snapshot,
    thread_figures,
)
from tests.etl.twitter_api_helpers import clean as clean  # shared fixtures, re-exported for pytest
from tests.etl.twitter_api_helpers import fake_x as fake_x

# -- budget, interruption, crash and resume ---------------------------------------------------------


def test_max_requests_caps_the_requests_loads_what_came_and_keeps_the_cursors(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    report = puller(settings, FakeTime(), tmp_path, max_requests=3).run_once()
    assert len(fake_x.calls) == report.requests == 3
    assert report.stopped_by == "budget" and not report.complete and report.cursors == {}
    con = connect(settings.db)  # mentions page 1: 3 + 1 included parent; page 2: 2 + 1 included parent
    assert con.execute("SELECT count(*) FROM tweets").fetchone() == (7,)
    assert con.execute("SELECT count(*) FROM pull_state").fetchone() == (0,)


@pytest.mark.parametrize(("how", "stop_after"), [
    # a budget stop publishes a partial load without cursors: every stop point is checked
    *[("budget", n) for n in range(1, CLEAN_REQUESTS)],
    # a crash publishes nothing: after the user lookup, mid-way through the timelines, before the parents
    ("crash", 1), ("crash", 5), ("crash", 10),
])
def test_a_crash_or_stop_after_any_request_then_a_rerun_gives_the_clean_warehouse(
    settings: Settings, tmp_path: Path, clean: dict[str, list[tuple[Any, ...]]], how: str, stop_after: int
) -> None:
    fake = FakeX()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, re.compile(r"https://api\.twitter\.com/2/.*"), callback=fake.answer)
        time = FakeTime()
        if how == "crash":
            def crash(path: str, params: dict[str, str]) -> None:
                if len(fake.calls) == stop_after + 1:
                    raise RuntimeError("power cut")
            fake.on_request = crash
            with pytest.raises(RuntimeError, match="power cut"):
                puller(settings, time, tmp_path).run_once()
            assert not settings.db.exists(), "a crash publishes nothing"
            parts = list((tmp_path / "raw").rglob("*.part"))
            assert bool(parts) == (stop_after > 1), "pages of the interrupted fetch are kept as .part"
            fake.on_request = None
        else:
            report = puller(settings, time, tmp_path, max_requests=stop_after).run_once()
            assert report.stopped_by == "budget" and report.requests == stop_after
        rerun = puller(settings, time, tmp_path).run_once()
    assert rerun.complete
    assert snapshot(settings.db) == clean


def test_a_crash_inside_the_load_publishes_neither_tweets_nor_cursors(
    fake_x: FakeX, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    clean: dict[str, list[tuple[Any, ...]]],
) -> None:
    def failing_cursor_writer(self: Puller, cursors: dict[tuple[str, str], int]) -> Callable[..., None]:
        def write(con: duckdb.DuckDBPyConnection) -> None:
            raise OSError("disk full")
        return write

    with monkeypatch.context() as patched:
        patched.setattr(Puller, "_cursor_writer", failing_cursor_writer)
        with pytest.raises(OSError, match="disk full"):
            puller(settings, FakeTime(), tmp_path).run_once()
    assert not settings.db.exists()
    fake_x.calls.clear()
    puller(settings, FakeTime(), tmp_path).run_once()
    assert "since_id" not in next(params for path, params in fake_x.calls if path.endswith("/mentions"))
    assert snapshot(settings.db) == clean


def test_every_pulls_on_schedule_and_a_stop_ends_it_cleanly_between_pages(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    time = FakeTime()
    stop = {"now": False}
    reports: list[PullReport] = []

    def on_request(path: str, params: dict[str, str]) -> None:
        if len(reports) == 2 and path == "/users/783214/mentions":
            stop["now"] = True  # Ctrl-C while the third cycle's first page is on its way

    fake_x.on_request = on_request
    pull = puller(settings, time, tmp_path, should_stop=lambda: stop["now"])
    pull.run_every(300, reports.append, lambda exc: pytest.fail(str(exc)))

    assert [r.complete for r in reports] == [True, True, False]
    assert reports[2].stopped_by == "interrupt" and reports[2].requests == 1
    assert time.sleeps == [300.0, 300.0], "cycles start every 300 s (the fake API answers instantly)"
    assert thread_figures(settings.db) == (7, 4, 1334.0)
    assert snapshot(settings.db)["pull_state"] == CLEAN_CURSORS


def test_every_survives_a_transient_error_and_stops_when_the_budget_is_spent(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    fake_x.fail("/users/by/username/AcmeHelp", *[(503, {}, {"title": "Service Unavailable"})] * 6)
    errors: list[SourceError] = []
    reports: list[PullReport] = []
    time = FakeTime()
    pull = puller(settings, time, tmp_path, max_requests=6 + CLEAN_REQUESTS + 4)
    pull.run_every(300, reports.append, errors.append)

    assert len(errors) == 1 and errors[0].transient
    assert [r.complete for r in reports] == [True, True]
    assert pull.requests_sent == 6 + CLEAN_REQUESTS + 4 and pull.budget_left == 0


# -- CLI ---------------------------------------------------------------------------------------------


def test_the_cli_without_a_token_prints_one_line_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    assert main(["pull", "--account", "AcmeHelp", "--db", str(tmp_path / "wh.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: no Twitter bearer token")


def test_the_cli_pulls_prints_the_accounting_and_keeps_the_token_out_of_everything(
    fake_x: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", TOKEN)
    db = tmp_path / "data" / "wh.duckdb"
    assert main(["-v", "pull", "--account", "AcmeHelp", "--account", "@AcmeDE", "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert "pull @AcmeHelp mentions: 2 requests, 2 pages, 5 tweets" in out
    assert "11 requests; 7 raw files; complete, cursors advanced" in out
    assert "7 threads (4 answered)" in out
    assert TOKEN not in out + err
    assert sorted(p.name for p in (tmp_path / "data" / "raw" / "AcmeHelp").iterdir())[0].startswith("conversations-")
    assert main(["pull", "--account", "AcmeHelp", "--db", str(db), "--max-requests", "1"]) == 0
    assert "stopped early (the request budget is spent)" in capsys.readouterr().out


def test_ctrl_c_in_the_cli_stops_after_the_current_page_loads_it_and_keeps_the_cursors(
    fake_x: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", TOKEN)

    def ctrl_c(path: str, params: dict[str, str]) -> None:
        if path == "/users/783214/mentions" and "pagination_token" not in params:
            os.kill(os.getpid(), signal.SIGINT)

    fake_x.on_request = ctrl_c
    db = tmp_path / "wh.duckdb"
    assert main(["pull", "--account", "AcmeHelp", "--db", str(db)]) == 130
    out, err = capsys.readouterr()
    assert "stopping after the current request" in err
    assert "stopped early (stopped by Ctrl-C): cursors not advanced" in out
    assert len(fake_x.calls) == 2
    con = connect(db)
    assert con.execute("SELECT count(*) FROM tweets").fetchone() == (4,)  # page 1: 3 tweets + 1 included parent
    assert con.execute("SELECT count(*) FROM pull_state").fetchone() == (0,)


def test_a_second_ctrl_c_aborts_at_once_and_publishes_nothing(
    fake_x: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", TOKEN)

    def ctrl_c_twice(path: str, params: dict[str, str]) -> None:
        if path == "/users/783214/tweets":
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)

    fake_x.on_request = ctrl_c_twice
    handler_before = signal.getsignal(signal.SIGINT)
    db = tmp_path / "wh.duckdb"
    assert main(["pull", "--account", "AcmeHelp", "--db", str(db)]) == 130
    assert "interrupted: nothing was published" in capsys.readouterr().err
    assert not db.exists()
    assert [p.name.endswith(".jsonl.part") for p in (tmp_path / "raw" / "AcmeHelp").iterdir()] == [True]
    assert signal.getsignal(signal.SIGINT) is handler_before, "the CLI restores the Ctrl-C handler"


def test_the_cli_refuses_bad_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", TOKEN)
    db = str(tmp_path / "wh.duckdb")
    assert main(["pull", "--account", "../etc", "--db", db]) == 2
    assert main(["pull", "--account", "AcmeHelp", "--every", "soon", "--db", db]) == 2
    assert main(["pull", "--account", "AcmeHelp", "--since", "yesterday", "--db", db]) == 2
    assert main(["pull", "--account", "AcmeHelp", "--max-requests", "0", "--db", db]) == 2
    assert [line.split(":")[0] for line in capsys.readouterr().err.splitlines()] == ["error"] * 4
