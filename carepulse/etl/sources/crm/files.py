"""CRM case exports (CSV, XLSX, Parquet) -> ``crm_cases``: pre-flight and the per-file pipeline.

The pipeline per file is the same for every format, so every format only has to do the part that
differs, reading:

1. **read**: a format reader puts each record's mapped fields, as text, into the temp table
   ``crm_raw`` (with its line and record number) and records it cannot even split into fields
   (wrong field count, broken quoting, a truncated last line) into ``crm_rejects``.
2. **validate** (one SQL statement, no Python per row): trims, maps values, parses timestamps in
   the mapping's time zone, checks every field and gives each bad record one reason listing all
   its problems.
3. **dedupe and apply**: the first valid record of a case in a file wins; a later identical one is
   a duplicate, a later different one is quarantined as conflicting. The winner is new, identical
   to the stored case (duplicate) or changed (it replaces the stored row: loaded and updated).

Everything runs inside the caller's transaction, so a failure publishes nothing, and the counts
always satisfy ``records_read == loaded + duplicate + quarantined`` (checked by ``record_run``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

import duckdb

from carepulse.core.errors import DataError
from carepulse.etl import csv_recovery as rec
from carepulse.etl.runs import FileReport, check_readable, record_run
from carepulse.etl.sources.crm import CSV_SUFFIXES, PARQUET_SUFFIXES, XLSX_SUFFIXES
from carepulse.etl.sources.crm.common import SOURCE, CrmFile, Format
from carepulse.etl.sources.crm.mapping import DEFAULT_MAPPING, FIELD_NAMES, REQUIRED_FIELDS, WHITESPACE, Mapping

# The readers, the validation and apply steps are imported by the functions that run them, not here: the
# loader imports this module for every load, and a tweet load does without them (start-up time).

log = logging.getLogger(__name__)


def load_crm_files(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[Path],
    mapping: Mapping | None,
    first_run_id: int,
    batch_id: int,
) -> list[FileReport]:
    """Load CRM exports into ``crm_cases`` inside the caller's open transaction.

    Every file is checked (readable, right format, every mapped column present) before the first
    one is loaded, so a typo in the last file's header fails fast with a :class:`DataError`. File
    ``i`` gets run id ``first_run_id + i``; each gets one ``ingest_runs`` row and its quarantined
    records in ``quarantine``. Links are not computed here: call
    :func:`carepulse.etl.transform.crm_links.link_crm_cases` afterwards.
    """
    mapping = mapping or DEFAULT_MAPPING
    sources = [_open_source(Path(f), mapping) for f in files]
    _create_value_map(con, mapping)
    reports: list[FileReport] = []
    try:
        for offset, source in enumerate(sources):
            report = _load_one(con, source, mapping, first_run_id + offset)
            record_run(con, report, batch_id, source.path)
            log.info("%s", report.line())
            reports.append(report)
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute("DROP TABLE IF EXISTS crm_value_map")
    return reports


# --------------------------------------------------------------------------------------------
# pre-flight: format, header, mapped columns


def _open_source(path: Path, mapping: Mapping) -> CrmFile:
    """Check one file can be read and has every column the mapping needs; raise DataError if not."""
    from carepulse.etl.sources.crm.read_csv import csv_header, detect_delimiter
    from carepulse.etl.sources.crm.read_parquet import parquet_header
    from carepulse.etl.sources.crm.read_xlsx import xlsx_header

    check_readable(path)
    fmt = _detect_format(path)
    if fmt == "csv":
        rec.check_csv_text(path, "a CSV export")
        delimiter = mapping.delimiter or detect_delimiter(path)
        headers, header_line = csv_header(path, delimiter)
        return CrmFile(path, fmt, headers, _resolve_fields(path, headers, mapping), delimiter=delimiter,
                       header_line=header_line)
    if fmt == "xlsx":
        sheet, headers, header_line = xlsx_header(path, mapping.sheet)
        return CrmFile(path, fmt, headers, _resolve_fields(path, headers, mapping), sheet=sheet,
                       header_line=header_line)
    headers = parquet_header(path)
    return CrmFile(path, fmt, headers, _resolve_fields(path, headers, mapping), header_line=0)


def _detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        magic = fh.read(4)
    if suffix == ".xls":
        raise DataError(f"{path}: old binary Excel (.xls) is not supported; save it as .xlsx or CSV (UTF-8)")
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix not in CSV_SUFFIXES and magic == b"PK\x03\x04":
        return "xlsx"
    if suffix not in CSV_SUFFIXES and magic == b"PAR1":
        return "parquet"
    return "csv"


def _resolve_fields(path: Path, headers: Sequence[str], mapping: Mapping) -> dict[str, int]:
    """Canonical field -> column index. Headers match exactly, else trimmed and case-insensitively."""
    exact: dict[str, list[int]] = {}
    folded: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        exact.setdefault(h, []).append(i)
        folded.setdefault(h.strip(WHITESPACE).lower(), []).append(i)
    resolved: dict[str, int] = {}
    missing: list[str] = []
    for name in FIELD_NAMES:
        header = mapping.header_for(name)
        candidates = exact.get(header) or folded.get(header.strip(WHITESPACE).lower(), [])
        if len(candidates) == 1:
            resolved[name] = candidates[0]
        elif len(candidates) > 1:
            raise DataError(
                f"{path}: column {header!r} ({name}) appears {len(candidates)} times in the header")
        elif name in mapping.columns:
            missing.append(f"columns.{name} = {header!r}")
        elif name in REQUIRED_FIELDS:
            missing.append(f"{name!r} (required)")
    if missing:
        shown = ", ".join(repr(h) for h in headers[:30]) + (", ..." if len(headers) > 30 else "")
        hint = "" if mapping.columns else " (without --mapping the header must use the canonical names)"
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}{hint}; the file has: {shown}")
    return resolved


# --------------------------------------------------------------------------------------------
# the per-file pipeline


def _load_one(con: duckdb.DuckDBPyConnection, source: CrmFile, mapping: Mapping, run_id: int) -> FileReport:
    from carepulse.etl.sources.crm.apply import apply, fill_report, status_sql
    from carepulse.etl.sources.crm.read_csv import stage_csv
    from carepulse.etl.sources.crm.read_parquet import stage_parquet
    from carepulse.etl.sources.crm.read_xlsx import stage_xlsx
    from carepulse.etl.sources.crm.validate import trimmed_sql, validation_sql

    report = FileReport(source=SOURCE, file=str(source.path), run_id=run_id)
    _create_staging(con)
    try:
        if source.format == "csv":
            stage_csv(con, source, mapping)
        elif source.format == "xlsx":
            stage_xlsx(con, source, mapping)
        else:
            stage_parquet(con, source, mapping)
        # A record with nothing in any mapped column (spreadsheet padding) is not a record.
        con.execute("DELETE FROM crm_raw WHERE " + " AND ".join(
            f"({trimmed_sql(f'raw_{name}')}) IS NULL" for name in FIELD_NAMES))
        con.execute(validation_sql(mapping))
        con.execute(status_sql())
        apply(con, source, run_id)
        fill_report(con, report)
    finally:
        # After a DuckDB error the transaction is aborted and cleanup would fail and hide the
        # real error; the caller rolls back anyway, which drops these temp tables too.
        with contextlib.suppress(duckdb.Error):
            con.execute("DROP TABLE IF EXISTS crm_raw; DROP TABLE IF EXISTS crm_rejects; "
                        "DROP TABLE IF EXISTS crm_parsed; DROP TABLE IF EXISTS crm_status")
    return report


def _create_staging(con: duckdb.DuckDBPyConnection) -> None:
    raw_columns = ", ".join(f"raw_{name} VARCHAR" for name in FIELD_NAMES)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE crm_raw (record_no BIGINT NOT NULL, line BIGINT, {raw_columns});
        CREATE OR REPLACE TEMP TABLE crm_rejects (
            record_no BIGINT NOT NULL, line BIGINT, reason VARCHAR NOT NULL, raw VARCHAR);
    """)


def _create_value_map(con: duckdb.DuckDBPyConnection, mapping: Mapping) -> None:
    """Export value (trimmed, lower-case) -> canonical value, for the validation join."""
    con.execute("CREATE OR REPLACE TEMP TABLE crm_value_map (field VARCHAR, key VARCHAR, value VARCHAR)")
    rows = [(f, key, value) for f in ("channel", "outcome") for key, value in mapping.values_for(f).items()]
    con.executemany("INSERT INTO crm_value_map VALUES (?, ?, ?)", rows)
