"""Twitter API v2 JSONL (as twarc2 writes it) -> the staging tables of :mod:`carepulse.etl.staging`.

Two line shapes are accepted, mixed freely in one file (see ``docs/jsonl.md``):

* a **page**: one API response per line, ``{"data": [...], "includes": {...}, "meta": {...},
  "errors": [...], "__twarc": {...}}``. Every tweet in ``data`` and every tweet in
  ``includes.tweets`` is a record (included tweets are real tweets, e.g. the parent a reply answers;
  the shared loader dedupes them);
* a **flattened tweet**: one tweet object per line with its expansions inlined (``author``,
  ``in_reply_to_user``, ``referenced_tweets`` entries carrying the referenced tweet). One record.

Files can hold millions of tweets, so nothing here loops over tweets in Python. Python only cuts
the file into blocks of whole lines and hands each block to DuckDB as an Arrow array (offsets into
the block's bytes, no copy per line); DuckDB parses the JSON set-wise, each line once and each
page item once. Python never sees an id either: snowflake ids (up to 19 digits) would be silently
rounded by a float, so they are taken as text from the JSON and cast ``VARCHAR -> BIGINT`` in SQL.

Every record ends up in exactly one of ``stg_tweets`` or ``stg_quarantine``, so the loader's
``records_read == loaded + duplicate + quarantined`` holds by construction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pyarrow as pa

from carepulse.core import progress
from carepulse.etl.runs import check_readable, check_text

SOURCE: Final = "jsonl"

log = logging.getLogger(__name__)

RAW_LIMIT: Final = 2000
"""Quarantined raw text is cut to this many characters: enough to see what went wrong."""

BLOCK_BYTES: Final = 64 * 1024 * 1024
"""Bytes read per block. Bounds memory for multi-gigabyte files; a longer line grows its block."""

BATCH_BYTES: Final = 1024 * 1024
"""Target size of one Arrow record batch, so DuckDB can parse batches on several threads."""

_UTF8_BOM: Final = b"\xef\xbb\xbf"

_USER: Final = '{"id":"VARCHAR","username":"VARCHAR","name":"VARCHAR","public_metrics":{"followers_count":"BIGINT"}}'
"""A user object, read the same way wherever it appears (includes.users, inlined author, ...)."""

_RECORD_SCHEMA: Final = (
    # tweet fields. Ids are VARCHAR: a JSON string gives its content, a JSON integer its exact digits,
    # anything else (a float, an object) text that the id pattern then refuses.
    '{"id":"VARCHAR","author_id":"VARCHAR","created_at":"VARCHAR","text":"VARCHAR","lang":"VARCHAR",'
    '"conversation_id":"VARCHAR","in_reply_to_user_id":"VARCHAR","username":"VARCHAR",'
    '"public_metrics":{"retweet_count":"BIGINT","reply_count":"BIGINT","like_count":"BIGINT",'
    '"quote_count":"BIGINT"},'
    '"referenced_tweets":[{"type":"VARCHAR","id":"VARCHAR","author":' + _USER + ',"tweet":{"author":'
    + _USER + "}}],"
    '"author":' + _USER + ',"in_reply_to_user":' + _USER + ',"entities":{"mentions":[' + _USER + "]},"
    '"__twarc":{"retrieved_at":"VARCHAR"},'
    # page fields. "JSON" keeps the raw value, so an array, a single object and a scalar can be told
    # apart afterwards (a list type would turn a misshapen value into a silent NULL).
    '"data":"JSON","includes":{"tweets":"JSON","users":[' + _USER + ']},"meta":"JSON","errors":"JSON"}'
)
"""One schema for a whole line and for a page item, so every line and every item is parsed once
and flattened lines and page items come out with the same struct type."""

_WS: Final = "' \t\r\n'"
"""JSON whitespace, as a SQL literal. Lines keep their line end (Arrow offsets are contiguous)."""

_IS_OBJECT: Final = r"regexp_matches({}, '^[ \t\r\n]*\{{')"
"""SQL template: is this valid JSON text an object? ``from_json`` gives a struct of NULLs for an array."""

_ID_RE: Final = "'[0-9]{1,19}'"
"""A 64-bit tweet id: digits only, so floats ('1.8e+18'), signs and blanks are refused."""

_TS_RE: Final = r"'\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)'"
"""ISO 8601 with an explicit zone. A zoneless time would be read in the session's time zone: a guess."""


