"""Peer (a'): the same job as plain DuckDB SQL, as an analyst who knows SQL would write it.

No carepulse code, no Python per row: an in-memory DuckDB database and four steps of SQL, each using
the engine as intended (parallel CSV reader, hash joins and aggregates on all cores):

- **load**: ``read_csv`` with the column types given, timestamps parsed with ``strptime``, into a table;
- **parents**: the brands (authors with any ``inbound = False`` tweet), then one ``LEFT JOIN`` of the
  tweets against themselves on ``in_response_to_tweet_id`` (a parent counts only when it is in the
  file; a tweet replying to itself has none), keeping the parent's author and both brand flags;
- **roots**: a recursive CTE walking down from every root (a tweet without a parent) to its replies,
  carrying the root's id and the tweet's columns: one hash join per level of depth, and its result is
  the whole input of the threads query. It beats pointer jumping in SQL here (the iterated self-join
  that doubles the distance, ``log2(depth)`` passes over every tweet): on the 3 M-tweet file 0.3 s
  against 1.2 s for the roots alone, because each level joins only the tweets reached at the level
  before. Tweets on a reply cycle are never reached and drop out (generated files have no cycles;
  the pandas peer does not handle them either);
- **threads**: one query: a thread per (conversation, customer) starting at the customer's first tweet;
  brand tweets whose parent is a customer's tweet, not before that customer's thread started, the
  earliest per thread (ties: the smaller id, ``arg_min`` over a (time, id) key); the account (the
  responder, else the conversation's earliest brand tweet's author, else the first @-mentioned brand
  in the customer's first tweet); counts and medians per account and in total with ``GROUPING SETS``.

The definitions are ``docs/definitions.md``'s and the result fields those of
:mod:`benchmarks.pandas_pipeline`, so ``benchmarks.run`` checks it gives carepulse's threads,
answered threads and medians per account. It keeps nothing on disk, validates and quarantines nothing.

    python -m benchmarks.duckdb_pipeline data/bench/twcs_3m.csv --json
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from benchmarks import peer_cli
from benchmarks.pandas_pipeline import UNASSIGNED, PipelineResult

TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"

LOAD = """
CREATE TABLE tweets AS
SELECT tweet_id, author_id, inbound, strptime(created_at, '{time_format}') AS created_at, text,
       in_response_to_tweet_id
FROM read_csv(?, header = true, columns = {{
    'tweet_id': 'BIGINT', 'author_id': 'VARCHAR', 'inbound': 'BOOLEAN', 'created_at': 'VARCHAR',
    'text': 'VARCHAR', 'response_tweet_id': 'VARCHAR', 'in_response_to_tweet_id': 'BIGINT'}})
"""

# A brand: an author with any inbound = False tweet. Each tweet gets its parent (when in the file) and
# the parent's author, with both brand flags, so no later step joins the 3 M tweets again.
PARENTS = """
CREATE TABLE brands AS SELECT DISTINCT author_id FROM tweets WHERE NOT inbound;
CREATE TABLE links AS
SELECT t.tweet_id, t.author_id, t.created_at, t.author_id IN (SELECT author_id FROM brands) AS is_brand,
       p.tweet_id AS parent_id, p.author_id AS parent_author,
       p.author_id IN (SELECT author_id FROM brands) AS parent_is_brand
