"""Loads whose cost follows the delta: an immutable base file and one small delta file beside it.

A load used to copy the whole published file, load into the copy and rename it over the original: safe
(readers never wait, a crash publishes nothing), but a 10 k-tweet batch into 3 M tweets copied and synced
240 MB, and into 30 M gigabytes. Now a small load writes only a **delta**:

* ``<db>`` is the **base**: a complete warehouse, never written after it is published.
* ``<db>.delta`` is the **delta**: a DuckDB file with the same tables, holding only what loads since the base
  wrote, and for every keyed table (:data:`KEYED`) a ``<table>__replaced`` list of the base keys whose rows it
  replaces or deletes. The small tables (:data:`WHOLE`) are held whole in the delta; the logs
  (:data:`APPENDED`) are appended to.
* Both carry ``meta.base_id``; a delta counts only together with the base whose id it carries. Every full
  write (a compaction, an erasure, a first load) publishes a base with a new id, so a delta left beside a newer
  base is recognised as folded in already and ignored.

A reader sees ``base minus replaced keys, plus delta`` through views named like the tables (:func:`views`),
so no query changes. A load attaches the base read-only, copies the delta (kilobytes to megabytes), works
through the same views, writes into its delta copy (:func:`target`, after :func:`own` has brought the base
rows it changes into the delta), and publishes the copy by an atomic rename. When the delta outgrows
:data:`COMPACT_SHARE` of the base, the load folds it into a new base afterwards (:func:`fold`; the old cost,
paid once per many loads). docs/warehouse.md has the failure modes.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path

import duckdb

from carepulse.warehouse import values

KEYED: dict[str, str] = {"tweets": "tweet_id", "threads": "conversation_id", "crm_cases": "case_id",
                         "users": "author_id"}
"""Each keyed table and the key its replaced rows are listed by. Threads go by conversation: a load rebuilds a
conversation's threads whole, and an integer key is a cheaper anti-join for every reader than the text thread id."""
STORED_ORDER: dict[str, str] = {"threads": "account, started_at"}
"""How a table's rows are laid out when a load or a compaction writes them: threads in runs of one account, so a
dashboard filtered to one account reads only the row groups that hold it (docs/warehouse.md, ``threads``)."""
SHARED_KEYS: frozenset[str] = frozenset({"threads"})
"""Keyed tables whose key several rows share: their rows are replaced a whole key at a time."""
APPENDED: tuple[str, ...] = ("ingest_runs", "quarantine")
WHOLE: tuple[str, ...] = ("meta", "accounts", "pull_state", "saved_views", "dashboard_users")
TABLES: tuple[str, ...] = (*KEYED, *APPENDED, *WHOLE)

WORK_DB = "carepulse_delta"  # the writer's delta copy, attached read-write
BASE_DB = "carepulse_base"  # the published base, attached read-only beside it
BASE_ID = "base_id"

