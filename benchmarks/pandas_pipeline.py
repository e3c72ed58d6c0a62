"""The usual way: a vectorised pandas pipeline, as a competent analyst would write it.

It does the job carepulse's ingest does for the headline, with the same definitions
(``docs/definitions.md``), and nothing more: read the TWCS CSV, parse the timestamps, mark brand
accounts (authors with any ``inbound = False`` tweet), link each tweet to its parent when the parent
is in the file, find every tweet's conversation root (pointer jumping on numpy arrays: ``log2(depth)``
passes), build one thread per (conversation, customer), find each thread's first response (the
earliest brand tweet replying to one of the customer's tweets, not before the thread started; ties by
the smaller tweet id) and its account (the responder; else the conversation's earliest brand tweet's
author; else the first @-mentioned brand in the customer's first tweet).

No loops over rows: every step is a pandas or numpy operation over whole columns. It keeps nothing
on disk, validates nothing and quarantines nothing, so it is the fast case of the usual way.

    python -m benchmarks.pandas_pipeline data/bench/twcs_3m.csv
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from benchmarks import peer_cli

TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
UNASSIGNED = "(unassigned)"


@dataclass
class PipelineResult:
    """Per account and in total: threads, answered threads, median first response (seconds)."""

    tweets: int
    threads: int
    answered: int
    median_s: float | None
    by_account: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"tweets": self.tweets, "threads": self.threads, "answered": self.answered,
                "median_s": self.median_s, "by_account": self.by_account, "seconds": self.seconds}


def load(path: Path, engine: Literal["c", "pyarrow"] = "c") -> pd.DataFrame:
    """The file with typed columns: ids as integers (missing parent: -1), times as UTC timestamps.

    ``engine="c"`` is pandas' default CSV parser; ``"pyarrow"`` is the multi-threaded one an analyst
    who knows it would pick for a big file.
    """
    frame = pd.read_csv(
        path,
        usecols=["tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id"],
        dtype={"tweet_id": "int64", "author_id": "string", "text": "string", "in_response_to_tweet_id": "float64"},
        engine=engine,
    )
    frame["inbound"] = frame["inbound"].astype(str).str.lower().eq("true")
    frame["created_at"] = pd.to_datetime(frame["created_at"], format=TWITTER_TIME, utc=True)
    frame["in_response_to_tweet_id"] = frame["in_response_to_tweet_id"].fillna(-1).astype("int64")
    return frame


def conversation_roots(tweet_ids: np.ndarray, reply_to: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(parent position or -1, root position) per tweet: parents only when present; pointer jumping."""
    position = pd.Series(np.arange(len(tweet_ids)), index=tweet_ids)
    parent = position.reindex(reply_to).to_numpy(dtype="float64")
    parent = np.where(np.isnan(parent), -1, parent).astype(np.int64)
    parent[parent == np.arange(len(parent))] = -1  # a tweet replying to itself has no parent
    ancestor = np.where(parent >= 0, parent, np.arange(len(parent)))
    for _ in range(64):  # each pass doubles the distance: 64 passes reach any depth
        further = ancestor[ancestor]
        if np.array_equal(further, ancestor):
            break
        ancestor = further
    return parent, ancestor


def run(path: Path, engine: Literal["c", "pyarrow"] = "c") -> PipelineResult:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    tweets = load(path, engine)
    seconds["load"] = time.perf_counter() - started

    mark = time.perf_counter()
    brands = pd.Index(tweets.loc[~tweets["inbound"], "author_id"].unique())
    tweets["is_brand"] = tweets["author_id"].isin(brands)
    ids = tweets["tweet_id"].to_numpy()
    parent, root = conversation_roots(ids, tweets["in_response_to_tweet_id"].to_numpy())
    tweets["parent_pos"] = parent
    tweets["conversation_id"] = ids[root]
    seconds["roots"] = time.perf_counter() - mark

    mark = time.perf_counter()
    ordered = tweets.sort_values(["created_at", "tweet_id"], kind="stable")
    customers = ordered.loc[~ordered["is_brand"], ["conversation_id", "author_id", "created_at", "tweet_id", "text"]]
    threads = (customers.groupby(["conversation_id", "author_id"], sort=False, observed=True)
               .agg(started_at=("created_at", "first"), first_tweet_id=("tweet_id", "first"),
                    first_text=("text", "first"))
               .reset_index())

    # brand replies to customer tweets, with the customer they answer
    is_brand = tweets["is_brand"].to_numpy()
    replying = is_brand & (parent >= 0)
    replying[replying] = ~is_brand[parent[replying]]
    replies = pd.DataFrame({
        "conversation_id": tweets["conversation_id"].to_numpy()[replying],
        "author_id": tweets["author_id"].to_numpy()[parent[replying]],
        "reply_at": tweets["created_at"].dt.tz_localize(None).to_numpy()[replying],
        "reply_id": ids[replying],
        "responder": tweets["author_id"].to_numpy()[replying],
    })
    replies["reply_at"] = pd.to_datetime(replies["reply_at"], utc=True)
    replies = replies.merge(threads[["conversation_id", "author_id", "started_at"]],
                            on=["conversation_id", "author_id"])
    replies = replies[replies["reply_at"] >= replies["started_at"]]
    first = (replies.sort_values(["reply_at", "reply_id"], kind="stable")
             .drop_duplicates(["conversation_id", "author_id"]))
    threads = threads.merge(first[["conversation_id", "author_id", "reply_at", "responder"]],
                            on=["conversation_id", "author_id"], how="left")
    threads["first_response_s"] = (threads["reply_at"] - threads["started_at"]).dt.total_seconds()

    # account: responder, else the conversation's earliest brand tweet, else the first mentioned brand
    earliest_brand = (ordered.loc[ordered["is_brand"], ["conversation_id", "author_id"]]
                      .drop_duplicates("conversation_id").set_index("conversation_id")["author_id"])
    threads["account"] = threads["responder"].fillna(threads["conversation_id"].map(earliest_brand))
    need = threads["account"].isna()
    if need.any():
        mentions = threads.loc[need, "first_text"].str.extractall(r"@(\w+)")[0].str.lower()
        brand_of = pd.Series(brands, index=brands.str.lower())
        brand_of = brand_of[~brand_of.index.duplicated()]
        mentioned = mentions[mentions.isin(brand_of.index)].groupby(level=0).first().map(brand_of)
        threads.loc[mentioned.index, "account"] = mentioned
    seconds["threads"] = time.perf_counter() - mark

    answered = threads["first_response_s"].notna()
    per_account = threads.assign(account=threads["account"].fillna(UNASSIGNED)).groupby("account")
    table = pd.DataFrame({"threads": per_account.size(), "answered": per_account["first_response_s"].count(),
                          "median_s": per_account["first_response_s"].median()})
    by_account = {str(k): {"threads": int(r.threads), "answered": int(r.answered),
                           "median_s": None if pd.isna(r.median_s) else float(r.median_s)}
                  for k, r in table.iterrows()}
    median = threads.loc[answered, "first_response_s"].median()
    seconds["total"] = time.perf_counter() - started
    return PipelineResult(len(tweets), len(threads), int(answered.sum()),
                          None if pd.isna(median) else float(median), by_account, seconds)


def main(argv: list[str] | None = None) -> int:
    def engine_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--engine", choices=("c", "pyarrow"), default="c", help="pandas' CSV parser (default c)")

    return peer_cli.main(__doc__ or "", run, argv, engine_option)


if __name__ == "__main__":
    raise SystemExit(main())
