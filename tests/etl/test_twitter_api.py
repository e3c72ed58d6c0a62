"""The live pull (etl/twitter_api/), against API v2 answers replayed with ``responses``: no network.

The replayed API serves the pages in ``fixtures/api`` (see its README for the tweet table). Two
brand accounts, five conversations, sixteen tweets:

======== ========================= ========================================== ==============
conv     customer (first tweet)    first brand reply to the customer          first response
======== ========================= ========================================== ==============
...100   gus_r  04-25 09:00:00     ...602 AcmeHelp 05-04 12:10:00             789,000 s (9 d 3 h 10 min)
...201   jane_doe 05-04 08:01:02   ...202 AcmeHelp 08:15:30                   868 s
...301   bob_k  09:00:00           none                                       unanswered
...301   carl_w 09:05:00           none                                       unanswered
...401   dana_m 10:00:00           ...403 AcmeDE 10:03:20                     200 s
...501   eve_s  11:00:00           ...503 AcmeDE 11:30:00                     1,800 s
...501   frank_t 11:10:00          none (AcmeDE answered eve only)            unanswered
======== ========================= ========================================== ==============

7 threads, 4 answered, median first response (200, 868, 1800, 789000) -> (868 + 1800) / 2 = 1334 s.

A clean pull sends 11 requests: 2 user lookups, AcmeHelp mentions (2 pages) and tweets, AcmeDE
mentions and tweets, the AcmeHelp conversations (one ``OR`` query, 2 pages), the AcmeDE
conversations (1 page), and one parent lookup for ...100 (older than the recent search's 7 days,
and only referenced by ...110, which itself arrives as an included parent).
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

import duckdb
import pytest
import requests
import responses

from carepulse.cli import main
from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError, SourceError
from carepulse.etl.loader import ingest_tweets
from carepulse.etl.twitter_api.client import make_client
from carepulse.etl.twitter_api.puller import (
    Puller,
    PullReport,
    conversation_queries,
    parse_interval,
    parse_since,
    snowflake_time,
)
from carepulse.warehouse import Warehouse

FIXTURES = Path(__file__).parent / "fixtures" / "api"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAFakeBearerTokenForTests%3DnotReal0123456789"
NOW = datetime(2026, 5, 4, 13, 0, tzinfo=UTC).timestamp()
ACCOUNTS = ("AcmeHelp", "AcmeDE")
USER_IDS = {"783214": "AcmeHelp", "95001": "AcmeDE"}
P = "1787000000000000"
MENTIONS_NEXT = "7140dibdnow9c7btw423x7k5ywyxwo5ofz8xqc5xqe7ko"
SEARCH_NEXT = "b26v89c19zqg8o3fpdg4e3dcqb0r5u1ktnx6kpnbrdcql"
HELP_QUERY = f"conversation_id:{P}100 OR conversation_id:{P}201 OR conversation_id:{P}301"
DE_QUERY = f"conversation_id:{P}401 OR conversation_id:{P}501"
CLEAN_REQUESTS = 11


def page(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


Failure = tuple[int, dict[str, str], Any] | BaseException


@dataclass
class FakeX:
    """The API v2 replayed from fixture pages; records every request; failures are queued per path."""

    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    newer: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Answers to requests that send ``since_id`` (default: nothing new), by path."""
    conversation_pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    on_request: Callable[[str, dict[str, str]], None] | None = None

    def fail(self, path: str, *failures: Failure) -> None:
        self.failures.setdefault(path, []).extend(failures)

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    def answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        url = urlparse(request.url or "")
        path = url.path.removeprefix("/2")
        params = dict(parse_qsl(url.query))
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        self.calls.append((path, params))
        if self.on_request:
            self.on_request(path, params)
        queued = self.failures.get(path)
        if queued:
            failure = queued.pop(0)
            if isinstance(failure, BaseException):
                raise failure
            status, headers, body = failure
            return status, {"content-type": "application/json", **headers}, json.dumps(body)
        return 200, {"content-type": "application/json"}, json.dumps(self.route(path, params))

    def route(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        if m := re.fullmatch(r"/users/by/username/(\w+)", path):
            return page(f"user_{m[1]}")
        if m := re.fullmatch(r"/users/(\d+)/(mentions|tweets)", path):
            handle, endpoint = USER_IDS[m[1]], m[2]
            if "since_id" in params:
                return self.newer.get(path, page("empty"))
            if (handle, endpoint) == ("AcmeHelp", "mentions"):
                return page("AcmeHelp_mentions_2" if params.get("pagination_token") == MENTIONS_NEXT
                            else "AcmeHelp_mentions_1")
            return page(f"{handle}_{endpoint}")
        if path in ("/tweets/search/recent", "/tweets/search/all"):
            query = params["query"]
            if query in self.conversation_pages:
                return self.conversation_pages[query].pop(0)
            if query == HELP_QUERY:
                return page("AcmeHelp_conversations_2" if params.get("next_token") == SEARCH_NEXT
                            else "AcmeHelp_conversations_1")
            if query == DE_QUERY:
                return page("AcmeDE_conversations")
        if path == "/tweets" and params.get("ids") == f"{P}100":
            return page("AcmeHelp_parents")
        raise AssertionError(f"unexpected request: {path} {params}")


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    fake = FakeX()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, re.compile(r"https://api\.twitter\.com/2/.*"), callback=fake.answer)
        yield fake


