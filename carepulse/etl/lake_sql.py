"""The statements of a lake ingest: the thread rebuild of :mod:`carepulse.etl.transform` as set-wise SQL.

The warehouse rebuild works on numpy arrays (:mod:`carepulse.etl.transform.graph`) because one machine holds
every touched tweet; a lake may not fit one machine, so here the same rules are DuckDB-dialect statements
that run unchanged on DuckDB and, translated by the engine seam (``spark_sql.to_spark``, which also runs
the portability check), on Spark. Each statement reads views the ingest registers (:mod:`.lake_ingest`):

* ``tweets``, ``threads``: the lake as published; ``accounts``: the accounts after this batch;
* ``batch``: the new tweets (every column of ``tweets``; the computed ones NULL), ``batch_ids``: every
  staged id (duplicates included, for the look-up of ids already in the lake), ``new_brand_authors``.

They differ from the warehouse's SQL only where a construct would not mean the same on Spark: the
mention rule numbers a customer's handles with ``generate_series`` instead of ``len()`` and two
``unnest`` in one SELECT, and every "earliest" orders by a rank within the conversation (the warehouse's
rank over the whole batch orders each conversation's tweets the same way).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlglot import exp, parse_one

from carepulse.etl.transform import threads

# The columns of ``tweets`` the rebuild computes (the rest come from the source file).
COMPUTED = ("is_brand", "parent_id", "conversation_id", "first_reply_at", "first_reply_id", "first_reply_by")

LAKE_TWINS = """
SELECT t.tweet_id, t.author_id, t.created_at, t.text, t.in_reply_to_tweet_id, t.run_id
FROM tweets t WHERE t.tweet_id IN (SELECT tweet_id FROM batch_ids)
"""


@lru_cache(maxsize=1)
def touched_sql() -> str:
    """The touched-conversation rule of the warehouse (``threads.TOUCHED_SQL``), read from its syntax tree
    with the batch in place of ``work_new``: one rule, not a copy that could drift."""
    create = parse_one(threads.TOUCHED_SQL, read="duckdb")
    select = create.expression
    for table in select.find_all(exp.Table):
        if table.name == "work_new":
            table.set("this", exp.to_identifier("batch"))
    return select.sql(dialect="duckdb")


_WORK_COLUMNS = ("tweet_id, author_id, author_handle, created_at, lang, in_reply_to_tweet_id, "
                 "api_conversation_id, author_followers, text")
# New tweets, then the loaded tweets of touched conversations with the brand flag of the new accounts
# (threads.EXISTING_SQL); joins instead of IN in the select list, which Spark accepts only in a filter.
WORK = f"""
SELECT {_WORK_COLUMNS}, is_brand, true AS is_new, CAST(NULL AS BIGINT) AS old_parent_id,
       CAST(NULL AS BIGINT) AS old_conversation_id, CAST(NULL AS BOOLEAN) AS old_is_brand,
       CAST(NULL AS TIMESTAMPTZ) AS old_first_reply_at, CAST(NULL AS BIGINT) AS old_first_reply_id
FROM batch
UNION ALL
SELECT {', '.join('t.' + c.strip() for c in _WORK_COLUMNS.split(','))},
       t.is_brand OR ba.author_id IS NOT NULL OR bh.handle_key IS NOT NULL AS is_brand, false AS is_new,
       t.parent_id, t.conversation_id, t.is_brand, t.first_reply_at, t.first_reply_id
