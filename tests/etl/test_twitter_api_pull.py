"""The live pull end to end: requests and paging, raw twarc2 pages, incremental runs, small parsers."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError
from carepulse.etl.loader import ingest_tweets
from carepulse.etl.twitter_api.puller import conversation_queries, parse_interval, parse_since, snowflake_time
from carepulse.warehouse import Warehouse
from tests.etl.twitter_api_helpers import (
    ACCOUNTS,
    CLEAN_CURSORS,
    CLEAN_REQUESTS,
    DE_QUERY,
    FIXTURES,
    HELP_QUERY,
    MENTIONS_NEXT,
    SEARCH_NEXT,
    TOKEN,
    FakeTime,
    FakeX,
    P,
    connect,
    page,
    puller,
    snapshot,
    thread_figures,
)
from tests.etl.twitter_api_helpers import fake_x as fake_x  # the shared fixture, re-exported for pytest

# -- the end-to-end pull ---------------------------------------------------------------------------


def test_two_accounts_pulled_with_their_conversations_give_the_threads_of_a_hand_made_jsonl(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    report = puller(settings, FakeTime(), tmp_path).run_once()

    assert report.complete and report.stopped_by is None
    assert report.requests == len(fake_x.calls) == CLEAN_REQUESTS
    assert thread_figures(settings.db) == (7, 4, 1334.0)
    con = connect(settings.db)
    assert con.execute("SELECT count(*) FROM tweets").fetchone() == (16,)
    assert con.execute(
        "SELECT customer_handle, account, account_rule, status, first_response_seconds FROM threads ORDER BY ALL"
    ).fetchall() == [
        ("bob_k", "AcmeHelp", "mention", "unanswered", None),
        ("carl_w", "AcmeHelp", "mention", "unanswered", None),
        ("dana_m", "AcmeDE", "first_response", "answered", 200.0),
        ("eve_s", "AcmeDE", "first_response", "answered", 1800.0),
        ("frank_t", "AcmeDE", "earliest_brand_tweet", "unanswered", None),
        ("gus_r", "AcmeHelp", "first_response", "answered", 789000.0),
        ("jane_doe", "AcmeHelp", "first_response", "answered", 868.0),
    ]

    hand_made = Settings(db=tmp_path / "hand" / "wh.duckdb")
    ingest_tweets(Warehouse(hand_made.db), "jsonl", [FIXTURES / "same_tweets.jsonl"], hand_made, ACCOUNTS)
    assert thread_figures(hand_made.db) == thread_figures(settings.db)
    assert snapshot(hand_made.db)["threads"] == snapshot(settings.db)["threads"]


def test_the_requests_ask_for_the_threading_fields_and_page_through_timelines_and_search(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    puller(settings, FakeTime(), tmp_path).run_once()

    assert fake_x.paths() == [
        "/users/by/username/AcmeHelp", "/users/783214/mentions", "/users/783214/mentions", "/users/783214/tweets",
        "/users/by/username/AcmeDE", "/users/95001/mentions", "/users/95001/tweets",
        "/tweets/search/recent", "/tweets/search/recent", "/tweets/search/recent", "/tweets",
    ]
    mentions_1, mentions_2 = (params for path, params in fake_x.calls if path == "/users/783214/mentions")
    assert "pagination_token" not in mentions_1 and mentions_2["pagination_token"] == MENTIONS_NEXT
    search = [params for path, params in fake_x.calls if path == "/tweets/search/recent"]
    assert [s["query"] for s in search] == [HELP_QUERY, HELP_QUERY, DE_QUERY]
    assert "next_token" not in search[0] and search[1]["next_token"] == SEARCH_NEXT
    for path, params in fake_x.calls:
        if path.startswith("/users/by/"):
            continue
        assert set(params["tweet.fields"].split(",")) >= {
            "conversation_id", "referenced_tweets", "in_reply_to_user_id", "author_id", "created_at", "lang",
            "public_metrics"}
        assert set(params["expansions"].split(",")) >= {"author_id", "referenced_tweets.id", "in_reply_to_user_id"}
        assert set(params["user.fields"].split(",")) == {"username", "name", "public_metrics"}
    tweets_params = next(params for path, params in fake_x.calls if path == "/users/783214/tweets")
    assert tweets_params["exclude"] == "retweets" and tweets_params["max_results"] == "100"
    assert next(params for path, params in fake_x.calls if path == "/tweets")["ids"] == f"{P}100"


def test_raw_pages_are_twarc2_jsonl_with_url_and_time_but_never_the_token(
    fake_x: FakeX, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    report = puller(settings, FakeTime(), tmp_path).run_once()

    stamp = "20260504T130000Z"
    assert [f.relative_to(tmp_path / "raw").as_posix() for f in report.files] == [
        f"AcmeHelp/mentions-{stamp}.jsonl", f"AcmeHelp/tweets-{stamp}.jsonl", f"AcmeDE/mentions-{stamp}.jsonl",
        f"AcmeDE/tweets-{stamp}.jsonl", f"AcmeHelp/conversations-{stamp}.jsonl",
        f"AcmeDE/conversations-{stamp}.jsonl", f"AcmeHelp/parents-{stamp}.jsonl",
    ]
    lines = (tmp_path / "raw" / "AcmeHelp" / f"mentions-{stamp}.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert len(lines) == 2
    assert {k: v for k, v in first.items() if k != "__twarc"} == page("AcmeHelp_mentions_1")
    assert first["__twarc"]["retrieved_at"] == "2026-05-04T13:00:00+00:00"
    assert first["__twarc"]["url"].startswith("https://api.twitter.com/2/users/783214/mentions?")
    assert f"pagination_token={MENTIONS_NEXT}" in json.loads(lines[1])["__twarc"]["url"]
    for raw in (tmp_path / "raw").rglob("*"):
        if raw.is_file():
            assert TOKEN not in raw.read_text(encoding="utf-8")
    assert "Authorization" in caplog.text, "tweepy's DEBUG log of the request headers was not captured"
    assert TOKEN not in caplog.text and "[redacted]" in caplog.text
    assert not list((tmp_path / "raw").rglob("*.part"))


def test_the_pulled_warehouse_equals_ingest_jsonl_of_the_same_pages(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    report = puller(settings, FakeTime(), tmp_path).run_once()
    again = Settings(db=tmp_path / "again" / "wh.duckdb")
    ingest_tweets(Warehouse(again.db), "jsonl", report.files, again, ACCOUNTS)

    pulled, ingested = connect(settings.db), connect(again.db)
    for table in ("tweets", "threads", "users", "accounts", "quarantine"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert pulled.execute(sql).fetchall() == ingested.execute(sql).fetchall(), table
    runs = "SELECT run_id, source, file, records_read, loaded, duplicate, quarantined FROM ingest_runs ORDER BY ALL"
    assert pulled.execute(runs).fetchall() == ingested.execute(runs).fetchall()
    assert pulled.execute("SELECT account, endpoint, newest_id FROM pull_state ORDER BY ALL").fetchall() == \
        CLEAN_CURSORS
    assert ingested.execute("SELECT count(*) FROM pull_state").fetchone() == (0,)


# -- incremental ------------------------------------------------------------------------------------


def test_a_second_run_sends_since_id_and_fills_the_conversation_of_a_new_mention(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    time = FakeTime()
    puller(settings, time, tmp_path).run_once()
    fake_x.calls.clear()
    fake_x.newer["/users/783214/mentions"] = page("AcmeHelp_mentions_later")
    fake_x.conversation_pages[f"conversation_id:{P}201"] = [page("AcmeHelp_conversation_201_later")]
    time.now += 3600

    report = puller(settings, time, tmp_path).run_once()

    since = {path: params.get("since_id") for path, params in fake_x.calls if "/users/" in path}
    assert since == {"/users/783214/mentions": f"{P}601", "/users/783214/tweets": f"{P}602",
                     "/users/95001/mentions": f"{P}501", "/users/95001/tweets": f"{P}503"}
    assert not any(path.startswith("/users/by/") for path in fake_x.paths()), "known user ids are looked up again"
    assert fake_x.paths().count("/tweets/search/recent") == 1 and "/tweets" not in fake_x.paths()
    assert report.complete and report.requests == 5
    assert report.load is not None and report.load.loaded == 1
    con = connect(settings.db)
    assert con.execute("SELECT count(*) FROM tweets").fetchone() == (17,)
    assert con.execute(
        "SELECT customer_tweets, last_customer_tweet_at FROM threads WHERE customer_handle = 'jane_doe'"
    ).fetchone() == (3, datetime(2026, 5, 4, 13, 0, tzinfo=UTC))
    assert thread_figures(settings.db) == (7, 4, 1334.0)
    assert ("acmehelp", "mentions", int(f"{P}701")) in snapshot(settings.db)["pull_state"]


def test_nothing_new_sends_four_requests_writes_no_file_and_changes_nothing(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    time = FakeTime()
    puller(settings, time, tmp_path).run_once()
    before = snapshot(settings.db)
    time.now += 300
    report = puller(settings, time, tmp_path).run_once()
    assert report.complete and report.requests == 4 and report.files == [] and report.load is None
    assert snapshot(settings.db) == before


def test_since_is_sent_as_start_time_only_while_there_is_no_cursor(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    time = FakeTime()
    puller(settings, time, tmp_path, accounts=("AcmeDE",), since=parse_since("2026-05-01")).run_once()
    first = [params for path, params in fake_x.calls if path.startswith("/users/95001/")]
    assert {p.get("start_time") for p in first} == {"2026-05-01T00:00:00Z"}
    fake_x.calls.clear()
    puller(settings, time, tmp_path, accounts=("AcmeDE",), since=parse_since("2026-05-01")).run_once()
    second = [params for path, params in fake_x.calls if path.startswith("/users/95001/")]
    assert all("start_time" not in p and "since_id" in p for p in second)


def test_tweets_already_loaded_are_duplicates_and_loaded_parents_are_not_fetched_again(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    ingest_tweets(Warehouse(settings.db), "jsonl", [FIXTURES / "same_tweets.jsonl"], settings, ACCOUNTS)
    before = snapshot(settings.db)

    report = puller(settings, FakeTime(), tmp_path).run_once()

    assert "/tweets" not in fake_x.paths(), "parent ...100 is in the warehouse already"
    assert report.complete and report.load is not None
    assert report.load.loaded == 0
    assert sum(f.duplicate for f in report.load.files) == sum(f.records_read for f in report.load.files) > 16
    after = snapshot(settings.db)
    assert after["tweets"] == before["tweets"] and after["threads"] == before["threads"]
    assert after["pull_state"] == CLEAN_CURSORS


# -- small parts -------------------------------------------------------------------------------------


def test_conversation_queries_fit_the_query_limit() -> None:
    ids = [int(f"{P}{n:03d}") for n in range(100, 130)]
    batches = conversation_queries(ids, 512)
    assert [len(b) for b in batches] == [13, 13, 4]  # 13 * 35 + 12 * 4 = 503 <= 512; 14 terms need 546
    assert sorted(i for b in batches for i in b) == ids
    assert conversation_queries([], 512) == []


def test_intervals_and_dates() -> None:
    assert [parse_interval(t) for t in ("5m", "30s", "1h", "90")] == [300, 30, 3600, 90]
    assert parse_since("2026-05-01") == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_since("2026-05-01T10:00:00+02:00") == datetime(2026, 5, 1, 8, tzinfo=UTC)
    with pytest.raises(ConfigError):
        parse_interval("0s")
    # the API docs' example tweet 1212092628029698048 has created_at 2019-12-31T19:26:16.000Z
    assert snowflake_time(1212092628029698048) == datetime(2019, 12, 31, 19, 26, 16, 771000, tzinfo=UTC)
    assert snowflake_time(20) == datetime(2006, 3, 21, 20, 50, 14, tzinfo=UTC), "pre-snowflake ids: the first tweet"
