"""Conversations and threads, rebuilt incrementally as the agreed definitions say.

Only conversations touched by new tweets are rebuilt. The touched set is closed under parent
links: a new tweet touches the conversation of its parent, the conversations of existing tweets
that reply to it (a late-arriving parent merges them), its API ``conversation_id``, every
conversation of an author who just became a brand account, and, when brands were added, the
threads attributed by mention or not at all. Roots are found by pointer jumping on numpy arrays
(``log2(depth)`` vectorised passes, :mod:`carepulse.etl.transform.graph`), not a Python walk per tweet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carepulse.etl import columns
from carepulse.etl.transform import graph
from carepulse.warehouse import settle, values
from carepulse.warehouse.delta import STORED_ORDER, delete, own, replying_tweets, target

log = logging.getLogger(__name__)

ARROW_BATCH_ROWS = 122_880

@dataclass(frozen=True)
class RebuildStats:
    conversations: int
    threads: int
    tweets: int
    seconds: float = 0.0
    cycles_broken: int = 0
    loaded_by_run: dict[int, int] = field(default_factory=dict)


NEW_COLUMNS = (
    "tweet_id, run_id, author_id, author_handle, is_brand, created_at, lang, in_reply_to_tweet_id, "
    "api_conversation_id, author_followers"
)
EXISTING_SQL = f"""
SELECT NULL::BIGINT AS stg_row, * REPLACE (
           is_brand OR author_id IN (SELECT author_id FROM accounts WHERE author_id IS NOT NULL)
           OR lower(author_handle) IN (SELECT handle_key FROM accounts) AS is_brand),
       parent_id AS old_parent_id, conversation_id AS old_conversation_id, is_brand AS old_is_brand,
       first_reply_at AS old_first_reply_at, first_reply_id AS old_first_reply_id
FROM (SELECT {NEW_COLUMNS}, parent_id, conversation_id, first_reply_at, first_reply_id FROM tweets
      WHERE conversation_id IN (SELECT conversation_id FROM touched_convs))
"""
TOUCHED_BY_TWEETS = (
    "SELECT t.conversation_id FROM tweets t JOIN work_new n ON t.tweet_id = n.in_reply_to_tweet_id",
    "SELECT t.conversation_id FROM {replying} t JOIN work_new n ON t.in_reply_to_tweet_id = n.tweet_id",
    "SELECT t.conversation_id FROM tweets t JOIN work_new n ON t.conversation_id = n.api_conversation_id",
)
"""The conversations new tweets touch: their parents', those of the loaded tweets replying to them (``replying``:
``tweets``, or in a delta load the base's list of orphans and the delta, ``delta.replying_tweets``), their API
conversations'."""
TOUCHED_BY_NEW_BRANDS = (
    "SELECT t.conversation_id FROM tweets t JOIN new_brand_authors b "
    "ON t.author_id = b.author_id OR lower(t.author_handle) = b.handle_key",
    "SELECT conversation_id FROM threads WHERE coalesce(account_rule, 'none') IN ('mention', 'none') "
    "AND EXISTS (SELECT 1 FROM new_brand_authors)",
)
"""And when the load registered brands: their authors' conversations, and threads attributed by mention or not at
all."""
SLICE_ROWS = 1_000_000
"""Staged records per pass of :func:`rebuild`.

A big file is folded in as consecutive slices of its staged rows, each one an incremental load
into what the slices before it wrote, so the graph passes' numpy and Arrow columns (about 200
bytes per tweet) and the join that writes the tweets hold one slice, not the file: a 10 M-tweet
load's peak memory stays about that of a 3 M one. The size is tuned with the loader's DuckDB limit
(``warehouse.store.WRITE_MEMORY_LIMIT``): smaller slices leave DuckDB the memory that keeps a 3 M load's
staging from spilling. Each slice is exactly the incremental rebuild that loads of new data run every
day, so slicing changes no result (tests hold a sliced load equal to a whole one)."""


