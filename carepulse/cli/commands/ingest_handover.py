"""``carepulse ingest SOURCE FILE`` while a resident loader runs: the file is handed to it (etl.handover).

The command prints the loader's report (the lines it would have printed itself) and one line saying where the
file went; a file the source rejects is one ``error:`` line, as when the command loads it. Only one file at a
time (several files given together are one load, one transaction, which the loader, one file per load, would
split), and only a small one (``handover.MAX_HANDED_BYTES``: a big file loads with its progress bar in the user's
terminal, where the start-up saved would not count). Anything else (no loader, other terms, a name the loader
would not take, a failed link) and the command loads the file itself, as before.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carepulse.core.config import Settings
    from carepulse.etl.handover import Terms

INTERRUPTED_EXIT = 130


def terms(args: argparse.Namespace, settings: Settings) -> Terms:
    """The load's terms, the same for the loader that registers and the command that looks for it."""
    from carepulse.core.config import describe
    from carepulse.etl.handover import Terms

    described = describe(settings)
    described["db"] = str(Path(settings.db).resolve())
    mapping = getattr(args, "mapping", None)
    return Terms(kind=args.kind, accounts=tuple(sorted(getattr(args, "account", []))),
                 mapping=str(Path(mapping).resolve()) if mapping else None,
                 settings=json.dumps(described, sort_keys=True, default=str))


def load_by_resident_loader(args: argparse.Namespace, settings: Settings) -> int | None:
    """Hand ``args.files`` to a running loader and print its report; the exit code, or None to load here."""
    from carepulse.core.errors import DataError
    from carepulse.etl import handover

    if len(args.files) != 1 or not args.files[0].is_file():
        return None
    file: Path = args.files[0]
    loader = handover.find(settings.db, terms(args, settings))
    if loader is None or not loader.takes(file):
        return None
    started = time.perf_counter()
    try:
        handed = handover.hand_over(file, loader)
    except OSError:
        return None
    where = f"the resident loader (PID {loader.pid}, {loader.folder})"
    outcome = handover.wait(handed, loader, started, waiting=lambda: print(
        f"note: {file} is handed to {where}, which is still busy with it or with files before it; waiting for its "
        "report (Ctrl-C takes the file back if the loader has not started on it)", file=sys.stderr, flush=True))
    if outcome.interrupted:
        print(f"interrupted: {where} has {file} and finishes its load; its report will be in "
              f"{outcome.report_path}", file=sys.stderr)
        return INTERRUPTED_EXIT
    if outcome.report is not None:
        print(outcome.report, end="")
        print(f"{file}: handed to {where}, published {outcome.seconds:.2f} s after the hand-over; "
              f"the loaded file is {outcome.report_path.with_suffix('')}", flush=True)
        return 0
    if outcome.error is not None:
        raise DataError(f"{outcome.error.strip()} ({file} was handed to {where}, which set it aside in "
                        f"{outcome.error_path.parent} with the reason beside it)")
    print(f"note: {where} stopped before it loaded {file}; loading it here (records it published before it "
          "stopped count as duplicates)", file=sys.stderr, flush=True)
    return None
