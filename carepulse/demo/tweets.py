"""The simulated tweets as a daily twarc2 collection: one API v2 response page per line."""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import urlencode

from carepulse.demo.clock import MINUTE, _Calendar, _iso_utc, _local_ms
from carepulse.demo.entities import _Tweet, _User
from carepulse.demo.story import ACCOUNTS
from carepulse.demo.world import _World

EXPANSIONS: Final = (
    "author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id,entities.mentions.username"
)
TWEET_FIELDS: Final = (
    "author_id,conversation_id,created_at,edit_history_tweet_ids,entities,in_reply_to_user_id,lang,"
    "public_metrics,referenced_tweets,text"
)
USER_FIELDS: Final = "id,name,public_metrics,username"
PAGE_SIZE: Final = 100
COLLECTION_TIME: Final = (6, 30)


def _tweet_lines(tweets: list[_Tweet], world: _World, calendar: _Calendar, rng: random.Random) -> list[str]:
    """The tweets as a daily twarc2 collection: for each brand account its mentions and its own
    timeline since the previous run, newest first, one API response page per line (no line ends)."""
    documents: dict[str, dict[str, Any]] = {}
    ordered = sorted(tweets, key=lambda tweet: (tweet.ms, int(tweet.id)))
    runs = _collection_runs(calendar)
    by_run: list[list[_Tweet]] = [[] for _ in runs]
    for tweet in ordered:
        by_run[bisect.bisect_right(runs, tweet.ms)].append(tweet)
    lines: list[str] = []
    previous = calendar.start_ms
    for run_ms, batch in zip(runs, by_run, strict=True):
        for account in ACCOUNTS:
            brand = world.brands[account]
            for endpoint in ("mentions", "tweets"):
                selected = [t for t in batch if t.stream == account and _endpoint(t) == endpoint]
                for page in _pages(selected[::-1], brand, endpoint, previous, run_ms, documents, rng):
                    lines.append(json.dumps(page, ensure_ascii=False))
        previous = run_ms
    return lines


def _collection_runs(calendar: _Calendar) -> list[int]:
    days = list(calendar.days())
    runs = [_local_ms(day, *COLLECTION_TIME) for day in days[1:]]
    return [*runs, calendar.end_ms + 10 * MINUTE]


def _endpoint(tweet: _Tweet) -> str:
    return "tweets" if tweet.author.username in ACCOUNTS else "mentions"


def _pages(
    newest_first: list[_Tweet],
    brand: _User,
    endpoint: str,
    since_ms: int,
    run_ms: int,
    documents: dict[str, dict[str, Any]],
    rng: random.Random,
) -> Iterator[dict[str, Any]]:
    chunks = [newest_first[i : i + PAGE_SIZE] for i in range(0, len(newest_first), PAGE_SIZE)]
    token = ""
    for number, chunk in enumerate(chunks):
        next_token = _pagination_token(rng) if number < len(chunks) - 1 else ""
        meta: dict[str, Any] = {"result_count": len(chunk), "newest_id": chunk[0].id, "oldest_id": chunk[-1].id}
        if next_token:
            meta["next_token"] = next_token
        referenced = _unique_tweets(t.parent for t in chunk)
        yield {
            "data": [_document(t, documents) for t in chunk],
            "includes": {
                "users": [_user_document(u) for u in _unique_users(chunk, referenced)],
                "tweets": [_document(t, documents) for t in referenced],
            },
            "meta": meta,
            "__twarc": {
                "url": _request_url(brand, endpoint, since_ms, run_ms, token),
                "version": "2.14.0",
                "retrieved_at": _iso_utc(run_ms + number * 1500 + rng.randrange(900)),
            },
        }
        token = next_token


def _pagination_token(rng: random.Random) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(alphabet) for _ in range(45))


def _request_url(brand: _User, endpoint: str, since_ms: int, run_ms: int, token: str) -> str:
    query = {
        "expansions": EXPANSIONS,
        "tweet.fields": TWEET_FIELDS,
        "user.fields": USER_FIELDS,
        "max_results": PAGE_SIZE,
        "start_time": _iso_utc(since_ms),
        "end_time": _iso_utc(run_ms),
    }
    if token:
        query["pagination_token"] = token
    return f"https://api.twitter.com/2/users/{brand.id}/{endpoint}?{urlencode(query)}"


def _unique_tweets(candidates: Iterator[_Tweet | None]) -> list[_Tweet]:
    seen: dict[str, _Tweet] = {}
    for tweet in candidates:
        if tweet is not None and tweet.id not in seen:
            seen[tweet.id] = tweet
    return list(seen.values())


def _unique_users(data: list[_Tweet], referenced: list[_Tweet]) -> list[_User]:
    seen: dict[str, _User] = {}
    for tweet in (*data, *referenced):
        for user in (tweet.author, *(tweet.mentions), *([tweet.parent.author] if tweet.parent else [])):
            seen.setdefault(user.id, user)
    return list(seen.values())


def _document(tweet: _Tweet, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The tweet as API v2 returns it with the fields twarc2 requests."""
    if tweet.id in cache:
        return cache[tweet.id]
    doc: dict[str, Any] = {
        "edit_history_tweet_ids": [tweet.id],
        "id": tweet.id,
        "text": tweet.text,
        "author_id": tweet.author.id,
        "conversation_id": tweet.conversation_id,
        "created_at": _iso_utc(tweet.ms),
        "lang": tweet.lang,
    }
    if tweet.parent is not None:
        doc["in_reply_to_user_id"] = tweet.parent.author.id
        doc["referenced_tweets"] = [{"type": "replied_to", "id": tweet.parent.id}]
    if tweet.mentions:
        doc["entities"] = {"mentions": _mention_entities(tweet)}
    doc["public_metrics"] = {
        "retweet_count": tweet.retweets,
        "reply_count": tweet.replies,
        "like_count": tweet.likes,
        "quote_count": tweet.quotes,
        "bookmark_count": tweet.bookmarks,
        "impression_count": tweet.impressions,
    }
    cache[tweet.id] = doc
    return doc


def _mention_entities(tweet: _Tweet) -> list[dict[str, Any]]:
    entities, position = [], 0
    for user in tweet.mentions:
        start = tweet.text.find(f"@{user.username}", position)
        end = start + len(user.username) + 1
        entities.append({"start": start, "end": end, "username": user.username, "id": user.id})
        position = end
    return entities


def _user_document(user: _User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "public_metrics": {
            "followers_count": user.followers,
            "following_count": user.following,
            "tweet_count": user.tweet_count,
            "listed_count": user.listed,
        },
    }
