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

Both check the file before using it (:func:`_attach_checked`): a file that is not a DuckDB database,
is damaged or truncated, is another program's DuckDB database, was written by a newer carepulse, or
is locked by another program raises :class:`~carepulse.core.errors.WarehouseError`, one line, instead of
a DuckDB traceback or (for a writer) tables created inside someone else's database. A load that
fails on the machine's limits (disk full, file size limit, out of memory) raises
:class:`~carepulse.core.errors.ResourceError` after removing its work files; the published file is
never touched before the final rename (docs/warehouse.md, "When things fail").
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import ClassVar

import duckdb

from carepulse.core import native
from carepulse.core.errors import (
    MEMORY_HINT,
    CarepulseError,
    DataError,
    ResourceError,
    WarehouseError,
    describe_failure,
    first_line,
    is_out_of_memory,
    is_resource_failure,
    memory_detail,
)
from carepulse.warehouse import delta

log = logging.getLogger(__name__)

SCHEMA_VERSION = "2"
READ_MEMORY_LIMIT = "2GB"
SNAPSHOT_VIEW = "carepulse_snapshot"
"""A one-row view (origin, stamp) naming the published files a reader of views reads (a base with its delta, a
lake); metrics.costs keys results that depend only on the data by it, as it keys a plain file by its identity."""
WRITE_MEMORY_LIMIT = "1000MB"
"""A load's DuckDB memory; the numpy and Arrow columns of one slice (``threads.SLICE_ROWS``) come on top.

The pair is tuned together against the 1.5 GB peak of a 10 M-tweet load (docs/warehouse.md, "Memory"): at 700 MB
the staging table of a 3 M load spilled to disk and was read back (0.8-0.9 s of 9 s); 1,000 MB with 1 M-row slices
keeps a 10 M load at 1.34 GB, where 1,000 MB with 2 M-row slices reached 1.63 GB (benchmarks/RESULTS.md)."""
FIRST_LOAD_VACUUM_TASKS = 0
"""DuckDB's row-group merges at the checkpoint of a load into a new file: none.

A first load folded in slices ends each slice with part-filled row groups, and the checkpoint merged neighbours
into new blocks, leaving the old ones free inside the file (later writes reuse them only slowly): 84 MB of a
fresh 10 M-tweet warehouse's 858 MB, 16 MB of 247 MB at 3 M, and 0.3-0.4 s of the 3 M load (benchmarks/RESULTS.md).
What the merges are for, clearing deleted rows, barely arises in a first load (153 threads rows at 3 M, rebuilt by
a later slice); every later write (a load's delta, a compaction) keeps DuckDB's default and clears them."""
RETIRE_AFTER_S = 60.0
"""How long a reader keeps the DuckDB of a snapshot it no longer hands out open: queries started on it finish,
then it is closed and the replaced files' space is freed."""


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
    if not has_table(con, "meta"):
        return None
    rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return int(rows[0][0]) if rows else None


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the current database has ``name`` as a table, or (a reader of a base and its delta) as a view."""
    return bool(con.execute(
        "SELECT count(*) FROM (SELECT table_name AS name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "UNION ALL SELECT view_name FROM duckdb_views() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal) "
        "WHERE name = $name", {"name": name}).fetchall()[0][0])


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and migrate an older warehouse; safe to run on every open."""
    stored = _stored_version(con)
    if stored is not None:
        for version in sorted(v for v in MIGRATIONS if v > stored):
            con.execute(MIGRATIONS[version])
    sql = resources.files("carepulse.warehouse").joinpath("schema.sql").read_text(encoding="utf-8")
    con.execute(sql)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [SCHEMA_VERSION],
    )


def sql_text(value: str) -> str:
    """``value`` as a SQL string literal. SET and ATTACH take no parameters, and a ``--db`` path may hold
    an apostrophe (``/data/o'brien/wh.duckdb``): unquoted, every load would fail with a parser error."""
    return "'" + value.replace("'", "''") + "'"


def _commit_into_file(con: duckdb.DuckDBPyConnection) -> None:
    """COMMIT a load's transaction straight into its work file, not through the write-ahead log.

    With the checkpoint threshold below the transaction's size, DuckDB checkpoints at the commit instead of
    writing the changes to the WAL first and copying them into the file at the CHECKPOINT after it: a 10 k
    load's commit and checkpoint 36 ms → 25 ms. (A full load keeps COMMIT and CHECKPOINT: its rows are
    already in the file, written as they came, and checkpointing at the commit took longer there.) Safe for
    the same reason as :func:`settle`: the work file is private until the writer renames it.
    """
    con.execute("SET checkpoint_threshold = '1B'")
    con.execute("COMMIT")


