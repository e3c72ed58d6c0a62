"""Peer (b''): the same job in Polars, as an analyst who knows Polars would write it.

Polars is what a data person reaches for today when pandas is too slow on a few million rows: a
multi-threaded CSV reader, a lazy query planner that prunes columns and pushes filters down, and
group-bys and joins that use every core. This pipeline uses it that way, with the definitions of
``docs/definitions.md`` and the result fields of :mod:`benchmarks.pandas_pipeline` (so
``benchmarks.run`` can check it gives carepulse's threads, answered threads and medians per account):

- **load**: ``scan_csv`` with a typed schema, only the columns needed, timestamps parsed by Polars'
  own (multi-threaded) ``str.to_datetime``; each tweet's parent position from one lazy join of
  ``in_response_to_tweet_id`` against the tweet ids; collected once, since every later step needs
  the whole frame.
- **roots**: pointer jumping on the parent positions with ``Series.gather`` (``log2(depth)`` passes,
  each a vectorised gather, stopping when nothing changes). An iterated self-join would be the
  relational way; a positional gather is the Polars way and is much cheaper.
- **threads**: one lazy query, which Polars optimises and runs as one plan on all cores: customer
  tweets grouped per (conversation, customer), the thread's start and first tweet taken inside the
  aggregation; brand tweets replying to a customer's tweet joined to that customer's thread, those
  not before its start, the earliest (ties: the smaller id) per thread; the account (the responder,
  else the conversation's earliest brand tweet's author). The few threads left without one get the
  first @-mentioned brand in the customer's first tweet; then counts and medians per account.

Like the pandas peer it keeps nothing on disk, validates nothing and quarantines nothing; reply
cycles (which generated files do not have) are not broken.

``--store DB`` adds what carepulse's ingest does and the peers do not: keeping the result. The tweets (text,
times, brand flag, parent and conversation) and the threads go into a new DuckDB file, checkpointed, as an
analyst who wants to query them tomorrow would store them (``seconds["store"]``). Still no validation, no
quarantine, no run log, nothing incremental: it measures what storing costs a peer, not carepulse's job.

    python -m benchmarks.polars_pipeline data/bench/twcs_3m.csv --json [--store /tmp/polars.duckdb]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks import peer_cli
from benchmarks.pandas_pipeline import UNASSIGNED, PipelineResult

TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
SCHEMA = {"tweet_id": pl.Int64, "author_id": pl.String, "inbound": pl.String, "created_at": pl.String,
          "text": pl.String, "response_tweet_id": pl.String, "in_response_to_tweet_id": pl.Int64}
KEYS = ["conversation_id", "author_id"]


def load(path: Path) -> pl.DataFrame:
    """The tweets with typed columns, a brand flag and the position of the parent (null: none in the file).

    ``inbound`` is read as text and compared case-blind, as pandas' reader accepts ``True``/``true``.
    A brand is an author with any ``inbound = False`` tweet: a join against the hundred or so brand
    handles (cheaper than a window over every author); the scan is shared by the plan's three uses.
    """
    tweets = (
        pl.scan_csv(path, schema=SCHEMA)
        .select("tweet_id", "author_id", "text", "in_response_to_tweet_id",
                pl.col("inbound").str.to_lowercase().eq("true").alias("inbound"),
                pl.col("created_at").str.to_datetime(TWITTER_TIME, time_zone="UTC"))
        .with_row_index("pos")
    )
    positions = tweets.select(pl.col("tweet_id").alias("in_response_to_tweet_id"), pl.col("pos").alias("parent_pos"))
    brands = tweets.filter(~pl.col("inbound")).select("author_id").unique().with_columns(is_brand=pl.lit(True))
    return (
        tweets.join(positions, on="in_response_to_tweet_id", how="left")
        .join(brands, on="author_id", how="left")
        .sort("pos")  # a join promises no row order on every Polars version; gathers need it by position
        .with_columns(
            pl.col("is_brand").fill_null(False),
            parent_pos=pl.when(pl.col("parent_pos") != pl.col("pos")).then(pl.col("parent_pos")),  # self-reply: none
        )
        .collect()
    )


def conversation_roots(parent: pl.Series) -> pl.Series:
    """Each tweet's root position: pointer jumping, every pass doubles the distance covered (64 reach any depth)."""
    ancestor = parent.fill_null(pl.int_range(0, len(parent), eager=True).cast(parent.dtype))
    for _ in range(64):
        further = ancestor.gather(ancestor)
        if further.equals(ancestor):
            break
        ancestor = further
    return ancestor


