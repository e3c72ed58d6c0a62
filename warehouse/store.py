"""Opening the warehouse for writing and for reading.

DuckDB allows one writing process per file, and a read-only connection held by another process
blocks that writer. So readers never open the file a writer works on:

* A **writer** takes an exclusive ``flock`` on ``<db>.lock`` (a second loader waits for the first),
  copies the published file to ``.<db>.<pid>.loading``, loads into the copy inside one transaction,
  checkpoints, and publishes it with an atomic ``os.replace``. A crash at any point leaves the
  published file untouched; the half-written copy is deleted (or ignored, and swept by the next writer).
* A **reader** attaches the published file read-only in its own in-memory DuckDB instance. On
  Linux the open file keeps pointing to the snapshot it opened, so a reader is never disturbed by
  a publish; :meth:`Reader.connection` notices a newer snapshot (inode or mtime changed) and
  re-attaches, so the next query sees the finished load, never half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from carepulse.errors import DataError

log = logging.getLogger(__name__)

SCHEMA_VERSION = "2"
READ_MEMORY_LIMIT = "2GB"
WRITE_MEMORY_LIMIT = "700MB"  # the loader's numpy/Arrow graph columns come on top (docs/warehouse.md)


# Each step brings a warehouse of the version before it up to the next (run once, by the writer).
MIGRATIONS: dict[int, str] = {
    # 2: the first brand reply's tweet and account beside ``first_reply_at`` (reply times by account
    # without a join at query time); earliest by (time, id), as the loader chooses it.
    2: """
    ALTER TABLE tweets ADD COLUMN IF NOT EXISTS first_reply_id BIGINT;
    ALTER TABLE tweets ADD COLUMN IF NOT EXISTS first_reply_by VARCHAR;
    UPDATE tweets SET first_reply_id = f.reply_id, first_reply_by = f.reply_by
    FROM (SELECT r.parent_id, arg_min(r.tweet_id, (r.created_at, r.tweet_id)) AS reply_id,
                 arg_min(r.author_handle, (r.created_at, r.tweet_id)) AS reply_by
          FROM tweets r JOIN tweets p ON p.tweet_id = r.parent_id
          WHERE r.is_brand AND NOT p.is_brand GROUP BY r.parent_id) f
    WHERE tweets.tweet_id = f.parent_id AND tweets.first_reply_at IS NOT NULL;
    """,
}


def _stored_version(con: duckdb.DuckDBPyConnection) -> int | None:
    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'meta' AND schema_name = 'main'").fetchall():
        return None
    rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return int(rows[0][0]) if rows else None


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and migrate an older warehouse; safe to run on every open."""
    stored = _stored_version(con)
    if stored is not None:
        for version in sorted(v for v in MIGRATIONS if v > stored):
            con.execute(MIGRATIONS[version])
    sql = resources.files("warehouse").joinpath("schema.sql").read_text(encoding="utf-8")
    con.execute(sql)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [SCHEMA_VERSION],
    )


def _session_defaults(con: duckdb.DuckDBPyConnection, memory_limit: str, threads: int | None = None) -> None:
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")


@dataclass(frozen=True)
class _Snapshot:
    inode: int
    mtime_ns: int
    size: int


def _snapshot_of(path: Path) -> _Snapshot | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return _Snapshot(st.st_ino, st.st_mtime_ns, st.st_size)


class Warehouse:
    """One warehouse file and the rules for touching it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        return self.path.exists()

    def _sweep_stale_copies(self) -> None:
        for stale in self.path.parent.glob(f".{self.path.name}.*.loading*"):
            with contextlib.suppress(OSError):
                stale.unlink()

    @contextlib.contextmanager
    def writer(self, *, on_wait: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to a private copy of the warehouse, published atomically on success.

        Everything done through it is one transaction: on any exception nothing is published.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    log.warning(on_wait)
                fcntl.flock(lock, fcntl.LOCK_EX)
            self._sweep_stale_copies()
            work = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.loading")
            wal = Path(str(self.path) + ".wal")
            if wal.exists():
                raise DataError(
                    f"{wal} exists: the warehouse was written outside carepulse and not checkpointed; "
                    "open it once with duckdb and run CHECKPOINT"
                )
            if self.path.exists():
                shutil.copyfile(self.path, work)
            con = duckdb.connect(str(work))
            published = False
            try:
                _session_defaults(con, WRITE_MEMORY_LIMIT)
                con.execute(f"SET temp_directory = '{work}.tmp'")
                apply_schema(con)
                con.execute("BEGIN TRANSACTION")
                yield con
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
                con.close()
                os.replace(work, self.path)
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
                published = True
            finally:
                if not published:
                    with contextlib.suppress(Exception):
                        con.close()
                for leftover in (work, Path(f"{work}.wal")):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()
                shutil.rmtree(f"{work}.tmp", ignore_errors=True)

    def reader(self) -> Reader:
        return Reader(self.path)


class Reader:
    """Read access that follows published snapshots and never takes the writer's lock.

    One DuckDB instance per snapshot; each thread gets its own cursor, because DuckDB 2 streams
    results and a second ``execute`` on a shared connection would end the first result.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._snapshot: _Snapshot | None = None

    def _attach(self, snap: _Snapshot) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        _session_defaults(con, READ_MEMORY_LIMIT)
        escaped = str(self.path.resolve()).replace("'", "''")
        con.execute(f"ATTACH '{escaped}' AS wh (READ_ONLY)")
        con.execute("USE wh")
        return con

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the newest published snapshot (a new cursor per call: use it in one thread)."""
        snap = _snapshot_of(self.path)
        if snap is None:
            raise DataError(
                f"no warehouse at {self.path}: load data first (carepulse demo, or carepulse ingest ...)"
            )
        with self._lock:
            if self._con is None or snap != self._snapshot:
                for attempt in range(5):
                    try:
                        new = self._attach(snap)
                        break
                    except duckdb.IOException:
                        if attempt == 4:
                            raise
                        time.sleep(0.05)
                        snap = _snapshot_of(self.path) or snap
                old, self._con, self._snapshot = self._con, new, snap
                if old is not None:
                    closer = threading.Timer(60.0, old.close)
                    closer.daemon = True
                    closer.start()
            cursor = self._con.cursor()
        cursor.execute("SET TimeZone = 'UTC'; USE wh")
        return cursor

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
