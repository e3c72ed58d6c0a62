"""Which published snapshot a cursor reads: the key of every memo that holds until the data changes.

A memo keyed by it (the cost ledger's totals in :mod:`carepulse.metrics.costs`, the agents' sign-offs in
:mod:`carepulse.metrics.signoffs`) is right for exactly as long as the files a cursor reads are the ones it
was computed from: a load publishes a new file (or delta) and with it a new key.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from typing import Any

import duckdb

from carepulse.metrics.context import Context
from carepulse.warehouse.store import SNAPSHOT_VIEW

_SNAPSHOTS: weakref.WeakKeyDictionary[Any, tuple[Any, ...] | None] = weakref.WeakKeyDictionary()


def of(ctx: Context) -> tuple[Any, ...] | None:
    """The snapshot this cursor reads, looked up once per cursor (a command memoises a hundred parts through
    one cursor, and a cursor's read-only snapshot never changes under it)."""
    try:
        return _SNAPSHOTS[ctx.con]
    except (KeyError, TypeError):
        pass
    found = _snapshot_of(ctx)
    with contextlib.suppress(TypeError):  # a connection that takes no weak reference is asked every time
        _SNAPSHOTS[ctx.con] = found
    return found


def _snapshot_of(ctx: Context) -> tuple[Any, ...] | None:
    """The file's identity (inode, modification time, size; a load publishes a new file by rename) and the loads
    it holds (a cursor opened on the previous file just before a rename still says which loads it saw). None for
    a database in memory (never memoised)."""
    rows = ctx.con.execute("""
SELECT (SELECT path FROM duckdb_databases() WHERE database_name = current_database()),
       (SELECT coalesce(max(run_id), 0) FROM ingest_runs), (SELECT count(*) FROM ingest_runs)""").fetchall()
    path = rows[0][0] if rows else None
    if not path:
        return _view_snapshot(ctx, rows[0][1:] if rows else ())
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (path, stat.st_ino, stat.st_mtime_ns, stat.st_size, rows[0][1], rows[0][2])


def _view_snapshot(ctx: Context, loads: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Views in an in-memory database (a warehouse base with its delta, a lake read by DuckDB): the files'
    identity from the one-row view the reader defines (:data:`SNAPSHOT_VIEW`); else None."""
    if not isinstance(ctx.con, duckdb.DuckDBPyConnection):
        return None  # Spark keeps its own results (engines.spark.SparkLake.remember)
    found = ctx.con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = $name",
                            {"name": SNAPSHOT_VIEW}).fetchall()
    if found != [(1,)]:
        return None
    (origin, stamp), = ctx.con.execute(f"SELECT origin, stamp FROM {SNAPSHOT_VIEW}").fetchall()
    return ("views", origin, stamp, *loads)


