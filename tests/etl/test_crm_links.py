"""Linking CRM cases to Twitter threads: by conversation, by handle window, and relinking."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from carepulse.core.errors import ConfigError
from carepulse.etl.transform.crm_links import link_crm_cases
from tests.etl.crm_helpers import con as con  # the shared fixture, re-exported for pytest
from tests.etl.crm_helpers import utc

# ------------------------------------------------------------------------------------------------
# linking cases to threads

T0 = utc(2026, 11, 24, 12, 0)


def add_tweet(con: duckdb.DuckDBPyConnection, tweet_id: int, conversation_id: int, handle: str,
              at: datetime, *, brand: bool = False) -> None:
    con.execute(
        "INSERT INTO tweets (tweet_id, source, author_id, author_handle, is_brand, created_at, conversation_id,"
        " run_id) VALUES (?, 'test', ?, ?, ?, ?, ?, 0)",
        [tweet_id, f"id-{handle}", handle, brand, at, conversation_id],
    )


def add_thread(con: duckdb.DuckDBPyConnection, thread_id: str, conversation_id: int, handle: str,
               started_at: datetime) -> None:
    con.execute(
        "INSERT INTO threads (thread_id, conversation_id, customer_id, customer_handle, status, started_at,"
        " first_customer_tweet_id, customer_tweets, brand_replies, conversation_tweets,"
        " last_customer_tweet_at, last_tweet_at) VALUES (?, ?, ?, ?, 'answered', ?, 0, 1, 1, 2, ?, ?)",
        [thread_id, conversation_id, f"id-{handle}", handle, started_at, started_at, started_at],
    )


def add_case(con: duckdb.DuckDBPyConnection, case_id: str, opened_at: datetime, *, handle: str | None = None,
             conversation_ref: int | None = None, channel: str = "twitter") -> None:
    con.execute(
        "INSERT INTO crm_cases (case_id, channel, opened_at, twitter_handle, conversation_ref, run_id)"
        " VALUES (?, ?, ?, ?, ?, 0)",
        [case_id, channel, opened_at, handle, conversation_ref],
    )


def links(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None, int | None]]:
    rows = con.execute(
        "SELECT case_id, link_method, linked_thread_id, linked_conversation_id FROM crm_cases").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


@pytest.fixture
def conversation(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Conversation 100: anna starts (tweet 100), the brand replies (101), bob joins later (102).
    Conversation 200: anna again, a day later (tweet 200)."""
    add_tweet(con, 100, 100, "anna", T0)
    add_tweet(con, 101, 100, "brand", T0 + timedelta(minutes=5), brand=True)
    add_tweet(con, 102, 100, "Bob", T0 + timedelta(minutes=30))
    add_tweet(con, 200, 200, "anna", T0 + timedelta(days=1))
    add_thread(con, "100:anna", 100, "anna", T0)
    add_thread(con, "100:bob", 100, "Bob", T0 + timedelta(minutes=30))
    add_thread(con, "200:anna", 200, "anna", T0 + timedelta(days=1))
    return con


def test_link_by_conversation(conversation: duckdb.DuckDBPyConnection) -> None:
    con = conversation
    add_case(con, "any-tweet-with-handle", T0 + timedelta(days=9), handle="@BOB", conversation_ref=101)
    add_case(con, "no-handle", T0 + timedelta(days=9), conversation_ref=102)
    add_case(con, "stranger", T0 + timedelta(days=9), handle="carl", conversation_ref=100)
    add_case(con, "conversation-id-only", T0, conversation_ref=200)  # tweet 200 is also in tweets
    result = link_crm_cases(con, 48)
    assert result == {"conversation": 4, "handle_window": 0, "none": 0}
    assert links(con) == {
        "any-tweet-with-handle": ("conversation", "100:bob", 100),  # the named customer's own thread
        "no-handle": ("conversation", "100:anna", 100),  # the earliest customer of the conversation
        "stranger": ("conversation", "100:anna", 100),  # handle not in it: the conversation still decides
        "conversation-id-only": ("conversation", "200:anna", 200),
    }


def test_conversation_known_only_from_threads(con: duckdb.DuckDBPyConnection) -> None:
    add_thread(con, "300:dora", 300, "dora", T0)  # root tweet 300 not loaded (API data)
    add_case(con, "C", T0 + timedelta(days=30), conversation_ref=300)
    assert link_crm_cases(con, 48)["conversation"] == 1


def test_link_by_handle_window_edges(conversation: duckdb.DuckDBPyConnection) -> None:
    con = conversation
    add_case(con, "exactly-48h", T0 + timedelta(hours=48), handle="Bob", channel="phone")  # bob: T0+30min
    add_case(con, "48h-1s-after-bob", T0 + timedelta(minutes=30, hours=48), handle="@bob")
    add_case(con, "48h+1s-after-bob", T0 + timedelta(minutes=30, hours=48, seconds=1), handle="bob")
    add_case(con, "before-start", T0 - timedelta(seconds=1), handle="anna")
    add_case(con, "at-start", T0, handle="ANNA")
    add_case(con, "latest-thread-wins", T0 + timedelta(days=1, hours=1), handle="anna")
    add_case(con, "unknown-ref-falls-back", T0 + timedelta(hours=1), handle="anna", conversation_ref=999)
    add_case(con, "no-handle", T0)
    result = link_crm_cases(con, 48)
    assert links(con) == {
        "exactly-48h": ("handle_window", "100:bob", 100),  # 47.5 h after bob's start (a phone case)
        "48h-1s-after-bob": ("handle_window", "100:bob", 100),  # exactly 48 h: inside
        "48h+1s-after-bob": ("none", None, None),
        "before-start": ("none", None, None),
        "at-start": ("handle_window", "100:anna", 100),
        "latest-thread-wins": ("handle_window", "200:anna", 200),  # both of anna's threads qualify
        "unknown-ref-falls-back": ("handle_window", "100:anna", 100),
        "no-handle": ("none", None, None),
    }
    assert result == {"conversation": 0, "handle_window": 5, "none": 3}


def test_window_is_configurable(conversation: duckdb.DuckDBPyConnection) -> None:
    add_case(conversation, "two-hours-later", T0 + timedelta(hours=2), handle="anna")
    assert link_crm_cases(conversation, 1.5)["none"] == 1
    assert link_crm_cases(conversation, 2)["handle_window"] == 1
    with pytest.raises(ConfigError):
        link_crm_cases(conversation, -1)


def test_relinking_follows_late_tweets(con: duckdb.DuckDBPyConnection) -> None:
    add_case(con, "early-case", T0 + timedelta(hours=1), handle="anna", conversation_ref=100)
    assert link_crm_cases(con, 48) == {"conversation": 0, "handle_window": 0, "none": 1}
    add_thread(con, "50:anna", 50, "anna", T0)  # the handle thread arrives first ...
    assert links(con)["early-case"] == ("none", None, None)
    assert link_crm_cases(con, 48)["handle_window"] == 1
    add_tweet(con, 100, 100, "anna", T0)  # ... then the named conversation
    add_thread(con, "100:anna", 100, "anna", T0)
    assert link_crm_cases(con, 48)["conversation"] == 1
    assert links(con)["early-case"] == ("conversation", "100:anna", 100)
    con.execute("DELETE FROM threads")
    assert link_crm_cases(con, 48)["none"] == 1
    assert links(con)["early-case"] == ("none", None, None)


def test_link_counts_on_an_empty_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    assert link_crm_cases(con, 48) == {"conversation": 0, "handle_window": 0, "none": 0}
