"""The compiled statements kept between runs: code -> (DuckDB SQL, placeholder names).

A compiled statement depends on its code (never on a value: values are parameters; only the time zone
shapes the local-time form, and is part of the key), on the compiler (``sqltree.py``, ``localtime.py``),
on SQLGlot and on DuckDB's zone data. The cache file's name carries a fingerprint of these
and of carepulse's version, so a new version never reads an old compilation; an entry's key is a
hash of the code. The file is small (a few hundred statements) and written atomically (a new file,
then a rename): two commands running at once may each lose the other's new entries, never corrupt
the file. A cache that cannot be read or written is no error: statements are then compiled each run.

Where: ``$CAREPULSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/carepulse``, else ``~/.cache/carepulse``;
``CAREPULSE_CACHE_DIR=off`` keeps it in memory only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from importlib.util import find_spec
from pathlib import Path

MAX_ENTRIES = 4000
_LOCK = threading.Lock()
_state: dict[str, object] = {}


def directory() -> Path | None:
    chosen = os.environ.get("CAREPULSE_CACHE_DIR")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "carepulse"


def _fingerprint() -> str:
    """carepulse's version, the compiler's source (with the local-time form), SQLGlot's version and
    DuckDB's (whose ICU gives the zones' transitions), without importing SQLGlot."""
    import duckdb

    from carepulse import __version__

    digest = hashlib.sha256(__version__.encode())
    for source in ("sqltree.py", "localtime.py"):
        digest.update((Path(__file__).parent / source).read_bytes())
    spec = find_spec("sqlglot")
    if spec is not None and spec.origin:
        with contextlib.suppress(OSError):
            digest.update((Path(spec.origin).parent / "_version.py").read_bytes())
    digest.update(duckdb.__version__.encode())
    return digest.hexdigest()[:16]


def key(code: str, signatures: int, zones: str = "") -> str:
    return hashlib.sha256(f"{signatures}\0{zones}\0{code}".encode()).hexdigest()


def _path() -> Path | None:
    if "path" not in _state:
        folder = directory()
        _state["path"] = folder / f"statements-{_fingerprint()}.json" if folder else None
    return _state["path"]  # type: ignore[return-value]


def _entries() -> dict[str, list[object]]:
    if "entries" not in _state:
        entries: dict[str, list[object]] = {}
        path = _path()
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    entries = loaded
        _state["entries"] = entries
    return _state["entries"]  # type: ignore[return-value]


def get(name: str) -> tuple[str, tuple[str, ...]] | None:
    with _LOCK:
        found = _entries().get(name)
    if not isinstance(found, list) or len(found) != 2 or not isinstance(found[0], str) \
            or not isinstance(found[1], list) or not all(isinstance(n, str) for n in found[1]):
        return None  # absent, or damaged: compiled again
    return found[0], tuple(found[1])


def put(name: str, compiled: tuple[str, tuple[str, ...]]) -> None:
    with _LOCK:
        entries = _entries()
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        entries[name] = [compiled[0], list(compiled[1])]
        path = _path()
        if path is None:
            return
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".statements-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(entries, out)
                os.replace(temporary, path)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)


def forget() -> None:
    """Drop what this process read (tests: the next lookup reads the file again)."""
    with _LOCK:
        _state.clear()