@dataclass
class FakeTime:
    """A clock that only moves when the code sleeps; every sleep is recorded."""

    now: float = NOW
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def puller(settings: Settings, time: FakeTime, tmp_path: Path, accounts: tuple[str, ...] = ACCOUNTS,
           **kwargs: Any) -> Puller:
    return Puller(Warehouse(settings.db), settings, make_client(TOKEN), accounts, tmp_path / "raw",
                  sleep=time.sleep, clock=time.clock, **kwargs)


def connect(db: Path) -> duckdb.DuckDBPyConnection:
    return Warehouse(db).reader().connection()


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The warehouse's content, without load bookkeeping (run ids, ``added_run``) and ``users.seen_at``:
    that is when the page was fetched, and a page fetched after a wait or a rerun is fetched later."""
    con = connect(db)
    return {
        "tweets": con.execute("SELECT * EXCLUDE (run_id, record_no) FROM tweets ORDER BY tweet_id").fetchall(),
        "threads": con.execute("SELECT * FROM threads ORDER BY thread_id").fetchall(),
        "users": con.execute("SELECT * EXCLUDE (seen_at) FROM users ORDER BY author_id").fetchall(),
        "accounts": con.execute("SELECT * EXCLUDE (added_run) FROM accounts ORDER BY ALL").fetchall(),
        "pull_state": con.execute("SELECT account, endpoint, newest_id FROM pull_state ORDER BY ALL").fetchall(),
    }


def thread_figures(db: Path) -> tuple[int, int, float]:
    row = connect(db).execute(
        """SELECT count(*), count(*) FILTER (WHERE status = 'answered'), median(first_response_seconds)
           FROM threads"""
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), float(row[2])


CLEAN_CURSORS = [("acmede", "mentions", int(f"{P}501")), ("acmede", "tweets", int(f"{P}503")),
                 ("acmehelp", "mentions", int(f"{P}601")), ("acmehelp", "tweets", int(f"{P}602"))]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Any, ...]]]:
    """The warehouse of one clean pull, for comparisons."""
    tmp_path = tmp_path_factory.mktemp("clean")
    settings = Settings(db=tmp_path / "wh.duckdb")
    fake = FakeX()
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, re.compile(r"https://api\.twitter\.com/2/.*"), callback=fake.answer)
        report = puller(settings, FakeTime(), tmp_path).run_once()
    assert report.complete and report.requests == CLEAN_REQUESTS
    return snapshot(settings.db)


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


# -- rate limits and faults -------------------------------------------------------------------------


def test_a_429_waits_until_the_reset_header_and_says_so(
    fake_x: FakeX, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    clean: dict[str, list[tuple[Any, ...]]],
) -> None:
    reset = int(NOW) + 120
    fake_x.fail("/users/783214/mentions", (429, {"x-rate-limit-limit": "10", "x-rate-limit-remaining": "0",
                                                 "x-rate-limit-reset": str(reset)},
                                           {"title": "Too Many Requests", "detail": "Too Many Requests",
                                            "type": "about:blank", "status": 429}))
    time = FakeTime()
    report = puller(settings, time, tmp_path).run_once()

    assert time.sleeps == [121.0]
    assert "rate limited on mentions of @AcmeHelp" in caplog.text and "waiting 121 s, until 13:02:01 UTC" in caplog.text
    assert report.complete and report.requests == CLEAN_REQUESTS + 1
    assert snapshot(settings.db) == clean


def test_on_a_terminal_the_wait_counts_down_by_the_second_and_ctrl_c_ends_it(
    fake_x: FakeX, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("carepulse.etl.twitter_api.client.progress.enabled", lambda: True)
    fake_x.fail("/users/783214/mentions", (429, {"x-rate-limit-reset": str(int(NOW) + 59)}, {"title": "Too Many"}))
    time = FakeTime()
    report = puller(settings, time, tmp_path, should_stop=lambda: len(time.sleeps) >= 3).run_once()
    assert time.sleeps == [1.0, 1.0, 1.0], "a 60 s wait, left after three seconds"
    assert report.stopped_by == "interrupt" and report.files == [] and not settings.db.exists()


def test_a_429_without_reset_header_backs_off_exponentially_instead_of_recursing(
    fake_x: FakeX, settings: Settings, tmp_path: Path, clean: dict[str, list[tuple[Any, ...]]]
) -> None:
    too_many: Failure = (429, {}, {"title": "Too Many Requests", "status": 429})
    fake_x.fail("/tweets/search/recent", too_many, too_many, too_many)
    time = FakeTime()
    report = puller(settings, time, tmp_path).run_once()

    assert time.sleeps == [60.0, 120.0, 240.0]
    assert report.complete and snapshot(settings.db) == clean


def test_an_exhausted_window_is_waited_out_before_the_next_request_not_after_a_429(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    reset = int(NOW) + 600
    mentions_1 = page("AcmeHelp_mentions_1")
    fake_x.fail("/users/783214/mentions", (200, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
                                           mentions_1))
    time = FakeTime()
    report = puller(settings, time, tmp_path).run_once()
    assert time.sleeps == [601.0]
    assert report.complete and report.requests == CLEAN_REQUESTS


def test_server_errors_and_dropped_connections_are_retried_with_capped_backoff(
    fake_x: FakeX, settings: Settings, tmp_path: Path, clean: dict[str, list[tuple[Any, ...]]]
) -> None:
    fake_x.fail("/users/95001/tweets", (503, {}, {"title": "Service Unavailable", "status": 503}),
                requests.ConnectionError("connection reset by peer"),
                (500, {}, {"title": "Internal Server Error", "status": 500}))
    time = FakeTime()
    report = puller(settings, time, tmp_path).run_once()

    assert time.sleeps == [2.0, 4.0, 8.0]
    assert report.complete and snapshot(settings.db) == clean


def test_a_server_that_stays_down_ends_in_a_transient_error_after_loading_what_was_fetched(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    fake_x.fail("/tweets/search/recent", *[(502, {}, {"title": "Bad Gateway"})] * 6)
    time = FakeTime()
    with pytest.raises(SourceError, match=r"conversations of @AcmeHelp .*server error 502, 6 tries") as err:
        puller(settings, time, tmp_path).run_once()

    assert err.value.transient
    assert time.sleeps == [2.0, 4.0, 8.0, 16.0, 32.0]
    con = connect(settings.db)
    assert con.execute("SELECT count(*) FROM tweets").fetchone() == (13,), "timeline pages are loaded"
    assert con.execute("SELECT count(*) FROM pull_state").fetchone() == (0,), "but the cursors stay"


@pytest.mark.parametrize(("path", "status", "expected"), [
    ("/users/by/username/AcmeHelp", 401, r"rejected the bearer token \(401 Unauthorized\)"),
    ("/tweets/search/recent", 403, r"conversations of @AcmeHelp \(GET /2/tweets/search/recent\): 403 Forbidden: "
                                   r"this app's access tier does not include this endpoint.*client-not-enrolled"),
])
def test_401_and_403_give_one_clear_message(
    fake_x: FakeX, settings: Settings, tmp_path: Path, path: str, status: int, expected: str
) -> None:
    body = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    if status == 403:
        body = {"client_id": "123", "required_enrollment": "Appropriate Level of API Access",
                "registration_url": "https://developer.twitter.com/en/portal/product",
                "title": "Client Forbidden", "detail": "This request must be made using an approved developer "
                "account that is enrolled in the requested endpoint.", "reason": "client-not-enrolled",
                "type": "https://api.twitter.com/2/problems/client-forbidden"}
        body["title"] = "client-not-enrolled: Client Forbidden"
    fake_x.fail(path, (status, {}, body))
    time = FakeTime()
    with pytest.raises(SourceError, match=expected) as err:
        puller(settings, time, tmp_path).run_once()
    assert not err.value.transient and time.sleeps == []
    assert TOKEN not in str(err.value)


def test_the_monthly_cap_is_not_waited_for(fake_x: FakeX, settings: Settings, tmp_path: Path) -> None:
    fake_x.fail("/users/783214/mentions", (429, {"x-rate-limit-reset": str(int(NOW) + 900)}, {
        "title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly product cap", "period": "Monthly",
        "scope": "Product", "type": "https://api.twitter.com/2/problems/usage-capped"}))
    time = FakeTime()
    with pytest.raises(SourceError, match="monthly read cap"):
        puller(settings, time, tmp_path).run_once()
    assert time.sleeps == []


def test_full_archive_search_starts_at_the_conversation_and_keeps_one_request_a_second(
    fake_x: FakeX, tmp_path: Path
) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb", twitter_full_archive=True)
    time = FakeTime()
    report = puller(settings, time, tmp_path).run_once()

    search = [params for path, params in fake_x.calls if path == "/tweets/search/all"]
    assert len(search) == 3 and "/tweets/search/recent" not in fake_x.paths()
    # the fixture ids are not real snowflakes: ...100 decodes to 2024-05-05T06:02:55.511Z; one second earlier
    assert search[0]["start_time"] == "2024-05-05T06:02:54Z"
    assert search[0]["max_results"] == "500"
    assert time.sleeps == [1.0, 1.0], "three archive searches at one instant need two one-second gaps"
    assert report.complete


# -- budget, interruption, crash and resume ---------------------------------------------------------


def test_max_requests_caps_the_requests_loads_what_came_and_keeps_the_cursors(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    report = puller(settings, FakeTime(), tmp_path, max_requests=3).run_once()
    assert len(fake_x.calls) == report.requests == 3
    assert report.stopped_by == "budget" and not report.complete and report.cursors == {}
    con = connect(settings.db)  # mentions page 1: 3 + 1 included parent; page 2: 2 + 1 included parent
    assert con.execute("SELECT count(*) FROM tweets").fetchone() == (7,)
    assert con.execute("SELECT count(*) FROM pull_state").fetchone() == (0,)


@pytest.mark.parametrize(("how", "stop_after"), [
    # a budget stop publishes a partial load without cursors: every stop point is checked
    *[("budget", n) for n in range(1, CLEAN_REQUESTS)],
    # a crash publishes nothing: after the user lookup, mid-way through the timelines, before the parents
    ("crash", 1), ("crash", 5), ("crash", 10),
])
def test_a_crash_or_stop_after_any_request_then_a_rerun_gives_the_clean_warehouse(
    settings: Settings, tmp_path: Path, clean: dict[str, list[tuple[Any, ...]]], how: str, stop_after: int
) -> None:
    fake = FakeX()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, re.compile(r"https://api\.twitter\.com/2/.*"), callback=fake.answer)
        time = FakeTime()
        if how == "crash":
            def crash(path: str, params: dict[str, str]) -> None:
                if len(fake.calls) == stop_after + 1:
                    raise RuntimeError("power cut")
            fake.on_request = crash
            with pytest.raises(RuntimeError, match="power cut"):
                puller(settings, time, tmp_path).run_once()
            assert not settings.db.exists(), "a crash publishes nothing"
            parts = list((tmp_path / "raw").rglob("*.part"))
            assert bool(parts) == (stop_after > 1), "pages of the interrupted fetch are kept as .part"
            fake.on_request = None
        else:
            report = puller(settings, time, tmp_path, max_requests=stop_after).run_once()
            assert report.stopped_by == "budget" and report.requests == stop_after
        rerun = puller(settings, time, tmp_path).run_once()
    assert rerun.complete
    assert snapshot(settings.db) == clean


def test_a_crash_inside_the_load_publishes_neither_tweets_nor_cursors(
    fake_x: FakeX, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    clean: dict[str, list[tuple[Any, ...]]],
) -> None:
    def failing_cursor_writer(self: Puller, cursors: dict[tuple[str, str], int]) -> Callable[..., None]:
        def write(con: duckdb.DuckDBPyConnection) -> None:
            raise OSError("disk full")
        return write

    with monkeypatch.context() as patched:
        patched.setattr(Puller, "_cursor_writer", failing_cursor_writer)
        with pytest.raises(OSError, match="disk full"):
            puller(settings, FakeTime(), tmp_path).run_once()
    assert not settings.db.exists()
    fake_x.calls.clear()
    puller(settings, FakeTime(), tmp_path).run_once()
    assert "since_id" not in next(params for path, params in fake_x.calls if path.endswith("/mentions"))
    assert snapshot(settings.db) == clean


def test_every_pulls_on_schedule_and_a_stop_ends_it_cleanly_between_pages(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    time = FakeTime()
    stop = {"now": False}
    reports: list[PullReport] = []

    def on_request(path: str, params: dict[str, str]) -> None:
        if len(reports) == 2 and path == "/users/783214/mentions":
            stop["now"] = True  # Ctrl-C while the third cycle's first page is on its way

    fake_x.on_request = on_request
    pull = puller(settings, time, tmp_path, should_stop=lambda: stop["now"])
    pull.run_every(300, reports.append, lambda exc: pytest.fail(str(exc)))

    assert [r.complete for r in reports] == [True, True, False]
    assert reports[2].stopped_by == "interrupt" and reports[2].requests == 1
    assert time.sleeps == [300.0, 300.0], "cycles start every 300 s (the fake API answers instantly)"
    assert thread_figures(settings.db) == (7, 4, 1334.0)
    assert snapshot(settings.db)["pull_state"] == CLEAN_CURSORS


def test_every_survives_a_transient_error_and_stops_when_the_budget_is_spent(
    fake_x: FakeX, settings: Settings, tmp_path: Path
) -> None:
    fake_x.fail("/users/by/username/AcmeHelp", *[(503, {}, {"title": "Service Unavailable"})] * 6)
    errors: list[SourceError] = []
    reports: list[PullReport] = []
    time = FakeTime()
    pull = puller(settings, time, tmp_path, max_requests=6 + CLEAN_REQUESTS + 4)
    pull.run_every(300, reports.append, errors.append)

    assert len(errors) == 1 and errors[0].transient
    assert [r.complete for r in reports] == [True, True]
    assert pull.requests_sent == 6 + CLEAN_REQUESTS + 4 and pull.budget_left == 0


# -- CLI ---------------------------------------------------------------------------------------------


def test_the_cli_without_a_token_prints_one_line_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    assert main(["pull", "--account", "AcmeHelp", "--db", str(tmp_path / "wh.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: no Twitter bearer token")


def test_the_cli_pulls_prints_the_accounting_and_keeps_the_token_out_of_everything(
    fake_x: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", TOKEN)
    db = tmp_path / "data" / "wh.duckdb"
    assert main(["-v", "pull", "--account", "AcmeHelp", "--account", "@AcmeDE", "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert "pull @AcmeHelp mentions: 2 requests, 2 pages, 5 tweets" in out
    assert "11 requests; 7 raw files; complete, cursors advanced" in out
    assert "7 threads (4 answered)" in out
    assert TOKEN not in out + err
    assert sorted(p.name for p in (tmp_path / "data" / "raw" / "AcmeHelp").iterdir())[0].startswith("conversations-")
    assert main(["pull", "--account", "AcmeHelp", "--db", str(db), "--max-requests", "1"]) == 0
    assert "stopped early (the request budget is spent)" in capsys.readouterr().out


def test_ctrl_c_in_the_cli_stops_after_the_current_page_loads_it_and_keeps_the_cursors(
    fake_x: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", TOKEN)

    def ctrl_c(path: str, params: dict[str, str]) -> None:
        if path == "/users/783214/mentions" and "pagination_token" not in params:
            os.kill(os.getpid(), signal.SIGINT)

    fake_x.on_request = ctrl_c
    db = tmp_path / "wh.duckdb"
    assert main(["pull", "--account", "AcmeHelp", "--db", str(db)]) == 130
    out, err = capsys.readouterr()
    assert "stopping after the current request" in err
    assert "stopped early (stopped by Ctrl-C): cursors not advanced" in out
    assert len(fake_x.calls) == 2
    con = connect(db)
    assert con.execute("SELECT count(*) FROM tweets").fetchone() == (4,)  # page 1: 3 tweets + 1 included parent
    assert con.execute("SELECT count(*) FROM pull_state").fetchone() == (0,)


def test_a_second_ctrl_c_aborts_at_once_and_publishes_nothing(
    fake_x: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", TOKEN)

    def ctrl_c_twice(path: str, params: dict[str, str]) -> None:
        if path == "/users/783214/tweets":
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)

    fake_x.on_request = ctrl_c_twice
    handler_before = signal.getsignal(signal.SIGINT)
    db = tmp_path / "wh.duckdb"
    assert main(["pull", "--account", "AcmeHelp", "--db", str(db)]) == 130
    assert "interrupted: nothing was published" in capsys.readouterr().err
    assert not db.exists()
    assert [p.name.endswith(".jsonl.part") for p in (tmp_path / "raw" / "AcmeHelp").iterdir()] == [True]
    assert signal.getsignal(signal.SIGINT) is handler_before, "the CLI restores the Ctrl-C handler"


def test_the_cli_refuses_bad_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", TOKEN)
    db = str(tmp_path / "wh.duckdb")
    assert main(["pull", "--account", "../etc", "--db", db]) == 2
    assert main(["pull", "--account", "AcmeHelp", "--every", "soon", "--db", db]) == 2
    assert main(["pull", "--account", "AcmeHelp", "--since", "yesterday", "--db", db]) == 2
    assert main(["pull", "--account", "AcmeHelp", "--max-requests", "0", "--db", db]) == 2
    assert [line.split(":")[0] for line in capsys.readouterr().err.splitlines()] == ["error"] * 4


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
