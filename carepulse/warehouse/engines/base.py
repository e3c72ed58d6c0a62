"""The seam: what the metrics code needs of a connection, and a result any engine can hand back.

The metrics code was written against DuckDB's Python API and uses a small part of it: ``execute(sql,
params)`` returning something with ``description`` and the readers ``fetchall``, ``fetchone``, ``df`` and
``fetchnumpy``, plus ``cursor()`` and ``close()``. :class:`Connection` names that part; a DuckDB
connection already is one, and :class:`ArrowResult` gives the same readers over an Arrow table, which is
how Spark (``DataFrame.toArrow``) and most other engines return rows. Keeping the seam this thin is
deliberate: the metric code stays as it is, and every engine is tested against the same calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

Params = Mapping[str, Any] | Sequence[Any] | None


class Result(Protocol):
    """A finished statement's rows, read once (as a DuckDB cursor after ``execute``)."""

    description: list[tuple[Any, ...]] | None

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    def df(self) -> pd.DataFrame: ...

    def fetchnumpy(self) -> dict[str, np.ndarray]: ...


class Connection(Protocol):
    """What ``ctx.con`` must offer: DuckDB's connection, or an engine's stand-in."""

    def execute(self, query: str, parameters: Params = None) -> Any: ...

    def cursor(self) -> Any: ...

    def close(self) -> None: ...


class Engine(Protocol):
    """An engine over some storage: a fresh connection per call (as ``warehouse.store.Reader``)."""

    name: str

    def connection(self) -> Any: ...

    def close(self) -> None: ...


class LakeWork(Protocol):
    """What a lake ingest (``carepulse.etl.lake_ingest``) needs of an engine beyond the metrics' reads.

    An iterated rebuild must not re-run its history on every pass, so each step is kept as a named
    relation (a table on DuckDB, a checkpointed temp view on Spark: the lineage stays one step long);
    its inputs arrive as Parquet folders, and its results leave as Parquet written by the engine itself,
    so nothing large passes through the driver. Statements are DuckDB SQL, as for ``connection()``.
    Results are never kept (``SparkLake.remember``): the relations change between passes.
    """

    def label(self) -> str:
        """Where the statements run, for a command's report (``duckdb``, ``spark local[2]``)."""

    def attach(self, name: str, folder: Path) -> None:
        """Name the Parquet files of ``folder`` (flat, not partitioned) as the relation ``name``."""

    def materialise(self, name: str, sql: str) -> None:
        """Run ``sql`` and keep its rows as the relation ``name`` (replacing one of that name)."""

    def arrow(self, sql: str) -> pa.Table:
        """The rows of ``sql``, now (for small results: counts, months, the tweets of a reply cycle)."""

    def write(self, name: str, folder: Path, order: str, partition: str | None) -> None:
        """Write the relation ``name`` as Parquet to the new folder ``folder``: Hive partitions of the column
        ``partition`` (left out of the files) or one file, sorted by ``order`` (column names) within each."""


class ArrowResult:
    """DuckDB's result readers over an Arrow table. Rows come back as DuckDB's do: tuples of Python values,
    moments as aware datetimes in UTC, NULL as None."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.description: list[tuple[Any, ...]] | None = [
            (f.name, str(f.type), None, None, None, None, None) for f in table.schema]
        self._rows: list[tuple[Any, ...]] | None = None
        self._next = 0

    def _all(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            columns = [column.to_pylist() for column in self.table.columns]
            self._rows = list(zip(*columns, strict=True)) if columns else []
        return self._rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._all()[self._next:]
        self._next = len(self._all())
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._all()
        if self._next >= len(rows):
            return None
        self._next += 1
        return rows[self._next - 1]

    def df(self) -> pd.DataFrame:
        return self.table.to_pandas()

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        return {f.name: column.to_numpy(zero_copy_only=False)
                for f, column in zip(self.table.schema, self.table.columns, strict=True)}
