"""(d) handed to the resident loader: the same batch, dropped into a folder a running ``ingest --watch`` loads, then
given to ``carepulse ingest twcs BATCH`` on the command line, which hands it to the same loader.

    python -m benchmarks.run ...    # runs it right after (d), on the same warehouse and batch

A load from the command line starts Python and imports DuckDB, numpy and pyarrow first (about 0.2 s); the
resident loader (``carepulse ingest twcs --watch DIR``, docs/warehouse.md) pays that once. The wall time
here is a user's: from the moment the complete file is renamed into the folder to the moment the loader
says it is published (its ``loaded in`` line, printed after the commit and the file's move), so the wait
for the folder's next look is part of it (the loader runs with its default interval,
``carepulse.etl.watch.DEFAULT_POLL_S``). Like (d), each repetition removes the delta the previous one
published, so every load does the same work; the warehouse is left with the last one's delta.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from benchmarks.processes import ROOT, Child, carepulse, checked, peak_rss_mb, run_child
from carepulse.etl.watch import DEFAULT_POLL_S

REPS = 5
TIMEOUT_S = 120.0  # for the loader to stop after the last hand-over


def step_handed(batch: Path, db: Path, work: Path, reps: int = REPS) -> dict[str, Any]:
    """``reps`` hand-overs of ``batch`` to one resident loader; the median and every wall time."""
    delta = db.with_name(db.name + ".delta")
    inbox = work / "resident_inbox"
    walls, last, cli = [], "", []
    with resident_loader(inbox, db) as proc:
        for n in range(reps):
            if delta.exists():
                delta.unlink()  # back to the base alone: the same work every time
            wall, last = hand_over(proc, batch, inbox / f"batch_{n}.csv")
            walls.append(wall)
        for _ in range(reps):
            if delta.exists():
                delta.unlink()
            cli.append(command_handing_over(proc, batch, db))
        rss = peak_rss_mb(proc.pid)
    cli_walls = [c.wall_s for c in cli]
    return {"wall_s": statistics.median(walls), "walls": walls, "rss_mb": rss, "poll_s": DEFAULT_POLL_S,
            "output": last.strip(), "cli_wall_s": statistics.median(cli_walls), "cli_walls": cli_walls,
            "cli_rss_mb": max(c.peak_rss_mb for c in cli), "cli_output": cli[-1].stdout.strip()}


def command_handing_over(proc: subprocess.Popen[str], batch: Path, db: Path) -> Child:
    """``carepulse ingest twcs BATCH`` from the command line while the loader runs: the command hands the file over
    and prints the loader's report (carepulse.etl.handover). The wall is the command's, start-up included; an
    error if the command loaded the file itself instead."""
    child = checked(run_child([*carepulse(), "ingest", "twcs", str(batch), "--db", str(db)]), "handed-over ingest")
    if "handed to the resident loader" not in child.stdout:
        raise RuntimeError(f"the command did not hand its file to the resident loader:\n{child.stdout}")
    assert proc.stdout is not None
    read_until(proc, proc.stdout, ": loaded in ")  # the loader's own lines about it, so the next read starts after
    return child


@contextlib.contextmanager
def resident_loader(inbox: Path, db: Path) -> Iterator[subprocess.Popen[str]]:
    """A running ``carepulse ingest twcs --watch INBOX`` (an empty ``inbox`` made for it), once it watches;
    stopped with Ctrl-C afterwards, and an error with what it said if it did not end well."""
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir()
    proc = subprocess.Popen([*carepulse(), "ingest", "twcs", "--watch", str(inbox), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        read_until(proc, proc.stderr, "watching ")
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
    if proc.returncode != 0:
        said = proc.stderr.read()[-3000:]
        raise RuntimeError(f"the resident loader failed with exit code {proc.returncode}:\n{said}")
    shutil.rmtree(inbox, ignore_errors=True)


def hand_over(proc: subprocess.Popen[str], file: Path, target: Path) -> tuple[float, str]:
    """Copy ``file`` beside ``target`` under a name the loader skips, rename it into place, and wait for the
    loader's ``loaded in`` line: the seconds from the rename to that line, and what the loader said."""
    assert proc.stdout is not None
    staged = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(file, staged)
    started = time.perf_counter()
    os.rename(staged, target)
    said = read_until(proc, proc.stdout, ": loaded in ")
    return time.perf_counter() - started, said


def read_until(proc: subprocess.Popen[str], stream: IO[str], marker: str) -> str:
    """The lines of ``stream`` up to the next one holding ``marker``; an error with what the loader said if it
    ends first."""
    said = []
    for line in iter(stream.readline, ""):
        said.append(line)
        if marker in line:
            return "".join(said)
    proc.wait()
    err = proc.stderr.read() if proc.stderr is not None else ""
    raise RuntimeError(f"the resident loader ended (exit code {proc.returncode}) before saying "
                       f"{marker.strip()!r}: {err[-3000:]}")
