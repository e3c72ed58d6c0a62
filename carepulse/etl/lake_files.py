"""The file side of a lake load: the lock, the engine, the staging database's small tables, the switch.

Shared by the tweet load (:mod:`carepulse.etl.lake_ingest`) and the CRM load (:mod:`carepulse.etl.lake_crm`):
both stage in an in-memory DuckDB with the warehouse's schema, write the lake's new files into a work
folder beside it, and switch them in with renames, the manifest last (docs/scale.md, "Ingest on the
lake", says what a crash in between leaves).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from carepulse.core.errors import ConfigError
from carepulse.etl.lake_rebuild import Rebuilt
from carepulse.warehouse.engines.base import LakeWork
from carepulse.warehouse.lake import MANIFEST, TABLES, Lake, export
from carepulse.warehouse.store import Warehouse, apply_schema, sql_text

SMALL = ("ingest_runs", "quarantine", "accounts", "users")


@contextlib.contextmanager
def locked(lake: Path) -> Iterator[None]:
    """One ingest at a time per lake (an advisory lock beside it, as the warehouse's ``.lock``)."""
    lake.parent.mkdir(parents=True, exist_ok=True)
    with lake.with_name(f".{lake.name}.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def create_if_missing(lake: Path) -> None:
    """A lake with no rows where there is none: an empty warehouse exported, so its manifest and layout are
    export's own."""
    if (lake / MANIFEST).exists():
        return
    with tempfile.TemporaryDirectory(prefix="carepulse-lake-") as folder:
        db = Path(folder) / "empty.duckdb"
        with Warehouse(db).writer():
            pass
        export(db, lake)


def open_engine(lake: Path, engine: str, spark: Any) -> Any:
    """The engine over the lake, for reads and the ingest's steps (``LakeWork``)."""
    if engine == "duckdb":
        from carepulse.warehouse.engines.duckdb_lake import DuckDBLake

        return DuckDBLake(lake)
    if engine == "spark":
        from carepulse.warehouse.engines.spark import SparkLake

        return SparkLake(lake, spark)
    raise ConfigError(f"unknown engine {engine!r} (choose from duckdb, spark)")


def copy_rows(con: duckdb.DuckDBPyConnection, sql: str, folder: Path) -> None:
    """The rows of ``sql`` as ``folder/data.parquet``: how a step's inputs reach the engine."""
    folder.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({sql}) TO {sql_text(str(folder / 'data.parquet'))} (FORMAT parquet, COMPRESSION zstd)")


def pull(engine: LakeWork, con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The lake's ``table`` into the staging table of that name (which has the warehouse's keys)."""
    rows = engine.arrow(f"SELECT * FROM {table}")
    con.register("pulled", rows)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM pulled")
    finally:
        con.unregister("pulled")


def stage_small(engine: LakeWork, con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse's schema in the staging database, with the lake's small tables in it."""
    apply_schema(con)
    for table in SMALL:
        pull(engine, con, table)


def write_small(con: duckdb.DuckDBPyConnection, inputs: Path) -> None:
    """The staging database's small tables as the files that replace the lake's."""
    for table in SMALL:
        copy_rows(con, f"SELECT * FROM {table} ORDER BY {TABLES[table][1]}", inputs / table)


def clean(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)


def publish(lake: Lake, work: Path, built: Rebuilt, batch_id: int, cases: int | None = None) -> None:
    """Switch the new files in: rewritten months by renaming folders, appended files by renaming them into
    their months, the small tables file by file, ``crm_cases`` (when ``cases`` says it was rewritten) as a
    folder, the manifest last (its row counts say what is published)."""
    aside = work / "replaced"
    for table, months in built.months.items():
        staged = work / "out" / table
        for month in months:
            live, new = lake.path / table / f"month={month}", staged / "rewrite" / f"month={month}"
            if live.exists():
                (aside / table).mkdir(parents=True, exist_ok=True)
                os.replace(live, aside / table / live.name)
            if new.exists():
                os.replace(new, live)
        for number, file in enumerate(sorted((staged / "append").glob("month=*/*.parquet"))):
            target = lake.path / table / file.parent.name
            target.mkdir(parents=True, exist_ok=True)
            os.replace(file, target / f"batch_{batch_id:06d}_{number}.parquet")
    if cases is not None:
        aside.mkdir(parents=True, exist_ok=True)
        if (lake.path / "crm_cases").exists():
            os.replace(lake.path / "crm_cases", aside / "crm_cases")
        os.replace(work / "out" / "crm_cases", lake.path / "crm_cases")
    for table in SMALL:
        (lake.path / table).mkdir(parents=True, exist_ok=True)
        os.replace(work / "in" / table / "data.parquet", lake.path / table / "data.parquet")
    manifest = lake.manifest()
    if built.months:  # a CRM load leaves tweets and threads as they are
        manifest["tables"]["tweets"]["rows"] = built.tweets
        manifest["tables"]["threads"]["rows"] = built.threads_total
    if cases is not None:
        manifest["tables"]["crm_cases"]["rows"] = cases
    for table in SMALL:
        manifest["tables"][table]["rows"] = pq.ParquetFile(lake.path / table / "data.parquet").metadata.num_rows
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(work / MANIFEST, lake.path / MANIFEST)