DELTA_MAX_SHARE = 0.1
"""A load goes to the delta when its input files weigh at most this share of the base file (a 10 k-tweet CSV is
2 MB against 240 MB for a 3 M-tweet base); a bigger batch rewrites the base, which costs about what it loads."""
COMPACT_SHARE = 0.1
"""A delta holding more rows (its keyed tables' rows and replaced keys) than this share of the base's keyed rows is
folded into a new base after the load that grew it: every reader pays an anti-join per keyed table for the delta,
and the next load copies it. Rows, not bytes: a small DuckDB file weighs megabytes of mostly empty blocks."""
ROW_GROUP_ROWS = 2_048
"""Rows per row group in the delta file, DuckDB's smallest (its vector size), where its default is 122,880.

A load appends to the delta's tables and replaces some of their rows, and DuckDB's checkpoint at the commit
rewrites every row group the load changed, merging partly filled ones: with the default size that was most of
the delta (a 10 k-tweet load into a delta of 40 k tweets in two groups of 20,000 left one group of 50,003 rows;
its commit took 111-196 ms against 50 ms into an empty delta), so commits grew with the delta, not the batch.
With groups of 2,048 rows a checkpoint rewrites little more than the rows the load wrote: fifteen loads of
10 k tweets in a row into a 3 M base, commit 9-41 ms (median 25) against 36-385 ms (median 78). The price is
compression: the delta file is a quarter to a third bigger (33.6 MB against 24.4 MB after those fifteen loads),
a load copies it (0.35 ms per MB here), and folding it into a new base took about 0.4 s longer (2.84-3.18 s
against 2.38-2.83 s for the same 29 loads), once per compaction. Readers do not mind: the option shapes only
what a writer writes, and `metrics --by account` over a 150 k-tweet delta took no longer."""
ORPHANS = "base_orphans"
"""The base's tweets that reply to a tweet the base does not hold (``tweet_id, in_reply_to_tweet_id,
conversation_id``, in the order of the ids they reply to), written with every new base (:func:`stamp_new_base`).

A load must find the loaded tweets that reply to one of its new tweets (a parent arriving late merges their
conversation into its own). A new tweet is in no table yet, so a base tweet replying to it had no parent when the
base was written: its ``parent_id`` is NULL (docs/warehouse.md), and it is listed here. A base tweet a load changed
since is hidden and read from the delta instead, whose tweets are few. So a delta load looks for those replies in
this list and the delta (:func:`replying_tweets`) instead of reading the reply ids of every tweet of the base: 35 ms
of a load into 10 M generated tweets, growing with the base, against 3 ms for their list of 60 k tweets, whose order
lets DuckDB skip all but the row groups of the newest ids (benchmarks/RESULTS.md)."""
ANSWERED = f"status = {values.quoted(values.ANSWERED)}"
"""The condition on ``threads`` of an answered thread, as a load's report counts them (:data:`STORED_COUNTS`)."""
BASE_COUNTS = "base_counts"
"""Counts of the base's rows a load reports and DuckDB cannot read from its metadata (``name, n``; the names and
conditions in :data:`STORED_COUNTS`), written with every new base (:func:`stamp_new_base`). The answered threads
of a 10 M-tweet base took a read of the status of its 2.5 M threads in every load, 10 ms growing with the base;
written once with the base, which never changes after, they are a lookup. A base written before this table
existed is counted as before (:func:`count`)."""
STORED_COUNTS: dict[str, tuple[str, str]] = {"answered_threads": ("threads", ANSWERED)}
"""name -> (table, condition) of each count :data:`BASE_COUNTS` holds."""
MODE_ENV = "CAREPULSE_LOAD_MODE"
"""``auto`` (default: by :data:`DELTA_MAX_SHARE`), ``delta`` (every load into an existing base) or ``full`` (every
load rewrites the base; one file, as before, for operators whose backups copy one file)."""


def delta_path(db: Path) -> Path:
    return db.with_name(db.name + ".delta")


def replaced(table: str) -> str:
    return f"{table}__replaced"


_DELTA_LOADS: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_LISTS_ORPHANS: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_STORES_COUNTS: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


def begin(con: duckdb.DuckDBPyConnection) -> None:
    """Mark ``con`` as a delta load's connection (the writer does, once the base and the delta copy are attached):
    :func:`target`, :func:`own`, :func:`delete` and :func:`count` then write and count through the delta. A set
    lookup, where asking DuckDB's catalog took a millisecond per statement of the load. Whether the base lists its
    orphans (:data:`ORPHANS`) and stores its counts (:data:`BASE_COUNTS`) is asked once here: a base written
    before it did has neither."""
    _DELTA_LOADS.add(con)
    found = {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = $db AND schema_name = 'main' "
        "AND table_name IN ($orphans, $counts)", {"db": BASE_DB, "orphans": ORPHANS, "counts": BASE_COUNTS}
    ).fetchall()}
    for name, marked in ((ORPHANS, _LISTS_ORPHANS), (BASE_COUNTS, _STORES_COUNTS)):
        if name in found:
            marked.add(con)
        else:
            marked.discard(con)


def _is_delta(con: duckdb.DuckDBPyConnection) -> bool:
    return con in _DELTA_LOADS


