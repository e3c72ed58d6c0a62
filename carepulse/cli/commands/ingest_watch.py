"""``carepulse ingest SOURCE --watch DIR``: the resident loader's command line (:mod:`carepulse.etl.watch`).

Prints each file's accounting as ``ingest`` does, then one line saying where the file went; a rejected
file is one ``error:`` line and the watcher goes on. The first Ctrl-C finishes the load in progress and
stops; a second aborts it (it publishes nothing, and its file stays in DIR).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from carepulse.cli.running import first_ctrl_c_stops, stamp

if TYPE_CHECKING:
    from carepulse.etl.handover import Bell, Terms
    from carepulse.etl.loader import BatchReport
    from carepulse.etl.watch import Handed


FOLDING = "; folding the delta into a new base now"
"""The end of a ``loaded in`` line when a compaction follows it (what waits for a compaction reads this)."""
COMPACTED = "compacted"
"""The word of the line that ends that compaction."""


class _CompactionInterrupted(Exception):
    """The second Ctrl-C came during a compaction: the loads are published, only the fold was given up."""


def run_watch(args: argparse.Namespace, load: Callable[[Path], BatchReport], show: Callable[[BatchReport], str], *,
              db: Path, terms: Terms, idle: Callable[[], None] = lambda: None,
              due: Callable[[], bool] = lambda: False, compact: Callable[[], float | None] = lambda: None) -> int:
    """Watch ``args.watch``: ``load`` loads one file, ``show`` gives its accounting (``ingest``'s lines),
    ``idle`` runs at every look at the folder (the warehouse lets go of a base another process replaced).

    When ``due`` says the load left the delta due for folding, ``compact`` folds it after the file's report (and
    returns how long it took): the report, and a handed file's report file, come out a compaction earlier (about
    3 s at 3 M tweets), and the ``loaded in`` line says that a compaction follows. After the first Ctrl-C a due
    compaction is left to the next load.

    While it watches (not with ``--once``), the loader is registered for ``db`` with ``terms``, so that
    ``ingest FILE`` with the same terms hands its file over (:mod:`carepulse.etl.handover`) and finds its
    report beside the loaded file."""
    from carepulse.cli import _one_line
    from carepulse.core.errors import DataError
    from carepulse.etl.handover import HANDED_PREFIX, REPORT_SUFFIX, registered
    from carepulse.etl.registry import resource
    from carepulse.etl.watch import (
        DEFAULT_POLL_S,
        FAILED,
        LOADED,
        check_folder,
        check_poll,
        others,
        watch,
        write_atomically,
    )

    folder: Path = args.watch
    poll_s = args.poll if args.poll is not None else DEFAULT_POLL_S
    suffixes = resource(args.kind).file_suffixes
    check_poll(poll_s)
    check_folder(folder)
    stop = threading.Event()
    bell: Bell | None = None  # while registered: a hand-over rings it

    def pause(seconds: float) -> None:
        idle()
        if bell is None or stop.is_set():
            stop.wait(seconds)
        else:
            bell.wait(seconds)

    def handed(done: Handed[BatchReport]) -> None:
        if done.report is not None:
            text = show(done.report)
            if done.moved_to.name.startswith(HANDED_PREFIX):  # the command that handed it waits for this
                write_atomically(done.moved_to.with_name(done.moved_to.name + REPORT_SUFFIX), text)
            print(text, end="")
            folding = due() and not stop.is_set()
            print(f"{stamp()} {done.file}: loaded in {done.seconds:.2f} s, moved to {done.moved_to}"
                  f"{FOLDING if folding else ''}", flush=True)
            if not folding:
                return
            try:
                seconds = compact()
            except KeyboardInterrupt:
                raise _CompactionInterrupted from None
            print(f"{stamp()} {COMPACTED} {db}: " + ("nothing left to fold (another process folded the delta)"
                                                    if seconds is None else
                                                    f"the delta folded into a new base in {seconds:.2f} s"),
                  flush=True)
        else:
            named = done.error if str(done.file) in (done.error or "") else f"{done.file}: {done.error}"
            print(f"error: {named} (moved to {done.moved_to}, the reason beside it)", file=sys.stderr, flush=True)

    def ring() -> None:
        if bell is not None:
            bell.ring()

    with first_ctrl_c_stops(stop, "stopping after the load in progress; Ctrl-C again to abort it (it publishes "
                                  "nothing and its file stays)", also=ring), contextlib.ExitStack() as registration:
        left = others(folder, suffixes)
        if left:
            print(f"note: {left:,} file(s) in {folder} do not end in {', '.join(suffixes)} and are left alone",
                  file=sys.stderr, flush=True)
        if not args.once:
            bell = registration.enter_context(registered(db, folder, suffixes, terms))  # before it says it watches
            print(f"watching {folder} for {args.kind} files ({', '.join(suffixes)}) every {poll_s:g} s until Ctrl-C; "
                  f"loaded files move to {folder / LOADED}, rejected ones to {folder / FAILED}",
                  file=sys.stderr, flush=True)
        try:
            tally = watch(folder, load, poll_s=poll_s, once=args.once, should_stop=stop.is_set, sleep=pause,
                          on_handed=handed, describe=lambda exc: _one_line(str(exc)), suffixes=suffixes)
        except _CompactionInterrupted:
            print("interrupted: the compaction was given up; every loaded file is published, and the next load "
                  "(or carepulse compact) folds the delta", file=sys.stderr, flush=True)
            return 130
    print(f"watch {folder}: {tally.loaded:,} file(s) loaded, {tally.failed:,} rejected", flush=True)
    return DataError.exit_code if tally.failed and args.once else 0  # as `ingest` of a file it rejects