def _touched_parts(new_brands: bool, replying: str = "tweets") -> list[str]:
    return [part.format(replying=replying) for part in (*TOUCHED_BY_TWEETS, *(TOUCHED_BY_NEW_BRANDS if new_brands
                                                                              else ()))]


def _touched_sql(new_brands: bool) -> str:
    return (f"CREATE OR REPLACE TEMP TABLE touched_convs AS SELECT DISTINCT conversation_id FROM "
            f"({' UNION ALL '.join(_touched_parts(new_brands))}) WHERE conversation_id IS NOT NULL")


TOUCHED_SQL = _touched_sql(new_brands=True)  # the whole rule, as the lake reads it (etl.lake_sql)


def _find_touched(con: duckdb.DuckDBPyConnection, new_brands: bool) -> None:
    """``touched_convs``: the rule of :data:`TOUCHED_SQL`, one statement per part.

    In one statement, DuckDB's common-subplan optimizer may read the ``tweets`` view once for every part that
    names it and keep all its rows, instead of pushing the batch's ids into each scan: a load into 10 M tweets
    then spent 0.46 s here instead of 0.07 s (which plan it picks turned on the other parts). Apart, every scan
    gets the batch's ids (benchmarks/RESULTS.md). The parts for new brands find nothing without one, and are left
    out then (their two scans: 8 ms at 10 M)."""
    if new_brands and not con.execute("SELECT EXISTS (SELECT 1 FROM new_brand_authors)").fetchall()[0][0]:
        new_brands = False
    con.execute("CREATE OR REPLACE TEMP TABLE touched_found (conversation_id BIGINT)")
    for part in _touched_parts(new_brands, replying_tweets(con)):
        con.execute(f"INSERT INTO touched_found SELECT conversation_id FROM ({part}) WHERE conversation_id IS NOT NULL")
    con.execute("CREATE OR REPLACE TEMP TABLE touched_convs AS SELECT DISTINCT conversation_id FROM touched_found")
    con.execute("DROP TABLE touched_found")


def rebuild(con: duckdb.DuckDBPyConnection, source: str,
            say: Callable[[str], None] | None = None) -> RebuildStats:
    """Fold the new tweets into ``tweets`` and rebuild ``threads`` of every touched conversation.

    Expects the view ``new_tweets``: the new tweets' narrow columns (no text) with ``stg_row``, the
    row of ``stg_tweets`` each came from; ``new_brand_authors(handle_key, author_id)`` lists accounts
    that just became brands (their conversations change roles, and unanswered threads may now
    mention a brand). The staged rows are folded in :data:`SLICE_ROWS` at a time; ``say`` hears
    which slice runs. Drops ``stg_tweets`` at the end: its text has then gone into ``tweets``.
    """
    started = time.perf_counter()
    (low, high), = con.execute("SELECT min(rowid), max(rowid) FROM stg_tweets").fetchall()
    if low is not None and high - low >= SLICE_ROWS:
        # staged rows have transaction-local row ids until a commit; slices are ranges of the final ones
        settle(con)
        (low, high), = con.execute("SELECT min(rowid), max(rowid) FROM stg_tweets").fetchall()
    bounds = [(int(first), min(int(first) + SLICE_ROWS, int(high) + 1) - 1)
              for first in range(int(low), int(high) + 1, SLICE_ROWS)] if low is not None else [(0, -1)]
    done = _Done()
    fresh = not con.execute("SELECT count(*) FROM (SELECT 1 FROM tweets LIMIT 1)").fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS rebuilt_convs")
    for number, (first, last) in enumerate(bounds):
        if say is not None and len(bounds) > 1:
            say(f"rebuilding conversations and threads, slice {number + 1} of {len(bounds)}")
        if number:
            settle(con)  # lets DuckDB drop the previous slice's Arrow columns
        # brands registered by this load were brands for every slice; only the loaded tweets need re-reading
        _rebuild_slice(con, source, first, last, new_brands=number == 0, done=done)
    con.execute("DROP TABLE stg_tweets")
    if len(bounds) == 1:
        (conversations,), = con.execute("SELECT count(*) FROM rebuilt_convs").fetchall()
        threads = done.threads
    elif fresh:
        # every tweet came from this load, so every conversation and thread that stands was rebuilt: counted
        # from the tables alone (a 10 M-tweet first load: 0.76 s for the general statement below, 0.18 s)
        conversations, threads = con.execute(
            "SELECT (SELECT count(DISTINCT conversation_id) FROM tweets), (SELECT count(*) FROM threads)"
        ).fetchall()[0]
    else:
        # a conversation two slices touched was written twice, and one a late parent merged into another
        # is gone: count what stands
        conversations, threads = con.execute("""
            WITH rebuilt AS (SELECT DISTINCT conversation_id FROM rebuilt_convs
                             WHERE conversation_id IN (SELECT conversation_id FROM tweets))
            SELECT (SELECT count(*) FROM rebuilt),
                   (SELECT count(*) FROM threads WHERE conversation_id IN (SELECT conversation_id FROM rebuilt))
        """).fetchall()[0]
    con.execute("DROP TABLE rebuilt_convs")
    return RebuildStats(conversations=int(conversations), threads=int(threads), tweets=done.tweets,
                        seconds=time.perf_counter() - started, cycles_broken=done.cycles_broken,
                        loaded_by_run=done.loaded_by_run)