def target(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The name a load writes ``table`` under: the delta copy's table when the connection is a delta load
    (the unqualified name is then the read view over base and delta), else the table itself."""
    return f"{WORK_DB}.main.{table}" if _is_delta(con) else table


def own(con: duckdb.DuckDBPyConnection, table: str, where: str, params: Sequence[object] = ()) -> None:
    """Bring the base rows ``where`` selects (a condition on the table's columns) into the delta, before a load
    updates or deletes them.

    The keys go into ``<table>__replaced`` (the views then hide the base rows) and the rows into the delta's
    table, where the load's ``UPDATE``, ``DELETE`` or ``ON CONFLICT`` finds them. Rows already in the delta are
    left alone. A no-op outside a delta load, where the table is the whole table.
    """
    if not _is_delta(con):
        return
    key = KEYED[table]
    base = f"{BASE_DB}.main.{table}"
    # a key that is not unique (threads by conversation) is replaced whole: every base row of it comes along
    chosen = f"{key} IN (SELECT {key} FROM {base} WHERE {where})" if table in SHARED_KEYS else f"({where})"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE carepulse_owned AS
        SELECT * FROM {base} b
        WHERE {chosen}
          AND b.{key} NOT IN (SELECT {key} FROM {WORK_DB}.main.{replaced(table)})
    """, list(params))
    con.execute(f"INSERT INTO {WORK_DB}.main.{replaced(table)} SELECT DISTINCT {key} FROM carepulse_owned")
    con.execute(f"INSERT INTO {WORK_DB}.main.{table} BY NAME SELECT * FROM carepulse_owned")
    con.execute("DROP TABLE carepulse_owned")


def delete(con: duckdb.DuckDBPyConnection, table: str, where: str, params: Sequence[object] = ()) -> None:
    """``DELETE FROM table WHERE where`` for a load: in a delta, the base rows' keys are listed as replaced
    (reading only the key and the condition's columns, not whole rows) and the delta's own rows deleted.

    For a table whose key is shared by several rows (:data:`SHARED_KEYS`), ``where`` must select whole keys (the
    loader deletes threads by conversation): a listed key hides every base row that has it.
    """
    if _is_delta(con):
        key = KEYED[table]
        con.execute(f"""
            INSERT INTO {WORK_DB}.main.{replaced(table)}
            SELECT DISTINCT {key} FROM {BASE_DB}.main.{table}
            WHERE ({where}) AND {key} NOT IN (SELECT {key} FROM {WORK_DB}.main.{replaced(table)})
        """, list(params))
    con.execute(f"DELETE FROM {target(con, table)} WHERE {where}", list(params))


def count(con: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE") -> str:
    """SQL for the number of rows of ``table`` (keyed or appended) ``where`` holds, as the connection sees it.

    In a delta load that is the base's count, less its rows the delta replaces, plus the delta's: the base count
    comes from metadata when ``where`` is TRUE, and the replaced rows are found by their key column alone; a
    count through the view would read the base's keys and the condition's columns for every row. Of a table
    whose key is unique, every row counts and ``where`` is TRUE, the replaced rows are as many as the listed
    keys (:func:`own` and :func:`delete` list each base key once): no read of the base at all (the tweets of a
    10 M-tweet base: 24 ms a load).
    """
    if not _is_delta(con):
        return f"(SELECT count(*) FROM {table} WHERE {where})"
    base = f"{BASE_DB}.main.{table}"
    counted = f"(SELECT count(*) FROM {base} WHERE {where})"
    stored = next((name for name, asked in STORED_COUNTS.items() if asked == (table, where)), None)
    if stored is not None and con in _STORES_COUNTS:
        counted = f"(SELECT n FROM {BASE_DB}.main.{BASE_COUNTS} WHERE name = {values.quoted(stored)})"
    hidden = ""
    if table in KEYED and table not in SHARED_KEYS and where == "TRUE":
        hidden = f" - (SELECT count(*) FROM {WORK_DB}.main.{replaced(table)})"
    elif table in KEYED:
        key = KEYED[table]
        hidden = (f" - (SELECT count(*) FROM {base} WHERE ({where}) "
                  f"AND {key} IN (SELECT {key} FROM {WORK_DB}.main.{replaced(table)}))")
    return f"({counted}{hidden} + (SELECT count(*) FROM {WORK_DB}.main.{table} WHERE {where}))"


def prepare(con: duckdb.DuckDBPyConnection, fresh: bool) -> None:
    """Give a fresh delta copy (current database) its key lists and the base's small tables whole (a kept delta
    has both)."""
    if fresh:
        for table, key in KEYED.items():
            con.execute(f"CREATE TABLE IF NOT EXISTS {WORK_DB}.main.{replaced(table)} AS "
                        f"SELECT {key} FROM {BASE_DB}.main.{table} LIMIT 0")
        for table in WHOLE:
            con.execute(f"DELETE FROM {WORK_DB}.main.{table}")
            con.execute(f"INSERT INTO {WORK_DB}.main.{table} BY NAME SELECT * FROM {BASE_DB}.main.{table}")


def _counts(con: duckdb.DuckDBPyConnection, delta: str) -> dict[str, int]:
    names = [*KEYED, *APPENDED, *(replaced(t) for t in KEYED)]
    # one UNION ALL of counts plans in a millisecond; one SELECT of ten scalar subqueries took 25 ms
    sql = " UNION ALL ".join(f"SELECT {i}, count(*) FROM {delta}.main.{name}" for i, name in enumerate(names))
    found = dict(con.execute(sql).fetchall())
    return {name: int(found[i]) for i, name in enumerate(names)}


def views(con: duckdb.DuckDBPyConnection, base: str, delta: str, *, temp: bool) -> None:
    """Define each table as a view over ``base`` and ``delta`` in the connection's current catalog.

    ``temp``: a writer's own views (its delta grows while it works, so every part is kept); a reader's are
    catalog views shared by its cursors, and leave out what its delta does not hold (a table the delta has no
    rows for reads the base alone, at no cost).
    """
    counts = None if temp else _counts(con, delta)
    kind = "TEMP VIEW" if temp else "VIEW"
    for table in TABLES:
        if table in WHOLE:
            body = f"SELECT * FROM {delta}.main.{table}"
        else:
            key = KEYED.get(table)
            base_part = f"SELECT * FROM {base}.main.{table}"
            if key and (counts is None or counts[replaced(table)]):
                base_part += f" WHERE {key} NOT IN (SELECT {key} FROM {delta}.main.{replaced(table)})"
            body = base_part
            if counts is None or counts[table]:
                body += f" UNION ALL BY NAME SELECT * FROM {delta}.main.{table}"
        con.execute(f"CREATE OR REPLACE {kind} {table} AS {body}")


def due(con: duckdb.DuckDBPyConnection, base: str, delta: str) -> bool:
    """Whether the delta has outgrown :data:`COMPACT_SHARE` of the base (counts come from table metadata)."""
    held = _counts(con, delta)
    sql = "SELECT " + " + ".join(f"(SELECT count(*) FROM {base}.main.{table})" for table in KEYED)
    return sum(held.values()) > COMPACT_SHARE * int(con.execute(sql).fetchall()[0][0])


def fold(con: duckdb.DuckDBPyConnection, delta: str) -> None:
    """Apply the delta attached as ``delta`` to the full copy in the current database (a compaction)."""
    for table, key in KEYED.items():
        con.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {delta}.main.{replaced(table)})")
        order = f" ORDER BY {STORED_ORDER[table]}" if table in STORED_ORDER else ""
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {delta}.main.{table}{order}")
    for table in APPENDED:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {delta}.main.{table}")
    for table in WHOLE:
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {delta}.main.{table}")


def base_id(con: duckdb.DuckDBPyConnection, alias: str) -> str | None:
    rows = con.execute(f"SELECT value FROM {alias}.main.meta WHERE key = $key", {"key": BASE_ID}).fetchall()
    return str(rows[0][0]) if rows and rows[0][0] else None


def stamp_new_base(con: duckdb.DuckDBPyConnection) -> None:
    """A new id for the base a full write publishes (deltas of the base it replaces no longer count), and the list
    of its orphans that delta loads read (:data:`ORPHANS`) and its counts (:data:`BASE_COUNTS`), all in the
    transaction that writes the base."""
    con.execute("INSERT OR REPLACE INTO meta VALUES ($key, $value)", {"key": BASE_ID, "value": uuid.uuid4().hex})
    con.execute(f"""CREATE OR REPLACE TABLE {ORPHANS} AS
                    SELECT tweet_id, in_reply_to_tweet_id, conversation_id FROM tweets
                    WHERE in_reply_to_tweet_id IS NOT NULL AND parent_id IS NULL
                    ORDER BY in_reply_to_tweet_id""")
    con.execute(f"CREATE OR REPLACE TABLE {BASE_COUNTS} (name VARCHAR PRIMARY KEY, n BIGINT NOT NULL)")
    for name, (table, where) in STORED_COUNTS.items():
        con.execute(f"INSERT INTO {BASE_COUNTS} SELECT $name, count(*) FROM {table} WHERE {where}", {"name": name})


def replying_tweets(con: duckdb.DuckDBPyConnection) -> str:
    """A relation (``tweet_id, in_reply_to_tweet_id, conversation_id``) holding every loaded tweet that can reply to
    a tweet no table holds yet: in a delta load whose base lists its orphans, that list less the tweets the delta
    hides, and the delta's tweets (:data:`ORPHANS`); otherwise ``tweets`` itself."""
    if con not in _LISTS_ORPHANS or not _is_delta(con):
        return "tweets"
    return (f"(SELECT tweet_id, in_reply_to_tweet_id, conversation_id FROM {BASE_DB}.main.{ORPHANS} "
            f"WHERE tweet_id NOT IN (SELECT tweet_id FROM {WORK_DB}.main.{replaced('tweets')}) "
            f"UNION ALL SELECT tweet_id, in_reply_to_tweet_id, conversation_id FROM {WORK_DB}.main.tweets)")