def _timestamptz(expr: str) -> str:
    """SQL for an API timestamp string -> TIMESTAMPTZ, NULL when it is not ISO 8601 with a zone."""
    return f"CASE WHEN regexp_full_match({expr}, {_TS_RE}) THEN try_cast({expr} AS TIMESTAMPTZ) END"


def _bigint_id(expr: str) -> str:
    """SQL for an id string -> BIGINT, NULL unless it is 1-19 digits that fit a signed 64-bit integer."""
    return f"CASE WHEN regexp_full_match({expr}, {_ID_RE}) THEN try_cast({expr} AS BIGINT) END"


def _digits_or_null(expr: str) -> str:
    """SQL keeping a user id only when it looks like one (digits), so a float's text never passes."""
    return f"CASE WHEN regexp_full_match({expr}, '[0-9]+') THEN {expr} END"


def _quoted(expr: str) -> str:
    """SQL quoting a bad value for a quarantine reason, cut short: the raw column has the rest."""
    return f"'''' || left({expr}, 100) || ''''"


def _json_items(expr: str) -> str:
    """SQL turning a page's ``data`` (or ``includes.tweets``) into a list of JSON items.

    An array gives its elements; a single object (the single-tweet lookup endpoint) is one item;
    null or absent is none; any other scalar is one item that will be quarantined as not a tweet.
    """
    return (
        f"CASE WHEN {expr} IS NULL OR {expr} = 'null' THEN []::JSON[] "
        f"WHEN left({expr}, 1) = '[' THEN from_json({expr}, '[\"JSON\"]') "
        f"ELSE [{expr}]::JSON[] END"
    )


@dataclass(frozen=True)
class LineBlock:
    """Whole lines of the file as an Arrow table ``(line, j, encoding_error)``.

    ``j`` holds each line's text including its line end; ``encoding_error`` is set (and ``j`` is the
    text with bad bytes replaced) for lines that are not valid UTF-8.
    """

    table: pa.Table
    size_bytes: int
    unterminated_last_line: int | None
    """Line number of the file's last line when it has no line end (a likely cut-off write)."""


def read_line_blocks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[LineBlock]:
    """Yield the file as blocks of whole physical lines, numbered from 1.

    Only ``\\n`` ends a line, so line numbers match ``wc -l`` and editors, a ``\\r`` before it is
    just JSON whitespace, and characters like U+2028 inside JSON strings do not split a record.
    A UTF-8 byte order mark at the start of the file is dropped.
    """
    lines_before = 0
    carry = b""
    at_file_start = True
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(block_bytes)
            eof = not chunk
            buf = carry + chunk if carry else chunk
            if eof:
                body, carry = buf, b""
            else:
                cut = buf.rfind(b"\n") + 1
                if cut == 0:  # one line longer than a block: keep reading until it ends
                    carry = buf
                    continue
                body, carry = buf[:cut], buf[cut:]
            size = len(body)
            if at_file_start:  # body holds the whole first line, so a BOM is never split
                body = body.removeprefix(_UTF8_BOM)
                at_file_start = False
            if body:
                table = _lines_table(body, lines_before)
                unterminated = lines_before + table.num_rows if eof and not body.endswith(b"\n") else None
                yield LineBlock(table, size, unterminated)
                lines_before += table.num_rows
            if eof:
                return


