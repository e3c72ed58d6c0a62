"""``carepulse ingest twcs FILE`` while a resident loader runs: the file is handed to it, end to end.

Every case runs real processes: the loader (``ingest twcs --watch``), the command in a fresh interpreter (as the
``carepulse`` script runs it, so what it imports is what a user's process imports), a real warehouse. Where a
loader must stop before it loads, a process registers as one and holds the lock without loading
(:data:`SILENT_LOADER`), which is what a loader killed between its listing and its load looks like.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from carepulse.etl.handover import HANDED_PREFIX, MAX_HANDED_BYTES, PATIENCE_S, REPORT_SUFFIX, Loader, registry
from tests.cli.watch_helpers import EXTRA_IDS, Lines, bad, extra, tweet_ids, watcher

# ``carepulse ARGS`` as the console script runs it; the modules it imported go to argv[1].
COMMAND = """
import json, sys
from carepulse.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump(sorted(sys.modules), fh)
sys.exit(code)
"""

# Registers as a resident loader of argv[1] watching argv[2] with the command's own terms, then loads nothing
# for argv[3] seconds and exits: a loader that stops before it takes the file handed to it.
SILENT_LOADER = """
import sys, time
from pathlib import Path
from carepulse.cli import build_parser
from carepulse.cli.commands.ingest_handover import terms
from carepulse.core.config import load_settings
from carepulse.etl.handover import registered
db, inbox = Path(sys.argv[1]), Path(sys.argv[2])
args = build_parser(["ingest"]).parse_args(["ingest", "twcs", "--watch", str(inbox), "--db", str(db)])
with registered(db, inbox, (".csv", ".txt"), terms(args, load_settings(db=db))):
    print("registered", flush=True)
    time.sleep(float(sys.argv[3]))
"""

# Registers like SILENT_LOADER, then takes the first file handed to it as a loader does before its load (the lock of
# watch.claimed), says "claimed" and loads nothing for argv[3] seconds: a loader in the middle of a long load.
CLAIMING_LOADER = """
import sys, time
from pathlib import Path
from carepulse.cli import build_parser
from carepulse.cli.commands.ingest_handover import terms
from carepulse.core.config import load_settings
from carepulse.etl.handover import registered
from carepulse.etl.watch import claimed
db, inbox = Path(sys.argv[1]), Path(sys.argv[2])
args = build_parser(["ingest"]).parse_args(["ingest", "twcs", "--watch", str(inbox), "--db", str(db)])
with registered(db, inbox, (".csv", ".txt"), terms(args, load_settings(db=db))):
    print("registered", flush=True)
    while not (found := sorted(inbox.glob("handed-*"))):
        time.sleep(0.01)
    with claimed(found[0]) as mine:
        print("claimed" if mine else "not claimed", flush=True)
        time.sleep(float(sys.argv[3]))
"""

HEAVY = ("duckdb", "numpy", "pyarrow")


def _ingest(tmp_path: Path, db: Path, *args: str | Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``carepulse ingest twcs ARGS --db DB`` in a fresh interpreter: what it did and the modules it imported."""
    modules = tmp_path / "modules.json"
    modules.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", COMMAND, str(modules), "ingest", "twcs", *map(str, args), "--db",
                           str(db)], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    return done, set(json.loads(modules.read_text(encoding="utf-8"))) if modules.exists() else set()


def _heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in HEAVY if name in modules)


@contextlib.contextmanager
def _running_loader(tmp_path: Path, poll: str = "0.05") -> Iterator[tuple[Path, Path, subprocess.Popen[str], Lines]]:
    """A resident loader of a new warehouse watching a new folder, once it says it watches: folder, warehouse,
    process, its output."""
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    with watcher(inbox, db, poll, cwd=tmp_path) as (process, lines):
        lines.wait_for("err", "watching")
        yield inbox, db, process, lines


def test_a_file_is_handed_to_the_running_loader_which_loads_it_and_reports_to_the_command(tmp_path: Path) -> None:
    mine = extra(tmp_path / "extra.csv")
    with _running_loader(tmp_path) as (inbox, db, process, lines):
        done, modules = _ingest(tmp_path, db, mine)
        loaded = lines.wait_for("out", "loaded in")
        assert tweet_ids(db) == list(EXTRA_IDS)  # published by the loader, which stays up
        assert process.poll() is None

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout.splitlines()
    handed = [p for p in (inbox / "loaded").iterdir() if p.name.startswith(HANDED_PREFIX)]
    name = next(p.name for p in handed if p.name.endswith(".csv"))
    assert name.endswith("-extra.csv")
    # the loader's own lines, as `ingest` prints them, then where the file went
    assert out[0] == f"twcs {inbox / name}: read 3 = loaded 3 + duplicate 0 + quarantined 0"
    assert out[1].startswith(f"warehouse {db}: 3 tweets, ")
    assert out[-1].startswith(f"{mine}: handed to the resident loader (PID {process.pid}, {inbox.resolve()}), "
                              "published ")
    assert out[-1].endswith(f"; the loaded file is {inbox.resolve() / 'loaded' / name}")
    assert f"{inbox / name}: loaded in" in loaded
    # the report beside the loaded file is what the command printed; the user's file stays where it was
    assert (inbox / "loaded" / (name + REPORT_SUFFIX)).read_text(encoding="utf-8").splitlines() == out[:-1]
    assert mine.read_text(encoding="utf-8") == (inbox / "loaded" / name).read_text(encoding="utf-8")
    # the point of it: the command started neither DuckDB nor numpy nor pyarrow
    assert _heavy(modules) == []


