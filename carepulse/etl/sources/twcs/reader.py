"""The public "Customer Support on Twitter" (TWCS) corpus layout.

Accepts the file as shipped, copies re-saved by pandas (a leading unnamed index column, ids as
floats like ``3.0``), comma or semicolon separators, LF/CRLF/CR line ends, a UTF-8 BOM, and text
with newlines, quotes, emoji and control characters. Parsing is one DuckDB ``read_csv`` with every
column as text; validation is set-wise SQL that gives each bad record a reason. Structurally
broken rows (an unterminated quote, too many columns, a byte that is not UTF-8) come from DuckDB's
reject tables and are quarantined with their physical line number (:func:`_stage_rejects`); rows
that parse but fail validation carry their record number (the n-th parsed data row) and their
fields as raw text.

A stray line break (a CR inside an LF file, as pandas writes one inside a tweet) would abort
DuckDB's strict parser for the whole file, so a file that holds one is read from a copy in which
stray breaks are placeholder bytes, put back into the values afterwards (:mod:`carepulse.etl.csv_recovery`).
Clean files pay one ``memchr`` over the file for that check, nothing else.
"""

from __future__ import annotations

import contextlib
import csv
import io
import mmap
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from carepulse.core import progress
from carepulse.core.errors import DataError
from carepulse.etl import csv_recovery as rec
from carepulse.etl.runs import check_readable

SOURCE = "twcs"
REQUIRED = ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
ID_PATTERN = r"^\s*(\d{1,19})(?:\.0+)?\s*$"


def _sniff(path: Path) -> tuple[list[str], str, str, float]:
    """Header names, delimiter, line end and an estimate of bytes per record, from the file's head."""
    with path.open("rb") as fh:
        head = fh.read(rec.HEAD_BYTES)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    newline = rec.detect_line_end(path)
    first_line = text.split("\n")[0].split("\r")[0] if text.strip() else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rec.check_header_width(path, delimiter)
    header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    names = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise DataError(
            f"{path}: not a TWCS file: missing column(s) {', '.join(missing)} "
            f"(header is {', '.join(names[:10]) or 'empty'})"
        )
    rows = max(1, text.count("\n") or text.count("\r"))
    return names, delimiter, newline, len(head) / rows


def _column_spec(names: list[str]) -> tuple[str, list[str]]:
    """A ``columns={...}`` literal for read_csv; unnamed or repeated headers get safe names."""
    safe: list[str] = []
    for i, name in enumerate(names):
        candidate = name if name and name not in safe and name not in ("Unnamed: 0",) else f"_extra_{i}"
        safe.append(candidate)
    spec = ", ".join("'{}': 'VARCHAR'".format(n.replace("'", "''")) for n in safe)
    return "{" + spec + "}", safe


def stage(con: duckdb.DuckDBPyConnection, path: Path, run_id: int) -> int:
    """Parse and validate one TWCS file into ``stg_tweets`` in a single pass; return records read."""
    check_readable(path)
    rec.check_csv_text(path, "a TWCS CSV file")
    names, delimiter, newline, bytes_per_record = _sniff(path)
    spec, safe = _column_spec(names)
    con.execute("DROP TABLE IF EXISTS twcs_rejects; DROP TABLE IF EXISTS twcs_reject_scans")
    strays: tuple[bytes, bytes] | None = None
    with contextlib.ExitStack() as stack:
        read_path = path
        if rec.has_stray_breaks(path, newline):
            strays = rec.placeholders(path)
            read_path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="carepulse-twcs-"))) / "copy.csv"
            rec.write_sanitized_copy(path, read_path, newline, *strays)
        path_sql = str(read_path).replace("'", "''")
        source = f"""
            read_csv('{path_sql}', columns = {spec}, auto_detect = false, header = true,
                     delim = '{delimiter}', quote = '"', escape = '"', new_line = '{_NEW_LINE_SQL[newline]}',
                     store_rejects = true, rejects_table = 'twcs_rejects', rejects_scan = 'twcs_reject_scans',
                     max_line_size = {rec.MAX_RECORD_BYTES}, parallel = true)
        """
        if strays:
            source = f"(SELECT {rec.restore_columns_sql(safe, newline, *strays)} FROM {source})"
        sql = _stage_sql(run_id, source)
        con.execute("SET preserve_insertion_order = true")  # record numbers follow the file (_number_records)
        try:
            progress.run_polled(
                lambda: con.execute(sql),
                progress.duckdb_fraction(con),
                total=path.stat().st_size / bytes_per_record,
                desc=f"reading {path.name}",
            )
        except duckdb.Error as exc:
            raise DataError(f"{path}: cannot be parsed as CSV: {str(exc).splitlines()[0]}") from exc
    rejected = _stage_rejects(con, path, run_id, safe, delimiter, strays)
    parsed = _number_records(con, run_id)
    _lines_of_invalid(con, path, run_id, newline)
    return parsed + rejected


