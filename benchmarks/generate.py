"""Seeded generator of TWCS-layout CSV and Twitter API v2 JSONL at any size.

Realistic structure, produced set-wise inside DuckDB so 3 M tweets take seconds, not minutes:
reply chains of 1 to 20 tweets (short ones far more common), brand broadcast tweets with many
customer replies, parents missing from the file, bursts around outage days, about 100 brands with
Zipf-like skewed volumes, and text lengths spread like real tweets (20 to 280 characters).
Randomness is a hash of (seed, row, stream), so the output is identical on every run and thread count.

    python -m benchmarks.generate --tweets 3000000 --out data/bench/twcs_3m.csv
    python -m benchmarks.generate --tweets 200000 --format jsonl --out data/bench/api_200k.jsonl
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

WORDS = (
    "my internet is down again since this morning and nobody can tell me why please help "
    "we are sorry to hear that could you send us a DM with your account number so we can check "
    "the app keeps crashing after the update thanks for the quick answer still waiting for my refund "
    "your service is the worst I have been on hold for an hour the package never arrived tracking says "
    "delivered please follow the steps in the link and let us know if that fixes it great that worked "
)


def _rnd(expr: str, stream: int, seed: int) -> str:
    """A uniform [0, 1) number from a hash: deterministic whatever DuckDB's thread count."""
    return f"((hash({expr}, {stream}, {seed}) % 1000000007) / 1000000007.0)"