def test_a_file_the_source_rejects_is_one_error_line_and_lies_in_failed(tmp_path: Path) -> None:
    rejected = bad(tmp_path / "export.csv")
    with _running_loader(tmp_path) as (inbox, db, process, _lines):
        done, modules = _ingest(tmp_path, db, rejected)
        assert process.poll() is None  # a file's fault does not stop the loader

    assert done.returncode == 2, done.stderr  # as when the command rejects the file itself
    assert done.stdout == ""
    errors = done.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert len(failed) == 2 and failed[0].endswith("-export.csv") and failed[1] == failed[0] + ".error"
    reason = (inbox / "failed" / failed[1]).read_text(encoding="utf-8").strip()
    assert errors[0] == (f"error: {reason} ({rejected} was handed to the resident loader (PID {process.pid}, "
                         f"{inbox.resolve()}), which set it aside in {inbox.resolve() / 'failed'} with the reason "
                         "beside it)")
    assert _heavy(modules) == []


def test_other_terms_or_several_files_are_loaded_by_the_command_itself(tmp_path: Path) -> None:
    """A loader loads as its own options and settings say: a command with other ones must not hand over."""
    first = extra(tmp_path / "extra.csv")
    with _running_loader(tmp_path) as (inbox, db, _, _lines):
        with_account, modules = _ingest(tmp_path, db, "--account", "acme", first)
        assert with_account.returncode == 0, with_account.stderr
        assert with_account.stdout.splitlines()[0] == \
            f"twcs {first}: read 3 = loaded 3 + duplicate 0 + quarantined 0"
        assert "handed to" not in with_account.stdout
        assert _heavy(modules) == list(HEAVY)

        twice, _ = _ingest(tmp_path, db, first, first)
        assert twice.returncode == 0, twice.stderr
        assert twice.stdout.splitlines()[0] == f"twcs {first}: read 3 = loaded 0 + duplicate 3 + quarantined 0"
        assert "handed to" not in twice.stdout
    assert not (inbox / "loaded").exists()


def test_a_registration_left_by_a_killed_loader_is_ignored_and_cleared_by_the_next(tmp_path: Path) -> None:
    with _running_loader(tmp_path) as (inbox, db, process, lines):
        process.kill()
        process.wait()
    left = list(registry(db).glob("*.json"))
    assert [p.name for p in left] == [f"twcs-{process.pid}.json"]  # kill -9: no clean-up

    done, modules = _ingest(tmp_path, db, extra(tmp_path / "extra.csv"))
    assert done.returncode == 0, done.stderr
    assert "handed to" not in done.stdout and done.stderr == ""
    assert _heavy(modules) == list(HEAVY)
    assert tweet_ids(db) == list(EXTRA_IDS)
    assert list(inbox.iterdir()) == []

    with watcher(inbox, db, "0.05", cwd=tmp_path) as (again, lines):
        lines.wait_for("err", "watching")
        assert sorted(p.name for p in registry(db).glob("*.json")) == [f"twcs-{again.pid}.json"]


