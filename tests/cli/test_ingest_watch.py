"""``carepulse ingest SOURCE --watch DIR``, end to end: the real CLI, a real warehouse, the shipped TWCS sample.

The in-process cases call :func:`carepulse.cli.main`; one case runs the resident mode in its own process and
stops it with Ctrl-C (SIGINT), as a user would.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.processes import held_base
from carepulse.cli import main
from carepulse.cli.commands.ingest_watch import FOLDING
from carepulse.etl.watch import DEFAULT_POLL_S, FAILED
from tests.cli.watch_helpers import EXTRA_IDS, bad, extra, tweet_ids, watcher
from tests.twcs_helpers import at, row, write_twcs


def _files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_once_loads_the_good_files_sets_the_bad_one_aside_and_loads_nothing_twice(
        tmp_path: Path, shared_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "wh" / "w.duckdb"
    inbox.mkdir()
    shutil.copy(shared_sample, inbox / "1-sample.csv")
    bad(inbox / "2-bad.csv")  # in the middle: the file after it is still taken
    extra(inbox / "3-extra.csv")
    sample_ids = set(_tweet_ids_of_sample(shared_sample))

    code = main(["ingest", "twcs", "--watch", str(inbox), "--once", "--db", str(db)])

    out, err = capsys.readouterr()
    assert code == 2, err  # a rejected file: the exit code of `ingest` of a file it rejects
    lines = out.splitlines()
    assert lines[0] == f"twcs {inbox / '1-sample.csv'}: read 1,000 = loaded 1,000 + duplicate 0 + quarantined 0"
    assert f"twcs {inbox / '3-extra.csv'}: read 3 = loaded 3 + duplicate 0 + quarantined 0" in lines
    moved_lines = [line for line in lines if ": loaded in " in line]
    assert len(moved_lines) == 2
    assert moved_lines[0].endswith(f" {inbox / '1-sample.csv'}: loaded in {_seconds(moved_lines[0])} s, "
                                   f"moved to {inbox / 'loaded' / '1-sample.csv'}")
    assert moved_lines[0].split(" ")[2] == "UTC"  # "<date> <time> UTC <file>: ..."
    assert moved_lines[1].endswith(f"moved to {inbox / 'loaded' / '3-extra.csv'}")
    assert lines[-1] == f"watch {inbox}: 2 file(s) loaded, 1 rejected"
    assert "watching" not in err  # --once says nothing about staying up
    (error,) = _error_lines(err)
    assert str(inbox / "2-bad.csv") in error
    assert "not a TWCS file" in error
    assert f"moved to {inbox / 'failed' / '2-bad.csv'}" in error
    assert "Traceback" not in err

    assert _files_in(inbox) == []
    assert _files_in(inbox / "loaded") == ["1-sample.csv", "3-extra.csv"]
    assert _files_in(inbox / "failed") == ["2-bad.csv", "2-bad.csv.error"]
    reason = (inbox / "failed" / "2-bad.csv.error").read_text(encoding="utf-8")
    assert "not a TWCS file" in reason and "id, message" in reason
    assert reason.endswith("\n") and reason.count("\n") == 1
    assert (inbox / "failed" / "2-bad.csv").read_text(encoding="utf-8") == "id,message\n1,hello\n"
    assert tweet_ids(db) == sorted(sample_ids | set(EXTRA_IDS))  # the good files' tweets, exactly

    # The same file again (a crash between commit and move, or a sender that sends twice): all duplicates.
    shutil.copy(shared_sample, inbox / "1-sample.csv")
    code = main(["ingest", "twcs", "--watch", str(inbox), "--once", "--db", str(db)])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == \
        f"twcs {inbox / '1-sample.csv'}: read 1,000 = loaded 0 + duplicate 1,000 + quarantined 0"
    assert "; 0 new records, " in out
    assert out.splitlines()[-1] == f"watch {inbox}: 1 file(s) loaded, 0 rejected"
    assert err == ""
    assert _files_in(inbox / "loaded") == ["1-sample.1.csv", "1-sample.csv", "3-extra.csv"]
    assert tweet_ids(db) == sorted(sample_ids | set(EXTRA_IDS))


def _tweet_ids_of_sample(sample: Path) -> list[int]:
    with sample.open(encoding="utf-8", newline="") as fh:
        return [int(record["tweet_id"]) for record in csv.DictReader(fh)]


def _seconds(line: str) -> str:
    return line.split(": loaded in ", 1)[1].split(" ", 1)[0]


def test_the_loader_reports_a_load_before_it_folds_the_delta_the_load_left_due(
        tmp_path: Path, shared_sample: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A load that leaves the delta past its share is reported (and a handed file's report written) first; the
    compaction comes after, on its own line. Before, the load's line waited for the compaction (about 3 s at 3 M)."""
    from carepulse.warehouse import delta

    db = tmp_path / "wh" / "w.duckdb"
    assert main(["ingest", "twcs", str(shared_sample), "--db", str(db)]) == 0  # the base
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 0.0)  # every delta is due for folding
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    extra(inbox / "1-extra.csv")
    write_twcs(inbox / "2-more.csv", [row(9_100_001, "c901", False, at("11:00"), "@acme my bill is wrong")])
    capsys.readouterr()

    assert main(["ingest", "twcs", "--watch", str(inbox), "--once", "--db", str(db)]) == 0

    out = capsys.readouterr().out.splitlines()
    steps = [("report" if line.startswith("twcs ") else "loaded" if ": loaded in " in line
              else "compacted" if " compacted " in line else "other") for line in out]
    assert [s for s in steps if s != "other"] == ["report", "loaded", "compacted"] * 2, out
    assert all(line.endswith(FOLDING) for line in out if ": loaded in " in line)
    compacted = [line for line in out if " compacted " in line]
    assert all(f"compacted {db}: the delta folded into a new base in " in line for line in compacted)
    assert not delta.delta_path(db).exists()  # the last load's delta is folded too
    assert tweet_ids(db) == sorted({*_tweet_ids_of_sample(shared_sample), *EXTRA_IDS, 9_100_001})