def settle(con: duckdb.DuckDBPyConnection) -> None:
    """Commit what a load wrote so far into its private work file and go on in a new transaction.

    It publishes nothing: the work file (a copy of the base, or of the delta) becomes the warehouse
    only by the writer's rename at the end, so a failure or a kill after it still leaves the published
    files as they were. Why a load needs it: DuckDB keeps every Python object a statement scanned (the
    Arrow tables a load registers) alive until the transaction ends, so a load folded in slices would
    otherwise hold every slice's columns at once (``threads.SLICE_ROWS``).
    """
    con.execute("COMMIT")
    con.execute("BEGIN TRANSACTION")


def _release_files(con: duckdb.DuckDBPyConnection) -> None:
    """Detach every file from a finished load's in-memory DuckDB now, and close the DuckDB itself on a thread.

    The files must be closed before the work file is published (a reader attaching the delta must find no
    writer's lock on it). The in-memory instance holds nothing anyone waits for, but tearing it down (its
    buffers, its worker threads) took 12-15 ms of a 10 k load's 0.5 s; the CLI ends the process right after a
    load (``os._exit``), which ends the thread too. The thread is no daemon (:data:`native.CLOSING_THREAD` says
    why): a script that loads and returns waits for it at exit instead of aborting.
    """
    con.execute("USE memory")
    for (name,) in con.execute("SELECT database_name FROM duckdb_databases() "
                               "WHERE NOT internal AND database_name <> 'memory'").fetchall():
        con.execute(f"DETACH {name}")
    threading.Thread(target=con.close, name=native.CLOSING_THREAD, daemon=False).start()


def _release_work(con: duckdb.DuckDBPyConnection) -> None:
    """:func:`_release_files` for a resident writer: the work file is detached and the load's temporary tables,
    views and settings are gone, but the base stays attached and the instance open for the next load."""
    con.execute("USE memory")
    for kind, name in con.execute("SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal "
                                  "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary"
                                  ).fetchall():
        con.execute(f"DROP {kind} IF EXISTS temp.main.{_identifier(name)}")
    for (name,) in con.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal "
                               "AND database_name NOT IN ('memory', $base)", {"base": delta.BASE_DB}).fetchall():
        con.execute(f"DETACH {name}")
    for setting in ("checkpoint_threshold", "temp_directory", "preserve_insertion_order"):
        con.execute(f"RESET {setting}")


@dataclass
class _Kept:
    """A resident writer's in-memory DuckDB, kept between loads with the published base still attached.

    Why: a load reads the base's keys (the conversations a batch touches, their loaded tweets); in a fresh
    instance every block comes from the file again and is checked, in a kept one it is in DuckDB's buffers. At
    10 M tweets that is 60-80 ms of a 0.35 s load, at 3 M 25-45 ms (benchmarks/RESULTS.md). Only the base is
    kept: each load still copies the delta into its own work file and publishes it by rename, so everything
    docs/warehouse.md promises readers and crashes is unchanged.
    """

    con: duckdb.DuckDBPyConnection
    base: tuple[int, int, int] | None
    """The base file it attached (inode, mtime, size): a compaction replaces the file, and the next load then
    attaches the new one in a new instance."""


def _session_defaults(con: duckdb.DuckDBPyConnection, memory_limit: str, threads: int | None = None) -> None:
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {sql_text(memory_limit)}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")


RESTORE_HINT = "restore it from a backup, or load the source files again into a new file (--db)"