def test_a_loader_that_stops_before_loading_gets_the_file_taken_back_and_loaded_here(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    silent = subprocess.Popen([sys.executable, "-c", SILENT_LOADER, str(db), str(inbox),
                               str(PATIENCE_S + 1.5)], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    assert silent.stdout is not None and silent.stdout.readline().strip() == "registered"

    done, _ = _ingest(tmp_path, db, extra(tmp_path / "extra.csv"))
    assert silent.wait(timeout=30) == 0

    assert done.returncode == 0, done.stderr
    where = f"the resident loader (PID {silent.pid}, {inbox.resolve()})"
    assert done.stderr.splitlines() == [  # once past its patience the command says it waits, then what it does
        f"note: {tmp_path / 'extra.csv'} is handed to {where}, which is still busy with it or with files before it; "
        "waiting for its report (Ctrl-C takes the file back if the loader has not started on it)",
        f"note: {where} stopped before it loaded {tmp_path / 'extra.csv'}; loading it here (records it published "
        "before it stopped count as duplicates)"]
    assert done.stdout.splitlines()[0] == \
        f"twcs {tmp_path / 'extra.csv'}: read 3 = loaded 3 + duplicate 0 + quarantined 0"
    assert tweet_ids(db) == list(EXTRA_IDS)
    assert list(inbox.iterdir()) == []  # taken back: no loader started later loads it a second time


def ctrl_c_as_in_a_terminal() -> None:
    """In the command's process before it starts: Ctrl-C (SIGINT) at its default, as in a terminal.

    A test run started in the background of a shell without job control (``pytest ... &`` in a script) has SIGINT
    ignored, every process it starts inherits that, and Python leaves an ignored SIGINT ignored: the command would
    never see the Ctrl-C these tests send (both hung for 30 s in such a run). The resident loaders need no such help:
    they install their own handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_while_the_file_waits_takes_it_back_and_publishes_nothing(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    silent = subprocess.Popen([sys.executable, "-c", SILENT_LOADER, str(db), str(inbox), "60"], cwd=tmp_path,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert silent.stdout is not None and silent.stdout.readline().strip() == "registered"
        command = subprocess.Popen([sys.executable, "-m", "carepulse.cli", "ingest", "twcs",
                                    str(extra(tmp_path / "extra.csv")), "--db", str(db)],
                                   cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=ctrl_c_as_in_a_terminal)
        deadline = time.monotonic() + 30
        while not any(p.name.startswith(HANDED_PREFIX) for p in inbox.iterdir()):
            assert time.monotonic() < deadline and command.poll() is None, command.communicate()
            time.sleep(0.01)
        command.send_signal(signal.SIGINT)
        out, err = command.communicate(timeout=30)
    finally:
        silent.kill()
        silent.wait()
    assert command.returncode == 130, err
    assert err.splitlines() == ["interrupted: nothing was published"]
    assert out == ""
    assert list(inbox.iterdir()) == []
    assert not db.exists()


def test_a_hand_over_wakes_a_loader_that_looks_at_its_folder_rarely(tmp_path: Path) -> None:
    """The command rings the loader's bell: the file is loaded at once, not at the loader's next look (120 s here)."""
    with _running_loader(tmp_path, "120") as (_inbox, db, process, _lines):
        time.sleep(0.5)  # the loader's first look is done: it now waits for its poll or its bell
        started = time.monotonic()
        done, _ = _ingest(tmp_path, db, extra(tmp_path / "extra.csv"))
        took = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        assert "handed to the resident loader" in done.stdout
        assert took < 60, took  # half the poll: only the bell can have woken it
        assert tweet_ids(db) == list(EXTRA_IDS)
        process.send_signal(signal.SIGINT)  # Ctrl-C wakes it too: it stops at once, not after its poll
        assert process.wait(timeout=60) == 0
    assert not list(registry(db).iterdir())  # a loader that stops takes its registration and its bell with it


def test_only_a_small_file_with_an_ending_the_loader_takes_is_handed_over(tmp_path: Path) -> None:
    """A big file loads in the command with its own progress bar; a name the loader would skip is never handed."""
    loader = Loader(pid=1, folder=tmp_path, suffixes=(".csv", ".txt"), registration=tmp_path / "twcs-1.json")
    small = extra(tmp_path / "small.CSV")
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:  # sparse: its size without writing it
        fh.truncate(MAX_HANDED_BYTES + 1)
    at_limit = tmp_path / "at_limit.csv"
    with at_limit.open("wb") as fh:
        fh.truncate(MAX_HANDED_BYTES)
    other = extra(tmp_path / "small.csv.gz")
    partial = extra(tmp_path / "small.csv~")
    assert loader.takes(small) and loader.takes(at_limit)
    assert not loader.takes(big) and not loader.takes(other) and not loader.takes(partial)

def test_ctrl_c_while_the_loader_loads_the_file_leaves_it_to_the_loader_and_says_so(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    mine = extra(tmp_path / "extra.csv")
    loader = subprocess.Popen([sys.executable, "-c", CLAIMING_LOADER, str(db), str(inbox), "60"], cwd=tmp_path,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert loader.stdout is not None and loader.stdout.readline().strip() == "registered"
        command = subprocess.Popen([sys.executable, "-m", "carepulse.cli", "ingest", "twcs", str(mine), "--db",
                                    str(db)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=ctrl_c_as_in_a_terminal)
        assert loader.stdout.readline().strip() == "claimed"
        command.send_signal(signal.SIGINT)
        out, err = command.communicate(timeout=30)
    finally:
        loader.kill()
        loader.wait()
    handed = [p for p in inbox.iterdir() if p.name.startswith(HANDED_PREFIX)]
    assert len(handed) == 1  # not taken away from under the load
    assert command.returncode == 130, err
    assert err.splitlines() == [
        f"interrupted: the resident loader (PID {loader.pid}, {inbox.resolve()}) has {mine} and finishes its load; "
        f"its report will be in {inbox.resolve() / 'loaded' / (handed[0].name + REPORT_SUFFIX)}"]
    assert out == ""
