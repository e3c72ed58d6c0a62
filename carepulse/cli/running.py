"""What the commands that keep running (``pull --every``, ``ingest --watch``) share: Ctrl-C, where the first one
lets the current step finish and stops and the second aborts at once (the load in progress publishes nothing), and
the time stamp on their lines."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import FrameType


@contextlib.contextmanager
def first_ctrl_c_stops(stop: threading.Event, message: str,
                       also: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Within the block, the first SIGINT sets ``stop``, calls ``also`` (wakes a wait that is not on ``stop``) and
    prints ``message``; the second raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()
        also()
        print(f"\n{message}", file=sys.stderr, flush=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stamp() -> str:
    """Now, as the lines of a command that keeps running begin (UTC, to the second)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
