"""What the resident loader's tests share: TWCS files to drop, the published tweets, a loader in its own process."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from carepulse.warehouse import Warehouse
from tests.twcs_helpers import at, row, write_twcs

EXTRA_IDS = (9_000_001, 9_000_002, 9_000_003)  # not in the sample (its ids stop at 1,582)


def extra(path: Path) -> Path:
    """A second good TWCS file: a customer's tweet, the brand's answer, the customer's thanks."""
    return write_twcs(path, [
        row(EXTRA_IDS[0], "c900", False, at("10:00"), "@acme my order never came"),
        row(EXTRA_IDS[1], "acme", True, at("10:05"), "@c900 sorry, a DM is on its way", parent=EXTRA_IDS[0]),
        row(EXTRA_IDS[2], "c900", False, at("10:09"), "@acme thanks, sorted", parent=EXTRA_IDS[1]),
    ])


def bad(path: Path) -> Path:
    path.write_text("id,message\n1,hello\n", encoding="utf-8")
    return path


def tweet_ids(db: Path) -> list[int]:
    """The published tweets, read the way the product's readers read them (base and delta)."""
    con = Warehouse(db).reader().connection()
    try:
        return [int(tweet_id) for (tweet_id,) in con.execute("SELECT tweet_id FROM tweets ORDER BY 1").fetchall()]
    finally:
        con.close()


class Lines:
    """A subprocess's stdout and stderr read line by line in threads, so a test can wait with a timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seen: dict[str, list[str]] = {"out": [], "err": []}
        assert process.stdout is not None and process.stderr is not None
        self._threads = [threading.Thread(target=self._read, args=(name, stream), daemon=True)
                         for name, stream in (("out", process.stdout), ("err", process.stderr))]
        for thread in self._threads:
            thread.start()

    def _read(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put((name, line.rstrip("\n")))

    def wait_for(self, name: str, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                stream, line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen[stream].append(line)
            if stream == name and text in line:
                return line
        raise AssertionError(f"no {text!r} on std{name} within {timeout} s; saw {self.seen}")

    def rest(self) -> dict[str, list[str]]:
        for thread in self._threads:
            thread.join(timeout=10)
        while not self.lines.empty():
            stream, line = self.lines.get_nowait()
            self.seen[stream].append(line)
        return self.seen


@contextlib.contextmanager
def watcher(inbox: Path, db: Path, poll: str, *more: str,
            cwd: Path | None = None) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    """A resident ``ingest twcs --watch`` in its own process (``more``: further options; ``cwd``: where it runs),
    killed at the end if the test left it running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "carepulse.cli", "ingest", "twcs", "--watch", str(inbox), "--poll", poll,
         "--db", str(db), *more],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
    )
    try:
        yield process, Lines(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
