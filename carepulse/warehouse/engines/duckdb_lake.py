"""DuckDB over a lake: an in-memory DuckDB whose tables are views over the lake's Parquet files.

The views give the warehouse's tables back under their own names and with their own column types
(from the lake's manifest: the partition column is left out, every column cast to its warehouse type;
a table with no rows yet is an empty relation of the same columns), so the metric statements run
unchanged and must return exactly what they return on the warehouse file. This is the reference the
Spark engine is compared with, and the way to read a lake without a JVM.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from carepulse.warehouse.lake import MANIFEST, Lake
from carepulse.warehouse.store import READ_MEMORY_LIMIT, SNAPSHOT_VIEW, sql_text


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def view_sql(lake: Lake, table: str) -> str:
    """``CREATE VIEW`` for one lake table: its Parquet files, or no rows when it has none."""
    columns = lake.columns(table)
    select = ", ".join(f"CAST({_identifier(n)} AS {t}) AS {_identifier(n)}" for n, t in columns)
    if not lake.files(table):
        empty = ", ".join(f"CAST(NULL AS {t}) AS {_identifier(n)}" for n, t in columns)
        return f"CREATE OR REPLACE VIEW {_identifier(table)} AS SELECT {empty} WHERE false"
    hive = "true" if lake.partitioned(table) else "false"
    return (f"CREATE OR REPLACE VIEW {_identifier(table)} AS SELECT {select} "
            f"FROM read_parquet({sql_text(lake.glob(table))}, hive_partitioning = {hive})")


def snapshot_view_sql(lake: Lake) -> str:
    """A one-row view naming the published lake this database reads: its path and its manifest's identity
    (inode, modification time, size; every export and lake load replaces the manifest last). Results that
    depend only on the data can then be kept per lake, as they are per warehouse file."""
    stat = (lake.path / MANIFEST).stat()
    stamp = f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}"
    return (f"CREATE OR REPLACE VIEW {SNAPSHOT_VIEW} AS SELECT {sql_text(str(lake.path.resolve()))} AS origin, "
            f"{sql_text(stamp)} AS stamp")


class DuckDBLake:
    """A reader like ``warehouse.store.Reader``: ``connection()`` gives a fresh cursor per call."""

    name = "duckdb"

    def __init__(self, path: Path | str) -> None:
        self.lake = Lake(path)
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    def _open(self) -> duckdb.DuckDBPyConnection:
        tables = list(self.lake.manifest()["tables"])
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(f"SET memory_limit = {sql_text(READ_MEMORY_LIMIT)}")
            for table in tables:
                con.execute(view_sql(self.lake, table))
            con.execute(snapshot_view_sql(self.lake))
        except BaseException:
            con.close()
            raise
        return con

    def connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                self._con = self._open()
            cursor = self._con.cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        return cursor

    def label(self) -> str:
        return "duckdb"

    # LakeWork (base.py): the ingest's steps, as tables of the in-memory database (every cursor sees them)

    def attach(self, name: str, folder: Path) -> None:
        self.connection().execute(
            f"CREATE OR REPLACE VIEW {_identifier(name)} AS SELECT * FROM "
            f"read_parquet({sql_text(str(folder / '*.parquet'))}, hive_partitioning = false)")

    def materialise(self, name: str, sql: str) -> None:
        self.connection().execute(f"CREATE OR REPLACE TABLE {_identifier(name)} AS {sql}")

    def arrow(self, sql: str) -> pa.Table:
        return self.connection().sql(sql).to_arrow_table()

    def write(self, name: str, folder: Path, order: str, partition: str | None) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        ordered = f"SELECT * FROM {_identifier(name)} ORDER BY {partition + ', ' if partition else ''}{order}"
        if partition:
            target = (f"{sql_text(str(folder))} (FORMAT parquet, COMPRESSION zstd, "
                      f"PARTITION_BY ({_identifier(partition)}), WRITE_PARTITION_COLUMNS false)")
        else:
            folder.mkdir(parents=True)
            target = f"{sql_text(str(folder / 'data.parquet'))} (FORMAT parquet, COMPRESSION zstd)"
        self.connection().execute(f"COPY ({ordered}) TO {target}")

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
