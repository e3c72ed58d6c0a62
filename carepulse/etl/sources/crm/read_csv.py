"""Reading a CRM CSV export: delimiter, header, and the records split by Python's csv module into ``crm_raw``."""

from __future__ import annotations

import contextlib
import csv
import gc
import operator
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from carepulse.core.errors import DataError
from carepulse.etl import csv_recovery as rec
from carepulse.etl.sources.crm.common import CHUNK_ROWS, RAW_LIMIT, CrmFile, insert_chunk, insert_rejects
from carepulse.etl.sources.crm.mapping import WHITESPACE, Mapping


def detect_delimiter(path: Path) -> str:
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


def csv_header(path: Path, delimiter: str) -> tuple[tuple[str, ...], int]:
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


def stage_csv(con: duckdb.DuckDBPyConnection, source: CrmFile, mapping: Mapping) -> None:
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
        insert_rejects(con, [(no, first, reason, texts.get(first)) for no, first, _last, reason in broken])


def _insert_csv_chunk(con: duckdb.DuckDBPyConnection, source: CrmFile, rows: list[Any], lines: list[int],
                      record_nos: list[int], broken: list[tuple[int, int, int, str]]) -> None:
    """Stage one chunk; on a byte that is not UTF-8 (a surrogate Arrow refuses), quarantine its record.

    Only a chunk that holds such a byte pays for the per-record check.
    """
    try:
        insert_chunk(con, source, list(zip(*rows, strict=True)), lines, record_nos)
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
        insert_chunk(con, source, list(zip(*(rows[i] for i in keep), strict=True)), [lines[i] for i in keep],
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