def _lines_of_invalid(con: duckdb.DuckDBPyConnection, path: Path, run_id: int, newline: str) -> None:
    """The physical line of each parsed record that failed validation (a bad id, an unparseable time).

    DuckDB gives no position for rows it parsed, so the line is derived, and only when a record
    failed: when the file has one line per row (the common case: no text holds a line break), the
    n-th parsed record is on the n-th line that is neither the header nor a row DuckDB rejected (whose
    lines :func:`_stage_rejects` knows). A file whose records span lines keeps only the record number
    (``record_no``), which still names the record exactly.
    """
    bad = con.execute(f"SELECT record_no FROM stg_tweets WHERE run_id = {run_id} AND reason IS NOT NULL "
                      "AND line IS NULL ORDER BY record_no").fetchall()
    if not bad:
        return
    parsed, = con.execute(f"SELECT count(*) FROM stg_tweets WHERE run_id = {run_id} AND line IS NULL").fetchall()[0]
    rejected = sorted(int(r[0]) for r in con.execute(
        f"SELECT line FROM stg_quarantine WHERE run_id = {run_id} AND line IS NOT NULL UNION "
        f"SELECT line FROM stg_tweets WHERE run_id = {run_id} AND line IS NOT NULL").fetchall())
    size = path.stat().st_size
    if not size:
        return
    data = np.memmap(path, dtype=np.uint8, mode="r")
    ends = int(np.count_nonzero(data == ord(newline[-1])))
    lines = ends + (data[-1] != ord(newline[-1]))
    if lines - 1 != parsed + len(rejected):
        return  # some record spans lines: record numbers only
    every = np.arange(2, lines + 1, dtype=np.int64)
    accepted = every[~np.isin(every, np.asarray(rejected, dtype=np.int64))]
    numbers = np.asarray([int(r[0]) for r in bad], dtype=np.int64)
    con.register("twcs_invalid_lines", pa.table({"record_no": numbers, "line": accepted[numbers - 1]}))
    try:
        con.execute(f"UPDATE stg_tweets s SET line = l.line FROM twcs_invalid_lines l "
                    f"WHERE s.run_id = {run_id} AND s.record_no = l.record_no AND s.line IS NULL")
    finally:
        con.unregister("twcs_invalid_lines")


_NEW_LINE_SQL = {"\n": "\\n", "\r\n": "\\r\\n", "\r": "\\r"}


def _stage_sql(run_id: int, source: str, line: str = "NULL") -> str:
    return (
        _STAGE_SQL.replace("{id_tweet_id}", _id_sql("tweet_id"))
        .replace("{id_in_response_to_tweet_id}", _id_sql("in_response_to_tweet_id"))
        .replace("{run_id}", str(run_id))
        .replace("{line}", line)
        .replace("{source}", source)
        .replace("{time_format}", TWITTER_TIME)
    )