FROM tweets t LEFT JOIN tweets p ON p.tweet_id = t.in_response_to_tweet_id AND p.tweet_id <> t.tweet_id
"""

# Down from the roots, carrying each tweet's columns along, so the result is the threads' whole input.
ROOTS = """
CREATE TABLE conversations AS
WITH RECURSIVE walk AS (
    SELECT *, tweet_id AS conversation_id FROM links WHERE parent_id IS NULL
    UNION ALL
    SELECT l.*, w.conversation_id FROM walk w JOIN links l ON l.parent_id = w.tweet_id
)
SELECT * FROM walk
"""

# An @handle is matched case-blind; a handle spelled two ways resolves to the brand seen first in the
# file (rowid: the file order), as in the pandas peer.
THREADS = """
CREATE TABLE threads AS
WITH starts AS (
    SELECT conversation_id, author_id AS customer, min(created_at) AS started_at,
           arg_min(tweet_id, (created_at, tweet_id)) AS first_tweet_id
    FROM conversations WHERE NOT is_brand GROUP BY ALL
),
replies AS (
    SELECT conversation_id, parent_author AS customer, created_at AS reply_at, tweet_id AS reply_id,
           author_id AS responder
    FROM conversations WHERE is_brand AND NOT parent_is_brand
),
first_response AS (
    SELECT s.conversation_id, s.customer, min(r.reply_at) AS reply_at,
           arg_min(r.responder, (r.reply_at, r.reply_id)) AS responder
    FROM starts s
    JOIN replies r ON r.conversation_id = s.conversation_id AND r.customer = s.customer AND r.reply_at >= s.started_at
    GROUP BY ALL
),
earliest_brand AS (
    SELECT conversation_id, arg_min(author_id, (created_at, tweet_id)) AS brand
    FROM conversations WHERE is_brand GROUP BY 1
),
assigned AS (
    SELECT s.conversation_id, s.customer, s.first_tweet_id, epoch(f.reply_at - s.started_at) AS first_response_s,
           coalesce(f.responder, e.brand) AS account
    FROM starts s
    LEFT JOIN first_response f USING (conversation_id, customer)
    LEFT JOIN earliest_brand e USING (conversation_id)
),
handles AS (
    SELECT lower(author_id) AS handle, arg_min(author_id, rowid) AS brand FROM tweets WHERE NOT inbound GROUP BY 1
),
mentioned AS (  -- only threads still without an account: the first @handle of their first tweet that is a brand
    SELECT a.conversation_id, a.customer, arg_min(h.brand, m.n) AS brand
    FROM (SELECT conversation_id, customer, first_tweet_id FROM assigned WHERE account IS NULL) a
    JOIN tweets tw ON tw.tweet_id = a.first_tweet_id,
         unnest(regexp_extract_all(tw.text, '@(\\w+)', 1)) WITH ORDINALITY AS m(handle, n)
    JOIN handles h ON h.handle = lower(m.handle)
    GROUP BY ALL
)
SELECT a.conversation_id, a.customer, a.first_response_s, coalesce(a.account, m.brand) AS account
FROM assigned a LEFT JOIN mentioned m USING (conversation_id, customer)
"""

PER_ACCOUNT = """
SELECT account, count(*) AS threads, count(first_response_s) AS answered, median(first_response_s) AS median_s,
       grouping(account) = 1 AS total
FROM threads GROUP BY GROUPING SETS ((account), ())
"""


def run(path: Path) -> PipelineResult:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(LOAD.format(time_format=TWITTER_TIME), [str(path)])
    seconds["load"] = time.perf_counter() - started

    mark = time.perf_counter()
    con.execute(PARENTS)
    con.execute(ROOTS)
    seconds["roots"] = time.perf_counter() - mark

    mark = time.perf_counter()
    con.execute(THREADS)
    seconds["threads"] = time.perf_counter() - mark

    rows = con.execute(PER_ACCOUNT).fetchall()
    tweets = con.execute("SELECT count(*) FROM tweets").fetchone()
    con.close()
    by_account = {UNASSIGNED if account is None else str(account):
                  {"threads": int(n), "answered": int(answered), "median_s": None if median is None else float(median)}
                  for account, n, answered, median, total in rows if not total}
    _, threads, answered, median, _ = next(row for row in rows if row[4])
    seconds["total"] = time.perf_counter() - started
    return PipelineResult(int(tweets[0]) if tweets else 0, int(threads), int(answered),
                          None if median is None else float(median), dict(sorted(by_account.items())), seconds)


def main(argv: list[str] | None = None) -> int:
    return peer_cli.main(__doc__ or "", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
