"""A resident loader: files dropped into a folder are loaded as they arrive, each in its own transaction.

Why a resident process: ``carepulse ingest`` from a shell or cron starts Python and imports DuckDB, numpy
and pyarrow (about 0.2 s) before it reads a byte; for a 10 k-tweet batch that is 40 % of the load. A
process that stays up pays that once and then only the load itself. The files are handed over through the
file system, the way exports arrive (a CRM job or an SFTP drop writing into a folder): no socket and no
protocol, nothing a crash of either side can leave half done. ``carepulse ingest FILE`` hands its file over the
same way when a loader runs (:mod:`carepulse.etl.handover`).

The contract (docs/warehouse.md, "The resident loader"):

- a file is taken once its name appears in the folder with one of its source's endings
  (``Resource.file_suffixes``: ``.csv`` for TWCS); other files, the warehouse's own among them, are left
  alone. Writers write it elsewhere on the same file system, or under a name this module skips (starting
  with ``.``, ending in :data:`IN_PROGRESS`), and rename it into place, so a half-written file is never read;
- while it loads a file the watcher holds an exclusive ``flock`` on it (:func:`claimed`); a file another
  process holds locked is left for a later look (a command taking back a file it handed over);
- files are taken in name order, one load (one transaction) each, by the same loader as ``carepulse
  ingest``: readers never wait and never see half a load, and a crash publishes nothing;
- a loaded file moves to ``loaded/``; a file its source rejects (:func:`is_file_error`) moves to
  ``failed/`` with the reason in ``<name>.error`` beside it, and the next file is taken;
- a failure of the warehouse or the machine (disk full, a damaged file, a setting) stops the watcher and
  leaves the file where it is: every later file would fail the same way, and none should be set aside;
- a crash between a load's commit and the file's move loads the file again on the next start: every
  record is then a duplicate, and nothing changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from carepulse.core.errors import ConfigError, DataError, WarehouseError

IN_PROGRESS: tuple[str, ...] = (".part", ".partial", ".tmp", ".crdownload", "~")
"""Name endings of files still being written (browsers, rsync, editors): skipped until renamed."""
LOADED, FAILED = "loaded", "failed"
DEFAULT_POLL_S = 0.05
"""How often the folder is listed. A look is one ``scandir`` (about 50 us for a folder of 20 files), so twenty a
second cost under 0.1 % of a core, and a file waits 25 ms on average before its load starts: a tenth of what the
resident loader saves by not starting a process."""
MAX_POLL_S = 3600.0

Report = TypeVar("Report")


@dataclass
class Handed(Generic[Report]):
    """One file the watcher took: where it went, and the load's report or the reason it was rejected."""

    file: Path
    moved_to: Path
    seconds: float
    report: Report | None = None
    error: str | None = None


@dataclass
class Tally:
    loaded: int = 0
    failed: int = 0


def check_poll(poll_s: float) -> None:
    if not 0 < poll_s <= MAX_POLL_S:  # NaN fails both
        raise ConfigError(f"--poll must be a number of seconds above 0 and at most {MAX_POLL_S:g}, not {poll_s:g}")


def check_folder(folder: Path) -> None:
    """Refuse a folder that is missing or that the watcher could not move files out of."""
    if not folder.is_dir():
        raise ConfigError(f"watch folder {folder} does not exist or is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"watch folder {folder} is not writable: loaded files could not be moved out of it")


def waiting(folder: Path, suffixes: tuple[str, ...] = ()) -> list[Path]:
    """The complete files waiting in ``folder`` (not its subfolders), in name order; with ``suffixes``, only
    names ending in one of them (any case)."""
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries
                       if e.is_file() and not e.name.startswith(".") and not e.name.endswith(IN_PROGRESS)
                       and (not suffixes or e.name.lower().endswith(suffixes)))
    return [folder / name for name in names]


