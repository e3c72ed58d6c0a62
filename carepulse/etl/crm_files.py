"""CRM case exports (CSV, XLSX, Parquet) -> ``crm_cases``, and the case-to-thread link.

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
import csv
import gc
import logging
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa

from carepulse.core.errors import ConfigError, DataError
from carepulse.etl import csv_recovery as rec
from carepulse.etl.mapping import (
    CHANNELS,
    DEFAULT_MAPPING,
    FIELD_NAMES,
    OUTCOMES,
    REQUIRED_FIELDS,
    WHITESPACE,
    Mapping,
)
from carepulse.etl.runs import FileReport, check_readable, record_run

log = logging.getLogger(__name__)

SOURCE = "crm"
Format = Literal["csv", "xlsx", "parquet"]
LinkMethod = Literal["conversation", "handle_window", "none"]
LINK_METHODS: tuple[LinkMethod, ...] = ("conversation", "handle_window", "none")

#: Records per Arrow chunk handed to DuckDB: bounds memory while keeping the per-chunk cost small.
CHUNK_ROWS = 250_000
#: Longest raw text kept for a quarantined record (a runaway quoted field can swallow a whole file).
RAW_LIMIT = 4000

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}

#: Stored case columns that make up a case's content (the link columns are derived, not content).
CONTENT_COLUMNS: tuple[str, ...] = (
    "channel", "opened_at", "closed_at", "outcome", "customer_ref", "twitter_handle",
    "conversation_ref", "agent", "team", "category", "handled_minutes", "csat", "nps",
)

_ISO_RE = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?"
_ISO_OFFSET_RE = r".*[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)"
_ISO_EXAMPLE = "ISO 8601, e.g. 2026-11-24 14:05 or 2026-11-24T13:05:00Z"


@dataclass(frozen=True)
class _Source:
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


# --------------------------------------------------------------------------------------------
# public API


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
    records in ``quarantine``. Links are not computed here: call :func:`link_crm_cases` afterwards.
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


def link_crm_cases(con: duckdb.DuckDBPyConnection, window_hours: float) -> dict[str, int]:
    """(Re)compute the thread link of every case; return the number of cases per link method.

    Run after every load of tweets or cases, because either side may arrive first. Rules, in order
    (docs/crm.md): the conversation the case names (``conversation_ref`` is any tweet id of it, or
    the conversation id itself) -> that customer's thread there, else its earliest customer's
    thread: ``conversation``. Else the customer's thread (handle, case-insensitive, without '@')
    that started at most ``window_hours`` before the case was opened, the latest such:
    ``handle_window``. Else ``none``. Any channel can link: a phone case may name a handle.
    """
    if not window_hours >= 0:
        raise ConfigError(f"crm_link_window_hours must be a number >= 0, got {window_hours!r}")
    window_us = round(window_hours * 3_600_000_000)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE crm_link_result AS
        WITH cases AS (
            SELECT case_id, conversation_ref, opened_at,
                   nullif(lower(ltrim(trim(twitter_handle), '@')), '') AS handle_key
            FROM crm_cases
        ),
        thread_keys AS (
            SELECT thread_id, conversation_id, started_at,
                   lower(ltrim(trim(customer_handle), '@')) AS handle_key
            FROM threads
        ),
        tweet_conversation AS (
            SELECT tweet_id, min(conversation_id) AS conversation_id
            FROM tweets
            WHERE conversation_id IS NOT NULL
              AND tweet_id IN (SELECT conversation_ref FROM crm_cases)
            GROUP BY tweet_id
        ),
        named AS (
            SELECT c.case_id, c.handle_key,
                   coalesce(tc.conversation_id, tk.conversation_id) AS conversation_id
            FROM cases c
            LEFT JOIN tweet_conversation tc ON tc.tweet_id = c.conversation_ref
            LEFT JOIN (SELECT DISTINCT conversation_id FROM threads) tk
                   ON tk.conversation_id = c.conversation_ref
            WHERE c.conversation_ref IS NOT NULL
        ),
        by_conversation AS (
            SELECT n.case_id, th.thread_id, th.conversation_id
            FROM named n
            JOIN thread_keys th ON th.conversation_id = n.conversation_id
            QUALIFY row_number() OVER (
                PARTITION BY n.case_id
                ORDER BY (n.handle_key IS NOT NULL AND th.handle_key = n.handle_key) DESC,
                         th.started_at, th.thread_id
            ) = 1
        ),
        by_handle AS (
            SELECT c.case_id, th.thread_id, th.conversation_id
            FROM cases c
            JOIN thread_keys th ON th.handle_key = c.handle_key
            WHERE th.started_at <= c.opened_at
              AND c.opened_at <= th.started_at + to_microseconds({window_us}::BIGINT)
            QUALIFY row_number() OVER (
                PARTITION BY c.case_id ORDER BY th.started_at DESC, th.thread_id DESC
            ) = 1
        )
        SELECT c.case_id,
               CASE WHEN bc.case_id IS NOT NULL THEN 'conversation'
                    WHEN bh.case_id IS NOT NULL THEN 'handle_window'
                    ELSE 'none' END AS link_method,
               coalesce(bc.thread_id, bh.thread_id) AS linked_thread_id,
               CASE WHEN bc.case_id IS NOT NULL THEN bc.conversation_id ELSE bh.conversation_id END
                   AS linked_conversation_id
        FROM cases c
        LEFT JOIN by_conversation bc ON bc.case_id = c.case_id
        LEFT JOIN by_handle bh ON bh.case_id = c.case_id
    """)
    con.execute("""
        UPDATE crm_cases
        SET link_method = r.link_method,
            linked_thread_id = r.linked_thread_id,
            linked_conversation_id = r.linked_conversation_id
        FROM crm_link_result r
        WHERE crm_cases.case_id = r.case_id
          AND (crm_cases.link_method IS DISTINCT FROM r.link_method
               OR crm_cases.linked_thread_id IS DISTINCT FROM r.linked_thread_id
               OR crm_cases.linked_conversation_id IS DISTINCT FROM r.linked_conversation_id)
    """)
    con.execute("DROP TABLE crm_link_result")
    counts: dict[str, int] = dict.fromkeys(LINK_METHODS, 0)
    for method, n in con.execute("SELECT link_method, count(*) FROM crm_cases GROUP BY ALL").fetchall():
        counts[str(method)] = int(n)
    return counts