@dataclass
class _Done:
    """What the slices of one rebuild did, summed."""

    threads: int = 0
    tweets: int = 0
    cycles_broken: int = 0
    loaded_by_run: dict[int, int] = field(default_factory=dict)


def _rebuild_slice(con: duckdb.DuckDBPyConnection, source: str, first: int, last: int, new_brands: bool,
                   done: _Done) -> None:
    """One incremental rebuild: the new tweets staged in rows ``first`` to ``last`` and their conversations.

    Threads are built before the tweets are written, so the wide columns leave memory before the
    biggest write; each new tweet's text then goes from ``stg_tweets`` into ``tweets`` once.
    """
    new = con.sql("SELECT * FROM new_tweets WHERE stg_row BETWEEN $first AND $last",
                  params={"first": first, "last": last}).to_arrow_table()
    con.register("work_new", new)
    _find_touched(con, new_brands)
    con.unregister("work_new")
    existing = con.sql(EXISTING_SQL).to_arrow_table()
    n_new = new.num_rows
    run_ids = columns.values(new["run_id"], np.int32)
    if len(run_ids):
        first_run = int(run_ids.min())
        for offset, loaded in enumerate(np.bincount(run_ids - first_run)):  # runs are few and consecutive
            if loaded:
                done.loaded_by_run[first_run + offset] = done.loaded_by_run.get(first_run + offset, 0) + int(loaded)
    stg_row = columns.values(new["stg_row"])
    loaded = existing.select(new.column_names)
    if not loaded.schema.equals(new.schema):  # a cast imports pyarrow.compute (columns.SMALL_ROWS)
        loaded = loaded.cast(new.schema)
    work = pa.concat_tables([new, loaded])
    del new
    linked, authors = _link_and_code(work)
    threads = _rebuild_threads(con, _thread_input(work, linked, authors), first, last)
    del work
    computed = linked.computed()
    done.threads += threads
    done.tweets += len(linked.tweet_id)
    done.cycles_broken += linked.links.cycles_broken
    del linked
    _insert_new(con, source, stg_row, {name: column.slice(0, n_new) for name, column in computed.items()},
                first, last)
    _update_existing(con, existing, {name: column.slice(n_new) for name, column in computed.items()})
    con.execute("DROP TABLE touched_convs")


