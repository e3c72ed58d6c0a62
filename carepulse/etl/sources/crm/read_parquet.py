"""Reading a CRM Parquet export into ``crm_raw`` (set-wise in DuckDB, every column as text)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from carepulse.core.errors import DataError
from carepulse.etl.sources.crm.common import CrmFile, first_line, ident, lit
from carepulse.etl.sources.crm.mapping import Mapping


def _parquet_sql_path(path: Path) -> str:
    return lit(str(path))


def parquet_header(path: Path) -> tuple[str, ...]:
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(max(path.stat().st_size - 4, 0))
        tail = fh.read(4)
    if head != b"PAR1" or tail != b"PAR1" or path.stat().st_size < 12:
        raise DataError(f"{path}: not a Parquet file (no PAR1 magic at start and end)")
    try:
        rows = duckdb.connect(":memory:").execute(
            f"DESCRIBE SELECT * FROM read_parquet({_parquet_sql_path(path)})"
        ).fetchall()
    except duckdb.Error as exc:
        raise DataError(f"{path}: the Parquet file cannot be read ({first_line(exc)})") from exc
    return tuple(str(r[0]) for r in rows)


def stage_parquet(con: duckdb.DuckDBPyConnection, source: CrmFile, mapping: Mapping) -> None:
    """Stage columns as text in SQL; numbers and timestamps get the text form the validator expects."""
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_parquet_sql_path(source.path)})")
    types = {str(r[0]): str(r[1]) for r in described.fetchall()}
    selects: list[str] = []
    for name, index in source.fields.items():
        header = source.headers[index]
        column = ident(header)
        kind = types.get(header, "VARCHAR").upper()
        if kind.startswith("TIMESTAMP WITH TIME ZONE") or kind == "TIMESTAMPTZ":
            text = f"strftime(timezone('UTC', {column}), '%Y-%m-%dT%H:%M:%S.%fZ')"
        elif name == "handled_minutes" and mapping.decimal != "." and kind != "VARCHAR":
            text = f"replace(CAST({column} AS VARCHAR), '.', {lit(mapping.decimal)})"
        else:
            text = f"CAST({column} AS VARCHAR)"
        selects.append(text)
    target = ", ".join(["record_no", "line", *(f"raw_{n}" for n in source.fields)])
    try:
        con.execute(
            f"INSERT INTO crm_raw ({target}) SELECT file_row_number + 1, NULL, {', '.join(selects)} "
            f"FROM read_parquet({_parquet_sql_path(source.path)}, file_row_number = true)"
        )
    except duckdb.Error as exc:
        raise DataError(f"{source.path}: the Parquet file cannot be read ({first_line(exc)})") from exc