FROM tweets t
LEFT JOIN (SELECT DISTINCT author_id FROM accounts WHERE author_id IS NOT NULL) ba ON ba.author_id = t.author_id
LEFT JOIN (SELECT DISTINCT handle_key FROM accounts) bh ON bh.handle_key = lower(t.author_handle)
WHERE t.conversation_id IN (SELECT conversation_id FROM touched)
"""


def parents_sql(cut: Sequence[int]) -> str:
    """Each work tweet's parent (the tweet it replies to, when present and not itself), and its jump
    state: ``anc`` its parent or itself, ``anc_parent`` the parent of ``anc``. ``cut``: tweets whose
    parent link is dropped, the earliest tweet of each reply cycle (as graph.link does)."""
    link = "p.tweet_id = w.in_reply_to_tweet_id AND p.tweet_id <> w.tweet_id"
    if cut:
        kept = exp.not_(exp.column("tweet_id", "w").isin(*(exp.Literal.number(int(i)) for i in cut)))
        link += " AND " + kept.sql(dialect="duckdb")
    return f"""
    SELECT w.tweet_id, p.tweet_id AS parent FROM work w LEFT JOIN work p ON {link}
    """


JUMP_START = """
SELECT j.tweet_id, j.parent, coalesce(j.parent, j.tweet_id) AS anc, p.parent AS anc_parent
FROM links j LEFT JOIN links p ON p.tweet_id = j.parent
"""
# One pointer-jumping pass: every tweet's ancestor becomes its ancestor's ancestor (distance halves).
JUMP = """
SELECT j.tweet_id, j.parent, a.anc, a.anc_parent FROM {source} j JOIN {source} a ON a.tweet_id = j.anc
"""
PENDING = "SELECT count(*) FROM {source} WHERE anc_parent IS NOT NULL"
STUCK = """
SELECT j.tweet_id, j.parent, w.created_at FROM {source} j JOIN work w ON w.tweet_id = j.tweet_id
WHERE j.anc_parent IS NOT NULL
"""

# Per work tweet: its parent, conversation (the API's, else the root's id), the parent's author and
# brand flag and time, and its rank in the conversation by (time, id): the order of every "earliest".
LINKED = """
SELECT w.*, j.parent AS parent_id, coalesce(w.api_conversation_id, j.anc) AS conversation_id,
       p.author_id AS parent_author_id, p.is_brand AS parent_is_brand, p.created_at AS parent_created_at,
       row_number() OVER (PARTITION BY coalesce(w.api_conversation_id, j.anc)
                          ORDER BY w.created_at, w.tweet_id) AS tkey
FROM work w JOIN {jumps} j ON j.tweet_id = w.tweet_id LEFT JOIN work p ON p.tweet_id = j.parent
"""
# Each tweet's first brand reply (graph.link): a brand tweet answering a customer tweet, not stamped before it.
COMPUTED_SQL = """
WITH first_replies AS (
    SELECT parent_id AS tweet_id, min(created_at) AS first_reply_at,
           arg_min_null(tweet_id, (created_at, tweet_id)) AS first_reply_id,
           arg_min_null(author_handle, (created_at, tweet_id)) AS first_reply_by
    FROM linked WHERE is_brand AND NOT parent_is_brand AND created_at >= parent_created_at
    GROUP BY parent_id
)
SELECT l.tweet_id, l.is_new, l.created_at, l.is_brand, l.parent_id, l.conversation_id,
       f.first_reply_at, f.first_reply_id, f.first_reply_by
FROM linked l LEFT JOIN first_replies f ON f.tweet_id = l.tweet_id
WHERE l.is_new OR l.old_parent_id IS DISTINCT FROM l.parent_id OR l.old_conversation_id <> l.conversation_id
   OR l.old_is_brand <> l.is_brand OR l.old_first_reply_at IS DISTINCT FROM f.first_reply_at
   OR l.old_first_reply_id IS DISTINCT FROM f.first_reply_id