@dataclass
class _Linked:
    """The graph passes' answer for the work rows (new tweets first, then the touched loaded ones)."""

    tweet_id: npt.NDArray[np.int64]
    is_brand: npt.NDArray[np.bool_]
    links: graph.Links
    conversation: npt.NDArray[np.int64]
    reply_by: pa.Array | pa.ChunkedArray  # the first brand reply's handle (null where none)

    @property
    def has_parent(self) -> npt.NDArray[np.bool_]:
        return self.links.parent >= 0

    @property
    def replied(self) -> npt.NDArray[np.bool_]:
        return self.links.first_reply >= 0

    def computed(self) -> dict[str, pa.Array | pa.ChunkedArray]:
        """The columns the loader owns in ``tweets``, one value per work row."""
        parent_at, reply_at = np.maximum(self.links.parent, 0), np.maximum(self.links.first_reply, 0)
        return {
            "is_brand": columns.array(self.is_brand, pa.bool_()),
            "parent_id": columns.array(self.tweet_id[parent_at], pa.int64(), ~self.has_parent),
            "conversation_id": columns.array(self.conversation, pa.int64()),
            "first_reply_at": columns.array(self.links.first_reply_us, pa.timestamp("us", tz="UTC"), ~self.replied),
            "first_reply_id": columns.array(self.tweet_id[reply_at], pa.int64(), ~self.replied),
            "first_reply_by": self.reply_by,
        }


def _link(work: pa.Table) -> _Linked:
    tweet_id = columns.values(work["tweet_id"])
    reply_to, api_conv = work["in_reply_to_tweet_id"], work["api_conversation_id"]
    is_brand = columns.bools(work["is_brand"])
    links = graph.link(tweet_id, columns.values(reply_to), columns.valid(reply_to), columns.values(work["created_at"]),
                       is_brand)
    conversation = np.where(columns.valid(api_conv), columns.values(api_conv), tweet_id[links.root])
    replied = links.first_reply >= 0
    reply_by = columns.take(work["author_handle"], np.maximum(links.first_reply, 0), ~replied)
    return _Linked(tweet_id, is_brand, links, conversation, reply_by)