def test_once_on_an_empty_folder_loads_nothing_and_succeeds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    assert main(["ingest", "twcs", "--watch", str(inbox), "--once", "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert out == f"watch {inbox}: 0 file(s) loaded, 0 rejected\n"
    assert err == ""
    assert list(inbox.iterdir()) == []


def test_resident_mode_loads_a_file_renamed_in_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    with watcher(inbox, db, "0.05") as (process, lines):
        watching = lines.wait_for("err", "watching")
        assert watching.startswith(f"watching {inbox} for twcs files (.csv, .txt) every 0.05 s until Ctrl-C")

        in_progress = extra(inbox / ".extra.csv.tmp")  # written under a name the watcher skips ...
        time.sleep(0.3)  # ... for several polls
        assert in_progress.exists()
        assert lines.seen["out"] == []
        os.rename(in_progress, inbox / "extra.csv")  # ... then renamed into place

        loaded = lines.wait_for("out", "loaded in")
        assert loaded.endswith(f" {inbox / 'extra.csv'}: loaded in {_seconds(loaded)} s, "
                               f"moved to {inbox / 'loaded' / 'extra.csv'}")
        assert f"twcs {inbox / 'extra.csv'}: read 3 = loaded 3 + duplicate 0 + quarantined 0" in lines.seen["out"]
        assert _files_in(inbox) == []
        assert _files_in(inbox / "loaded") == ["extra.csv"]
        assert tweet_ids(db) == list(EXTRA_IDS)  # published while the watcher stays up
        assert process.poll() is None

        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    seen = lines.rest()
    assert code == 0, seen
    assert seen["out"][-1] == f"watch {inbox}: 1 file(s) loaded, 0 rejected"
    assert any("stopping after the load in progress" in line for line in seen["err"])
    assert not any(line.startswith(("error:", "Traceback", "interrupted")) for line in seen["err"]), seen["err"]


def test_an_idle_watcher_lets_go_of_a_base_another_process_compacted(tmp_path: Path, shared_sample: Path) -> None:
    """The loader keeps the base open between loads; after ``carepulse compact`` it must close the replaced file
    at its next look at the folder, not hold its blocks on disk until a file arrives."""
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    shutil.copy(shared_sample, inbox / "1-sample.csv")  # the base
    extra(inbox / "2-extra.csv")  # a small load beside it: the base stays attached afterwards
    with watcher(inbox, db, "0.05") as (process, lines):
        lines.wait_for("out", "2-extra.csv: loaded in")
        assert held_base(db, process.pid) == [str(db)]
        compacted = subprocess.run([sys.executable, "-m", "carepulse.cli", "compact", "--db", str(db)],
                                   capture_output=True, text=True, timeout=120)
        assert compacted.returncode == 0, compacted.stderr
        deadline = time.monotonic() + 10
        while held_base(db, process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held_base(db, process.pid) == [], "the watcher still holds the replaced base"
        more = write_twcs(inbox / ".3.csv.tmp", [row(9_100_001, "c901", False, at("11:00"), "@acme still waiting")])
        os.rename(more, inbox / "3-more.csv")
        lines.wait_for("out", "3-more.csv: loaded in")  # the next load attaches the new base
        assert held_base(db, process.pid) == [str(db)]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert len(tweet_ids(db)) == 1_000 + 3 + 1


def test_ctrl_c_stops_an_idle_watcher_at_once_not_after_its_poll(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    extra(inbox / "extra.csv")  # taken on the first pass: once it is reported, the watcher is in its sleep
    with watcher(inbox, db, "60") as (process, lines):
        lines.wait_for("out", "loaded in")
        time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        code = process.wait(timeout=30)
        waited = time.monotonic() - started
    seen = lines.rest()
    assert code == 0, seen
    assert waited < 10, f"Ctrl-C took {waited:.1f} s: the watcher slept out its --poll 60 before stopping"
    assert seen["out"][-1] == f"watch {inbox}: 1 file(s) loaded, 0 rejected"


# With --watch, --once too: were the check missing, the command would load and return, not stay up.
@pytest.mark.parametrize("arguments", [
    pytest.param(["FILE", "--once"], id="once-without-watch"),
    pytest.param(["FILE", "--poll", "1"], id="poll-without-watch"),
    pytest.param(["--watch", "DIR", "--poll", "0", "--once"], id="poll-zero"),
    pytest.param(["--watch", "DIR", "--poll", "-1", "--once"], id="poll-negative"),
    pytest.param(["--watch", "DIR", "--poll", "nan", "--once"], id="poll-nan"),
    pytest.param(["--watch", "DIR", "--poll", "inf", "--once"], id="poll-inf"),
    pytest.param(["--watch", "DIR", "--poll", "1e10"], id="poll-beyond-an-hour"),
])
def test_a_wrong_combination_of_options_is_one_error_line(
        tmp_path: Path, shared_sample: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    shutil.copy(shared_sample, inbox / "waiting.csv")
    argv = [{"FILE": str(shared_sample), "DIR": str(inbox)}.get(a, a) for a in arguments]

    code = main(["ingest", "twcs", *argv, "--db", str(db)])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(("error: --poll and --once go with --watch DIR",
                           "error: --poll must be a number of seconds above 0"))
    assert not db.exists()  # nothing loaded ...
    assert _files_in(inbox) == ["waiting.csv"]  # ... nor moved


@pytest.mark.parametrize(("arguments", "message"), [
    pytest.param(["FILE", "--watch", "DIR", "--once"], "argument --watch: not allowed with argument FILE",
                 id="file-and-watch"),
    pytest.param([], "one of the arguments FILE --watch is required", id="neither"),
])
def test_file_and_watch_are_one_required_choice(tmp_path: Path, shared_sample: Path,
                                                capsys: pytest.CaptureFixture[str], arguments: list[str],
                                                message: str) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    shutil.copy(shared_sample, inbox / "waiting.csv")
    argv = [{"FILE": str(shared_sample), "DIR": str(inbox)}.get(a, a) for a in arguments]

    with pytest.raises(SystemExit) as exited:  # an argument error of argparse: usage, then one error line
        main(["ingest", "twcs", *argv, "--db", str(db)])

    out, err = capsys.readouterr()
    assert exited.value.code == 2
    assert out == ""
    assert err.startswith("usage: carepulse ingest twcs ")
    assert [line for line in err.splitlines() if "error:" in line] == [f"carepulse ingest twcs: error: {message}"]
    assert err.splitlines()[-1] == f"carepulse ingest twcs: error: {message}"
    assert not db.exists()
    assert _files_in(inbox) == ["waiting.csv"]


def test_argument_errors_through_the_console_entry_point_have_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "carepulse.cli", "ingest", "twcs", "--watch", str(tmp_path),
                           "--poll", "0", "--once", "--db", str(tmp_path / "w.duckdb")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("error: --poll must be a number of seconds above 0 and at most 3600, not 0")
    assert len(done.stderr.splitlines()) == 1, done.stderr  # no traceback
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("once", [True, False], ids=["once", "resident"])
def test_a_missing_watch_folder_is_one_error_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], once: bool) -> None:
    missing, db = tmp_path / "missing", tmp_path / "w.duckdb"

    code = main(["ingest", "twcs", "--watch", str(missing), *(["--once"] if once else []), "--db", str(db)])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    (error,) = _error_lines(err)
    assert error == f"error: watch folder {missing} does not exist or is not a folder"
    assert err == error + "\n"  # and no "watching ..." line before it
    assert "Traceback" not in err
    assert not missing.exists()
    assert not db.exists()


def test_a_warehouse_kept_in_the_watched_folder_is_left_alone(tmp_path: Path, shared_sample: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The warehouse, its delta and its lock may sit in the folder: only the source's files (.csv) are taken."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db = inbox / "w.duckdb"
    shutil.copyfile(shared_sample, inbox / "1.csv")
    assert main(["ingest", "twcs", "--watch", str(inbox), "--once", "--db", str(db)]) == 0
    shutil.copyfile(shared_sample, inbox / "2.csv")
    assert main(["ingest", "twcs", "--watch", str(inbox), "--once", "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert "2.csv: read 1,000 = loaded 0 + duplicate 1,000" in out
    assert "do not end in .csv, .txt and are left alone" in err
    assert not (inbox / FAILED).exists() and db.exists()
    assert len(tweet_ids(db)) == 1_000


def test_the_help_states_the_default_poll_the_loader_uses(capsys: pytest.CaptureFixture[str]) -> None:
    """The help is built without importing the loader (start-up time), so it spells the default out: it must be
    the one :mod:`carepulse.etl.watch` uses."""
    with pytest.raises(SystemExit):
        main(["ingest", "twcs", "--help"])
    assert f"(default {DEFAULT_POLL_S:g})" in " ".join(capsys.readouterr().out.split())
