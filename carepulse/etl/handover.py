"""``carepulse ingest FILE`` hands its file to a running resident loader instead of loading it itself.

Why: a load from the command line first starts Python and imports DuckDB, numpy and pyarrow, about 0.2 s
before it reads a byte, a third of a 10 k-tweet load into 3 M. A resident loader (``ingest --watch DIR``)
paid that once. When one runs for the same warehouse, source and settings, the command only puts the file
into its folder and waits for the loader's report: it imports none of the three, and there stays one writer.
Nothing depends on it: without a loader (or when anything here fails) the command loads the file itself.

The hand-over uses the folder's own contract (:mod:`carepulse.etl.watch`), nothing new to get wrong:

* a running loader registers in ``<db>.loaders/`` (:func:`registered`): one JSON file per loader with its folder,
  the file endings it takes and its :class:`Terms`, held under an exclusive ``flock`` while it runs; the lock,
  not the file, says it runs (a killed loader's file stays behind and is ignored, then removed by the next);
* the command links (or copies) the file into the folder under a name the loader skips, renames it to
  ``handed-<time>-<pid>-<name>`` and waits. The loader writes ``loaded/<that name>.report`` (the lines
  ``ingest`` prints) after the load's commit, or ``failed/<that name>.error``;
* if the loader stops before either, the command takes its file back and loads it itself: it takes the lock
  the loader holds on a file while it loads it (``watch.claimed``), then renames the file out of the folder, so
  the loader never starts on it; a load the loader committed before it stopped makes every record a duplicate,
  nothing is lost. On Ctrl-C the same: taken back, or, if the loader holds the lock, left to the loader.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from carepulse.etl.watch import FAILED, IN_PROGRESS, LOADED

HANDED_PREFIX = "handed-"
"""Files the command handed over start with this; the loader writes a report beside them once loaded."""
REPORT_SUFFIX = ".report"
ERROR_SUFFIX = ".error"
MAX_HANDED_BYTES = 64 * 2**20
"""Bigger files are loaded by the command itself: the hand-over saves the start-up (0.2 s), which matters for a
small batch, not for a file that loads for seconds and whose progress the user wants to see in their own terminal
(64 MB: about 300,000 TWCS tweets)."""
PATIENCE_S = 2.0
"""A command still waiting after this long says so once (the loader may be busy with other files)."""
WAIT_POLL_S = 0.005
"""How often the waiting command looks for the report: a ``stat``, a few microseconds, so the wait adds under
5 ms to a load the loader publishes."""


@dataclass(frozen=True)
class Terms:
    """What decides a load besides the file: the source, extra brand handles, the CRM mapping file and every
    setting (``core.config.describe``, as JSON). A file is handed over only to a loader with equal terms,
    so it loads exactly as the command itself would have loaded it."""

    kind: str
    accounts: tuple[str, ...]
    mapping: str | None
    settings: str


@dataclass(frozen=True)
class Loader:
    """A running resident loader, as it registered."""

    pid: int
    folder: Path
    suffixes: tuple[str, ...]
    registration: Path

    def takes(self, file: Path) -> bool:
        """Whether ``file`` goes to the loader: a name it takes (watch.waiting's rule) and at most
        :data:`MAX_HANDED_BYTES`."""
        return (file.name.lower().endswith(self.suffixes) and not file.name.endswith(IN_PROGRESS)
                and file.stat().st_size <= MAX_HANDED_BYTES)

    def running(self) -> bool:
        return _locked(self.registration)


@dataclass(frozen=True)
class Outcome:
    """How a hand-over ended: the loader's report, its error, Ctrl-C while the loader had the file, or the
    file taken back (none of these: the command loads it itself)."""

    handed: Path
    report: str | None = None
    error: str | None = None
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def report_path(self) -> Path:
        return self.handed.parent / LOADED / (self.handed.name + REPORT_SUFFIX)

    @property
    def error_path(self) -> Path:
        return self.handed.parent / FAILED / (self.handed.name + ERROR_SUFFIX)


def registry(db: Path) -> Path:
    return db.with_name(db.name + ".loaders")


class Bell:
    """A named pipe beside a loader's registration: a command that hands a file over rings it, so the loader looks
    at its folder at once instead of at its next poll (half a poll, 25 ms, on average). The loader keeps a writer
    open itself, so an idle pipe is never "at end of file" (which would wake it forever); Ctrl-C rings it too."""

    def __init__(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.mkfifo(path, 0o600)
        self.path = path
        self._read = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self._write = os.open(path, os.O_WRONLY | os.O_NONBLOCK)

    def wait(self, seconds: float) -> None:
        """Until it rings or ``seconds`` pass; then silent again."""
        ready, _, _ = select.select([self._read], [], [], seconds)
        if ready:
            with contextlib.suppress(BlockingIOError):
                while os.read(self._read, 4096):
                    pass

    def ring(self) -> None:
        with contextlib.suppress(BlockingIOError):  # full: it rings already
            os.write(self._write, b"\0")

    def close(self) -> None:
        os.close(self._read)
        os.close(self._write)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def ring(loader: Loader) -> None:
    """Wake ``loader`` (its bell); nothing if it has none or no longer listens, since its poll finds the file anyway."""
    try:
        fd = os.open(loader.registration.with_suffix(".bell"), os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # gone, or no reader (ENXIO)
        return
    try:
        with contextlib.suppress(OSError):
            os.write(fd, b"\0")
    finally:
        os.close(fd)


def sweep(where: Path) -> None:
    """Remove the registrations (and bells) of loaders that no longer run: no lock held on them."""
    for old in where.glob("*.json"):
        if not _locked(old):
            with contextlib.suppress(FileNotFoundError):
                old.unlink()
            with contextlib.suppress(FileNotFoundError):
                old.with_suffix(".bell").unlink()


@contextlib.contextmanager
def registered(db: Path, folder: Path, suffixes: tuple[str, ...], terms: Terms) -> Iterator[Bell]:
    """Register a running loader for ``db`` while the block runs, with its :class:`Bell`; stale registrations of
    killed loaders go.

    The registration is written and locked under a name no one reads (``.<name>.new``), then renamed into
    place: a ``*.json`` file is never there unlocked while its loader runs. Written in place, it was, between
    its creation and its lock, and a loader starting at that instant took it for a killed one's and removed it
    (the first loader then ran unregistered: commands loaded their files themselves)."""
    where = registry(db)
    where.mkdir(exist_ok=True)
    sweep(where)
    path = where / f"{terms.kind}-{os.getpid()}.json"
    writing = path.with_name(f".{path.name}.new")
    bell = Bell(path.with_suffix(".bell"))
    try:
        with writing.open("w", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            json.dump({"pid": os.getpid(), "folder": str(folder.resolve()), "suffixes": list(suffixes),
                       "terms": asdict(terms)}, fh)
            fh.flush()
            os.rename(writing, path)  # appears whole and locked
            try:
                yield bell
            finally:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
    finally:
        with contextlib.suppress(FileNotFoundError):
            writing.unlink()  # only if the rename never happened
        bell.close()


def find(db: Path, terms: Terms) -> Loader | None:
    """A running loader for ``db`` with these terms, if one is registered."""
    where = registry(db)
    if not where.is_dir():
        return None
    for path in sorted(where.glob(f"{terms.kind}-*.json")):
        if not _locked(path):
            continue
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
            if Terms(**{**found["terms"], "accounts": tuple(found["terms"]["accounts"])}) == terms:
                return Loader(int(found["pid"]), Path(found["folder"]), tuple(found["suffixes"]), path)
        except (OSError, ValueError, KeyError, TypeError):  # gone meanwhile, or not a registration: not a loader
            continue
    return None


def hand_over(file: Path, loader: Loader) -> Path:
    """Put ``file`` into the loader's folder under a new ``handed-`` name; that path. The file itself stays
    where it is (a hard link, or a copy on another file system)."""
    name = f"{HANDED_PREFIX}{time.time_ns()}-{os.getpid()}-{file.name}"
    staged = loader.folder / f".{name}.part"
    handed = loader.folder / name
    try:
        try:
            os.link(file, staged)
        except OSError:
            shutil.copyfile(file, staged)
        os.rename(staged, handed)
    except BaseException:  # a staged link or half copy is skipped by the loader but would stay in its folder
        staged.unlink(missing_ok=True)
        raise
    ring(loader)
    return handed


def wait(handed: Path, loader: Loader, started: float,
         waiting: Callable[[], None] = lambda: None) -> Outcome:
    """Wait for the loader's report or error on ``handed``; if the loader stops first, take the file back.

    On Ctrl-C the file is taken back if the loader has not taken it yet, and the interrupt goes on (nothing
    was published); if the loader has it, the outcome says so (the load goes on without the command). ``waiting``
    is called once if no answer came within :data:`PATIENCE_S`.
    """
    outcome = Outcome(handed)
    patience = started + PATIENCE_S
    try:
        while True:
            if outcome.report_path.exists():
                return Outcome(handed, report=outcome.report_path.read_text(encoding="utf-8"),
                               seconds=time.perf_counter() - started)
            if outcome.error_path.exists():
                return Outcome(handed, error=outcome.error_path.read_text(encoding="utf-8"),
                               seconds=time.perf_counter() - started)
            if not loader.running():
                if outcome.report_path.exists() or outcome.error_path.exists():
                    continue  # written just before the loader stopped
                take_back(handed)
                return Outcome(handed, seconds=time.perf_counter() - started)
            if patience and time.perf_counter() > patience:
                waiting()
                patience = 0.0
            time.sleep(WAIT_POLL_S)
    except KeyboardInterrupt:
        if take_back(handed):
            raise
        return Outcome(handed, interrupted=True, seconds=time.perf_counter() - started)


def take_back(handed: Path) -> bool:
    """Take ``handed`` out of the folder unless the loader has it; whether it was taken back.

    The loader holds an exclusive lock on a file from before its load until its report (``watch.claimed``); taking
    the lock first and then renaming the file away means the loader never starts on it, and failing to take it
    means the loader has it.
    """
    try:
        fh = handed.open("rb")
    except FileNotFoundError:
        return False
    private = handed.with_name(f".{handed.name}.taken-back")
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        try:
            os.rename(handed, private)
        except FileNotFoundError:  # loaded and moved between our open and our lock
            return False
    private.unlink()
    return True


def _locked(path: Path) -> bool:
    """Whether a running loader holds the lock on its registration."""
    try:
        fh: IO[str] = path.open("r", encoding="utf-8")
    except OSError:
        return False
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False
