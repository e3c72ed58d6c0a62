"""Shared helpers and fixtures (``fake_x``, ``clean``) for the Twitter API pull tests (test_twitter_api_*.py)."""

# The live pull (etl/twitter_api/), against API v2 answers replayed with ``responses``: no network.
#
# The replayed API serves the pages in ``fixtures/api`` (see its README for the tweet table). Two
# brand accounts, five conversations, sixteen tweets:
#
# ======== ========================= ========================================== ==============
# conv     customer (first tweet)    first brand reply to the customer          first response
# ======== ========================= ========================================== ==============
# ...100   gus_r  04-25 09:00:00     ...602 AcmeHelp 05-04 12:10:00             789,000 s (9 d 3 h 10 min)
# ...201   jane_doe 05-04 08:01:02   ...202 AcmeHelp 08:15:30                   868 s
# ...301   bob_k  09:00:00           none                                       unanswered
# ...301   carl_w 09:05:00           none                                       unanswered
# ...401   dana_m 10:00:00           ...403 AcmeDE 10:03:20                     200 s
# ...501   eve_s  11:00:00           ...503 AcmeDE 11:30:00                     1,800 s
# ...501   frank_t 11:10:00          none (AcmeDE answered eve only)            unanswered
# ======== ========================= ========================================== ==============
#
# 7 threads, 4 answered, median first response (200, 868, 1800, 789000) -> (868 + 1800) / 2 = 1334 s.
#
# A clean pull sends 11 requests: 2 user lookups, AcmeHelp mentions (2 pages) and tweets, AcmeDE
# mentions and tweets, the AcmeHelp conversations (one ``OR`` query, 2 pages), the AcmeDE
# conversations (1 page), and one parent lookup for ...100 (older than the recent search's 7 days,
# and only referenced by ...110, which itself arrives as an included parent).

from __future__ import annotations

import json
import re
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

from carepulse.core.config import Settings
from carepulse.etl.twitter_api.client import make_client
from carepulse.etl.twitter_api.puller import Puller
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