def _stage_rejects(con: duckdb.DuckDBPyConnection, path: Path, run_id: int, names: list[str], delimiter: str,
                   strays: tuple[bytes, bytes] | None) -> int:
    """Quarantine DuckDB's rejected rows with their physical line, recovering the records they hide.

    DuckDB's ``line`` counts rows, not lines, so the line comes from the row's byte position. A
    rejected row that holds a stray break or spans several lines is read again
    (:func:`etl.csv_recovery.reread`): the records that reading gives whole are staged with their
    lines. A byte that is not UTF-8 is named with its line. Python only touches such rows; all
    other rejects are quarantined in one statement. Returns the number quarantined.
    """
    rows = con.execute("SELECT line, min(line_byte_position) AS pos FROM twcs_rejects GROUP BY line").fetchall()
    if not rows:
        return 0
    starts = rec.row_starts(path, np.array([pos for _, pos in rows], dtype=np.int64))
    table = pa.table({"line": pa.array([line for line, _ in rows], pa.int64()), "start": starts,
                      "physical": rec.physical_lines(path, starts)})
    con.register("twcs_reject_rows", table)
    try:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE twcs_reject_first AS
            SELECT DISTINCT ON (r.line) r.line, m.start, m.physical, r.error_type, r.error_message,
                   ltrim(r.csv_line, chr(13) || chr(10)) AS csv_line
            FROM twcs_rejects r JOIN twcs_reject_rows m USING (line)
            ORDER BY r.line, r.error_type = 'INVALID ENCODING' DESC, r.column_idx
        """)
    finally:
        con.unregister("twcs_reject_rows")
    breaks = [13, 10, *(strays[0][0], strays[1][0])] if strays else [13, 10]
    special = con.execute(f"""
        SELECT line, start, physical, error_type, error_message, csv_line FROM twcs_reject_first
        WHERE error_type = 'INVALID ENCODING'
           OR (error_type <> 'LINE SIZE OVER MAXIMUM' AND length(csv_line) < {_CSV_LINE_CUT}
               AND ({' OR '.join(f'contains(csv_line, chr({b}))' for b in breaks)}))
    """).fetchall()
    quarantined: list[tuple[int, str, str]] = []
    recovered: list[tuple[int, list[str]]] = []
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        quarantined.extend(_invalid_utf8(data, int(start), int(physical), csv_line)
                           for _, start, physical, error_type, _, csv_line in special
                           if error_type == "INVALID ENCODING")
    for _line, _start, physical, error_type, message, csv_line in special:
        if error_type == "INVALID ENCODING":
            continue
        text = rec.restore(csv_line, strays[0].decode(), strays[1].decode()) if strays else csv_line
        records, first_kept = rec.reread(text, delimiter, len(names))
        recovered.extend((int(physical) + offset, fields) for offset, fields in records)
        reason = f"malformed CSV row ({error_type.lower()}): {message}"
        if first_kept:
            quarantined.append((int(physical), f"{reason} ({rec.SWALLOWED.format(n=len(records))})",
                                rec.first_lines(text, 1)[: rec.RAW_LIMIT]))
        elif not records:
            hint = f" ({rec.STRAY_HINT.format(width=len(names))})" if strays and csv_line != text else ""
            quarantined.append((int(physical), reason + hint, text[: rec.RAW_LIMIT]))
    special_lines = pa.table({"line": pa.array([int(r[0]) for r in special], pa.int64())})
    con.register("twcs_special_lines", special_lines)
    raw = rec.restore_sql("csv_line", *strays) if strays else "csv_line"
    try:
        count = len(con.execute(f"""
            INSERT INTO stg_quarantine
            SELECT {run_id}, physical, NULL, 'malformed CSV row (' || lower(error_type) || '): ' || error_message,
                   left({raw}, {rec.RAW_LIMIT})
            FROM twcs_reject_first WHERE line NOT IN (SELECT line FROM twcs_special_lines)
            RETURNING 1
        """).fetchall())
    finally:
        con.unregister("twcs_special_lines")
    con.execute("DROP TABLE twcs_reject_first")
    if quarantined:
        lines, reasons, raws = zip(*quarantined, strict=True)
        con.register("twcs_quarantined", pa.table({"line": pa.array(lines, pa.int64()), "reason": reasons,
                                                   "raw": raws}))
        try:
            con.execute(f"INSERT INTO stg_quarantine SELECT {run_id}, line, NULL, reason, raw FROM twcs_quarantined")
        finally:
            con.unregister("twcs_quarantined")
    if recovered:
        _stage_recovered(con, run_id, names, recovered)
    return count + len(quarantined)


#: DuckDB keeps at most this much of a rejected row's text; a cut row is not read again.
_CSV_LINE_CUT = 10_000


def _invalid_utf8(data: mmap.mmap, start: int, physical: int, csv_line: str) -> tuple[int, str, str]:
    """(line, reason, raw) of a row DuckDB rejected as not UTF-8, naming the byte and its line."""
    size = min(len(csv_line.encode()) + 64, rec.MAX_RECORD_BYTES)  # the row, whose bad bytes DuckDB replaced
    row = data[start:start + size]
    lines = rec.count_breaks(csv_line) + 1
    raw = rec.first_lines(row.decode("utf-8", errors="backslashreplace"), lines)
    bad = rec.first_invalid_utf8(row)
    if bad is None:
        return physical, rec.invalid_utf8_reason(physical, None), raw[: rec.RAW_LIMIT]
    offset, byte = bad
    line = physical + rec.count_breaks(row[:offset].decode("utf-8", errors="replace"))
    return physical, rec.invalid_utf8_reason(line, byte), raw[: rec.RAW_LIMIT]


def _stage_recovered(con: duckdb.DuckDBPyConnection, run_id: int, names: list[str],
                     records: list[tuple[int, list[str]]]) -> None:
    """Validate and stage recovered records with the same SQL as the parsed ones, with their line."""
    columns = {name: pa.array([fields[i] for _, fields in records], pa.string()) for i, name in enumerate(names)}
    columns["_line"] = pa.array([line for line, _ in records], pa.int64())
    con.register("twcs_recovered", pa.table(columns))
    try:
        con.execute(_stage_sql(run_id, "twcs_recovered", line="_line"))
    finally:
        con.unregister("twcs_recovered")


def _id_sql(column: str) -> str:
    """A whole-number id column as BIGINT, NULL when it is not one (a pandas ``.0`` is accepted).

    Plain digits (the text an unsigned cast writes back unchanged) skip the regular expression,
    which pays for the stray-break scan of :func:`stage`; anything else takes it, so the result
    is the same for every input.
    """
    regex = f"TRY_CAST(regexp_extract({column}, '{ID_PATTERN}', 1) AS BIGINT)"
    return (f"CASE WHEN CAST(TRY_CAST({column} AS UBIGINT) AS VARCHAR) = {column} "
            f"THEN TRY_CAST({column} AS BIGINT) ELSE {regex} END")


def _number_records(con: duckdb.DuckDBPyConnection, run_id: int) -> int:
    """Give the run's staged rows their record numbers (the n-th parsed data row); return how many.

    The staging INSERT keeps the file's order (DuckDB preserves insertion order by default, also
    when it parses in parallel), so the row ids of one run are consecutive in file order. Numbering
    from them afterwards instead of with ``row_number() OVER ()`` in the INSERT lets the parse and
    the validation run on every core (the window made the whole pipeline single-threaded).
    """
    (first, last, count), = con.execute(
        f"SELECT min(rowid), max(rowid), count(*) FROM stg_tweets WHERE run_id = {run_id}").fetchall()
    if not count:
        return 0
    if last - first + 1 != count:
        raise RuntimeError(f"staged rows of run {run_id} are not consecutive; cannot number them in file order")
    con.execute(f"UPDATE stg_tweets SET record_no = rowid - {first} + 1 WHERE run_id = {run_id}")
    return int(count)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


STAGED_COLUMNS = ("run_id", "record_no", "line", "tweet_id", "author_id", "inbound", "created_at", "text",
                  "in_reply_to_tweet_id", "reason", "raw")
"""What a TWCS record fills of ``stg_tweets``; the corpus has no language, counts or API conversation ids."""
STAGED_ALIASES = (("author_handle", "author_id"),)
"""TWCS names each author once, by its handle (``sprintcare``) or a number: the handle is the id."""

_STAGE_SQL = "INSERT INTO stg_tweets (" + ", ".join(STAGED_COLUMNS) + ")" + r"""
WITH typed AS (
    SELECT *,
           {id_tweet_id} AS id_v,
           nullif(CASE WHEN contains(author_id, '.') THEN regexp_replace(trim(author_id), '^(\d+)\.0+$', '\1')
                       ELSE trim(author_id) END, '') AS author_v,
           CASE inbound WHEN 'True' THEN true WHEN 'False' THEN false  -- as written, without lower/trim
                ELSE CASE lower(trim(inbound)) WHEN 'true' THEN true WHEN '1' THEN true
                WHEN 'false' THEN false WHEN '0' THEN false END END AS inbound_v,
           -- as written first: trimming 3 M timestamps copied each one (0.2 s); only a miss is trimmed
           CASE WHEN try_strptime(created_at, '{time_format}') IS NOT NULL
                THEN try_strptime(created_at, '{time_format}')
                ELSE coalesce(try_strptime(trim(created_at), '{time_format}'),
                              TRY_CAST(trim(created_at) AS TIMESTAMPTZ)) END AS created_v,
           {id_in_response_to_tweet_id} AS parent_v,
           CASE WHEN in_response_to_tweet_id IS NULL THEN true ELSE trim(in_response_to_tweet_id) = '' END
               AS no_parent
    FROM {source}
), checked AS (
    SELECT *, CASE
        WHEN id_v IS NULL THEN 'invalid tweet_id ' || coalesce('''' || tweet_id || '''', '(empty)')
                               || ': expected a whole number'
        WHEN author_v IS NULL THEN 'missing author_id'
        WHEN inbound_v IS NULL THEN 'invalid inbound ' || coalesce('''' || inbound || '''', '(empty)')
                                    || ': expected True or False'
        WHEN created_v IS NULL THEN 'unparseable created_at ' || coalesce('''' || created_at || '''', '(empty)')
                                    || ': expected like ''Tue Oct 31 22:10:47 +0000 2017'''
        WHEN parent_v IS NULL AND NOT no_parent THEN 'invalid in_response_to_tweet_id '''
                                    || in_response_to_tweet_id || ''': expected a whole number'
        END AS reason
    FROM typed
)
SELECT {run_id}, 0, {line}, id_v, author_v, inbound_v, created_v, text, parent_v, reason,
       CASE WHEN reason IS NOT NULL THEN left(concat_ws(',', tweet_id, author_id, inbound, created_at, text,
                                                        in_response_to_tweet_id), 4000) END
FROM checked
"""