def _inspect(con: duckdb.DuckDBPyConnection, alias: str, path: Path, *, writing: bool) -> None:
    """Refuse an attached file this carepulse must not use; raises WarehouseError.

    Truncated (shorter than the blocks its header counts: a copy cut short would otherwise fail only
    in the query that reaches the missing block), another program's database (tables but no
    ``meta.schema_version``: a writer would create carepulse's tables inside it), an empty DuckDB file
    (fine for a writer, which creates the schema; nothing to read for a reader), or a newer schema
    than this version knows (its migrations could not be undone, its queries may not match).
    """
    # used, not total, blocks: a checkpoint cuts free blocks off the file's end but still counts them
    size = con.execute("SELECT block_size, used_blocks FROM pragma_database_size() WHERE database_name = ?",
                       [alias]).fetchone()
    if size is not None:
        expected = int(size[0]) * int(size[1])
        actual = path.stat().st_size
        if actual < expected:
            raise WarehouseError(f"the warehouse {path} is truncated ({actual:,} bytes; the {int(size[1]):,} blocks "
                                 f"its header says are in use need at least {expected:,}): {RESTORE_HINT}")
    tables = [str(name) for schema, name in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY ALL", [alias]
    ).fetchall() if not (schema == "main" and name == "meta")]
    has_meta = bool(con.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' "
                                "AND table_name = 'meta'", [alias]).fetchall())
    rows = con.execute(f"SELECT value FROM {alias}.meta WHERE key = 'schema_version'").fetchall() if has_meta else []
    if not rows:
        if not tables and not has_meta:
            if writing:
                return
            raise WarehouseError(f"{path} is an empty DuckDB database, not a carepulse warehouse: load data first "
                                 "(carepulse ingest ..., or carepulse demo)")
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        raise WarehouseError(f"{path} is a DuckDB database but not a carepulse warehouse (no meta.schema_version; "
                             f"its tables: {shown or 'meta'}): point --db at a carepulse warehouse or a new file")
    try:
        stored = int(rows[0][0])
    except (TypeError, ValueError):
        raise WarehouseError(f"{path} is not a carepulse warehouse (meta.schema_version is {rows[0][0]!r})") from None
    if stored > int(SCHEMA_VERSION):
        raise WarehouseError(f"the warehouse {path} was written by a newer carepulse (schema version {stored}; this "
                             f"one knows up to {SCHEMA_VERSION}): upgrade carepulse to use it")


def _unusable(exc: BaseException, doing: str, path: Path) -> CarepulseError:
    """The one-line error for a file DuckDB could not attach or inspect (damaged, not DuckDB, locked, memory)."""
    reason = describe_failure(exc, path) or first_line(exc)
    if is_out_of_memory(exc):
        return ResourceError(f"cannot {doing} the warehouse: {reason}")
    damaged = " is damaged " in reason or " is not a DuckDB database" in reason
    return WarehouseError(f"cannot {doing} the warehouse: {reason}" + (f": {RESTORE_HINT}" if damaged else ""))


def _attach_checked(con: duckdb.DuckDBPyConnection, path: Path, alias: str, *, writing: bool) -> None:
    """ATTACH ``path`` read-only as ``alias`` and :func:`_inspect` it; DuckDB's failures become one line.

    A writer attaches the published file this way before copying it, so a damaged, foreign, newer or
    locked file is refused before anything is written (a lock held by another program's read-write
    connection means that program may be writing: a copy could be inconsistent, and its work lost).
    """
    doing = "load into" if writing else "read"
    try:
        con.execute(f"ATTACH {sql_text(str(path.resolve()))} AS {alias} (READ_ONLY)")
        _inspect(con, alias, path, writing=writing)
    except duckdb.Error as exc:
        raise _unusable(exc, doing, path) from exc


@dataclass(frozen=True)
class _Snapshot:
    """What a reader reads: the base file's identity and the delta's beside it (None without one)."""

    inode: int
    mtime_ns: int
    size: int
    delta: tuple[int, int, int] | None = None


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _snapshot_of(path: Path) -> _Snapshot | None:
    base = _stat(path)
    return None if base is None else _Snapshot(*base, delta=_stat(delta.delta_path(path)))


@dataclass(frozen=True)
class _Published:
    """The published base as a writer found it: schema version and base id (None: a new or empty file)."""

    version: int | None = None
    base_id: str | None = None
    size: int = 0