def build(con: duckdb.DuckDBPyConnection, tweets: int, seed: int, brands: int = 100, id_offset: int = 0) -> None:
    """Create the table ``gen`` with ``tweets`` tweets in TWCS terms.

    With ``id_offset`` the ids start after it and the orphans (3 % of conversations) reply to random
    earlier ids instead of missing ones: the shape of an incremental batch arriving at a warehouse.
    """
    mean_chain = 1 + 19 / 5
    mean_broadcast = 1 + 2 * (5 + 195 / 3)
    conversations = max(1, int(tweets / (0.996 * mean_chain + 0.004 * mean_broadcast) * 1.25) + 10)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE conv AS
        SELECT c,
               'Brand' || lpad(CAST(CAST(1 + floor({brands} * pow({_rnd('c', 1, seed)}, 2.2)) AS INTEGER) AS VARCHAR),
                                3, '0') AS brand,
               {_rnd('c', 2, seed)} < 0.004 AS broadcast,
               CAST(1 + floor(19 * pow({_rnd('c', 3, seed)}, 4.0)) AS INTEGER) AS chain_len,
               CAST(5 + floor(195 * pow({_rnd('c', 4, seed)}, 2.0)) AS INTEGER) AS fan_out,
               CASE WHEN {_rnd('c', 5, seed)} < 0.15
                    THEN TIMESTAMPTZ '2017-10-01 00:00:00+00'
                         + to_days(CAST(floor({_rnd('c', 6, seed)} * 8) * 21 AS INTEGER))
                         + to_seconds(CAST(floor({_rnd('c', 7, seed)} * 21600) AS BIGINT))
                    ELSE TIMESTAMPTZ '2017-10-01 00:00:00+00'
                         + to_seconds(CAST(floor({_rnd('c', 8, seed)} * 86400 * 180) AS BIGINT)) END AS started,
               {_rnd('c', 9, seed)} < 0.03 AS orphan,
               CAST(30 + floor(7200 * pow({_rnd('c', 10, seed)}, 2.0)) AS BIGINT) AS gap_s,
               CAST(floor({_rnd('c', 11, seed)} * {max(1, conversations // 2)}) AS BIGINT) AS customer
        FROM range({conversations}) t(c)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE conv2 AS
        SELECT *, CASE WHEN broadcast THEN 1 + 2 * fan_out ELSE chain_len END AS n,
               sum(CASE WHEN broadcast THEN 1 + 2 * fan_out ELSE chain_len END) OVER (ORDER BY c) AS upto
        FROM conv
        """
    )
    total_row = con.execute("SELECT max(upto) FROM conv2").fetchone()
    total = int(total_row[0]) if total_row and total_row[0] is not None else 0
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE gen AS
        WITH t AS (
            SELECT v.*, p.pos, v.upto - v.n + 1 + p.pos AS tweet_id
            FROM conv2 v, LATERAL (SELECT unnest(range(v.n)) AS pos) p
        )
        SELECT tweet_id + {id_offset} AS tweet_id,
               CASE WHEN is_brand THEN brand ELSE CAST(100000 + customer + (CASE WHEN broadcast THEN pos ELSE 0 END)
                    AS VARCHAR) END AS author_id,
               NOT is_brand AS inbound,
               started + to_seconds(CAST(pos * gap_s AS BIGINT)) AS created_at,
               CASE WHEN is_brand THEN '@' || CAST(100000 + customer AS VARCHAR) || ' '
                    ELSE '@' || brand || ' ' END
                 || substr('{WORDS}', 1 + CAST(floor({_rnd('tweet_id', 12, seed)} * 200) AS INTEGER),
                           CAST(15 + floor(260 * pow({_rnd('tweet_id', 13, seed)}, 1.6)) AS INTEGER))
                 || CASE WHEN is_brand AND {_rnd('tweet_id', 14, seed)} < 0.5
                         THEN ' ^' || chr(65 + CAST(floor({_rnd('tweet_id', 15, seed)} * 26) AS INTEGER))
                                   || chr(65 + CAST(floor({_rnd('tweet_id', 16, seed)} * 26) AS INTEGER))
                         ELSE '' END
                 AS text,
               CASE WHEN pos = 0 AND orphan AND {id_offset} > 0
                        THEN 1 + CAST(floor({_rnd('c', 17, seed)} * {id_offset}) AS BIGINT)
                    WHEN pos = 0 AND orphan THEN {total} + 1000 + c
                    WHEN pos = 0 THEN NULL
                    WHEN broadcast AND pos % 2 = 1 THEN {id_offset} + upto - n + 1
                    ELSE {id_offset} + tweet_id - 1 END AS in_response_to_tweet_id,
               CASE WHEN NOT broadcast AND pos < n - 1 THEN CAST({id_offset} + tweet_id + 1 AS VARCHAR) END
                   AS response_tweet_id
        FROM (SELECT *, CASE WHEN broadcast THEN pos % 2 = 0 ELSE pos % 2 = 1 END AS is_brand FROM t)
        WHERE tweet_id <= {tweets}
        """
    )


def write_twcs(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"""
        COPY (SELECT tweet_id, author_id, CASE WHEN inbound THEN 'True' ELSE 'False' END AS inbound,
                     strftime(created_at, '%a %b %d %H:%M:%S +0000 %Y') AS created_at, text,
                     response_tweet_id, in_response_to_tweet_id
              FROM gen ORDER BY tweet_id)
        TO '{out}' (FORMAT csv, HEADER true)
        """
    )


SNOWFLAKE_BASE = 1_850_000_000_000_000_000


def write_jsonl(con: duckdb.DuckDBPyConnection, out: Path, page_size: int = 100) -> None:
    """API v2 pages as twarc2 writes them: ids as strings, created_at with milliseconds and Z."""
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"""
        COPY (
            WITH t AS (
                SELECT *, (row_number() OVER (ORDER BY tweet_id) - 1) // {page_size} AS page,
                       CAST({SNOWFLAKE_BASE} + tweet_id * 4096 AS VARCHAR) AS sid,
                       CAST(hash(author_id) % 9000000000000000 + 1000000000000000 AS VARCHAR) AS uid
                FROM gen
            ), j AS (
                SELECT page, sid, uid, author_id,
                       json_merge_patch('{{}}', json_object('id', sid, 'text', text, 'author_id', uid,
                           'created_at', strftime(created_at, '%Y-%m-%dT%H:%M:%S.000Z'), 'lang', 'en',
                           'edit_history_tweet_ids', [sid],
                           'referenced_tweets', CASE WHEN in_response_to_tweet_id IS NOT NULL THEN
                               [json_object('type', 'replied_to', 'id',
                                   CAST({SNOWFLAKE_BASE} + in_response_to_tweet_id * 4096 AS VARCHAR))] END,
                           'public_metrics', json_object('retweet_count', 0, 'reply_count', 0,
                               'like_count', 0, 'quote_count', 0, 'bookmark_count', 0, 'impression_count', 10)
                       )) AS tweet,
                       json_object('id', uid, 'username', author_id, 'name', author_id,
                           'public_metrics', json_object('followers_count', hash(author_id) % 5000,
                               'following_count', 10, 'tweet_count', 100, 'listed_count', 0)) AS usr
                FROM t
            )
            SELECT list(tweet ORDER BY sid) AS data,
                   json_object('users', list(DISTINCT usr)) AS includes,
                   json_object('result_count', count(*), 'newest_id', max(sid), 'oldest_id', min(sid)) AS meta,
                   json_object('url', 'https://api.twitter.com/2/tweets/search/recent', 'version', '2.14.0',
                               'retrieved_at', '2017-12-01T00:00:00.000Z') AS __twarc
            FROM j GROUP BY page ORDER BY page
        ) TO '{out}' (FORMAT json)
        """
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--brands", type=int, default=100)
    parser.add_argument("--id-offset", type=int, default=0, help="ids start after this; orphans reply to earlier ids")
    parser.add_argument("--format", choices=("twcs", "jsonl"), default="twcs")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    build(con, args.tweets, args.seed, args.brands, args.id_offset)
    (write_twcs if args.format == "twcs" else write_jsonl)(con, args.out)
    rows = con.execute("SELECT count(*) FROM gen").fetchone()
    print(f"{args.out}: {rows[0] if rows else 0:,} tweets in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