def _link_and_code(work: pa.Table) -> tuple[_Linked, npt.NDArray[np.int32]]:
    """The graph passes and the authors' dictionary codes (:func:`_thread_input`), the codes on a second thread.

    Both are numpy and Arrow work that runs without the GIL (sorts, searches, gathers, a hash encoding), and
    neither needs the other: on two cores the codes (0.1 s for 2 M tweets) come free beside the graph passes
    (0.45 s), while DuckDB waits for both.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="carepulse-codes") as pool:
        authors = pool.submit(columns.codes, work["author_id"])
        linked = _link(work)
        return linked, authors.result()


def _thread_input(work: pa.Table, linked: _Linked, authors: npt.NDArray[np.int32]) -> pa.Table:
    """The narrow columns :data:`THREADS_SQL` reads, the customer of each reply (its parent's author) included.

    Authors go in as dictionary codes (``author_code``, ``parent_author_code``): grouping and
    joining threads on an integer instead of the author id string is cheaper in DuckDB, and the
    parent's author is a numpy gather instead of an Arrow take of 3 M strings.
    """
    parent_at, has_parent = np.maximum(linked.links.parent, 0), linked.has_parent
    return pa.table({
        "tweet_id": work["tweet_id"], "conversation_id": columns.array(linked.conversation, pa.int64()),
        "author_id": work["author_id"], "author_handle": work["author_handle"],
        "is_brand": columns.array(linked.is_brand, pa.bool_()), "created_at": work["created_at"],
        "lang": work["lang"], "author_followers": work["author_followers"],
        "author_code": columns.array(authors, pa.int32()),
        "parent_author_code": columns.array(authors[parent_at], pa.int32(), ~has_parent),
        "parent_is_brand": columns.array(linked.is_brand[parent_at], pa.bool_(), ~has_parent),
        "tkey": columns.array(linked.links.rank, pa.int32()), "stg_row": work["stg_row"],
    })


def _rebuild_threads(con: duckdb.DuckDBPyConnection, thread_input: pa.Table, first: int, last: int) -> int:
    """Replace the threads of every touched conversation; return the threads written. Their conversations are
    added to the temporary table ``rebuilt_convs`` (for the count the load reports). ``first`` and ``last``:
    the slice's staged rows, the only ones a new customer tweet's text is read from."""
    con.register("work", _chunked(thread_input))
    try:
        if con.execute("SELECT count(*) FROM (SELECT 1 FROM threads LIMIT 1)").fetchall()[0][0]:
            delete(con, "threads", "conversation_id IN (SELECT conversation_id FROM touched_convs "
                   "UNION SELECT conversation_id FROM work)")
        inserted = con.execute(THREADS_SQL.format(threads=target(con, "threads"), order=STORED_ORDER["threads"]),
                               {"first_row": first, "last_row": last}).fetchall()
        con.execute("CREATE TEMP TABLE IF NOT EXISTS rebuilt_convs (conversation_id BIGINT)")
        con.execute("INSERT INTO rebuilt_convs SELECT DISTINCT conversation_id FROM work")
    finally:
        con.unregister("work")
    return int(inserted[0][0]) if inserted else 0


def _chunked(table: pa.Table) -> pa.Table:
    """The same table cut into row-group-sized batches (no copy): DuckDB scans an Arrow table one
    batch per thread, so a table built from whole numpy columns would be scanned by one thread."""
    return pa.Table.from_batches(table.to_batches(max_chunksize=ARROW_BATCH_ROWS), schema=table.schema)


def _insert_new(con: duckdb.DuckDBPyConnection, source: str, stg_row: npt.NDArray[np.int64],
                computed: dict[str, pa.Array], first: int, last: int) -> None:
    """Write the new tweets, text included, from ``stg_tweets`` joined to their computed columns by row id.

    A hash join on the staging row id keeps the scan parallel, so DuckDB compresses and writes on
    every core (a POSITIONAL JOIN would scan on one), and the staging table never holds the computed
    columns: six columns that were NULL for every row until the end took 170 MB of a 3 M-tweet load's
    memory limit (then 700 MB), and an UPDATE of 3 M rows to fill them. Staging rows that are not loaded (quarantined,
    duplicates) have no computed row and are skipped by the join; the slice's row range lets the scan
    skip the other slices' row groups.
    """
    con.register("computed", _chunked(pa.table({"stg_row": columns.array(stg_row, pa.int64()), **computed})))
    try:
        con.execute(
            f"""
            INSERT INTO {target(con, "tweets")}
            SELECT s.tweet_id, CAST($source AS VARCHAR), s.author_id, coalesce(s.author_handle, u.handle, s.author_id),
                   c.is_brand, s.created_at, s.text, s.lang, s.in_reply_to_tweet_id, s.in_reply_to_user_id,
                   s.api_conversation_id, c.parent_id, c.conversation_id,
                   coalesce(s.author_followers, u.followers_count), s.retweet_count, s.reply_count, s.like_count,
                   s.quote_count, s.run_id, s.record_no, c.first_reply_at, c.first_reply_id, c.first_reply_by
            FROM stg_tweets s JOIN computed c ON c.stg_row = s.rowid
            LEFT JOIN users u ON u.author_id = s.author_id
            WHERE s.rowid BETWEEN $first AND $last
            """,
            {"source": source, "first": first, "last": last},
        )
    finally:
        con.unregister("computed")


def _update_existing(con: duckdb.DuckDBPyConnection, existing: pa.Table,
                     computed: dict[str, pa.Array | pa.ChunkedArray]) -> None:
    """Rewrite the links of already loaded tweets whose conversation changed (usually few)."""
    if existing.num_rows == 0:
        return
    relinked = pa.table({"tweet_id": existing["tweet_id"], **computed})
    for name in ("old_parent_id", "old_conversation_id", "old_is_brand", "old_first_reply_at", "old_first_reply_id"):
        relinked = relinked.append_column(name, existing[name])
    con.register("relinked", relinked)
    changed = """(w.old_parent_id IS DISTINCT FROM w.parent_id OR w.old_conversation_id <> w.conversation_id
               OR w.old_is_brand <> w.is_brand OR w.old_first_reply_at IS DISTINCT FROM w.first_reply_at
               OR w.old_first_reply_id IS DISTINCT FROM w.first_reply_id)"""
    own(con, "tweets", f"tweet_id IN (SELECT w.tweet_id FROM relinked w WHERE {changed})")
    con.execute(
        f"""
        UPDATE {target(con, "tweets")} AS tweets
        SET parent_id = w.parent_id, conversation_id = w.conversation_id, is_brand = w.is_brand,
                          first_reply_at = w.first_reply_at, first_reply_id = w.first_reply_id,
                          first_reply_by = w.first_reply_by
        FROM relinked w
        WHERE tweets.tweet_id = w.tweet_id AND {changed}
        """
    )
    con.unregister("relinked")


_ANSWERED, _UNANSWERED = values.quoted(values.ANSWERED), values.quoted(values.UNANSWERED)

# A thread's row from its customer's tweets ``c``, its conversation ``v``, the brand's replies to that customer ``r``
# and the brand account the customer mentioned ``m``: where a thread's account, status and first response are
# defined. The lake's rebuild (etl/lake_sql.py) builds the same four relations in SQL Spark also runs, and reads
# this same row from them.
THREAD_ROW = f"""CAST(c.conversation_id AS VARCHAR) || '-' || c.customer_id AS thread_id,
       c.conversation_id, c.customer_id, c.customer_handle,
       coalesce(r.responder, v.earliest_brand, m.mentioned) AS account,
       CASE WHEN r.responder IS NOT NULL THEN 'first_response'
            WHEN v.earliest_brand IS NOT NULL THEN 'earliest_brand_tweet'
            WHEN m.mentioned IS NOT NULL THEN 'mention' END AS account_rule,
       CASE WHEN r.first_response_at IS NULL THEN {_UNANSWERED} ELSE {_ANSWERED} END AS status,
       c.started_at, c.first_customer_tweet_id, r.first_response_at, r.first_response_tweet_id,
       epoch(r.first_response_at) - epoch(c.started_at) AS first_response_seconds,
       c.customer_tweets, coalesce(r.brand_replies, 0) AS brand_replies, v.conversation_tweets,
       c.last_customer_tweet_at, r.last_brand_reply_at, v.last_tweet_at, c.lang, c.customer_followers
"""
THREADS_SQL = """
INSERT INTO {threads}
WITH customer_tweets AS (
    SELECT * FROM work WHERE NOT is_brand
),
customers AS (
    SELECT conversation_id, author_code AS customer_code, any_value(author_id) AS customer_id,
           arg_min(author_handle, tkey) AS customer_handle,
           min(created_at) AS started_at,
           arg_min(tweet_id, tkey) AS first_customer_tweet_id,
           arg_min(lang, tkey) AS lang,
           count(*) AS customer_tweets,
           max(created_at) AS last_customer_tweet_at,
           max(author_followers) AS customer_followers,
           arg_min_null(stg_row, tkey) AS first_stg_row
    FROM customer_tweets GROUP BY conversation_id, author_code
),
replies AS (
    SELECT conversation_id, parent_author_code AS customer_code, tweet_id, created_at, author_handle, tkey
    FROM work WHERE is_brand AND NOT parent_is_brand
),
responses AS (
    SELECT r.conversation_id, r.customer_code,
           count(*) AS brand_replies,
           max(r.created_at) AS last_brand_reply_at,
           min(r.created_at) FILTER (WHERE r.created_at >= c.started_at) AS first_response_at,
           arg_min(r.tweet_id, r.tkey) FILTER (WHERE r.created_at >= c.started_at)
               AS first_response_tweet_id,
           arg_min(r.author_handle, r.tkey) FILTER (WHERE r.created_at >= c.started_at)
               AS responder
    FROM replies r JOIN customers c USING (conversation_id, customer_code)
    GROUP BY r.conversation_id, r.customer_code
),
conversations AS (
    SELECT conversation_id, count(*) AS conversation_tweets, max(created_at) AS last_tweet_at,
           arg_min(author_handle, tkey) FILTER (WHERE is_brand) AS earliest_brand
    FROM work GROUP BY conversation_id
),
unmentioned AS (
    SELECT c.conversation_id, c.customer_code, c.first_customer_tweet_id, c.first_stg_row
    FROM customers c
    JOIN conversations v ON v.conversation_id = c.conversation_id
    LEFT JOIN responses r ON r.conversation_id = c.conversation_id AND r.customer_code = c.customer_code
    WHERE r.first_response_at IS NULL AND v.earliest_brand IS NULL
),
needs_mention AS (
    SELECT conversation_id, customer_code, regexp_extract_all(text, '@(\\w+)', 1) AS handles
    FROM (SELECT u.conversation_id, u.customer_code, s.text
          FROM unmentioned u JOIN stg_tweets s ON s.rowid = u.first_stg_row
          WHERE s.rowid BETWEEN $first_row AND $last_row  -- the slice's rows: other slices' texts stay unread
          UNION ALL
          SELECT u.conversation_id, u.customer_code, t.text
          FROM unmentioned u JOIN tweets t ON t.tweet_id = u.first_customer_tweet_id
          WHERE u.first_stg_row IS NULL)
),
mentions AS (
    SELECT conversation_id, customer_code, arg_min(a.handle, m.pos) AS mentioned
    FROM (SELECT conversation_id, customer_code, unnest(handles) AS handle,
                 unnest(range(1, len(handles) + 1)) AS pos
          FROM needs_mention) m
    JOIN accounts a ON a.handle_key = lower(m.handle)
    GROUP BY conversation_id, customer_code
)
SELECT """ + THREAD_ROW + """FROM customers c
JOIN conversations v USING (conversation_id)
LEFT JOIN responses r USING (conversation_id, customer_code)
LEFT JOIN mentions m USING (conversation_id, customer_code)
ORDER BY {order}
"""


def rebuild_touched(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Rebuild the threads of the conversations in ``touched_convs`` from their remaining tweets alone;
    (threads, conversations).

    :func:`rebuild` starts from new tweets. When tweets are taken away (an erasure) there are none: the
    same steps then run on the touched conversations' remaining tweets: the graph passes (parents, roots,
    first replies), the thread aggregation, and the update of the tweets' computed columns.
    """
    existing = con.sql(EXISTING_SQL).to_arrow_table()
    if existing.num_rows == 0:
        delete(con, "threads", "conversation_id IN (SELECT conversation_id FROM touched_convs)")
        return 0, 0
    con.execute("DROP TABLE IF EXISTS rebuilt_convs")
    work = existing.select(["stg_row", *(c.strip() for c in NEW_COLUMNS.split(","))])
    linked, authors = _link_and_code(work)
    con.execute("CREATE OR REPLACE TEMP TABLE stg_tweets (text VARCHAR)")  # the rebuild's mention lookup
    try:
        rebuilt = _rebuild_threads(con, _thread_input(work, linked, authors), 0, -1)  # no staged rows
        _update_existing(con, existing, linked.computed())
        (conversations,), = con.execute("SELECT count(*) FROM rebuilt_convs").fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS stg_tweets; DROP TABLE IF EXISTS rebuilt_convs")
    return rebuilt, int(conversations)