def _lines_table(body: bytes, lines_before: int) -> pa.Table:
    """Arrow table over ``body`` (whole lines) without copying each line into a Python object."""
    newline_ends = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 0x0A) + 1
    ends = newline_ends if body.endswith(b"\n") else np.append(newline_ends, len(body))
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    count = len(offsets) - 1
    text = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(body))
    encoding_error: pa.Array
    try:
        text.validate(full=True)  # checks UTF-8 in one vectorised pass
        encoding_error = pa.nulls(count, pa.large_string())
    except pa.ArrowInvalid:
        text, encoding_error = _repair_utf8(body, offsets)
    line_numbers = pa.array(np.arange(lines_before + 1, lines_before + count + 1, dtype=np.int64))
    table = pa.table({"line": line_numbers, "j": text, "encoding_error": encoding_error})
    rows_per_batch = max(1, count * BATCH_BYTES // max(1, len(body)))
    return pa.Table.from_batches(table.to_batches(max_chunksize=rows_per_batch))


def _repair_utf8(body: bytes, offsets: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Slow path for a block with invalid UTF-8: mark the bad lines, keep a readable copy for ``raw``.

    ``check_text`` already refused files whose start is not UTF-8; this handles a stray bad byte
    deep inside a large export, which should cost one quarantined line, not the whole file.
    """
    texts: list[str] = []
    errors: list[str | None] = []
    for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
        raw = body[start:end]
        try:
            texts.append(raw.decode("utf-8"))
            errors.append(None)
        except UnicodeDecodeError as exc:
            texts.append(raw.decode("utf-8", errors="replace"))
            errors.append(f"line is not valid UTF-8 (byte {exc.start + 1} of the line)")
    return pa.array(texts, pa.large_string()), pa.array(errors, pa.large_string())


def stage(con: duckdb.DuckDBPyConnection, path: Path, run_id: int) -> int:
    """Parse one twarc2 JSONL file into ``stg_tweets``/``stg_users``/``stg_quarantine``.

    Returns the number of records read: every tweet of every page (``data`` and
    ``includes.tweets``), every flattened tweet line, and every line that is neither (quarantined).
    Blank lines are not records. Raises :class:`carepulse.core.errors.DataError` for files that cannot
    be JSONL at all (missing, empty, binary, not UTF-8 at the start) before anything is staged.
    """
    check_readable(path)
    check_text(path, "Twitter API v2 JSONL")
    records = 0
    api_errors = 0
    try:
        with progress.bar(path.stat().st_size, f"jsonl {path.name}", unit="B") as bar:
            for block in read_line_blocks(path, BLOCK_BYTES):
                con.register("_jl_block", block.table)
                try:
                    block_records, block_errors = _stage_block(
                        con, run_id, records, block.unterminated_last_line
                    )
                finally:
                    con.unregister("_jl_block")
                records += block_records
                api_errors += block_errors
                bar.update(block.size_bytes)
    finally:
        for table in ("_jl_lines", "_jl_first", "_jl_tweets"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    if api_errors:
        log.info(
            "%s: ignored %d API error entries (e.g. deleted or protected tweets); they are not records",
            path, api_errors,
        )
    log.info("%s: %d records read", path, records)
    return records


def _stage_block(con: duckdb.DuckDBPyConnection, run_id: int, records_before: int,
                 unterminated_line: int | None) -> tuple[int, int]:
    """Stage one block of lines; return (records in it, API error entries in it)."""
    _classify_lines(con)
    _number_records(con, records_before)
    _parse_tweets(con)
    _insert_quarantine(con, run_id, unterminated_line)
    _insert_users(con, run_id)
    _insert_tweets(con, run_id)
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open and then refuses unregister().
    ((block_records, api_errors),) = con.execute(
        "SELECT coalesce(sum(n_records), 0), coalesce(sum(n_api_errors), 0) FROM _jl_lines"
    ).fetchall()
    return int(block_records), int(api_errors)


def _classify_lines(con: duckdb.DuckDBPyConnection) -> None:
    """One JSON parse per line: blank, bad (one quarantined record), page, or flattened tweet.

    A page keeps its ``data`` and ``includes.tweets`` items (still JSON text), its users and
    ``__twarc.retrieved_at``; a flattened tweet keeps its parsed struct; a bad line its reason and raw
    text. ``n_records`` is how many records the line holds (0 for a blank line).
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _jl_lines AS
        WITH parsed AS (
            SELECT line, j, encoding_error,
                   CASE WHEN encoding_error IS NULL THEN try(from_json(j, '{_RECORD_SCHEMA}')) END AS p
            FROM _jl_block
        ),
        kinds AS (
            SELECT *,
                CASE
                    WHEN encoding_error IS NOT NULL THEN 'bad'
                    WHEN p IS NULL AND trim(j, {_WS}) = '' THEN 'blank'
                    WHEN p IS NULL OR NOT {_IS_OBJECT.format("j")} THEN 'bad'
                    WHEN p.data IS NOT NULL OR p.meta IS NOT NULL OR p.errors IS NOT NULL
                         OR p.includes.tweets IS NOT NULL OR p.includes.users IS NOT NULL THEN 'page'
                    WHEN p.id IS NOT NULL OR p.text IS NOT NULL OR p.author_id IS NOT NULL
                         OR p.created_at IS NOT NULL OR p.username IS NOT NULL THEN 'tweet'
                    ELSE 'bad'
                END AS kind
            FROM parsed
        ),
        shaped AS (
            SELECT line, kind,
                CASE WHEN kind = 'bad' THEN coalesce(
                    encoding_error,
                    CASE WHEN NOT json_valid(j) THEN 'line is not valid JSON' END,
                    CASE WHEN NOT {_IS_OBJECT.format("j")}
                         THEN 'line is neither an API page nor a tweet: it is a JSON '
                              || CASE json_type(j) WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string'
                                     WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null'
                                     ELSE 'number' END
                    END,
                    'line is neither an API page (no data/includes/meta/errors) '
                    || 'nor a tweet (no id/text/author_id/created_at)'
                ) END AS reason,
                CASE WHEN kind = 'bad' THEN left(rtrim(j, {_WS}), {RAW_LIMIT}) END AS raw,
                CASE WHEN kind = 'tweet' THEN p END AS f,
                CASE WHEN kind = 'page' THEN {_json_items("p.data")} END AS data_items,
                CASE WHEN kind = 'page' THEN {_json_items("p.includes.tweets")} END AS included_items,
                CASE WHEN kind = 'page' THEN p.includes.users END AS users,
                CASE WHEN kind = 'page' THEN p.__twarc.retrieved_at END AS retrieved_at,
                CASE WHEN kind <> 'page' OR p.errors IS NULL OR p.errors = 'null' THEN 0
                     WHEN left(p.errors, 1) = '[' THEN json_array_length(p.errors)
                     ELSE 1 END AS n_api_errors
            FROM kinds
        )
        SELECT *,
            CASE kind WHEN 'blank' THEN 0
                      WHEN 'page' THEN len(data_items) + len(included_items)
                      ELSE 1 END AS n_records
        FROM shaped
        """
    )


def _number_records(con: duckdb.DuckDBPyConnection, records_before: int) -> None:
    """``first_record`` of every line: records are numbered in file order, data before includes.

    A narrow table of its own, because a window over ``_jl_lines`` would drag every parsed column
    through the sort.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _jl_first AS
        SELECT line, $before + sum(n_records) OVER (ORDER BY line) - n_records + 1 AS first_record
        FROM _jl_lines
        """,
        {"before": records_before},
    )


def _parse_tweets(con: duckdb.DuckDBPyConnection) -> None:
    """Every record that should be a tweet, typed, with ``reason`` naming what is wrong (NULL if good).

    Records are the flattened tweet lines (already parsed) plus every item of a page's ``data`` and
    then ``includes.tweets`` (parsed here, once each). ``raw`` is kept only for bad page items; a bad
    flattened line's raw text is taken from the block when it is quarantined.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _jl_tweets AS
        WITH items AS (
            SELECT line, 'data' AS origin, item - 1 AS offset_in_line, item, t, retrieved_at
            FROM (SELECT line, retrieved_at, unnest(data_items) AS t, generate_subscripts(data_items, 1) AS item
                  FROM _jl_lines WHERE kind = 'page')
            UNION ALL
            SELECT line, 'includes.tweets', n_data + item - 1, item, t, retrieved_at
            FROM (SELECT line, retrieved_at, len(data_items) AS n_data,
                         unnest(included_items) AS t, generate_subscripts(included_items, 1) AS item
                  FROM _jl_lines WHERE kind = 'page')
        ),
        candidates AS (
            SELECT line, 'line' AS origin, 0 AS offset_in_line, 0 AS item, NULL::VARCHAR AS t,
                   f.__twarc.retrieved_at AS retrieved_at, f
            FROM _jl_lines WHERE kind = 'tweet'
            UNION ALL
            SELECT line, origin, offset_in_line, item, t, retrieved_at,
                   CASE WHEN t IS NOT NULL AND {_IS_OBJECT.format("t")} THEN from_json(t, '{_RECORD_SCHEMA}') END
            FROM items
        ),
        typed AS (
            SELECT c.*, n.first_record + c.offset_in_line AS record_no,
                {_bigint_id("f.id")} AS tweet_id,
                {_digits_or_null("f.author_id")} AS author_id,
                {_timestamptz("f.created_at")} AS created_at,
                [r.id FOR r IN f.referenced_tweets IF r.type = 'replied_to'][1] AS replied_to
            FROM candidates AS c JOIN _jl_first AS n USING (line)
        ),
        checked AS (
            SELECT *,
                {_bigint_id("replied_to")} AS in_reply_to_tweet_id,
                {_bigint_id("f.conversation_id")} AS api_conversation_id
            FROM typed
        )
        SELECT line, record_no, origin, tweet_id, author_id, created_at, in_reply_to_tweet_id,
            api_conversation_id, f.text, f.lang,
            {_digits_or_null("f.in_reply_to_user_id")} AS in_reply_to_user_id,
            f.public_metrics, f.author, f.in_reply_to_user, f.referenced_tweets,
            f.entities.mentions AS mentions, {_timestamptz("retrieved_at")} AS seen_at,
            CASE WHEN origin = 'line' THEN '' ELSE origin || '[' || (item - 1) || ']: ' END || CASE
                WHEN f IS NULL THEN 'not a tweet object: ' || coalesce(left(t, 100), 'null')
                WHEN f.username IS NOT NULL AND f.text IS NULL AND f.author_id IS NULL
                    THEN 'a user object, not a tweet (is this a users or followers export?)'
                WHEN f.id IS NULL THEN 'tweet has no id'
                WHEN tweet_id IS NULL THEN 'tweet id is not a 64-bit integer: ' || {_quoted("f.id")}
                WHEN f.author_id IS NULL THEN 'tweet ' || f.id || ' has no author_id'
                WHEN author_id IS NULL
                    THEN 'tweet ' || f.id || ': author_id is not an integer id: ' || {_quoted("f.author_id")}
                WHEN f.created_at IS NULL THEN 'tweet ' || f.id || ' has no created_at'
                WHEN created_at IS NULL
                    THEN 'tweet ' || f.id || ': created_at is not an ISO 8601 time with a zone: '
                         || {_quoted("f.created_at")}
                WHEN replied_to IS NOT NULL AND in_reply_to_tweet_id IS NULL
                    THEN 'tweet ' || f.id || ': replied_to id is not a 64-bit integer: ' || {_quoted("replied_to")}
                WHEN f.conversation_id IS NOT NULL AND api_conversation_id IS NULL
                    THEN 'tweet ' || f.id || ': conversation_id is not a 64-bit integer: '
                         || {_quoted("f.conversation_id")}
            END AS reason,
            CASE WHEN reason IS NOT NULL AND origin <> 'line'
                 THEN left(rtrim(coalesce(t, 'null'), {_WS}), {RAW_LIMIT}) END AS raw
        FROM checked
        """
    )


def _insert_quarantine(con: duckdb.DuckDBPyConnection, run_id: int, unterminated_line: int | None) -> None:
    """Quarantine bad lines (one record each) and bad tweets, with line, record number and reason."""
    cut_off_hint = "; the file's last line has no line end, so the file was probably cut off"
    con.execute(
        f"""
        INSERT INTO stg_quarantine (run_id, line, record_no, reason, raw)
        WITH bad_tweets AS (
            SELECT line, record_no, origin, reason, raw FROM _jl_tweets WHERE reason IS NOT NULL
        ),
        bad_line_text AS (
            SELECT line, left(rtrim(j, {_WS}), {RAW_LIMIT}) AS raw FROM _jl_block
            WHERE line IN (SELECT line FROM bad_tweets WHERE origin = 'line')
        )
        SELECT $run_id, l.line, n.first_record,
               l.reason || CASE WHEN l.line = $unterminated AND l.reason = 'line is not valid JSON'
                                THEN $hint ELSE '' END,
               l.raw
        FROM _jl_lines AS l JOIN _jl_first AS n USING (line)
        WHERE l.kind = 'bad'
        UNION ALL
        SELECT $run_id, b.line, b.record_no, b.reason, coalesce(b.raw, t.raw)
        FROM bad_tweets AS b LEFT JOIN bad_line_text AS t ON b.origin = 'line' AND t.line = b.line
        ORDER BY 3
        """,
        {"run_id": run_id, "unterminated": unterminated_line or -1, "hint": cut_off_hint},
    )


def _insert_users(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """Every user object seen: a page's ``includes.users`` and users inlined in (flattened) tweets.

    Inlined users are the tweet's ``author`` and ``in_reply_to_user``, the authors of referenced
    tweets (``referenced_tweets[].author`` as twarc2 merges them, or ``referenced_tweets[].tweet.author``),
    and mention entries that carry a full user (twarc2 merges the user into the mention). A bare
    mention (id and username only) is an entity, not a user object, and is skipped. Each source is
    its own filtered branch: far cheaper than building a per-tweet list of users.
    """
    con.execute(
        f"""
        INSERT INTO stg_users (run_id, author_id, handle, name, followers_count, seen_at)
        WITH seen AS (
            SELECT u, {_timestamptz("l.retrieved_at")} AS seen_at
            FROM _jl_lines AS l, unnest(l.users) AS x(u) WHERE l.kind = 'page'
            UNION ALL
            SELECT author, seen_at FROM _jl_tweets WHERE author IS NOT NULL
            UNION ALL
            SELECT in_reply_to_user, seen_at FROM _jl_tweets WHERE in_reply_to_user IS NOT NULL
            UNION ALL
            SELECT unnest([r.author, r.tweet.author]), seen_at
            FROM (SELECT unnest(referenced_tweets) AS r, seen_at FROM _jl_tweets
                  WHERE referenced_tweets IS NOT NULL)
            WHERE r.author IS NOT NULL OR r.tweet.author IS NOT NULL
            UNION ALL
            SELECT m, seen_at
            FROM (SELECT unnest(mentions) AS m, seen_at FROM _jl_tweets WHERE mentions IS NOT NULL)
            WHERE m.name IS NOT NULL
        )
        SELECT $run_id, u.id, u.username, u.name, u.public_metrics.followers_count, seen_at
        FROM seen WHERE u.id IS NOT NULL AND u.id <> ''
        """,
        {"run_id": run_id},
    )


def _insert_tweets(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """Good tweets into ``stg_tweets``, the author's handle and followers from the same page's users
    (or the inlined ``author``). ``inbound`` stays NULL: brands come from ``--account`` and the config."""
    con.execute(
        """
        INSERT INTO stg_tweets (
            run_id, record_no, line, tweet_id, author_id, author_handle, inbound, created_at, text, lang,
            in_reply_to_tweet_id, in_reply_to_user_id, api_conversation_id, author_followers,
            retweet_count, reply_count, like_count, quote_count)
        WITH page_users AS (
            SELECT DISTINCT ON (l.line, u.id) l.line, u.id AS author_id, u.username,
                   u.public_metrics.followers_count AS followers
            FROM _jl_lines AS l, unnest(l.users) AS x(u)
            WHERE l.kind = 'page' AND u.id IS NOT NULL
        )
        SELECT $run_id, t.record_no, t.line, t.tweet_id, t.author_id,
               coalesce(pu.username, t.author.username), NULL,
               t.created_at, t.text, t.lang, t.in_reply_to_tweet_id, t.in_reply_to_user_id,
               t.api_conversation_id, coalesce(pu.followers, t.author.public_metrics.followers_count),
               t.public_metrics.retweet_count, t.public_metrics.reply_count,
               t.public_metrics.like_count, t.public_metrics.quote_count
        FROM _jl_tweets AS t
        LEFT JOIN page_users AS pu ON pu.line = t.line AND pu.author_id = t.author_id
        WHERE t.reason IS NULL
        ORDER BY t.record_no
        """,
        {"run_id": run_id},
    )
