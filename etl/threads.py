"""Conversations and threads, rebuilt incrementally as the agreed definitions say.

Only conversations touched by new tweets are rebuilt. The touched set is closed under parent
links: a new tweet touches the conversation of its parent, the conversations of existing tweets
that reply to it (a late-arriving parent merges them), its API ``conversation_id``, every
conversation of an author who just became a brand account, and, when brands were added, the
threads attributed by mention or not at all. Roots are found by pointer jumping
(``log2(depth)`` set-wise passes), not a Python walk per tweet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb

log = logging.getLogger(__name__)

MAX_JUMPS = 64

@dataclass(frozen=True)
class RebuildStats:
    conversations: int
    threads: int
    tweets: int
    seconds: float = 0.0


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


WORK_COLUMNS = (
    "tweet_id, run_id, record_no, author_id, author_handle, is_brand, created_at, lang, in_reply_to_tweet_id, "
    "api_conversation_id, author_followers, parent_id, conversation_id"
)


def rebuild(con: duckdb.DuckDBPyConnection, source: str) -> RebuildStats:
    """Fold the new tweets into ``tweets`` and rebuild ``threads`` of every touched conversation.

    Expects the temp table ``work`` (narrow columns, ``is_new = true``) listing the new tweets,
    whose full records are in ``stg_tweets`` keyed by ``(run_id, record_no)``, and
    ``new_brand_authors(handle_key, author_id)``: accounts that just became brands (their
    conversations change roles, and unanswered threads may now mention a brand).
    Text is never copied into ``work``: only narrow columns move through the graph passes, and
    each new tweet's text is written once, into ``tweets``.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE touched_convs AS
        SELECT DISTINCT conversation_id FROM (
            SELECT t.conversation_id FROM tweets t JOIN work n ON t.tweet_id = n.in_reply_to_tweet_id
            UNION ALL
            SELECT t.conversation_id FROM tweets t JOIN work n ON t.in_reply_to_tweet_id = n.tweet_id
            UNION ALL
            SELECT t.conversation_id FROM tweets t JOIN work n ON t.conversation_id = n.api_conversation_id
            UNION ALL
            SELECT t.conversation_id FROM tweets t JOIN new_brand_authors b
                ON t.author_id = b.author_id OR lower(t.author_handle) = b.handle_key
            UNION ALL
            SELECT conversation_id FROM threads
            WHERE coalesce(account_rule, 'none') IN ('mention', 'none')
              AND EXISTS (SELECT 1 FROM new_brand_authors)
        ) WHERE conversation_id IS NOT NULL
        """
    )
    con.execute(
        f"""
        INSERT INTO work BY NAME
        SELECT * REPLACE (
                   is_brand OR author_id IN (SELECT author_id FROM accounts WHERE author_id IS NOT NULL)
                   OR lower(author_handle) IN (SELECT handle_key FROM accounts) AS is_brand),
               NULL::TIMESTAMPTZ AS first_reply_at, NULL::VARCHAR AS parent_author_id,
               NULL::BOOLEAN AS parent_is_brand, false AS is_new
        FROM (SELECT {WORK_COLUMNS} FROM tweets
              WHERE conversation_id IN (SELECT conversation_id FROM touched_convs))
        """
    )
    _link_parents_and_roots(con)
    con.execute(
        f"""
        INSERT INTO tweets
        SELECT w.tweet_id, '{source}', w.author_id, w.author_handle, w.is_brand, w.created_at, s.text, w.lang,
               w.in_reply_to_tweet_id, s.in_reply_to_user_id, w.api_conversation_id, w.parent_id,
               w.conversation_id, w.author_followers, s.retweet_count, s.reply_count, s.like_count,
               s.quote_count, w.run_id, w.record_no, w.first_reply_at
        FROM work w JOIN stg_tweets s ON s.rowid = w.stg_row
        WHERE w.is_new
        """
    )
    con.execute("DROP TABLE stg_tweets")
    con.execute(
        """
        UPDATE tweets SET parent_id = w.parent_id, conversation_id = w.conversation_id, is_brand = w.is_brand,
                          first_reply_at = w.first_reply_at
        FROM work w
        WHERE NOT w.is_new AND tweets.tweet_id = w.tweet_id
          AND (tweets.parent_id IS DISTINCT FROM w.parent_id OR tweets.conversation_id <> w.conversation_id
               OR tweets.is_brand <> w.is_brand OR tweets.first_reply_at IS DISTINCT FROM w.first_reply_at)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE work_convs AS SELECT DISTINCT conversation_id FROM work
        """
    )
    con.execute(
        """
        DELETE FROM threads WHERE conversation_id IN (SELECT conversation_id FROM touched_convs)
                               OR conversation_id IN (SELECT conversation_id FROM work_convs)
        """
    )
    inserted = con.execute(THREADS_SQL).fetchall()
    stats = RebuildStats(
        conversations=_count(con, "SELECT count(*) FROM work_convs"),
        threads=int(inserted[0][0]) if inserted else 0,
        tweets=_count(con, "SELECT count(*) FROM work"),
    )
    con.execute("DROP TABLE work; DROP TABLE touched_convs; DROP TABLE work_convs")
    return stats


def _jump_to_roots(con: duckdb.DuckDBPyConnection) -> bool:
    """Pointer jumping on ``anc`` until every tweet points at its root; False if cycles remain.

    Outside cycles every pass finishes some tweets; a pass that finishes none means the rest hang
    on reply cycles, so it stops there instead of spinning.
    """
    pending = -1
    for _ in range(MAX_JUMPS):
        before, pending = pending, _count(con, "SELECT count(*) FROM anc WHERE NOT done")
        if pending == 0:
            return True
        if pending == before:
            return False
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE anc AS
            SELECT * FROM anc WHERE done
            UNION ALL
            SELECT a.tweet_id, a.parent_id, a.parent_author_id, a.parent_is_brand, a.created_at, b.anc, b.done
            FROM anc a JOIN anc b ON b.tweet_id = a.anc WHERE NOT a.done
            """
        )
    return _count(con, "SELECT count(*) FROM anc WHERE NOT done") == 0


