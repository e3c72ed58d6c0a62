"""Ctrl-C in the commands that keep running (``pull --every``, ``ingest --watch``): the first one lets the
current step finish and stops; the second aborts at once, and the load in progress publishes nothing."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType


@contextlib.contextmanager
def first_ctrl_c_stops(stop: threading.Event, message: str) -> Iterator[None]:
    """Within the block, the first SIGINT sets ``stop`` and prints ``message``; the second raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()
        print(f"\n{message}", file=sys.stderr, flush=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
