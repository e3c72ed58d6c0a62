"""What the CRM readers, the validation and the apply step share: the input file, chunk inserts, SQL quoting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

SOURCE = "crm"
Format = Literal["csv", "xlsx", "parquet"]

#: Records per Arrow chunk handed to DuckDB: bounds memory while keeping the per-chunk cost small.
CHUNK_ROWS = 250_000
#: Longest raw text kept for a quarantined record (a runaway quoted field can swallow a whole file).
RAW_LIMIT = 4000


@dataclass(frozen=True)
class CrmFile:
    """One input file after the pre-flight check: its format and where each mapped field is."""

    path: Path
    format: Format
    headers: tuple[str, ...]
    #: canonical field -> index of its column in ``headers``
    fields: dict[str, int]
    delimiter: str = ","
    sheet: str | None = None
    header_line: int = 1

    def header_of(self, canonical: str) -> str:
        return self.headers[self.fields[canonical]]


def insert_chunk(con: duckdb.DuckDBPyConnection, source: CrmFile, columns: Sequence[Sequence[Any]],
                 lines: list[int] | None, record_nos: list[int]) -> None:
    """Hand one chunk (one list of texts per mapped field) to DuckDB through Arrow, no row loop."""
    names = list(source.fields)
    table = pa.table(
        [pa.array(record_nos, pa.int64()), pa.array(lines, pa.int64()) if lines is not None else
         pa.nulls(len(record_nos), pa.int64())] + [pa.array(col, pa.string()) for col in columns],
        names=["record_no", "line", *names],
    )
    con.register("crm_chunk", table)
    try:
        target = ", ".join(["record_no", "line", *(f"raw_{n}" for n in names)])
        con.execute(f"INSERT INTO crm_raw ({target}) SELECT * FROM crm_chunk")
    finally:
        con.unregister("crm_chunk")


def insert_rejects(con: duckdb.DuckDBPyConnection,
                   rejects: list[tuple[int, int | None, str, str | None]]) -> None:
    if not rejects:
        return
    record_nos, lines, reasons, raws = (list(col) for col in zip(*rejects, strict=True))
    table = pa.table([pa.array(record_nos, pa.int64()), pa.array(lines, pa.int64()),
                      pa.array(reasons, pa.string()), pa.array(raws, pa.string())],
                     names=["record_no", "line", "reason", "raw"])
    con.register("crm_reject_chunk", table)
    try:
        con.execute("INSERT INTO crm_rejects SELECT * FROM crm_reject_chunk")
    finally:
        con.unregister("crm_reject_chunk")


def lit(text: str) -> str:
    """A SQL string literal (values from mapping files and headers are never spliced in raw)."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
