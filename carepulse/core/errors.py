"""One error family so the CLI can turn every domain problem into one clear line.

Tracebacks are for bugs. Anything a user can cause (a bad file, a missing warehouse,
a wrong setting, an unreachable API) raises a subclass of :class:`CarepulseError`;
the CLI prints ``error: <message>`` and exits with the error's ``exit_code``.

Failures of the machine rather than of the input (disk full, out of memory, a damaged or locked
warehouse file) arrive as OSError, MemoryError or a DuckDB exception; :func:`describe_failure`
turns those into the same kind of one line, so that no resource failure ends in a traceback.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path


class CarepulseError(Exception):
    """Base of all errors a user can cause and fix."""

    exit_code = 1


class ConfigError(CarepulseError):
    """A setting is missing, misspelt or out of range."""

    exit_code = 2


class DataError(CarepulseError):
    """Input data cannot be used at all (unreadable file, missing columns, empty warehouse)."""

    exit_code = 2


class SourceError(CarepulseError):
    """A remote source failed. ``transient`` errors may succeed on retry; terminal ones will not."""

    exit_code = 3

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class WarehouseError(DataError):
    """The warehouse file cannot be used as it is: not a DuckDB file, damaged, another program's database,
    written by a newer carepulse, or locked by another program. Nothing is written to it."""


class ResourceError(CarepulseError, OSError):
    """The machine ran out of something (disk space, the file size limit, memory) or refused a file
    operation while a command ran; a load in progress published nothing.

    Also an OSError: a load used to let the OSError itself escape, and code that catches that (a
    scheduler around ``pull``, tests) keeps working; the original error is the ``__cause__``.
    """

    exit_code = 2


# --------------------------------------------------------------------------------------------
# One line for what the operating system, Python or DuckDB raised. Kept free of a duckdb import:
# the CLI calls it for any command, and most failures it sees are plain OSErrors.

_ERRNO_PHRASES = {
    errno.ENOSPC: "no space left on device",
    errno.EFBIG: "file too large (the file size limit, ulimit -f, was reached)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error (a failing disk or network share)",
    errno.EMFILE: "too many open files",
    errno.ENOMEM: "out of memory",
}
# DuckDB reports OS failures as text inside its own exception types: strerror() -> our phrase.
_TEXT_PHRASES = {
    "no space left on device": errno.ENOSPC,
    "file too large": errno.EFBIG,
    "disk quota exceeded": errno.EDQUOT,
    "read-only file system": errno.EROFS,
    "permission denied": errno.EACCES,
    "input/output error": errno.EIO,
    "too many open files": errno.EMFILE,
}
_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_DAMAGED_TEXTS = ("could not read enough bytes", "corrupt database file", "checksum", "not a valid duckdb database",
                  "storage version", "serialization error", "invalid block")
MEMORY_HINT = "free memory, or load fewer or smaller files at a time (docs/warehouse.md, \"When things fail\")"
_DUCKDB_FILE = re.compile(r'file "([^"]+)"')
_DUCKDB_PREFIX = re.compile(r"^(?:[A-Z][A-Za-z ]*)?(?:Error|Exception): ")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def _is_duckdb(exc: BaseException) -> bool:
    return any(cls.__module__.lstrip("_").partition(".")[0] == "duckdb" for cls in type(exc).__mro__)


def first_line(exc: BaseException) -> str:
    """The exception's message, first line only (DuckDB adds hints and context below it)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes, outermost first: a load's cleanup may raise "Current transaction is
    aborted" while the disk-full error that aborted it is only the ``__context__``."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _os_phrase(exc: BaseException) -> tuple[int, str | None] | None:
    """(errno, file) for an OSError, or for a DuckDB error that reports one in its text."""
    if isinstance(exc, OSError) and exc.errno is not None:
        name = exc.filename2 if exc.errno in _WRITE_ERRNOS and exc.filename2 else exc.filename
        return exc.errno, None if name is None else str(name)
    if _is_duckdb(exc):
        text = str(exc).lower()
        for phrase, number in _TEXT_PHRASES.items():
            if phrase in text:
                found = _DUCKDB_FILE.search(str(exc))
                return number, found.group(1) if found else None
    return None