# --------------------------------------------------------------------------------------------
# pre-flight: format, header, mapped columns


def _open_source(path: Path, mapping: Mapping) -> _Source:
    """Check one file can be read and has every column the mapping needs; raise DataError if not."""
    check_readable(path)
    fmt = _detect_format(path)
    if fmt == "csv":
        rec.check_csv_text(path, "a CSV export")
        delimiter = mapping.delimiter or _detect_delimiter(path)
        headers, header_line = _csv_header(path, delimiter)
        return _Source(path, fmt, headers, _resolve_fields(path, headers, mapping), delimiter=delimiter,
                       header_line=header_line)
    if fmt == "xlsx":
        sheet, headers, header_line = _xlsx_header(path, mapping.sheet)
        return _Source(path, fmt, headers, _resolve_fields(path, headers, mapping), sheet=sheet,
                       header_line=header_line)
    headers = _parquet_header(path)
    return _Source(path, fmt, headers, _resolve_fields(path, headers, mapping), header_line=0)


def _detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        magic = fh.read(4)
    if suffix == ".xls":
        raise DataError(f"{path}: old binary Excel (.xls) is not supported; save it as .xlsx or CSV (UTF-8)")
    if suffix in _XLSX_SUFFIXES:
        return "xlsx"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix not in _CSV_SUFFIXES and magic == b"PK\x03\x04":
        return "xlsx"
    if suffix not in _CSV_SUFFIXES and magic == b"PAR1":
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


def _load_one(con: duckdb.DuckDBPyConnection, source: _Source, mapping: Mapping, run_id: int) -> FileReport:
    report = FileReport(source=SOURCE, file=str(source.path), run_id=run_id)
    _create_staging(con)
    try:
        if source.format == "csv":
            _stage_csv(con, source, mapping)
        elif source.format == "xlsx":
            _stage_xlsx(con, source, mapping)
        else:
            _stage_parquet(con, source, mapping)
        # A record with nothing in any mapped column (spreadsheet padding) is not a record.
        con.execute("DELETE FROM crm_raw WHERE " + " AND ".join(
            f"({_trimmed_sql(f'raw_{name}')}) IS NULL" for name in FIELD_NAMES))
        con.execute(_validation_sql(mapping))
        con.execute(_status_sql())
        _apply(con, source, run_id)
        _fill_report(con, report)
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