def _break_cycles(con: duckdb.DuckDBPyConnection) -> None:
    """Make reply cycles (impossible on Twitter, possible in damaged exports) deterministic.

    In each cycle the earliest tweet (by time, then id) loses its parent link and becomes the root,
    so the result does not depend on the order files were loaded in. Only tweets that never reached
    a root are looked at, which in real data is none, so a Python walk over them is fine.
    """
    pending = con.execute(
        "SELECT tweet_id, parent_id, created_at FROM anc WHERE NOT done"
    ).fetchall()
    parent = {tweet_id: parent_id for tweet_id, parent_id, _ in pending}
    order = {tweet_id: (created_at, tweet_id) for tweet_id, _, created_at in pending}
    roots: set[int] = set()
    seen: set[int] = set()
    for start in parent:
        path: list[int] = []
        node: int | None = start
        while node is not None and node in parent and node not in seen:
            seen.add(node)
            path.append(node)
            node = parent[node]
        if node is not None and node in path:
            cycle = path[path.index(node):]
            roots.add(min(cycle, key=order.__getitem__))
    log.warning("reply cycles: %d cycle(s) broken at their earliest tweet", len(roots))
    con.execute("CREATE OR REPLACE TEMP TABLE cycle_roots (tweet_id BIGINT)")
    con.executemany("INSERT INTO cycle_roots VALUES (?)", [[r] for r in sorted(roots)])
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE anc AS
        SELECT * FROM anc WHERE done
        UNION ALL
        SELECT a.tweet_id,
               CASE WHEN r.tweet_id IS NULL THEN a.parent_id END AS parent_id,
               CASE WHEN r.tweet_id IS NULL THEN a.parent_author_id END AS parent_author_id,
               CASE WHEN r.tweet_id IS NULL THEN a.parent_is_brand END AS parent_is_brand,
               a.created_at,
               CASE WHEN r.tweet_id IS NULL THEN a.parent_id ELSE a.tweet_id END AS anc,
               r.tweet_id IS NOT NULL AS done
        FROM anc a LEFT JOIN cycle_roots r USING (tweet_id) WHERE NOT a.done
        """
    )
    con.execute("DROP TABLE cycle_roots")


def _link_parents_and_roots(con: duckdb.DuckDBPyConnection) -> None:
    """Set ``parent_id`` (only when the parent is present), ``conversation_id`` and ``first_reply_at`` on ``work``.

    Every step writes a new table instead of updating one: inside a long transaction DuckDB keeps
    updated rows as versions, and scanning 3 M updated rows later costs several times a fresh table.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE anc AS
        SELECT w.tweet_id, p.tweet_id AS parent_id, p.author_id AS parent_author_id,
               p.is_brand AS parent_is_brand, w.created_at,
               coalesce(p.tweet_id, w.tweet_id) AS anc, p.tweet_id IS NULL AS done
        FROM work w LEFT JOIN work p ON p.tweet_id = w.in_reply_to_tweet_id AND p.tweet_id <> w.tweet_id
        """
    )
    if not _jump_to_roots(con):
        _break_cycles(con)
        if not _jump_to_roots(con):
            raise RuntimeError("reply links still cycle after breaking every cycle")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE work AS
        WITH linked AS (
            SELECT w.* REPLACE (a.parent_id AS parent_id, a.parent_author_id AS parent_author_id,
                                a.parent_is_brand AS parent_is_brand,
                                coalesce(w.api_conversation_id, a.anc) AS conversation_id)
            FROM work w JOIN anc a USING (tweet_id)
        ),
        first_replies AS (
            SELECT parent_id AS tweet_id, min(created_at) AS first_reply_at
            FROM linked WHERE is_brand AND NOT parent_is_brand GROUP BY parent_id
        )
        SELECT l.* REPLACE (r.first_reply_at AS first_reply_at)
        FROM linked l LEFT JOIN first_replies r USING (tweet_id)
        """
    )
    con.execute("DROP TABLE anc")