def thread_table(tweets: pl.DataFrame) -> pl.LazyFrame:
    """One row per (conversation, customer): start, first tweet, first response in seconds (null: none), account.

    "The first row by (time, id)" is ``sort_by(...).first()`` inside the aggregation: each group sorts
    its own few rows, in parallel, instead of one global sort of every row dragging the text along.
    """
    frame = tweets.lazy()
    threads = (
        frame.filter(~pl.col("is_brand"))
        .group_by(KEYS)
        .agg(pl.col("created_at").min().alias("started_at"),
             pl.col("pos").sort_by("created_at", "tweet_id").first().alias("first_pos"))
    )
    # brand replies to a customer's tweet: the parent's author is the customer they answer
    replies = (
        frame.with_columns(customer=pl.col("author_id").gather(pl.col("parent_pos")),
                           parent_is_brand=pl.col("is_brand").gather(pl.col("parent_pos")))
        .filter(pl.col("is_brand") & pl.col("parent_pos").is_not_null() & ~pl.col("parent_is_brand"))
        .select("conversation_id", pl.col("customer").alias("author_id"), pl.col("created_at").alias("reply_at"),
                pl.col("tweet_id").alias("reply_id"), pl.col("author_id").alias("responder"))
    )
    first = (
        replies.join(threads.select(*KEYS, "started_at"), on=KEYS)
        .filter(pl.col("reply_at") >= pl.col("started_at"))
        .group_by(KEYS)
        .agg(pl.col("reply_at").min(), pl.col("responder").sort_by("reply_at", "reply_id").first())
    )
    earliest_brand = (
        frame.filter(pl.col("is_brand"))
        .group_by("conversation_id")
        .agg(pl.col("author_id").sort_by("created_at", "tweet_id").first().alias("earliest_brand"))
    )
    return (
        threads.join(first, on=KEYS, how="left")
        .join(earliest_brand, on="conversation_id", how="left")
        .with_columns(first_response_s=(pl.col("reply_at") - pl.col("started_at")).dt.total_seconds(),
                      account=pl.coalesce("responder", "earliest_brand"))
    )


def mentioned_brands(threads: pl.DataFrame, tweets: pl.DataFrame) -> pl.DataFrame:
    """For threads still without an account: the first @handle in the customer's first tweet that is a brand.

    Only these few threads' first tweets are looked at (their text gathered by position), and a handle
    spelled two ways resolves to the brand first seen in the file, as in the pandas peer.
    """
    brands = (
        tweets.filter(~pl.col("inbound")).group_by("author_id").agg(pl.col("pos").min())
        .sort("pos").select(pl.col("author_id").str.to_lowercase().alias("handle"), pl.col("author_id").alias("brand"))
        .unique("handle", keep="first", maintain_order=True)
    )
    waiting = threads.filter(pl.col("account").is_null()).select(*KEYS, "first_pos")
    return (
        waiting.with_columns(handle=tweets["text"].gather(waiting["first_pos"]).str.extract_all(r"@\w+"))
        .explode("handle")
        .with_columns(pl.col("handle").str.slice(1).str.to_lowercase(), order=pl.int_range(pl.len()))
        .join(brands, on="handle")
        .group_by(KEYS).agg(pl.col("brand").sort_by("order").first())
    )


def store(db: Path, tweets: pl.DataFrame, threads: pl.DataFrame) -> None:
    """The tweets and threads as tables of a new DuckDB file (replaced if it exists), checkpointed."""
    import duckdb  # here, not above: the peer without ``--store`` imports no DuckDB, as an analyst's script would not

    db.unlink(missing_ok=True)
    parent = tweets["tweet_id"].gather(tweets["parent_pos"])  # null where the parent is not in the file
    kept_tweets = tweets.select("tweet_id", "author_id", "is_brand", "created_at", "text", "in_response_to_tweet_id",
                                parent.alias("parent_id"), "conversation_id").to_arrow()
    kept_threads = threads.select(*KEYS, "started_at", "reply_at", "first_response_s", "account").to_arrow()
    con = duckdb.connect(str(db))
    try:
        con.register("kept_tweets", kept_tweets)
        con.register("kept_threads", kept_threads)
        con.execute("CREATE TABLE tweets AS SELECT * FROM kept_tweets")
        con.execute("CREATE TABLE threads AS SELECT * FROM kept_threads")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def run(path: Path, store_in: Path | None = None) -> PipelineResult:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    tweets = load(path)
    seconds["load"] = time.perf_counter() - started

    mark = time.perf_counter()
    root = conversation_roots(tweets["parent_pos"])
    tweets = tweets.with_columns(conversation_id=tweets["tweet_id"].gather(root))
    seconds["roots"] = time.perf_counter() - mark

    mark = time.perf_counter()
    threads = thread_table(tweets).collect()
    if threads["account"].null_count():
        threads = (threads.join(mentioned_brands(threads, tweets), on=KEYS, how="left")
                   .with_columns(account=pl.coalesce("account", "brand")))
    seconds["threads"] = time.perf_counter() - mark

    per_account = (
        threads.group_by(pl.col("account").fill_null(UNASSIGNED))
        .agg(threads=pl.len(), answered=pl.col("first_response_s").count(),
             median_s=pl.col("first_response_s").median())
        .sort("account")
    )
    by_account = {row["account"]: {"threads": int(row["threads"]), "answered": int(row["answered"]),
                                   "median_s": None if row["median_s"] is None else float(row["median_s"])}
                  for row in per_account.iter_rows(named=True)}
    median: Any = threads["first_response_s"].median()
    if store_in is not None:
        mark = time.perf_counter()
        store(store_in, tweets, threads)
        seconds["store"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started
    return PipelineResult(tweets.height, threads.height, int(threads["first_response_s"].count()),
                          None if median is None else float(median), by_account, seconds)


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, default=None, dest="store_in", metavar="DB",
                        help="also keep the tweets and threads in this new DuckDB file (replaced if it exists)")


def main(argv: list[str] | None = None) -> int:
    return peer_cli.main(__doc__ or "", run, argv, extra=_options)


if __name__ == "__main__":
    raise SystemExit(main())