def _insert_chunk(con: duckdb.DuckDBPyConnection, source: _Source, columns: Sequence[Sequence[Any]],
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


def _insert_rejects(con: duckdb.DuckDBPyConnection,
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


# --------------------------------------------------------------------------------------------
# CSV


def _detect_delimiter(path: Path) -> str:
    """The most frequent of ``; , TAB |`` outside quotes in the header line (``,`` on a tie or none)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        first = fh.readline(rec.HEAD_BYTES)
        while first and not first.strip():  # the header is the first non-blank line
            first = fh.readline(rec.HEAD_BYTES)
    counts = dict.fromkeys(",;\t|", 0)
    quoted = False
    for ch in first:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda c: (counts[c], c == ","))
    return best if counts[best] else ","


@contextlib.contextmanager
def _csv_reader(path: Path, delimiter: str, newline: str = "") -> Iterator[Any]:
    """A strict csv reader over the file, BOM removed: universal newlines, or only ``newline``.

    A byte that is not UTF-8 becomes a surrogate (see :func:`etl.csv_recovery.open_text`), and
    fields may be as long as DuckDB's records for TWCS (the csv module's default is 128 KiB).
    """
    csv.field_size_limit(max(csv.field_size_limit(), rec.MAX_RECORD_BYTES))
    with rec.open_text(path, newline) as fh:
        yield csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)


def _csv_header(path: Path, delimiter: str) -> tuple[tuple[str, ...], int]:
    rec.check_header_width(path, delimiter)
    try:
        with _csv_reader(path, delimiter) as reader:
            for row in reader:
                if any(cell.strip(WHITESPACE) for cell in row):
                    if not all(_is_utf8(cell) for cell in row):
                        raise DataError(f"{path}: the header line is not UTF-8 text (re-save it as UTF-8)")
                    return tuple(cell.strip(WHITESPACE) for cell in row), int(reader.line_num)
    except csv.Error as exc:
        raise DataError(f"{path}: the header line cannot be parsed as CSV ({exc})") from exc
    raise DataError(f"{path}: no header line (the file holds only blank lines)")


def _is_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _csv_error_reason(exc: csv.Error, delimiter: str) -> str:
    return rec.csv_error_reason(exc, delimiter)


def _stage_csv(con: duckdb.DuckDBPyConnection, source: _Source, mapping: Mapping) -> None:
    """Split the file with Python's csv module (exact physical line numbers) and stage it in chunks.

    The loop only splits records and sorts out those with the wrong number of fields; all value
    checks happen later in SQL. The garbage collector is paused while it runs: the loop creates
    millions of small lists that are all alive, and generational scans of them only cost time.

    Recovery costs only where the file is broken. Lines end only with the file's own line end, so
    ``csv`` keeps a quoted stray break (a bare LF in a CRLF export's multi-line cell) as data and
    raises on an unquoted one instead of splitting the record; that record, and any broken record
    spanning several lines (a quote never closed), is read again from its text (``add_broken``).
    When the file has stray breaks, lines are counted without them and turned into physical lines
    per chunk. A record with a byte that is not UTF-8 is quarantined at insert time.
    """
    width = len(source.headers)
    indexes = list(source.fields.values())
    # Keep only the mapped columns of each row: real exports carry dozens of columns nobody maps.
    pick: Callable[[list[str]], Any] = (
        operator.itemgetter(*indexes) if len(indexes) > 1 else lambda row: (row[indexes[0]],)
    )
    rows: list[Any] = []
    lines: list[int] = []
    record_nos: list[int] = []
    recovered: list[int] = []  # indexes into ``lines`` that already hold a physical line
    broken: list[tuple[int, int, int, str]] = []  # record_no, first line, last line, reason
    record_no = 0
    previous_end = 0  # last line of the previous record, counted by the file's line end
    line_end = rec.detect_line_end(source.path)
    strays = rec.stray_lines(source.path, line_end) if rec.has_stray_breaks(source.path, line_end) else None
    cursor = rec.LineCursor(source.path, line_end)

    def flush() -> None:
        if rows:
            if strays is not None:  # the fast loop counted lines without the stray breaks
                counted = np.array(lines, dtype=np.int64)
                fast = np.ones(len(counted), dtype=bool)
                fast[recovered] = False
                counted[fast] += np.searchsorted(strays, counted[fast], side="left")
                lines[:] = counted.tolist()
            _insert_csv_chunk(con, source, rows, lines, record_nos, broken)
            rows.clear()
            lines.clear()
            record_nos.clear()
            recovered.clear()

    def add_broken(first: int, last: int, reason: str) -> None:
        """Read a broken record again: stray breaks as data, else :func:`etl.csv_recovery.recover`."""
        nonlocal record_no
        physical = rec.physical_line(first, strays)
        physical_last = rec.physical_line(last + 1, strays) - 1
        text = cursor.text(first, last) if physical_last > first else None
        fields = rec.read_with_strays(text, source.delimiter, width, line_end) if text and strays is not None else None
        if text is None:
            events: list[rec.Event] = [rec.Broken(physical, physical_last, reason)]
        elif fields is not None:
            events = [(physical, fields)]
        else:
            events = rec.recover(text.rstrip("\r\n"), physical, physical_last, reason, source.delimiter, width)
            if len(events) == 1 and isinstance(events[0], rec.Broken) and physical_last - physical > last - first:
                events = [rec.Broken(physical, physical_last, f"{reason} ({rec.STRAY_HINT.format(width=width)})")]
        for event in events:
            record_no += 1
            if isinstance(event, rec.Broken):
                broken.append((record_no, event.first, event.last, event.reason))
            else:
                recovered.append(len(lines))
                rows.append(pick(event[1]))
                lines.append(event[0])
                record_nos.append(record_no)
        if len(rows) >= CHUNK_ROWS:
            flush()

    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with _csv_reader(source.path, source.delimiter, line_end) as reader:
            for _ in reader:
                if rec.physical_line(reader.line_num, strays) >= source.header_line:
                    break
            previous_end = int(reader.line_num)
            while True:
                try:
                    for row in reader:
                        end = reader.line_num
                        if len(row) == width:
                            record_no += 1
                            rows.append(pick(row))
                            lines.append(previous_end + 1)
                            record_nos.append(record_no)
                            if len(rows) >= CHUNK_ROWS:
                                flush()
                        elif row:
                            add_broken(previous_end + 1, end,
                                       f"expected {width} fields (as in the header), found {len(row)}")
                        previous_end = end
                    break
                except csv.Error as exc:
                    add_broken(previous_end + 1, int(reader.line_num), _csv_error_reason(exc, source.delimiter))
                    previous_end = int(reader.line_num)
    finally:
        cursor.close()
        if gc_was_enabled:
            gc.enable()
    flush()
    if broken:
        texts = _line_texts(source.path, [(first, last) for _, first, last, _ in broken])
        _insert_rejects(con, [(no, first, reason, texts.get(first)) for no, first, _last, reason in broken])


def _insert_csv_chunk(con: duckdb.DuckDBPyConnection, source: _Source, rows: list[Any], lines: list[int],
                      record_nos: list[int], broken: list[tuple[int, int, int, str]]) -> None:
    """Stage one chunk; on a byte that is not UTF-8 (a surrogate Arrow refuses), quarantine its record.

    Only a chunk that holds such a byte pays for the per-record check.
    """
    try:
        _insert_chunk(con, source, list(zip(*rows, strict=True)), lines, record_nos)
        return
    except UnicodeEncodeError:
        pass
    names = [source.header_of(name) for name in source.fields]
    keep: list[int] = []
    for i, row in enumerate(rows):
        bad = next(((j, value) for j, value in enumerate(row) if value is not None and not _is_utf8(value)), None)
        if bad is None:
            keep.append(i)
            continue
        j, value = bad
        offset = next(k for k, ch in enumerate(value) if "\udc80" <= ch <= "\udcff")
        reason = rec.invalid_utf8_reason(lines[i], ord(value[offset]) - 0xDC00, f" in column {names[j]!r}")
        broken.append((record_nos[i], lines[i], lines[i], reason))
    if keep:
        _insert_chunk(con, source, list(zip(*(rows[i] for i in keep), strict=True)), [lines[i] for i in keep],
                      [record_nos[i] for i in keep])


def _line_texts(path: Path, ranges: list[tuple[int, int]]) -> dict[int, str]:
    """The text of lines ``first..last`` of each (non-overlapping) range, keyed by ``first``.

    A second pass over the file, made only when some records are structurally broken, so the
    fast path never keeps raw text; each text is cut at :data:`RAW_LIMIT` characters. A byte that
    is not UTF-8 shows as ``\\xe4``.
    """
    pending = sorted(ranges)
    texts: dict[int, str] = {}
    parts: list[str] = []
    size = 0
    index = 0
    with path.open(newline="", encoding="utf-8-sig", errors="backslashreplace") as fh:
        for number, text in enumerate(fh, start=1):
            if index >= len(pending):
                break
            first, last = pending[index]
            if number < first:
                continue
            if size < RAW_LIMIT:
                parts.append(text)
                size += len(text)
            if number >= last:
                texts[first] = "".join(parts).rstrip("\r\n")[:RAW_LIMIT]
                parts, size, index = [], 0, index + 1
    if index < len(pending) and parts:
        texts[pending[index][0]] = "".join(parts).rstrip("\r\n")[:RAW_LIMIT]
    return texts


# --------------------------------------------------------------------------------------------
# XLSX


def _open_workbook(path: Path) -> Any:
    """The workbook, read-only; its zip directory is checked first (etl/xlsx_guard.py), so a zip bomb is
    refused before anything is inflated, and its XML is parsed through defusedxml (no entity bombs)."""
    import openpyxl  # imported here: only XLSX loads pay for it

    from carepulse.etl import xlsx_guard

    xlsx_guard.check_parser()
    xlsx_guard.check_workbook(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException ... on junk
        raise xlsx_guard.xml_refusal(path, exc) or DataError(
            f"{path}: not a valid .xlsx workbook ({type(exc).__name__}: {exc})") from exc


def _worksheet(path: Path, workbook: Any, sheet: str | None) -> Any:
    if sheet is None:
        return workbook.worksheets[0]
    if sheet not in workbook.sheetnames:
        raise DataError(f"{path}: no sheet {sheet!r} (source.sheet); the workbook has: "
                        + ", ".join(repr(s) for s in workbook.sheetnames))
    return workbook[sheet]


def _sheet_rows(worksheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(sheet row number, cell values); trusting no stored dimension, which some writers get wrong."""
    worksheet.reset_dimensions()
    yield from enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1)


def _xlsx_header(path: Path, sheet: str | None) -> tuple[str, tuple[str, ...], int]:
    from carepulse.etl import xlsx_guard

    workbook = _open_workbook(path)
    try:
        worksheet = _worksheet(path, workbook, sheet)
        for number, row in _sheet_rows(worksheet):
            if any(v is not None and str(v).strip(WHITESPACE) for v in row):
                headers = tuple("" if v is None else str(v).strip(WHITESPACE) for v in row)
                return str(worksheet.title), headers, number
    except (DataError, MemoryError):
        raise
    except Exception as exc:  # the sheet part is parsed only here: an XML bomb or a broken part surfaces now
        raise xlsx_guard.xml_refusal(path, exc) or DataError(
            f"{path}: the sheet cannot be read ({type(exc).__name__}: {exc})") from exc
    finally:
        workbook.close()
    raise DataError(f"{path}: the sheet {sheet or 'at position 1'!r} is empty (no header row)")


def _cell_text(value: Any, decimal: str) -> str | None:
    """A cell as the text a CSV export would hold, so one SQL validation serves every format.

    Floats keep ``repr`` (``4.0``, ``1.2345678901234568e+18``) so a tweet id that Excel turned
    into a float is recognised and rejected instead of silently rounded; dates become ISO 8601.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value).replace(".", decimal)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _stage_xlsx(con: duckdb.DuckDBPyConnection, source: _Source, mapping: Mapping) -> None:
    """Stage the sheet's rows below the header; ``line`` is the sheet's row number.

    Only ``handled_minutes`` numbers are written with the mapping's decimal separator: that is the
    only field parsed with it, ids and scores accept ``4.0`` either way.
    """
    from carepulse.etl import xlsx_guard

    picks = list(source.fields.items())
    columns: list[list[str | None]] = [[] for _ in picks]
    lines: list[int] = []
    record_nos: list[int] = []
    record_no = 0
    workbook = _open_workbook(source.path)
    try:
        worksheet = _worksheet(source.path, workbook, source.sheet)
        for number, row in _sheet_rows(worksheet):
            if number <= source.header_line or not any(v is not None and v != "" for v in row):
                continue
            record_no += 1
            lines.append(number)
            record_nos.append(record_no)
            for column, (name, index) in zip(columns, picks, strict=True):
                value = row[index] if index < len(row) else None
                column.append(_cell_text(value, mapping.decimal if name == "handled_minutes" else "."))
            if len(lines) >= CHUNK_ROWS:
                _insert_chunk(con, source, columns, lines, record_nos)
                columns = [[] for _ in picks]
                lines, record_nos = [], []
    except (DataError, MemoryError, duckdb.Error):  # DuckDB's (disk full, out of memory) are the writer's to report
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while iterating
        raise xlsx_guard.xml_refusal(source.path, exc) or DataError(
            f"{source.path}: the sheet cannot be read ({type(exc).__name__}: {exc})") from exc
    finally:
        workbook.close()
    if lines:
        _insert_chunk(con, source, columns, lines, record_nos)


# --------------------------------------------------------------------------------------------
# Parquet


def _parquet_sql_path(path: Path) -> str:
    return _lit(str(path))


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _parquet_header(path: Path) -> tuple[str, ...]:
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
        raise DataError(f"{path}: the Parquet file cannot be read ({_first_line(exc)})") from exc
    return tuple(str(r[0]) for r in rows)


def _stage_parquet(con: duckdb.DuckDBPyConnection, source: _Source, mapping: Mapping) -> None:
    """Stage columns as text in SQL; numbers and timestamps get the text form the validator expects."""
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_parquet_sql_path(source.path)})")
    types = {str(r[0]): str(r[1]) for r in described.fetchall()}
    selects: list[str] = []
    for name, index in source.fields.items():
        header = source.headers[index]
        column = _ident(header)
        kind = types.get(header, "VARCHAR").upper()
        if kind.startswith("TIMESTAMP WITH TIME ZONE") or kind == "TIMESTAMPTZ":
            text = f"strftime(timezone('UTC', {column}), '%Y-%m-%dT%H:%M:%S.%fZ')"
        elif name == "handled_minutes" and mapping.decimal != "." and kind != "VARCHAR":
            text = f"replace(CAST({column} AS VARCHAR), '.', {_lit(mapping.decimal)})"
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
        raise DataError(f"{source.path}: the Parquet file cannot be read ({_first_line(exc)})") from exc


# --------------------------------------------------------------------------------------------
# validation, dedupe, apply (SQL)


def _lit(text: str) -> str:
    """A SQL string literal (values from mapping files and headers are never spliced in raw)."""
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _timestamp_sql(column: str, mapping: Mapping) -> str:
    """Text -> TIMESTAMPTZ (UTC): the mapping's format if any, else (and as fallback) ISO 8601.

    Values without an offset are wall-clock times in the mapping's time zone. ISO text is matched
    by a regular expression first because DuckDB's cast accepts trailing junk after a timestamp.
    """
    zone = _lit(mapping.timezone)
    iso = (
        f"CASE WHEN regexp_full_match({column}, {_lit(_ISO_RE)}) THEN "
        f"CASE WHEN regexp_full_match({column}, {_lit(_ISO_OFFSET_RE)}) "
        f"THEN try_cast({column} AS TIMESTAMPTZ) "
        f"ELSE timezone({zone}, try_cast({column} AS TIMESTAMP)) END END"
    )
    if not mapping.date_format:
        return iso
    parsed = f"try_strptime({column}, {_lit(mapping.date_format)})"
    if not re.search(r"%[zZ]", mapping.date_format):
        parsed = f"timezone({zone}, {parsed})"
    return f"coalesce({parsed}, {iso})"


def _trimmed_sql(column: str) -> str:
    """``column`` without surrounding whitespace (NBSP included), empty -> NULL.

    ``trim(x, characters)`` is several times slower than a look at the first and last character,
    and almost no value needs trimming.
    """
    ws = _lit(WHITESPACE)
    return (
        f"CASE WHEN {column} = '' THEN NULL "
        f"WHEN contains({ws}, left({column}, 1)) OR contains({ws}, right({column}, 1)) "
        f"THEN nullif(trim({column}, {ws}), '') ELSE {column} END"
    )


def _validation_sql(mapping: Mapping) -> str:
    """One statement: ``crm_raw`` -> ``crm_parsed`` with typed fields and a reason for bad records."""
    trimmed = ",\n".join(f"{_trimmed_sql(f'raw_{n}')} AS s_{n}" for n in FIELD_NAMES)
    expected_ts = f"{mapping.date_format} or ISO 8601" if mapping.date_format else _ISO_EXAMPLE
    dec = mapping.decimal
    number_re = r"[0-9]+(\.[0-9]+)?|\.[0-9]+" if dec == "." else r"[0-9]+(,[0-9]+)?|,[0-9]+"
    small_int_re = r"[0-9]{1,4}([.,]0+)?"
    channel_hint = "known: " + ", ".join(CHANNELS) + (
        " or an export value listed in [values.channel]" if mapping.channel_values else "")
    outcome_hint = "known: " + ", ".join(OUTCOMES) + (
        " or an export value listed in [values.outcome]" if mapping.outcome_values else "")

    def quoted(column: str) -> str:
        return f"'''' || left({column}, 80) || ''''"

    reasons = [
        "CASE WHEN s_case_id IS NULL THEN 'missing case_id' END",
        f"""CASE WHEN s_channel IS NULL THEN 'missing channel'
                 WHEN channel IS NULL
                 THEN 'unknown channel ' || {quoted('s_channel')} || {_lit(f' ({channel_hint})')}
            END""",
        f"""CASE WHEN s_opened_at IS NULL THEN 'missing opened_at'
                 WHEN opened_at IS NULL THEN 'unparseable opened_at ' || {quoted('s_opened_at')}
                      || {_lit(f' (expected {expected_ts})')}
            END""",
        f"""CASE WHEN s_closed_at IS NOT NULL AND closed_at IS NULL THEN 'unparseable closed_at '
                      || {quoted('s_closed_at')} || {_lit(f' (expected {expected_ts})')}
                 WHEN closed_at < opened_at THEN 'closed_at ' || {quoted('s_closed_at')}
                      || ' is before opened_at ' || {quoted('s_opened_at')}
            END""",
        f"""CASE WHEN s_outcome IS NOT NULL AND outcome IS NULL
                 THEN 'unknown outcome ' || {quoted('s_outcome')} || {_lit(f' ({outcome_hint})')} END""",
        f"""CASE WHEN s_handled_minutes IS NOT NULL AND handled_minutes IS NULL
                 THEN 'handled_minutes ' || {quoted('s_handled_minutes')}
                      || {_lit(f' is not a non-negative number (decimal separator {dec!r})')} END""",
        f"""CASE WHEN s_csat IS NOT NULL AND (csat IS NULL OR csat NOT BETWEEN 1 AND 5)
                 THEN 'csat ' || {quoted('s_csat')} || ' is not an integer 1..5' END""",
        f"""CASE WHEN s_nps IS NOT NULL AND (nps IS NULL OR nps NOT BETWEEN 0 AND 10)
                 THEN 'nps ' || {quoted('s_nps')} || ' is not an integer 0..10' END""",
        f"""CASE WHEN s_conversation_id IS NOT NULL AND conversation_ref IS NULL THEN
                 CASE WHEN regexp_matches(s_conversation_id, '^[0-9.,]+[eE][+-]?[0-9]+$')
                      THEN 'conversation_id ' || {quoted('s_conversation_id')}
                           || ' is in scientific notation: a spreadsheet turned the id into a number and'
                           || ' lost its last digits (export the column as text)'
                      ELSE 'conversation_id ' || {quoted('s_conversation_id')}
                           || ' is not a tweet id (a positive 64-bit integer)' END
            END""",
    ]
    return f"""
        CREATE OR REPLACE TEMP TABLE crm_parsed AS
        WITH trimmed AS (
            SELECT record_no, line,
            {trimmed}
            FROM crm_raw
        ),
        typed AS (
            SELECT t.*,
                   t.s_case_id AS case_id,
                   channel_map.value AS channel,
                   outcome_map.value AS outcome,
                   {_timestamp_sql('t.s_opened_at', mapping)} AS opened_at,
                   {_timestamp_sql('t.s_closed_at', mapping)} AS closed_at,
                   t.s_customer_ref AS customer_ref,
                   nullif(ltrim(t.s_twitter_handle, '@'), '') AS twitter_handle,
                   CASE WHEN regexp_full_match(t.s_conversation_id, '[0-9]+(\\.0)?')
                        THEN nullif(try_cast(regexp_extract(t.s_conversation_id, '^[0-9]+') AS BIGINT), 0)
                   END AS conversation_ref,
                   t.s_agent AS agent,
                   t.s_team AS team,
                   t.s_category AS category,
                   CASE WHEN regexp_full_match(t.s_handled_minutes, {_lit(number_re)})
                        THEN try_cast(replace(t.s_handled_minutes, ',', '.') AS DOUBLE)
                   END AS handled_minutes,
                   CASE WHEN regexp_full_match(t.s_csat, {_lit(small_int_re)})
                        THEN try_cast(regexp_extract(t.s_csat, '^[0-9]+') AS INTEGER) END AS csat,
                   CASE WHEN regexp_full_match(t.s_nps, {_lit(small_int_re)})
                        THEN try_cast(regexp_extract(t.s_nps, '^[0-9]+') AS INTEGER) END AS nps
            FROM trimmed t
            LEFT JOIN crm_value_map channel_map
                   ON channel_map.field = 'channel' AND channel_map.key = lower(t.s_channel)
            LEFT JOIN crm_value_map outcome_map
                   ON outcome_map.field = 'outcome' AND outcome_map.key = lower(t.s_outcome)
        )
        SELECT * EXCLUDE ({', '.join(f's_{n}' for n in FIELD_NAMES)}),
               nullif(concat_ws('; ', {', '.join(reasons)}), '') AS reason
        FROM typed
    """


def _same_content(left: str, right: str) -> str:
    return " AND ".join(f"{left}.{c} IS NOT DISTINCT FROM {right}.{c}" for c in CONTENT_COLUMNS)


def _status_sql() -> str:
    """Status of every valid record: new, updated, duplicate (in the file or of the stored case) or
    conflict. Relies on ``case_id`` being unique in ``crm_cases``, which only this module writes."""
    return f"""
        CREATE OR REPLACE TEMP TABLE crm_status AS
        WITH valid AS (
            SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY record_no) AS occurrence
            FROM crm_parsed WHERE reason IS NULL
        ),
        firsts AS (SELECT * FROM valid WHERE occurrence = 1)
        SELECT v.record_no, f.record_no AS first_record_no, f.line AS first_line,
               CASE
                   WHEN v.occurrence > 1 AND {_same_content('v', 'f')} THEN 'duplicate'
                   WHEN v.occurrence > 1 THEN 'conflict'
                   WHEN c.case_id IS NULL THEN 'new'
                   WHEN {_same_content('c', 'v')} THEN 'duplicate'
                   ELSE 'updated'
               END AS status
        FROM valid v
        JOIN firsts f ON f.case_id = v.case_id
        LEFT JOIN crm_cases c ON c.case_id = v.case_id AND v.occurrence = 1
    """


def _apply(con: duckdb.DuckDBPyConnection, source: _Source, run_id: int) -> None:
    """Write quarantine rows, replace updated cases and insert new ones."""
    raw_json = "json_object(" + ", ".join(
        f"{_lit(source.header_of(n))}, r.raw_{n}" for n in source.fields
    ) + ")::VARCHAR"
    where = "line " if source.format != "parquet" else "record "
    file_lit = _lit(str(source.path))
    con.execute(f"""
        INSERT INTO quarantine (run_id, source, file, line, record_no, reason, raw)
        SELECT {run_id}, {_lit(SOURCE)}, {file_lit}, q.line, q.record_no, q.reason, q.raw
        FROM (
            SELECT p.line, p.record_no, p.reason, {raw_json} AS raw
            FROM crm_parsed p JOIN crm_raw r USING (record_no)
            WHERE p.reason IS NOT NULL
            UNION ALL
            SELECT p.line, p.record_no,
                   'conflicting record: case_id ''' || p.case_id || ''' already appears at {where}'
                   || coalesce(s.first_line, s.first_record_no) || ' of this file with different content'
                   || ' (the first one is kept)',
                   {raw_json}
            FROM crm_status s JOIN crm_parsed p USING (record_no) JOIN crm_raw r USING (record_no)
            WHERE s.status = 'conflict'
            UNION ALL
            SELECT line, record_no, reason, raw FROM crm_rejects
        ) q
        ORDER BY q.record_no
    """)
    con.execute("""
        DELETE FROM crm_cases WHERE case_id IN (
            SELECT p.case_id FROM crm_status s JOIN crm_parsed p USING (record_no) WHERE s.status = 'updated')
    """)
    stored = ", ".join(("case_id", *CONTENT_COLUMNS))
    con.execute(f"""
        INSERT INTO crm_cases ({stored}, run_id, record_no)
        SELECT {stored}, {run_id}, p.record_no
        FROM crm_status s JOIN crm_parsed p USING (record_no)
        WHERE s.status IN ('new', 'updated')
        ORDER BY p.record_no
    """)


def _fill_report(con: duckdb.DuckDBPyConnection, report: FileReport) -> None:
    row = con.execute("""
        SELECT (SELECT count(*) FROM crm_raw) + (SELECT count(*) FROM crm_rejects),
               (SELECT count(*) FROM crm_status WHERE status IN ('new', 'updated')),
               (SELECT count(*) FROM crm_status WHERE status = 'updated'),
               (SELECT count(*) FROM crm_status WHERE status = 'duplicate'),
               (SELECT count(*) FROM crm_parsed WHERE reason IS NOT NULL)
               + (SELECT count(*) FROM crm_status WHERE status = 'conflict')
               + (SELECT count(*) FROM crm_rejects)
    """).fetchone()
    assert row is not None
    report.records_read, report.loaded, report.updated, report.duplicate, report.quarantined = (
        int(v) for v in row
    )