"""
# threads.THREADS_SQL over ``linked``, the author id in place of its dictionary code, ``tkey`` ranked per
# conversation, the first customer tweet's text carried along for the mention rule.
THREADS = """
WITH customers AS (
    SELECT conversation_id, author_id AS customer_id, arg_min(author_handle, tkey) AS customer_handle,
           min(created_at) AS started_at, arg_min(tweet_id, tkey) AS first_customer_tweet_id,
           arg_min(lang, tkey) AS lang, count(*) AS customer_tweets, max(created_at) AS last_customer_tweet_at,
           max(author_followers) AS customer_followers, arg_min_null(text, tkey) AS first_text
    FROM linked WHERE NOT is_brand GROUP BY conversation_id, author_id
),
replies AS (
    SELECT conversation_id, parent_author_id AS customer_id, tweet_id, created_at, author_handle, tkey
    FROM linked WHERE is_brand AND NOT parent_is_brand
),
responses AS (
    SELECT r.conversation_id, r.customer_id, count(*) AS brand_replies, max(r.created_at) AS last_brand_reply_at,
           min(r.created_at) FILTER (WHERE r.created_at >= c.started_at) AS first_response_at,
           arg_min(r.tweet_id, r.tkey) FILTER (WHERE r.created_at >= c.started_at) AS first_response_tweet_id,
           arg_min(r.author_handle, r.tkey) FILTER (WHERE r.created_at >= c.started_at) AS responder
    FROM replies r JOIN customers c ON c.conversation_id = r.conversation_id AND c.customer_id = r.customer_id
    GROUP BY r.conversation_id, r.customer_id
),
conversations AS (
    SELECT conversation_id, count(*) AS conversation_tweets, max(created_at) AS last_tweet_at,
           arg_min(author_handle, tkey) FILTER (WHERE is_brand) AS earliest_brand
    FROM linked GROUP BY conversation_id
),
needs_mention AS (
    SELECT c.conversation_id, c.customer_id, regexp_extract_all(c.first_text, '@([A-Za-z0-9_]+)', 1) AS handles
    FROM customers c
    JOIN conversations v ON v.conversation_id = c.conversation_id
    LEFT JOIN responses r ON r.conversation_id = c.conversation_id AND r.customer_id = c.customer_id
    WHERE r.first_response_at IS NULL AND v.earliest_brand IS NULL
),
numbered AS (
    SELECT conversation_id, customer_id, handles, unnest(generate_series(1, array_length(handles))) AS pos
    FROM needs_mention WHERE handles IS NOT NULL AND array_length(handles) > 0
),
mentions AS (
    SELECT m.conversation_id, m.customer_id, arg_min(a.handle, m.pos) AS mentioned
    FROM numbered m JOIN accounts a ON a.handle_key = lower(m.handles[m.pos])
    GROUP BY m.conversation_id, m.customer_id
)
SELECT """ + threads.THREAD_ROW + """FROM customers c
JOIN conversations v ON v.conversation_id = c.conversation_id
LEFT JOIN responses r ON r.conversation_id = c.conversation_id AND r.customer_id = c.customer_id
LEFT JOIN mentions m ON m.conversation_id = c.conversation_id AND m.customer_id = c.customer_id
"""
# Conversations whose threads are replaced: the touched ones and every one the batch now belongs to.
REMOVED_CONVERSATIONS = """
SELECT conversation_id FROM touched UNION SELECT DISTINCT conversation_id FROM linked
"""
# Loaded tweets whose computed columns changed (a late parent merged conversations, a new brand).
RELINKED = "SELECT tweet_id FROM computed WHERE NOT is_new"


def _quoted(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def month_of(column: str, relation: str = "") -> str:
    """The partition value of a row: the UTC month of its time column (as ``lake.export`` writes it)."""
    return f"strftime({relation + '.' if relation else ''}{_quoted(column)}, '%Y-%m')"


def typed(columns: Sequence[tuple[str, str]], source: str, time_column: str,
          sources: dict[str, str] | None = None) -> str:
    """A SELECT of ``columns`` (name, DuckDB type) from ``source``, each cast to its lake type, plus the month;
    ``sources`` names the relation a column comes from (default ``s``)."""
    picks = ", ".join(f"CAST({(sources or {}).get(n, 's')}.{_quoted(n)} AS {t}) AS {_quoted(n)}" for n, t in columns)
    return f"SELECT {picks}, {month_of(time_column, 's')} AS month FROM {source}"


def new_tweets_sql(columns: Sequence[tuple[str, str]]) -> str:
    """The rows of ``tweets`` to write: the batch and the relinked loaded tweets, with their computed columns."""
    plain = ", ".join(_quoted(n) for n, _ in columns if n not in COMPUTED)
    source = (f"(SELECT {plain} FROM batch UNION ALL SELECT {plain} FROM tweets "
              "WHERE tweet_id IN (SELECT tweet_id FROM relinked)) s JOIN computed c ON c.tweet_id = s.tweet_id")
    return typed(columns, source, "created_at", dict.fromkeys(COMPUTED, "c"))


def kept_rows_sql(table: str, columns: Sequence[tuple[str, str]], time_column: str, key: str, removed: str,
                  months: str, added: str) -> str:
    """A rewritten month's rows: the lake's rows of ``months`` not keyed in ``removed``, and the added rows."""
    names = ", ".join(_quoted(n) for n, _ in columns)
    return (f"SELECT {names}, {month_of(time_column)} AS month FROM {_quoted(table)} "
            f"WHERE {month_of(time_column)} IN (SELECT month FROM {months}) "
            f"AND {_quoted(key)} NOT IN (SELECT {_quoted(key)} FROM {removed}) "
            f"UNION ALL SELECT {names}, month FROM {added} WHERE month IN (SELECT month FROM {months})")


def months_sql(table: str, time_column: str, key: str, removed: str) -> str:
    """The months of ``table`` holding a row keyed in ``removed``: the months to rewrite."""
    return (f"SELECT DISTINCT {month_of(time_column)} AS month FROM {_quoted(table)} "
            f"WHERE {_quoted(key)} IN (SELECT {_quoted(key)} FROM {removed})")


def appended_sql(added: str, months: str) -> str:
    """Added rows of months that are not rewritten: new files beside the month's others."""
    return f"SELECT * FROM {added} WHERE month NOT IN (SELECT month FROM {months})"
