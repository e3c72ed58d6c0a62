"""The lake: the warehouse's tables as Hive-partitioned Parquet, for engines beyond one DuckDB file.

Layout (docs/scale.md)::

    DIR/_carepulse_lake.json              the manifest: schema version, per table its columns and types
    DIR/tweets/month=2017-10/data_0.parquet      partitioned by the UTC month of created_at
    DIR/threads/month=2017-10/...                ... of started_at
    DIR/crm_cases/month=2017-10/...              ... of opened_at
    DIR/ingest_runs/data.parquet                 the small tables: one file each

Each month's rows are sorted by the key the reads that follow join on (a tweet's conversation, a
thread's conversation and customer, a case's opening time), so a Parquet row group's min/max lets a
reader skip what it does not need. The manifest carries every table's DuckDB column types: a reader
builds its views from it (and so gets the warehouse's exact types back, and a table with no rows yet
still has its columns), and the schema version, so an older carepulse refuses a newer lake.

:func:`export` writes a new lake next to ``DIR`` and renames it into place, as the warehouse publishes
a load: a reader never sees half an export, and a failed export leaves the old lake as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from carepulse.core.errors import CarepulseError, DataError, ResourceError, describe_failure, first_line
from carepulse.warehouse.store import SCHEMA_VERSION, Warehouse, sql_text

MANIFEST = "_carepulse_lake.json"
PARTITION = "month"
# table -> (time column the month partition comes from, or None for one file; the sort key within a month)
TABLES: dict[str, tuple[str | None, str]] = {
    "tweets": ("created_at", "conversation_id, created_at, tweet_id"),
    "threads": ("started_at", "conversation_id, customer_id, started_at"),
    "crm_cases": ("opened_at", "opened_at, case_id"),
    "ingest_runs": (None, "run_id"),
    "quarantine": (None, "run_id, record_no"),
    "accounts": (None, "handle_key"),
    "users": (None, "author_id"),
    "meta": (None, "key"),
}


@dataclass
class TableReport:
    name: str
    rows: int
    files: int
    months: int
    size: int

    def line(self) -> str:
        parts = f"in {self.months:,} months, " if self.months else ""
        return f"{self.name}: {self.rows:,} rows {parts}{self.files:,} files, {self.size / 1e6:,.2f} MB"


@dataclass
class ExportReport:
    out: Path
    tables: list[TableReport] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        rows, size = sum(t.rows for t in self.tables), sum(t.size for t in self.tables)
        return [t.line() for t in self.tables] + [
            f"lake {self.out}: {len(self.tables)} tables, {rows:,} rows, {size / 1e6:,.2f} MB of Parquet "
            f"in {self.seconds:.2f} s"]


class Lake:
    """A lake directory and what its manifest says about it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._manifest: dict[str, Any] | None = None

    def manifest(self) -> dict[str, Any]:
        """The manifest (read once); a directory without one, a damaged one or a newer lake raises DataError."""
        if self._manifest is None:
            self._manifest = self._read_manifest()
        return self._manifest

    def _read_manifest(self) -> dict[str, Any]:
        target = self.path / MANIFEST
        if not self.path.is_dir():
            raise DataError(f"no lake at {self.path}: write one with carepulse lake export --db FILE --out DIR")
        try:
            found = json.loads(target.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"{self.path} is not a carepulse lake (no {MANIFEST}): write one with "
                            "carepulse lake export") from None
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read the lake's manifest {target}: {first_line(exc)}") from exc
        if not isinstance(found, dict) or not isinstance(found.get("tables"), dict):
            raise DataError(f"the lake's manifest {target} is damaged: export the lake again")
        if int(found.get("schema_version", 0)) > int(SCHEMA_VERSION):
            raise DataError(f"the lake {self.path} was written by a newer carepulse (schema version "
                            f"{found['schema_version']}): upgrade carepulse to read it")
        return found

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of a table's columns, in the warehouse's order."""
        return [(str(n), str(t)) for n, t in self.manifest()["tables"][table]["columns"]]

    def files(self, table: str) -> list[Path]:
        return sorted((self.path / table).rglob("*.parquet"))

    def glob(self, table: str) -> str:
        return str(self.path / table / "**" / "*.parquet")

    def partitioned(self, table: str) -> bool:
        return bool(self.manifest()["tables"][table].get("partition"))


@contextlib.contextmanager
def unchanged_on_failure(what: str, path: Path) -> Iterator[None]:
    """A file-system or DuckDB failure inside as one line: ``what`` failed, why, and that ``path`` (a lake the
    work was to replace or change) is unchanged, because nothing is switched in before the work is done."""
    try:
        yield
    except CarepulseError:
        raise
    except (OSError, duckdb.Error) as exc:
        raise ResourceError(f"{what} failed: {describe_failure(exc) or first_line(exc)}: {path} is unchanged") from exc


def copy_table(con: duckdb.DuckDBPyConnection, name: str, out: Path) -> TableReport:
    """Write the table ``name`` of ``con`` as the lake's folder ``out/name`` (partitioned and sorted as TABLES
    says), checking that every row arrived."""
    time_column, order = TABLES[name]
    target = out / name
    (count,), = con.execute(f"SELECT count(*) FROM {name}").fetchall()
    if not count:
        target.mkdir(parents=True)
        return TableReport(name, 0, 0, 0, 0)
    if time_column is None:
        target.mkdir(parents=True)
        con.execute(f"COPY (SELECT * FROM {name} ORDER BY {order}) TO {sql_text(str(target / 'data.parquet'))} "
                    "(FORMAT parquet, COMPRESSION zstd)")
    else:
        con.execute(f"COPY (SELECT *, strftime({time_column}, '%Y-%m') AS {PARTITION} FROM {name} "
                    f"ORDER BY {PARTITION}, {order}) TO {sql_text(str(target))} "
                    f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({PARTITION}), WRITE_PARTITION_COLUMNS false)")
    files = sorted(target.rglob("*.parquet"))
    (written,), = con.execute("SELECT count(*) FROM read_parquet(?)", [[str(f) for f in files]]).fetchall()
    if written != count:
        raise DataError(f"lake export: {name} has {count:,} rows but {written:,} were written")
    months = len({f.parent.name for f in files}) if time_column else 0
    return TableReport(name, int(count), len(files), months, sum(f.stat().st_size for f in files))


def export(db: Path, out: Path) -> ExportReport:
    """Write the warehouse ``db`` as a lake at ``out`` (created, or an older lake there replaced)."""
    started = time.perf_counter()
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).exists())):
        raise DataError(f"{out} exists and is not a carepulse lake: choose a new or empty directory")
    reader = Warehouse(db).reader()
    con = reader.connection()
    work = out.with_name(f".{out.name}.{os.getpid()}.exporting")
    report = ExportReport(out)
    try:
        with unchanged_on_failure("lake export", out):
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            tables: dict[str, Any] = {}
            for name, (time_column, order) in TABLES.items():
                columns = con.execute(f"DESCRIBE {name}").fetchall()
                tables[name] = {"columns": [[c[0], c[1]] for c in columns],
                                "partition": PARTITION if time_column else None, "partition_of": time_column,
                                "sorted_by": order}
                report.tables.append(copy_table(con, name, work))
                tables[name]["rows"] = report.tables[-1].rows
            manifest = {"format": "carepulse-lake", "schema_version": int(SCHEMA_VERSION), "tables": tables}
            (work / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            _publish(work, out)
    finally:
        con.close()
        reader.close()
        shutil.rmtree(work, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _publish(work: Path, out: Path) -> None:
    """Put the finished lake at ``out``: renamed into place; an old lake there is moved aside first."""
    old = out.with_name(f".{out.name}.{os.getpid()}.old")
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(work, out)
    except OSError:
        if old.exists():
            os.replace(old, out)
        raise
    with contextlib.suppress(OSError):
        shutil.rmtree(old)
