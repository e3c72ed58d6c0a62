"""Cross-check on the real TWCS sample: per-account threads, answered threads and median first
response from a plain-Python reading of the agreed definitions (csv module and dicts, no code
shared with the loader or the SQL) must equal what the engine reports."""

from __future__ import annotations

import csv
import re
import statistics
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.metrics import engine
from carepulse.warehouse import Warehouse


def plain_python_threads(path: Path) -> dict[str, dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    tweets: dict[str, dict[str, Any]] = {}
    for r in rows:
        tweets[r["tweet_id"]] = {
            "id": r["tweet_id"], "author": r["author_id"], "brand": r["inbound"] == "False",
            "at": datetime.strptime(r["created_at"], "%a %b %d %H:%M:%S %z %Y"), "text": r["text"],
            "parent": r["in_response_to_tweet_id"] or None,
        }
    brands = {t["author"] for t in tweets.values() if t["brand"]}
    brand_by_lower = {b.lower(): b for b in brands}
    for t in tweets.values():  # a parent counts only when it is in the file
        if t["parent"] not in tweets:
            t["parent"] = None

    def root(tweet: dict[str, Any]) -> str:
        seen = set()
        while tweet["parent"] is not None and tweet["id"] not in seen:
            seen.add(tweet["id"])
            tweet = tweets[tweet["parent"]]
        return str(tweet["id"])

    conversations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in tweets.values():
        conversations[root(t)].append(t)

    per_account: dict[str, dict[str, Any]] = defaultdict(lambda: {"threads": 0, "answered": 0, "seconds": []})
    for members in conversations.values():
        customers = {t["author"] for t in members if not t["brand"]}
        earliest_brand = min((t for t in members if t["brand"]), key=lambda t: (t["at"], int(t["id"])), default=None)
        for customer in customers:
            own = sorted((t for t in members if t["author"] == customer), key=lambda t: (t["at"], int(t["id"])))
            started = own[0]["at"]
            own_ids = {t["id"] for t in own}
            responses = sorted(
                (t for t in members if t["brand"] and t["parent"] in own_ids and t["at"] >= started),
                key=lambda t: (t["at"], int(t["id"])),
            )
            if responses:
                account = responses[0]["author"]
            elif earliest_brand is not None:
                account = earliest_brand["author"]
            else:
                mentioned = [brand_by_lower[h.lower()] for h in re.findall(r"@(\w+)", own[0]["text"])
                             if h.lower() in brand_by_lower]
                account = mentioned[0] if mentioned else "(unassigned)"
            stats = per_account[account]
            stats["threads"] += 1
            if responses:
                stats["answered"] += 1
                stats["seconds"].append((responses[0]["at"] - started).total_seconds())
    return {
        account: {"threads": s["threads"], "answered_threads": s["answered"],
                  "first_response_median_s": statistics.median(s["seconds"]) if s["seconds"] else None}
        for account, s in per_account.items()
    }


def test_engine_matches_plain_python_on_the_twcs_sample(shared_sample: Path, tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    ingest_tweets(warehouse, "twcs", [shared_sample], settings)
    expected = plain_python_threads(shared_sample)
    result = engine.compute(["threads", "answered_threads", "first_response_median_s"], by="account",
                            db=warehouse.reader(), settings=settings)
    actual = {key: {name: cell.value for name, cell in cells.items()} for key, cells in result.groups.items()}
    assert actual == expected
    assert len(actual) == 43
    total = {name: cell.value for name, cell in result.total.items()}
    assert total == {"threads": 281, "answered_threads": 263, "first_response_median_s": 740.0}
