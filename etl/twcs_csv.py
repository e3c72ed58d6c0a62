"""The public "Customer Support on Twitter" (TWCS) corpus layout.

Accepts the file as shipped, copies re-saved by pandas (a leading unnamed index column, ids as
floats like ``3.0``), comma or semicolon separators, LF/CRLF/CR line ends, a UTF-8 BOM, and text
with newlines, quotes, emoji and control characters. Parsing is one DuckDB ``read_csv`` with every
column as text; validation is set-wise SQL that gives each bad record a reason. Structurally
broken rows (an unterminated quote, too many columns) come from DuckDB's reject tables with their
physical line number; rows that parse but fail validation carry their record number (the n-th
parsed data row) and their fields as raw text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb

from carepulse import progress
from carepulse.errors import DataError
from etl.runs import check_readable, check_text

SOURCE = "twcs"
REQUIRED = ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
ID_PATTERN = r"^\s*(\d{1,19})(?:\.0+)?\s*$"


def _sniff(path: Path) -> tuple[list[str], str, str, float]:
    """Header names, delimiter, newline and an estimate of bytes per record, from the file's head."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    cr, lf = text.find("\r"), text.find("\n")
    cr_first = cr != -1 and (lf == -1 or cr < lf)
    newline = ("\\r\\n" if text[cr : cr + 2] == "\r\n" else "\\r") if cr_first else "\\n"
    first_line = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
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
    check_text(path, "a TWCS CSV file")
    names, delimiter, newline, bytes_per_record = _sniff(path)
    spec, _ = _column_spec(names)
    con.execute("DROP TABLE IF EXISTS twcs_rejects; DROP TABLE IF EXISTS twcs_reject_scans")
    path_sql = str(path).replace("'", "''")
    source = f"""
        read_csv('{path_sql}', columns = {spec}, auto_detect = false, header = true,
                 delim = '{delimiter}', quote = '"', escape = '"', new_line = '{newline}',
                 store_rejects = true, rejects_table = 'twcs_rejects', rejects_scan = 'twcs_reject_scans',
                 max_line_size = 16777216, parallel = true)
    """
    sql = (
        _STAGE_SQL.replace("{id_tweet_id}", _id_sql("tweet_id"))
        .replace("{id_in_response_to_tweet_id}", _id_sql("in_response_to_tweet_id"))
        .replace("{run_id}", str(run_id))
        .replace("{source}", source)
        .replace("{time_format}", TWITTER_TIME)
    )
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
    parsed = _number_records(con, run_id)
    rejected = len(
        con.execute(
            f"""
            INSERT INTO stg_quarantine
            SELECT {run_id}, line, NULL, 'malformed CSV row (' || lower(error_type) || '): ' || error_message,
                   left(csv_line, 4000)
            FROM (SELECT DISTINCT ON (line) line, error_type, error_message, csv_line
                  FROM twcs_rejects ORDER BY line, column_idx)
            RETURNING 1
            """
        ).fetchall()
    )
    return parsed + rejected


def _id_sql(column: str) -> str:
    """A whole-number id column as BIGINT, NULL when it is not one (a pandas ``.0`` is accepted)."""
    return f"TRY_CAST(regexp_extract({column}, '{ID_PATTERN}', 1) AS BIGINT)"


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


_STAGE_SQL = r"""
INSERT INTO stg_tweets (run_id, record_no, line, tweet_id, author_id, author_handle, inbound, created_at, text,
                        in_reply_to_tweet_id, reason, raw)
WITH typed AS (
    SELECT *,
           {id_tweet_id} AS id_v,
           nullif(CASE WHEN contains(author_id, '.') THEN regexp_replace(trim(author_id), '^(\d+)\.0+$', '\1')
                       ELSE trim(author_id) END, '') AS author_v,
           CASE lower(trim(inbound)) WHEN 'true' THEN true WHEN '1' THEN true
                WHEN 'false' THEN false WHEN '0' THEN false END AS inbound_v,
           coalesce(try_strptime(trim(created_at), '{time_format}'),
                    TRY_CAST(trim(created_at) AS TIMESTAMPTZ)) AS created_v,
           {id_in_response_to_tweet_id} AS parent_v,
           nullif(trim(coalesce(in_response_to_tweet_id, '')), '') IS NULL AS no_parent
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
SELECT {run_id}, 0, NULL, id_v, author_v, author_v, inbound_v, created_v, text, parent_v, reason,
       CASE WHEN reason IS NOT NULL THEN left(concat_ws(',', tweet_id, author_id, inbound, created_at, text,
                                                        in_response_to_tweet_id), 4000) END
FROM checked
"""