def others(folder: Path, suffixes: tuple[str, ...]) -> int:
    """How many complete files in ``folder`` the watcher leaves alone for their names."""
    return len(waiting(folder)) - len(waiting(folder, suffixes)) if suffixes else 0


COMPRESSED = (".gz", ".bz2", ".xz", ".zst")


def move_into(file: Path, subfolder: str) -> Path:
    """Move ``file`` into ``subfolder`` beside it; a name already there gets ``.1``, ``.2`` ... before its
    suffix (``day.2026-12-06.csv`` -> ``day.2026-12-06.1.csv``; ``x.csv.gz`` -> ``x.1.csv.gz``)."""
    target_dir = file.parent / subfolder
    target_dir.mkdir(exist_ok=True)
    suffixes = file.suffixes[-2:] if len(file.suffixes) > 1 and file.suffix.lower() in COMPRESSED \
        else file.suffixes[-1:]
    ending = "".join(suffixes)
    stem = file.name[: len(file.name) - len(ending)] if ending else file.name
    target, n = target_dir / file.name, 0
    while target.exists():
        n += 1
        target = target_dir / f"{stem}.{n}{ending}"
    os.rename(file, target)
    return target


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees all of it or nothing (a rename into place): a command waiting for
    a file it handed over (:mod:`carepulse.etl.handover`) reads the reason as soon as it appears."""
    staged = path.with_name(f".{path.name}.part")
    with staged.open("w", encoding="utf-8") as fh:
        fh.write(text)
    os.rename(staged, path)


@contextlib.contextmanager
def claimed(file: Path) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``file`` from before its load until it is moved and reported on; False (and
    nothing held) if the file is gone or another process holds the lock.

    Why: a command that handed a file over (:mod:`carepulse.etl.handover`) takes it back when it is interrupted or
    the loader stops, by taking this lock first and then renaming the file away. Without the lock it could rename a
    file the loader is loading: the load would commit and its move fail.
    """
    try:
        fh = file.open("rb")
    except FileNotFoundError:
        yield False
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def is_file_error(exc: BaseException) -> bool:
    """Whether the file is at fault (its source cannot read it) rather than the warehouse or the machine."""
    return isinstance(exc, DataError) and not isinstance(exc, WarehouseError)


def watch(folder: Path, load: Callable[[Path], Report], *, poll_s: float, once: bool,
          should_stop: Callable[[], bool], sleep: Callable[[float], object],
          on_handed: Callable[[Handed[Report]], None], describe: Callable[[BaseException], str] = str,
          suffixes: tuple[str, ...] = ()) -> Tally:
    """Load every file that arrives in ``folder`` until ``should_stop`` (or, with ``once``, until it is empty).

    ``load`` loads one file and returns its report; ``on_handed`` hears of every file taken, loaded or
    rejected; ``suffixes``: the name endings taken (:func:`waiting`). An error that is not the file's
    (:func:`is_file_error`) propagates with the file left in place; a file that vanished meanwhile is passed over.
    """
    check_poll(poll_s)
    check_folder(folder)
    tally = Tally()
    while not should_stop():
        for file in waiting(folder, suffixes):
            if should_stop():
                break
            with claimed(file) as mine:
                if not mine:  # taken away after the listing, or held by a command taking it back
                    continue
                started = time.perf_counter()
                try:
                    report = load(file)
                except Exception as exc:
                    if not file.exists():  # taken away while it was read: nothing to load, nothing to move
                        continue
                    if not is_file_error(exc):
                        raise
                    reason = describe(exc)
                    moved = move_into(file, FAILED)
                    write_atomically(moved.with_name(moved.name + ".error"), reason + "\n")
                    tally.failed += 1
                    on_handed(Handed(file, moved, time.perf_counter() - started, error=reason))
                    continue
                moved = move_into(file, LOADED)
                tally.loaded += 1
                on_handed(Handed(file, moved, time.perf_counter() - started, report=report))
        if once:
            break
        sleep(poll_s)
    return tally