class Warehouse:
    """One warehouse file (the base), its delta, and the rules for touching them."""

    def __init__(self, path: Path | str, *, resident: bool = False, defer_compaction: bool = False) -> None:
        """``resident``: the object serves load after load in one process (``ingest --watch``), and keeps its
        DuckDB with the base attached between them (:class:`_Kept`). ``defer_compaction``: a load that leaves the
        delta due for folding does not fold it before it returns; the caller reports the load and then calls
        :meth:`compact_if_due` (the resident loader: a hand-over is answered before the compaction, not after)."""
        self.path = Path(path)
        self._compact_after = False
        self._resident = resident
        self._defer_compaction = defer_compaction
        self._kept: _Kept | None = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def delta_path(self) -> Path:
        return delta.delta_path(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    def _sweep_stale_copies(self) -> None:
        for stale in self.path.parent.glob(f".{self.path.name}.*.loading*"):
            with contextlib.suppress(OSError):
                stale.unlink()

    @contextlib.contextmanager
    def writer(self, *, on_wait: str | None = None, rewrite: bool = False,
               batch_bytes: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection whose work is published atomically on success, as one transaction.

        ``batch_bytes`` (a load says how much it reads) lets a small load write only the delta
        (:mod:`carepulse.warehouse.delta`); everything else, and a big load, writes a private copy of the base
        with the delta folded in, published by rename. On any exception nothing is published, and the work
        file (with its WAL and spill directory) is removed at once, not left for the next load to sweep: after
        a disk-full failure the space it holds is what the user needs back. A failure of the machine (disk
        full, file size limit, out of memory, an OS error) becomes one :class:`ResourceError` line saying what
        failed; published files are not touched before the final ``os.replace``.
        """
        with self._locked(on_wait):
            self._sweep_stale_copies()
            wal = Path(str(self.path) + ".wal")
            if wal.exists():
                raise DataError(
                    f"{wal} exists: the warehouse was written outside carepulse and not checkpointed; "
                    "open it once with duckdb and run CHECKPOINT"
                )
            if not self.path.exists():
                with self._writing_base(_Published(), rewrite) as con:
                    yield con
                return
            # one in-memory DuckDB checks the base and, for a delta load, goes on to do it (a connect costs 20 ms);
            # a resident writer's is kept from its load before while the base is the same file
            kept = self._take_kept()
            checking = kept.con if kept is not None else duckdb.connect(":memory:")
            try:
                if kept is None:
                    _session_defaults(checking, WRITE_MEMORY_LIMIT)
                published = self._check_published(checking, attached=kept is not None)
                use_delta = self._delta_load(published, batch_bytes)
            except BaseException:
                checking.close()
                raise
            if use_delta:
                with self._writing_delta(checking, published) as con:
                    yield con
                if not self._defer_compaction:
                    self._compact_if_due()
            else:
                checking.close()
                with self._writing_base(published, rewrite) as con:
                    yield con

    def _take_kept(self) -> _Kept | None:
        """The kept instance if its base is still the published file (called under the load lock), else None."""
        self.release_stale()
        kept, self._kept = self._kept, None
        return kept

    def release_stale(self) -> None:
        """A resident writer between loads (the watcher calls it at every look at its folder): close the kept
        DuckDB once the base it holds is no longer the published file. A compaction or a full load by another
        process replaces the base by rename; the old file's blocks stay on disk while anything holds it open, and
        a loader may then wait hours for its next file."""
        kept = self._kept
        if kept is not None and kept.base != _stat(self.path):
            self._kept = None
            kept.con.close()

    def _drop_kept(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.con.close()

    @contextlib.contextmanager
    def _locked(self, on_wait: str | None) -> Iterator[None]:
        """The load lock (``<db>.lock``): one writer at a time; the next one waits, and says so."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = self.lock_path.open("a+")
        except OSError as exc:
            raise self._failed(exc) from exc
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    log.warning(on_wait)
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def backup(self, dest: Path) -> list[Path]:
        """Copy the published base, and its delta when it has one, to ``dest`` (and ``<dest>.delta``).

        Under the load lock, so no load publishes between the two copies: the pair is one snapshot, and restores
        by copying both back. Each copy is written beside its target and renamed, so a cut-off backup never
        looks whole.
        """
        dest = Path(dest)
        if not self.path.exists():
            raise DataError(f"no warehouse at {self.path}: nothing to back up")
        if dest.resolve() == self.path.resolve() or dest.resolve() == self.delta_path.resolve():
            raise DataError(f"{dest} is the warehouse itself: choose another file")
        written = [dest]
        with self._locked(f"waiting for a load of {self.path} to finish"):
            published = self._check_published()
            pairs = [(self.path, dest)]
            if self._matching_delta(published):
                pairs.append((self.delta_path, delta.delta_path(dest)))
                written.append(delta.delta_path(dest))
            else:
                delta.delta_path(dest).unlink(missing_ok=True)  # an older backup's, of another base
            for source, target in pairs:
                partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
                try:
                    shutil.copyfile(source, partial)
                    os.replace(partial, target)
                except OSError as exc:
                    partial.unlink(missing_ok=True)
                    raise ResourceError(f"backup: {describe_failure(exc, target) or first_line(exc)}") from exc
        return written

    def _delta_load(self, published: _Published, batch_bytes: int | None) -> bool:
        """Whether this write goes to the delta: a load, into a base of this schema version that has an id,
        small enough against the base (or every load, with ``CAREPULSE_LOAD_MODE=delta``)."""
        mode = os.environ.get(delta.MODE_ENV, "auto").strip().lower() or "auto"
        if mode not in ("auto", "delta", "full"):
            raise DataError(f"{delta.MODE_ENV}={mode!r}: expected auto, delta or full")
        if batch_bytes is None or mode == "full" or published.base_id is None:
            return False
        if published.version != int(SCHEMA_VERSION):
            return False
        return mode == "delta" or batch_bytes <= delta.DELTA_MAX_SHARE * published.size

    def _matching_delta(self, published: _Published) -> bool:
        """Whether ``<db>.delta`` belongs to the published base (a delta beside a newer base is folded in)."""
        if published.base_id is None or not self.delta_path.exists():
            return False
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"ATTACH {sql_text(str(self.delta_path.resolve()))} AS old_delta (READ_ONLY)")
            return delta.base_id(con, "old_delta") == published.base_id
        except duckdb.Error as exc:
            raise _unusable(exc, "load into", self.delta_path) from exc
        finally:
            con.close()

    @contextlib.contextmanager
    def _work(self, kind: str) -> Iterator[Path]:
        """A private work file name; whatever is left of it (WAL, spill directory) is removed afterwards."""
        work = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.{kind}.loading")
        try:
            yield work
        except CarepulseError:
            raise
        except Exception as exc:
            if not is_resource_failure(exc):
                raise
            raise self._failed(exc) from exc
        finally:
            for leftover in (work, Path(f"{work}.wal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            shutil.rmtree(f"{work}.tmp", ignore_errors=True)

    @contextlib.contextmanager
    def _writing_base(self, published: _Published, rewrite: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """Copy the base, fold the delta in, yield, publish the copy as the new base (and drop the delta)."""
        fold = self._matching_delta(published)
        with self._work("base") as work:
            con: duckdb.DuckDBPyConnection | None = None
            try:
                first = not self.path.exists()
                if not first:
                    shutil.copyfile(self.path, work)
                con = duckdb.connect(str(work))
                _session_defaults(con, WRITE_MEMORY_LIMIT)
                con.execute(f"SET temp_directory = {sql_text(f'{work}.tmp')}")
                if first:
                    con.execute(f"SET max_vacuum_tasks = {FIRST_LOAD_VACUUM_TASKS}")
                if fold:
                    # before the schema script: the delta has the base's schema version, and a migration then
                    # reaches the delta's rows too (the copy is private: nothing is published before the rename)
                    con.execute(f"ATTACH {sql_text(str(self.delta_path.resolve()))} AS carepulse_fold (READ_ONLY)")
                    delta.fold(con, "carepulse_fold")
                    con.execute("DETACH carepulse_fold")
                apply_schema(con)
                con.execute("BEGIN TRANSACTION")
                yield con
                delta.stamp_new_base(con)
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
                if rewrite:
                    _copy_live_rows(con, work)
                con.close()
                con = None
                os.replace(work, self.path)
            finally:
                if con is not None:
                    with contextlib.suppress(Exception):
                        con.close()
        # the new base holds what the delta held; readers of the old base keep their open files
        with contextlib.suppress(FileNotFoundError):
            self.delta_path.unlink()
        self._sync_directory()

    @contextlib.contextmanager
    def _writing_delta(self, con: duckdb.DuckDBPyConnection,
                       published: _Published) -> Iterator[duckdb.DuckDBPyConnection]:
        """Copy the delta (or start one), yield ``con`` (the base attached read-only as ``BASE_DB``) with views
        that read base and delta as one and writes that go to the delta copy (:func:`delta.target`), publish the
        copy as the delta."""
        with self._work("delta") as work:
            published_con: duckdb.DuckDBPyConnection | None = con
            try:
                con.execute(f"SET temp_directory = {sql_text(f'{work}.tmp')}")
                keep = self._attach_delta_copy(con, work, published)
                con.execute(f"USE {delta.WORK_DB}")
                if not keep:  # a kept delta belongs to a base of this schema version, and has its tables
                    apply_schema(con)
                delta.prepare(con, fresh=not keep)
                delta.views(con, delta.BASE_DB, delta.WORK_DB, temp=True)
                delta.begin(con)
                con.execute("BEGIN TRANSACTION")
                yield con
                _commit_into_file(con)
                self._compact_after = delta.due(con, delta.BASE_DB, delta.WORK_DB)
                con.execute(f"CHECKPOINT {delta.WORK_DB}")
                if self._resident:
                    _release_work(con)
                    self._kept = _Kept(con, _stat(self.path))
                else:
                    _release_files(con)
                published_con = None
                os.replace(work, self.delta_path)
            finally:
                if published_con is not None:
                    with contextlib.suppress(Exception):
                        published_con.close()
        self._sync_directory()

    def _attach_delta_copy(self, con: duckdb.DuckDBPyConnection, work: Path, published: _Published) -> bool:
        """Attach a copy of the published delta as ``WORK_DB`` when it belongs to the base (True), else a new
        file (a delta beside a newer base is folded in already). Either is written in small row groups
        (:data:`delta.ROW_GROUP_ROWS`)."""
        attach = f"ATTACH {sql_text(str(work))} AS {delta.WORK_DB} (ROW_GROUP_SIZE {delta.ROW_GROUP_ROWS})"
        if self.delta_path.exists():
            shutil.copyfile(self.delta_path, work)
            try:
                con.execute(attach)
                if delta.base_id(con, delta.WORK_DB) == published.base_id:
                    return True
                con.execute(f"DETACH {delta.WORK_DB}")
            except duckdb.Error as exc:
                raise _unusable(exc, "load into", self.delta_path) from exc
            work.unlink()
        con.execute(attach)
        return False

    def _compact_if_due(self) -> None:
        """Fold a delta that outgrew its share of the base into a new base (the load is already published)."""
        if not self._compact_after:
            return
        self._compact_after = False  # done (or failed: the next load finds the delta due again)
        log.info("compacting %s: its delta passed %.0f %% of the base's rows", self.path, 100 * delta.COMPACT_SHARE)
        self._drop_kept()  # it holds the base this compaction replaces
        self._compact_locked()

    def _compact_locked(self) -> None:
        published = self._check_published()
        with self._writing_base(published, rewrite=False):
            pass

    @property
    def compaction_due(self) -> bool:
        """Whether this deferring writer's last load left the delta due for folding (:meth:`compact_if_due`)."""
        return self._compact_after

    def compact_if_due(self) -> float | None:
        """The compaction a deferring writer's last load found due (``defer_compaction``), now: the seconds it
        took, or None when none was due or the delta is gone (another process folded it meanwhile).

        The load is published before this starts, so a failure here loses nothing: its error says so, and the
        next load finds the delta due again (or ``carepulse compact`` folds it)."""
        if not self._compact_after:
            return None
        self._compact_after = False
        started = time.perf_counter()
        try:
            if not self.compact():
                return None
        except CarepulseError as exc:
            raise type(exc)(f"the load is published, but folding its delta into a new base failed (the next load "
                            f"or `carepulse compact` tries again): {exc}") from exc
        return time.perf_counter() - started

    def compact(self) -> bool:
        """Fold the delta into a new base now (``carepulse compact``); False when there was nothing to fold."""
        if not self.delta_path.exists():
            return False
        with self.writer(on_wait=f"waiting for a load of {self.path} to finish"):
            pass
        return True

    def _check_published(self, con: duckdb.DuckDBPyConnection | None = None, *, attached: bool = False) -> _Published:
        """Refuse to load into a damaged, foreign, newer or locked file (see :func:`_attach_checked`); given
        ``con``, the base stays attached to it read-only as ``BASE_DB`` (``attached``: it is already, checked by
        the load before, and the file has not changed since)."""
        own_con = con is None
        con = duckdb.connect(":memory:") if con is None else con
        try:
            if not attached:
                _attach_checked(con, self.path, delta.BASE_DB, writing=True)
            try:
                version = _stored_version_of(con, delta.BASE_DB)
                found = delta.base_id(con, delta.BASE_DB) if version is not None else None
            except duckdb.Error as exc:
                raise _unusable(exc, "load into", self.path) from exc
            return _Published(version, found, self.path.stat().st_size)
        finally:
            if own_con:
                con.close()

    def _failed(self, exc: BaseException) -> ResourceError:
        """One line for a load the machine stopped: what failed, and that nothing was published."""
        unchanged = f"nothing was published ({self.path} is unchanged)"
        if is_out_of_memory(exc):
            limit = f"a load's DuckDB memory_limit is {WRITE_MEMORY_LIMIT}"
            detail = "; ".join(filter(None, [memory_detail(exc), limit]))
            return ResourceError(f"out of memory while loading ({detail}): {unchanged}; {MEMORY_HINT}")
        return ResourceError(f"{describe_failure(exc) or first_line(exc)}: {unchanged}")

    def _sync_directory(self) -> None:
        """Make the rename durable. Once the file is published, failing this is a warning, not a failed load."""
        try:
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            log.warning("published %s, but could not sync its directory: %s", self.path, describe_failure(exc))

    def reader(self) -> Reader:
        return Reader(self.path)


def _stored_version_of(con: duckdb.DuckDBPyConnection, alias: str) -> int | None:
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = $db AND schema_name = 'main' "
                       "AND table_name = 'meta'", {"db": alias}).fetchall()[0][0]:
        return None
    rows = con.execute(f"SELECT value FROM {alias}.main.meta WHERE key = 'schema_version'").fetchall()
    return int(rows[0][0]) if rows else None


def _copy_live_rows(con: duckdb.DuckDBPyConnection, work: Path) -> None:
    """Replace the work copy by a logical copy of its rows (``writer(rewrite=True)``).

    DuckDB keeps a deleted row's bytes in free blocks of the file (``CHECKPOINT`` and ``VACUUM`` do not
    remove them); ``COPY FROM DATABASE`` into a new file copies live rows only. An erasure needs that: the
    published file must not hold the erased customer's bytes. The new file takes the work copy's name, so
    the writer publishes it with its usual atomic rename; a failure leaves the published file as it was.
    """
    fresh = work.with_name(work.name + ".rewrite")
    for leftover in (fresh, Path(f"{fresh}.wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    (name,), = con.execute("SELECT current_database()").fetchall()
    try:
        con.execute(f"ATTACH {sql_text(str(fresh))} AS carepulse_rewrite")
        con.execute(f"COPY FROM DATABASE {_identifier(str(name))} TO carepulse_rewrite")
        con.execute("CHECKPOINT carepulse_rewrite")
        con.execute("DETACH carepulse_rewrite")
        os.replace(fresh, work)
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute("DETACH DATABASE IF EXISTS carepulse_rewrite")
        for leftover in (fresh, Path(f"{fresh}.wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Reader:
    """Read access that follows published snapshots and never takes the writer's lock.

    One DuckDB instance per snapshot; each thread gets its own cursor, because DuckDB 2 streams
    results and a second ``execute`` on a shared connection would end the first result.
    """

    _open: ClassVar[weakref.WeakSet[Reader]] = weakref.WeakSet()
    """Every reader of this process (:meth:`release_all_stale`): a server holds several (the pages', the
    logins'), and none of them knows the others."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._snapshot: _Snapshot | None = None
        self._failure: tuple[_Snapshot, type[CarepulseError], str] | None = None
        self._catalog = "wh"
        Reader._open.add(self)

    def _attach(self, snap: _Snapshot) -> duckdb.DuckDBPyConnection:
        """The base attached as ``wh``; with a delta that belongs to it, views over both in ``memory``."""
        con = duckdb.connect(":memory:")
        try:
            _session_defaults(con, READ_MEMORY_LIMIT)
            _attach_checked(con, self.path, "wh", writing=False)
            catalog = "memory" if snap.delta is not None and self._attach_delta(con, snap) else "wh"
            con.execute(f"USE {catalog}")
        except BaseException:
            con.close()
            raise
        return con

    def _attach_delta(self, con: duckdb.DuckDBPyConnection, snap: _Snapshot) -> bool:
        """Attach ``<db>.delta`` as ``wd`` and define the tables over base and delta; False when the delta
        is gone (a compaction folded it in) or belongs to another base (left over from before this one)."""
        path = delta.delta_path(self.path)
        try:
            con.execute(f"ATTACH {sql_text(str(path.resolve()))} AS wd (READ_ONLY)")
        except duckdb.Error as exc:
            if not path.exists():
                return False
            raise _unusable(exc, "read", path) from exc
        try:
            if delta.base_id(con, "wd") != delta.base_id(con, "wh"):
                con.execute("DETACH wd")
                return False
            con.execute("USE memory")
            delta.views(con, "wh", "wd", temp=False)
        except duckdb.Error as exc:
            raise _unusable(exc, "read", path) from exc
        stamp = "-".join(str(n) for n in (snap.inode, snap.mtime_ns, snap.size, *(snap.delta or ())))
        con.execute(f"CREATE VIEW {SNAPSHOT_VIEW} AS SELECT {sql_text(str(self.path.resolve()))} AS origin, "
                    f"{sql_text(stamp)} AS stamp")  # a view takes no parameters; both are quoted literals
        return True

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the newest published snapshot (a new cursor per call: use it in one thread).

        A file that cannot be used raises :class:`WarehouseError`. The error is remembered for that
        snapshot (same inode, mtime and size), so a dashboard asking a dozen questions of a damaged file
        does not attach it a dozen times; a lock held by another program is not remembered, since it
        may be released without the file changing.
        """
        snap = _snapshot_of(self.path)
        if snap is None:
            raise DataError(
                f"no warehouse at {self.path}: load data first (carepulse demo, or carepulse ingest ...)"
            )
        with self._lock:
            if self._failure is not None and self._failure[0] == snap:
                raise self._failure[1](self._failure[2])
            if self._con is None or snap != self._snapshot:
                for attempt in range(5):
                    try:
                        new = self._attach(snap)
                        now = _snapshot_of(self.path)
                        if now != snap and now is not None and attempt < 4:
                            # a load or compaction published between the stat and the attach: the files
                            # attached may not belong together; attach what is published now
                            new.close()
                            snap = now
                            continue
                        break
                    except CarepulseError as exc:
                        # a publish may rename the file between the stat and the attach: look again
                        now = _snapshot_of(self.path)
                        if attempt < 4 and (isinstance(exc.__cause__, duckdb.IOException) or now != snap):
                            time.sleep(0.05)
                            snap = now or snap
                            continue
                        if "locked by another program" not in str(exc):
                            self._failure = (snap, type(exc), str(exc))
                        raise
                old, self._con, self._snapshot = self._con, new, snap
                (self._catalog,), = new.execute("SELECT current_database()").fetchall()
                if old is not None:
                    _retire(old)
            cursor = self._con.cursor()
        cursor.execute(f"SET TimeZone = 'UTC'; USE {self._catalog}")
        return cursor

    def snapshot_id(self) -> tuple[int, ...] | None:
        """The published snapshot a query would read now (inode, mtime in ns, size of the base, then of the
        delta or zeros), None with no file.

        A load publishes by an atomic rename (of the base or the delta), so a new snapshot always has a new id:
        callers key caches by it (the dashboard does) instead of re-deriving what this module means by one.
        """
        snap = _snapshot_of(self.path)
        return None if snap is None else (snap.inode, snap.mtime_ns, snap.size, *(snap.delta or (0, 0, 0)))

    def release_stale(self) -> bool:
        """Stop handing out the snapshot held if it is no longer the published one, and close it after
        :data:`RETIRE_AFTER_S`; True when it did. :meth:`connection` does the same when a query comes; this is
        for a process nobody asks anything for hours (an idle dashboard after a nightly compaction), which
        would otherwise keep a replaced base's blocks on disk until its next query."""
        snap = _snapshot_of(self.path)
        with self._lock:
            if self._con is None or snap == self._snapshot:
                return False
            old, self._con, self._snapshot = self._con, None, None
        _retire(old)
        return True

    @classmethod
    def release_all_stale(cls) -> int:
        """:meth:`release_stale` on every reader of this process; how many let go of a snapshot."""
        return sum(reader.release_stale() for reader in list(cls._open))

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


def _retire(con: duckdb.DuckDBPyConnection) -> None:
    """Close ``con`` after :data:`RETIRE_AFTER_S`: cursors taken from it before keep working until then."""
    closer = threading.Timer(RETIRE_AFTER_S, con.close)
    closer.daemon = True
    closer.start()