THREADS_SQL = """
INSERT INTO threads
WITH keyed AS (
    SELECT *, (CAST(epoch_us(created_at) AS HUGEINT) << 64) + tweet_id AS tkey FROM work
),
customer_tweets AS (
    SELECT * FROM keyed WHERE NOT is_brand
),
customers AS (
    SELECT conversation_id, author_id AS customer_id,
           arg_min(author_handle, tkey) AS customer_handle,
           min(created_at) AS started_at,
           arg_min(tweet_id, tkey) AS first_customer_tweet_id,
           arg_min(lang, tkey) AS lang,
           count(*) AS customer_tweets,
           max(created_at) AS last_customer_tweet_at,
           max(author_followers) AS customer_followers
    FROM customer_tweets GROUP BY conversation_id, author_id
),
replies AS (
    SELECT conversation_id, parent_author_id AS customer_id, tweet_id, created_at, author_handle, tkey
    FROM keyed WHERE is_brand AND NOT parent_is_brand
),
responses AS (
    SELECT r.conversation_id, r.customer_id,
           count(*) AS brand_replies,
           max(r.created_at) AS last_brand_reply_at,
           min(r.created_at) FILTER (WHERE r.created_at >= c.started_at) AS first_response_at,
           arg_min(r.tweet_id, r.tkey) FILTER (WHERE r.created_at >= c.started_at)
               AS first_response_tweet_id,
           arg_min(r.author_handle, r.tkey) FILTER (WHERE r.created_at >= c.started_at)
               AS responder
    FROM replies r JOIN customers c USING (conversation_id, customer_id)
    GROUP BY r.conversation_id, r.customer_id
),
conversations AS (
    SELECT conversation_id, count(*) AS conversation_tweets, max(created_at) AS last_tweet_at,
           arg_min(author_handle, tkey) FILTER (WHERE is_brand) AS earliest_brand
    FROM keyed GROUP BY conversation_id
),
needs_mention AS (
    SELECT c.conversation_id, c.customer_id, regexp_extract_all(t.text, '@(\\w+)', 1) AS handles
    FROM customers c
    JOIN tweets t ON t.tweet_id = c.first_customer_tweet_id
    JOIN conversations v ON v.conversation_id = c.conversation_id
    LEFT JOIN responses r ON r.conversation_id = c.conversation_id AND r.customer_id = c.customer_id
    WHERE r.first_response_at IS NULL AND v.earliest_brand IS NULL
),
mentions AS (
    SELECT conversation_id, customer_id, arg_min(a.handle, m.pos) AS mentioned
    FROM (SELECT conversation_id, customer_id, unnest(handles) AS handle,
                 unnest(range(1, len(handles) + 1)) AS pos
          FROM needs_mention) m
    JOIN accounts a ON a.handle_key = lower(m.handle)
    GROUP BY conversation_id, customer_id
)
SELECT c.conversation_id || '-' || c.customer_id AS thread_id,
       c.conversation_id, c.customer_id, c.customer_handle,
       coalesce(r.responder, v.earliest_brand, m.mentioned) AS account,
       CASE WHEN r.responder IS NOT NULL THEN 'first_response'
            WHEN v.earliest_brand IS NOT NULL THEN 'earliest_brand_tweet'
            WHEN m.mentioned IS NOT NULL THEN 'mention' END AS account_rule,
       CASE WHEN r.first_response_at IS NULL THEN 'unanswered' ELSE 'answered' END AS status,
       c.started_at, c.first_customer_tweet_id,
       r.first_response_at, r.first_response_tweet_id,
       epoch(r.first_response_at) - epoch(c.started_at) AS first_response_seconds,
       c.customer_tweets, coalesce(r.brand_replies, 0) AS brand_replies, v.conversation_tweets,
       c.last_customer_tweet_at, r.last_brand_reply_at, v.last_tweet_at, c.lang, c.customer_followers
FROM customers c
JOIN conversations v USING (conversation_id)
LEFT JOIN responses r USING (conversation_id, customer_id)
LEFT JOIN mentions m USING (conversation_id, customer_id)
ORDER BY c.started_at
"""
