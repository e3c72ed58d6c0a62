"""The benchmark's child processes: each step runs in one, timed from outside (wall time, peak RSS)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Child:
    """One finished child process: wall time, peak resident memory, exit code and output."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


GNU_TIME = Path("/usr/bin/time")


def run_child(cmd: Sequence[str], *, timeout: float | None = None) -> Child:
    """Run ``cmd`` to the end; peak RSS is the kernel's, not a sampled guess.

    The kernel charges a child the resident set of the process it was forked from (the high-water
    mark of the address space ``exec`` replaces), so a child of this runner, which holds a dashboard
    app by step (d), would be charged the runner's memory. GNU ``time`` forks the command from a
    tiny process and reports its peak alone; without it, ``wait4``'s figure is an upper bound.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME.exists() else list(cmd)
        started = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=out, stderr=err, cwd=ROOT)
        rusage = wait_for(proc, timeout)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        reported = rss.read().strip().splitlines()
        peak_kb = float(reported[-1]) if reported and reported[-1].isdigit() else float(rusage.ru_maxrss)
        return Child(wall, peak_kb / 1024.0, proc.returncode, out.read(), err.read())


def peak_rss_mb(pid: int) -> float | None:
    """A running process's own peak resident set (``VmHWM``), or None where /proc does not say."""
    return status_mb(pid, "VmHWM")


def open_files(pid: int | str = "self") -> list[str] | None:
    """What process ``pid`` (default: this one) holds open, as /proc names it (a replaced file ends "(deleted)");
    None where /proc does not say.

    A descriptor closed between the listing and its ``readlink`` (DuckDB's threads open and close files all the
    time, most right after a compaction) is passed over: it holds nothing any more."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return None
    links = []
    for fd in fds:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            links.append(os.readlink(fd))
    return links


def held_base(db: Path, pid: int | str = "self") -> list[str]:
    """What process ``pid`` holds open of the warehouse file ``db``: its path, or the path marked "(deleted)" once a
    new base replaced it (Linux)."""
    return sorted(link for link in open_files(pid) or [] if link in (str(db), f"{db} (deleted)"))


def status_mb(pid: int, field: str) -> float | None:
    """A memory line of a running process's /proc status (``VmRSS`` now, ``VmHWM`` its peak) in MB, or None
    where /proc does not say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def wait_for(proc: subprocess.Popen[Any], timeout: float | None) -> Any:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, rusage = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return rusage
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            deadline = None
        time.sleep(0.01)


def checked(child: Child, what: str) -> Child:
    if child.returncode != 0:
        raise RuntimeError(f"{what} failed with exit code {child.returncode}:\n{child.stderr[-3000:]}")
    return child


def carepulse() -> list[str]:
    """The installed ``carepulse`` command (what a user runs), else ``python -m carepulse.cli``."""
    script = Path(sys.executable).with_name("carepulse")
    return [str(script)] if script.exists() else [sys.executable, "-m", "carepulse.cli"]


def python() -> list[str]:
    return [sys.executable]