def _out_of_memory(e: BaseException) -> bool:
    return (isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryException"
            or (_is_duckdb(e) and "out of memory" in str(e).lower()))


def is_out_of_memory(exc: BaseException) -> bool:
    return any(_out_of_memory(e) for e in _chain(exc))


def memory_detail(exc: BaseException) -> str:
    """What DuckDB says it failed to allocate ("failed to allocate data of size 2.0 MiB (...)"); "" for Python."""
    for e in _chain(exc):
        if _out_of_memory(e) and _is_duckdb(e):
            return _DUCKDB_PREFIX.sub("", first_line(e))
    return ""


def _resource(e: BaseException) -> bool:
    if isinstance(e, OSError | MemoryError):
        return True
    if not _is_duckdb(e):
        return False
    text = str(e).lower()
    return (type(e).__name__ in ("IOException", "OutOfMemoryException", "FatalException", "PermissionException")
            or "out of memory" in text or "could not write file" in text or "could not set lock" in text
            or any(phrase in text for phrase in _TEXT_PHRASES) or any(marker in text for marker in _DAMAGED_TEXTS))


def is_resource_failure(exc: BaseException) -> bool:
    """The machine's or a file's failure rather than a bug: an OSError, MemoryError, or a DuckDB error about
    I/O, memory, a lock or a damaged file, anywhere in the chain. Such a load is refused with one line."""
    return any(_resource(e) for e in _chain(exc))


def is_runtime_failure(exc: BaseException) -> bool:
    """Any OSError, MemoryError or DuckDB error in the chain: what the CLI reports in one line (a DuckDB
    error that is a bug in carepulse's SQL too: its traceback is in the log with ``-v``)."""
    return any(isinstance(e, OSError | MemoryError) or _is_duckdb(e) for e in _chain(exc))


def describe_failure(exc: BaseException, file: Path | str | None = None) -> str | None:
    """One line for an OS, memory or DuckDB failure (no traceback), or None for anything else.

    The chain is searched for the most telling cause, in this order: out of memory, an OS error (disk
    full, file size limit, permissions; from Python or inside DuckDB's text), a damaged or locked
    database file; else the outermost DuckDB or OS error's first line. ``file`` names the database file
    when DuckDB's message does not.
    """
    chain = _chain(exc)
    if not is_runtime_failure(exc):
        return None
    if is_out_of_memory(exc):
        detail = memory_detail(exc)
        return f"out of memory{f' ({detail})' if detail else ''}: {MEMORY_HINT}"
    for e in chain:
        found = _os_phrase(e)
        if found is not None:
            number, name = found
            phrase = _ERRNO_PHRASES.get(number) or (
                e.strerror.lower() if isinstance(e, OSError) and e.strerror else _DUCKDB_PREFIX.sub("", first_line(e)))
            if name is None:
                return phrase
            doing = "writing" if number in _WRITE_ERRNOS else "opening"
            return f"{phrase} while {doing} {name}"
    for e in chain:
        if not _is_duckdb(e):
            continue
        text = first_line(e)
        holder = _LOCK_HOLDER.search(text)
        named = _DUCKDB_FILE.search(text)
        name = named.group(1) if named else str(file or "the database file")
        if holder:
            return (f"{name} is locked by another program ({holder.group(1)}, PID {holder.group(2)}): "
                    "close it (a duckdb shell or notebook that opened the file) and try again")
        if "not a valid duckdb database" in text.lower():
            return f"{name} is not a DuckDB database file (damaged, or another kind of file)"
        if any(marker in text.lower() for marker in _DAMAGED_TEXTS):
            detail = _DUCKDB_FILE.sub("the file", _DUCKDB_PREFIX.sub("", text))
            return f"{name} is damaged ({detail})"
    for e in chain:
        if _is_duckdb(e) and "current transaction is aborted" not in str(e).lower():
            return first_line(e)
    return first_line(chain[0])
