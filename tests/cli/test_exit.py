"""The command leaves without tearing its interpreter down, but only once everything is said and done.

``carepulse.cli.run`` (the console script and ``python -m carepulse.cli``) exits with ``os._exit`` after a
command: finalizing numpy, pyarrow and DuckDB cost a small load 40 to 70 ms. Each case runs a fresh interpreter
that registers three witnesses before the command: a file written but never flushed, which only the interpreter's
teardown flushes, an :mod:`atexit` handler, and (in one case) a thread that is not a daemon.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

PROBE = """
import atexit, sys, threading, time, types
from pathlib import Path

marks = Path(sys.argv[1])
# Written but never flushed or closed: only the interpreter's teardown, which frees the module holding it,
# flushes it; an exit that skips the teardown leaves the file empty.
holder = sys.modules["teardown_witness"] = types.ModuleType("teardown_witness")
holder.file = open(marks / "torn-down", "w", buffering=1 << 16)
holder.file.write("yes")
atexit.register(lambda: (marks / "atexit").write_text("yes"))
if sys.argv[2] in ("thread", "closing"):
    # still running when the command is done (a 1,000-tweet load takes well under 2 s); "closing" names it as
    # the thread that frees a finished load's DuckDB is named
    from carepulse.core.native import CLOSING_THREAD

    threading.Thread(target=lambda: (time.sleep(2.0), (marks / "thread").write_text("yes")),
                     name=CLOSING_THREAD if sys.argv[2] == "closing" else None).start()
sys.argv = ["carepulse", *sys.argv[3:]]
from carepulse.cli import run

run()
"""


def _torn_down(tmp_path: Path) -> bool:
    return (tmp_path / "torn-down").read_text() == "yes"


def _run(tmp_path: Path, mode: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), mode, *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_a_load_exits_at_once_after_its_output_and_exit_handlers(tmp_path: Path, shared_sample: Path) -> None:
    db = tmp_path / "w.duckdb"
    done = _run(tmp_path, "plain", "ingest", "twcs", str(shared_sample), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"twcs {shared_sample}: read 1,000 = loaded 1,000")  # flushed, though a pipe
    assert "warehouse " in done.stdout.splitlines()[-1]
    assert (tmp_path / "atexit").exists()  # exit handlers ran (a Spark session stops in one)
    assert _torn_down(tmp_path) is False  # the interpreter was not finalized
    with duckdb.connect(str(db), read_only=True) as con:  # what it published is whole
        assert con.execute("SELECT count(*) FROM tweets").fetchall() == [(1000,)]


def test_the_exit_code_is_the_commands(tmp_path: Path) -> None:
    done = _run(tmp_path, "plain", "ingest", "twcs", str(tmp_path / "missing.csv"), "--db", str(tmp_path / "w.duckdb"))
    assert done.returncode not in (0, None)
    assert done.stderr.startswith("error: ")
    assert (tmp_path / "atexit").exists()
    assert _torn_down(tmp_path) is False


def test_a_running_thread_is_waited_for(tmp_path: Path, shared_sample: Path) -> None:
    done = _run(tmp_path, "thread", "ingest", "twcs", str(shared_sample), "--db", str(tmp_path / "w.duckdb"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "thread").exists()  # os._exit would have killed it mid-sleep
    assert _torn_down(tmp_path) is True  # the usual exit, which joins the thread


CLOSING = """
import duckdb
from carepulse.warehouse import store

con = duckdb.connect()
# a finished load's in-memory DuckDB, holding what a big load leaves (freeing it takes a while)
con.execute("CREATE TEMP TABLE held AS SELECT range AS a, range::VARCHAR AS b FROM range(2000000)")
store._release_files(con)  # closes it on a thread, as every load does, and the script ends at once
"""


def test_a_script_that_ends_while_a_load_frees_its_duckdb_exits_cleanly() -> None:
    """A load frees its DuckDB on a thread; an interpreter that finalizes meanwhile must wait for it.

    On a daemon thread the finalizing interpreter unwound DuckDB's C++ mid-close and the process aborted
    ("FATAL: exception not rethrown", exit 134): every time with this much held, on the 2-core machine.
    """
    done = subprocess.run([sys.executable, "-c", CLOSING], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "FATAL" not in done.stderr


def test_the_thread_freeing_a_finished_load_is_not_waited_for(tmp_path: Path, shared_sample: Path) -> None:
    """The command still leaves at once while a load's DuckDB is being freed (no daemon, but nothing to wait for)."""
    done = _run(tmp_path, "closing", "ingest", "twcs", str(shared_sample), "--db", str(tmp_path / "w.duckdb"))
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "thread").exists()  # os._exit ended it mid-sleep
    assert _torn_down(tmp_path) is False
