"""Progress for long work: a bar with records/s and ETA on a terminal, silence elsewhere.

Used by etl and the demo; it is UI-free enough for any layer (it only writes to stderr).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tqdm import tqdm

T = TypeVar("T")


def enabled() -> bool:
    return sys.stderr.isatty()


class Silent:
    """What :func:`bar` gives where no bar is drawn: takes the same calls and does nothing."""

    def update(self, n: float = 1) -> None:
        pass

    def set_description_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def bar(total: float | None, desc: str, unit: str = "rec", **kwargs: Any) -> tqdm | Silent:
    """A tqdm bar on a terminal; elsewhere a :class:`Silent` one.

    tqdm is imported here, when a bar is drawn: every command imports this module, and a load's phases ask
    for a bar even when stderr is a file or a pipe, where tqdm (which imports multiprocessing) cost 8-10 ms of a
    small load's command for nothing."""
    if not enabled():
        return Silent()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr, leave=False,
                dynamic_ncols=True, **kwargs)


def run_polled(work: Callable[[], T], poll: Callable[[], float], total: float, desc: str,
               unit: str = "rec") -> T:
    """Run ``work`` in a thread while a bar follows ``poll()`` (0..1 of ``total``).

    DuckDB runs one statement at a time, and its ``query_progress()`` can be read from another
    thread, so a long ``read_csv`` can show records/s and an ETA without Python touching rows.
    """
    if not enabled():
        return work()
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as exc:
            error.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    with bar(total, desc, unit) as progress:
        done = 0.0
        while worker.is_alive():
            worker.join(0.2)
            fraction = poll()
            if fraction and fraction > 0:
                now = min(total, fraction * total)
                if now > done:
                    progress.update(now - done)
                    done = now
    if error:
        raise error[0]
    return result[0]


def duckdb_fraction(con: Any) -> Callable[[], float]:
    """A poll function for :func:`run_polled` reading DuckDB's progress of the running statement."""

    def poll() -> float:
        try:
            value = con.query_progress()
        except Exception:
            return 0.0
        return max(0.0, float(value) / 100.0) if value is not None and value >= 0 else 0.0

    return poll


class Phases:
    """A step bar for multi-phase work whose phases are single SQL statements (no row counts).

    ``phases.start("rebuilding threads")`` closes the previous phase and names the next, so a
    user watching a 3 M-tweet load sees which step it is in and how long each took.
    """

    def __init__(self, desc: str, total: int) -> None:
        self._desc = desc
        self._bar = bar(total, desc, unit="step", bar_format="{desc} ({n_fmt}/{total_fmt} steps, {elapsed})")
        self._open = False

    def start(self, name: str) -> None:
        if self._open:
            self._bar.update(1)
        self._bar.set_description_str(f"{self._desc}: {name}")
        self._open = True

    def note(self, text: str) -> None:
        """Say what the current phase is doing now (a pass of an iterated step), without ending it."""
        self._bar.set_description_str(f"{self._desc}: {text}")

    def close(self) -> None:
        if self._open:
            self._bar.update(1)
        self._bar.close()

    def __enter__(self) -> Phases:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
