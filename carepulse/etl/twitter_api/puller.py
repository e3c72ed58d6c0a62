"""One pull cycle (timelines, conversations, parents), written by :mod:`.raw_writer` and loaded, and its schedule."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import duckdb
import requests
import tweepy

from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError, SourceError
from carepulse.etl.loader import BatchReport, ingest_tweets
from carepulse.etl.twitter_api.client import Halt, Requester, RetryPolicy, check_handle
from carepulse.etl.twitter_api.raw_writer import Endpoint, RawWriter
from carepulse.warehouse import Warehouse
from carepulse.warehouse.delta import target

log = logging.getLogger(__name__)

CURSOR_ENDPOINTS: Final[tuple[Endpoint, ...]] = ("mentions", "tweets")
"""Endpoints read incrementally; their newest id per account is kept in ``pull_state``."""

TWEET_FIELDS: Final = [
    "author_id", "conversation_id", "created_at", "in_reply_to_user_id", "lang", "public_metrics",
    "referenced_tweets",
]
EXPANSIONS: Final = ["author_id", "referenced_tweets.id", "in_reply_to_user_id", "referenced_tweets.id.author_id"]
"""``referenced_tweets.id.author_id`` adds the authors of included parents, so their handles are known."""
USER_FIELDS: Final = ["username", "name", "public_metrics"]
FIELDS: Final[dict[str, Any]] = {"tweet_fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user_fields": USER_FIELDS}

TIMELINE_PAGE: Final = 100
"""``max_results`` of the timelines and recent search (the API's maximum)."""
ARCHIVE_PAGE: Final = 500
LOOKUP_BATCH: Final = 100
"""Ids per ``get_tweets`` request (the API's maximum)."""
QUERY_LIMIT: Final = {"recent": 512, "all": 1024}
"""Longest search query the API accepts (characters), per search endpoint."""
ARCHIVE_MIN_INTERVAL: Final = 1.0
"""Full-archive search allows one request per second on top of its 15-minute window."""
PARENT_ROUNDS: Final = 10
"""Rounds of parent lookups: each round climbs two levels (the parent and, included, its parent)."""

SNOWFLAKE_EPOCH_MS: Final = 1288834974657
FIRST_TWEET: Final = datetime(2006, 3, 21, 20, 50, 14, tzinfo=UTC)


@dataclass
class EndpointReport:
    """What one endpoint returned for one account in one cycle."""

    account: str
    endpoint: Endpoint
    requests: int = 0
    pages: int = 0
    tweets: int = 0
    since_id: int | None = None
    newest_id: int | None = None
    complete: bool = False

    def line(self) -> str:
        since = f" since {self.since_id}" if self.since_id else ""
        state = "" if self.complete else " (stopped early)"
        return (f"@{self.account} {self.endpoint}{since}: {self.requests} requests, {self.pages} pages, "
                f"{self.tweets} tweets{state}")


@dataclass
class PullReport:
    """One pull cycle: what was fetched, written and loaded, and whether the cursors advanced."""

    started_at: datetime
    endpoints: list[EndpointReport] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    requests: int = 0
    complete: bool = False
    stopped_by: str | None = None
    """``budget`` or ``interrupt`` when the cycle stopped early; ``error`` when a source error ended it."""
    load: BatchReport | None = None
    cursors: dict[tuple[str, str], int] = field(default_factory=dict)
    """The cursors written with the load (empty when the cycle was incomplete)."""


def snowflake_time(tweet_id: int) -> datetime:
    """When a tweet id was minted (ids since November 2010 carry their time); the first tweet before that."""
    when = datetime.fromtimestamp(((tweet_id >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)
    return when if tweet_id >= 1 << 32 else FIRST_TWEET


def conversation_queries(conversation_ids: Iterable[int], limit: int) -> list[list[int]]:
    """Conversation ids grouped so that each ``conversation_id:a OR conversation_id:b ...`` fits ``limit``."""
    batches: list[list[int]] = []
    length = 0
    for cid in sorted(set(conversation_ids)):
        term = len(f"conversation_id:{cid}")
        if batches and length + len(" OR ") + term <= limit:
            batches[-1].append(cid)
            length += len(" OR ") + term
        else:
            batches.append([cid])
            length = term
    return batches


def _query(batch: Sequence[int]) -> str:
    return " OR ".join(f"conversation_id:{cid}" for cid in batch)


def _page_tweets(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The tweet objects of a page: ``data`` (a list, or one object) and ``includes.tweets``."""
    data = page.get("data") or []
    tweets = data if isinstance(data, list) else [data]
    return [t for t in [*tweets, *(page.get("includes") or {}).get("tweets", [])] if isinstance(t, dict)]


def _int_id(value: object) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() and len(text) <= 19 else None


def _parent_id(tweet: dict[str, Any]) -> int | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            return _int_id(ref.get("id"))
    return None


class _Seen:
    """Tweets fetched in this cycle (data and includes) and the account whose request brought each."""

    def __init__(self) -> None:
        self.tweets: dict[int, dict[str, Any]] = {}
        self.owner: dict[int, str] = {}

    def add(self, page: dict[str, Any], account: str) -> None:
        for tweet in _page_tweets(page):
            tid = _int_id(tweet.get("id"))
            if tid is not None and tid not in self.tweets:
                self.tweets[tid] = tweet
                self.owner[tid] = account


@dataclass
class _Known:
    """What the warehouse already holds that steers the pull."""

    cursors: dict[tuple[str, str], int]
    user_ids: dict[str, str]


def _read_known(warehouse: Warehouse, handles: Sequence[str]) -> _Known:
    if not warehouse.exists():
        return _Known({}, {})
    reader = warehouse.reader()
    try:
        con = reader.connection()
        try:
            cursors = {(str(a), str(e)): int(n) for a, e, n in
                       con.execute("SELECT account, endpoint, newest_id FROM pull_state").fetchall()}
        except duckdb.CatalogException:
            cursors = {}
        rows = con.execute(
            """SELECT lower(handle), arg_max(author_id, seen_at) FROM users
               WHERE lower(handle) IN (SELECT unnest($keys::VARCHAR[])) AND regexp_full_match(author_id, '[0-9]+')
               GROUP BY 1""",
            {"keys": [h.lower() for h in handles]},
        ).fetchall()
        return _Known(cursors, {str(k): str(v) for k, v in rows})
    finally:
        reader.close()


def _loaded_ids(warehouse: Warehouse, ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(ids))
    if not wanted or not warehouse.exists():
        return set()
    reader = warehouse.reader()
    try:
        rows = reader.connection().execute(
            "SELECT tweet_id FROM tweets WHERE tweet_id IN (SELECT unnest($ids::BIGINT[]))", {"ids": wanted}
        ).fetchall()
        return {int(r[0]) for r in rows}
    finally:
        reader.close()


class Puller:
    """Pulls brand accounts' threads from the API into raw JSONL files and the warehouse.

    ``sleep`` must return early when a stop is requested if waits should be interruptible
    (the CLI passes ``threading.Event.wait``); ``should_stop`` is polled between requests.
    """

    def __init__(self, warehouse: Warehouse, settings: Settings, client: tweepy.Client, accounts: Sequence[str],
                 raw_dir: Path, *, since: datetime | None = None, max_requests: int | None = None,
                 sleep: Callable[[float], object] = time.sleep, clock: Callable[[], float] = time.time,
                 should_stop: Callable[[], bool] = lambda: False, retry: RetryPolicy | None = None) -> None:
        if not accounts:
            raise ConfigError("pull needs at least one --account HANDLE")
        if max_requests is not None and max_requests < 1:
            raise ConfigError("--max-requests must be at least 1")
        self.warehouse = warehouse
        self.settings = settings
        self.client = client
        self.client.wait_on_rate_limit = False
        self.client.return_type = requests.Response
        by_key: dict[str, str] = {}
        for handle in map(check_handle, accounts):
            by_key.setdefault(handle.lower(), handle)  # the first spelling given wins
        self.accounts = list(by_key.values())
        self.raw_dir = raw_dir
        self.since = since
        self.clock = clock
        self.sleep = sleep
        self.should_stop = should_stop
        self.requester = Requester(sleep=sleep, clock=clock, should_stop=should_stop, max_requests=max_requests,
                                   retry=retry or RetryPolicy())
        self._user_ids: dict[str, str] = {}
        token = client.bearer_token or ""
        self._redact: Callable[[str], str] = (lambda s: s.replace(token, "[redacted]")) if token else (lambda s: s)

    @property
    def requests_sent(self) -> int:
        return self.requester.sent

    @property
    def budget_left(self) -> int | None:
        limit = self.requester.max_requests
        return None if limit is None else max(0, limit - self.requester.sent)

    # -- one cycle -------------------------------------------------------------------------------

    def run_once(self) -> PullReport:
        """Fetch, write and load one cycle. Cursors advance only if every step of the cycle finished.

        A :class:`Halt` (budget spent, stop requested) or a :class:`SourceError` still loads the
        pages fetched so far (the error is raised after the load); any other exception leaves the
        files as ``.part`` and publishes nothing.
        """
        started = datetime.fromtimestamp(self.clock(), UTC)
        report = PullReport(started_at=started)
        writer = RawWriter(self.raw_dir, started.strftime("%Y%m%dT%H%M%SZ"), self._redact)
        sent_before = self.requester.sent
        failure: SourceError | None = None
        cursors: dict[tuple[str, str], int] = {}
        try:
            cursors = self._fetch_cycle(writer, report)
            report.complete = True
        except Halt as halt:
            report.stopped_by = halt.reason
        except SourceError as exc:
            report.stopped_by = "error"
            failure = exc
        except BaseException:
            writer.abandon()
            raise
        finally:
            report.requests = self.requester.sent - sent_before
        report.files = writer.finish()
        if report.complete:
            report.cursors = cursors
        if report.files:
            report.load = ingest_tweets(self.warehouse, "jsonl", report.files, self.settings, self.accounts,
                                        before_commit=self._cursor_writer(report.cursors))
        if failure is not None:
            raise failure
        return report

    def _cursor_writer(self, cursors: dict[tuple[str, str], int]) -> Callable[[duckdb.DuckDBPyConnection], None]:
        updated_at = datetime.fromtimestamp(self.clock(), UTC)

        def write(con: duckdb.DuckDBPyConnection) -> None:
            for (account, endpoint), newest in sorted(cursors.items()):
                con.execute(
                    f"""INSERT INTO {target(con, "pull_state")} AS pull_state VALUES (?, ?, ?, ?)
                       ON CONFLICT (account, endpoint) DO UPDATE
                       SET newest_id = greatest(pull_state.newest_id, excluded.newest_id),
                           updated_at = excluded.updated_at""",
                    [account, endpoint, newest, updated_at],
                )

        return write

    def _fetch_cycle(self, writer: RawWriter, report: PullReport) -> dict[tuple[str, str], int]:
        known = _read_known(self.warehouse, self.accounts)
        self._user_ids.update(known.user_ids)
        seen = _Seen()
        touched: dict[int, str] = {}
        cursors: dict[tuple[str, str], int] = {}
        for account in self.accounts:
            user_id = self._user_id(account)
            for endpoint in CURSOR_ENDPOINTS:
                key = (account.lower(), endpoint)
                result = EndpointReport(account, endpoint, since_id=known.cursors.get(key))
                report.endpoints.append(result)
                for page in self._timeline(account, endpoint, user_id, result, writer):
                    seen.add(page, account)
                    for tweet in page.get("data") or []:
                        cid = _int_id(tweet.get("conversation_id"))
                        if cid is not None:
                            touched.setdefault(cid, account)
                if result.newest_id is not None:
                    cursors[key] = result.newest_id
        self._fill_conversations(touched, seen, writer, report)
        self._fill_parents(seen, writer, report)
        return cursors

    def _user_id(self, account: str) -> str:
        key = account.lower()
        if key not in self._user_ids:
            response = self.requester.call(
                f"looking up @{account} (GET /2/users/by/username)", "users",
                lambda: self.client.get_user(username=account, user_fields=USER_FIELDS),
            )
            data = response.json().get("data") or {}
            if not str(data.get("id", "")).isdigit():
                raise SourceError(f"@{account}: no such user on X ({_errors_text(response.json())})")
            self._user_ids[key] = str(data["id"])
        return self._user_ids[key]

    def _timeline(self, account: str, endpoint: Endpoint, user_id: str, result: EndpointReport,
                  writer: RawWriter) -> Iterator[dict[str, Any]]:
        method = self.client.get_users_mentions if endpoint == "mentions" else self.client.get_users_tweets
        params: dict[str, Any] = {"max_results": TIMELINE_PAGE, **FIELDS}
        if endpoint == "tweets":
            params["exclude"] = ["retweets"]
        if result.since_id is not None:
            params["since_id"] = result.since_id
        elif self.since is not None:
            params["start_time"] = self.since
        route = "mentions" if endpoint == "mentions" else "tweets"
        what = f"{'mentions of' if endpoint == 'mentions' else 'tweets by'} @{account} (GET /2/users/:id/{route})"
        newest: int | None = None
        for page in self._pages(what, f"timeline:{endpoint}", method, account, endpoint, writer, result,
                                user_id, **params):
            for tweet in page.get("data") or []:
                tid = _int_id(tweet.get("id"))
                if tid is not None:
                    newest = tid if newest is None else max(newest, tid)
            yield page
        result.complete = True
        result.newest_id = newest

    def _pages(self, what: str, family: str, method: Callable[..., Any], account: str, endpoint: Endpoint,
               writer: RawWriter, result: EndpointReport, *args: Any, min_interval: float = 0.0,
               **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated request, each written to the raw file as it arrives."""
        iterator = iter(tweepy.Paginator(method, *args, **params))
        while True:
            response = self.requester.call(what, family, lambda: next(iterator), min_interval)
            result.requests += 1
            page = self._store(response, account, endpoint, writer, result)
            yield page
            if not (page.get("meta") or {}).get("next_token"):
                return

    def _store(self, response: requests.Response, account: str, endpoint: Endpoint, writer: RawWriter,
               result: EndpointReport) -> dict[str, Any]:
        try:
            page = response.json()
        except ValueError as exc:
            raise SourceError(f"{result.endpoint} of @{account}: the API answered with something that is not JSON",
                              transient=True) from exc
        if not isinstance(page, dict):
            raise SourceError(f"{result.endpoint} of @{account}: unexpected answer (not a JSON object)",
                              transient=True)
        retrieved = datetime.fromtimestamp(self.clock(), UTC)
        if writer.write(account, endpoint, page, response.url or "", retrieved):
            result.pages += 1
        data = page.get("data") or []
        result.tweets += len(data) if isinstance(data, list) else 1
        return page

    def _fill_conversations(self, touched: dict[int, str], seen: _Seen, writer: RawWriter,
                            report: PullReport) -> None:
        """Search the rest of every touched conversation, grouped by the account that touched it first."""
        archive = self.settings.twitter_full_archive
        kind = "all" if archive else "recent"
        method = self.client.search_all_tweets if archive else self.client.search_recent_tweets
        for account in self.accounts:
            mine = [cid for cid, owner in touched.items() if owner == account]
            if not mine:
                continue
            result = EndpointReport(account, "conversations")
            report.endpoints.append(result)
            for batch in conversation_queries(mine, QUERY_LIMIT[kind]):
                params: dict[str, Any] = {"max_results": ARCHIVE_PAGE if archive else TIMELINE_PAGE, **FIELDS}
                if archive:  # full-archive search looks back only 30 days unless told otherwise
                    params["start_time"] = snowflake_time(min(batch)) - timedelta(seconds=1)
                what = f"conversations of @{account} (GET /2/tweets/search/{kind})"
                for page in self._pages(what, f"search:{kind}", method, account, "conversations", writer, result,
                                        _query(batch), min_interval=ARCHIVE_MIN_INTERVAL if archive else 0.0,
                                        **params):
                    seen.add(page, account)
            result.complete = True

    def _fill_parents(self, seen: _Seen, writer: RawWriter, report: PullReport) -> None:
        """Look up parents that neither this cycle nor an earlier load has, until none are missing.

        Each lookup goes to the raw folder of the account whose tweet needs the parent.
        """
        tried: set[int] = set()
        results: dict[str, EndpointReport] = {}
        for _ in range(PARENT_ROUNDS):
            wanted: dict[int, str] = {}
            for tid, tweet in list(seen.tweets.items()):
                parent = _parent_id(tweet)
                if parent is not None and parent not in seen.tweets and parent not in tried:
                    wanted.setdefault(parent, seen.owner[tid])
            tried |= set(wanted)
            loaded = _loaded_ids(self.warehouse, wanted)
            missing = {pid: owner for pid, owner in wanted.items() if pid not in loaded}
            if not missing:
                break
            for account in self.accounts:
                ids = sorted(pid for pid, owner in missing.items() if owner == account)
                if not ids:
                    continue
                result = results.get(account)
                if result is None:
                    result = results[account] = EndpointReport(account, "parents")
                    report.endpoints.append(result)
                for start in range(0, len(ids), LOOKUP_BATCH):
                    page = self._lookup(account, ids[start:start + LOOKUP_BATCH], writer, result)
                    seen.add(page, account)
        for result in results.values():
            result.complete = True

    def _lookup(self, account: str, ids: list[int], writer: RawWriter, result: EndpointReport) -> dict[str, Any]:
        response = self.requester.call(f"parents for @{account} (GET /2/tweets)", "lookup",
                                       lambda: self.client.get_tweets(ids=ids, **FIELDS))
        result.requests += 1
        return self._store(response, account, "parents", writer, result)

    # -- the schedule ----------------------------------------------------------------------------

    def run_every(self, seconds: float, on_report: Callable[[PullReport], None],
                  on_error: Callable[[SourceError], None]) -> None:
        """Pull every ``seconds`` until a stop is requested or the request budget is spent.

        A cycle that fails with a transient :class:`SourceError` (rate limited for long, server
        down) is reported and retried at the next slot; a terminal one (bad token, tier) ends the loop.
        """
        if seconds <= 0:
            raise ConfigError("--every must be a positive interval")
        while True:
            started = self.clock()
            try:
                report = self.run_once()
            except SourceError as exc:
                if not exc.transient:
                    raise
                on_error(exc)
            else:
                on_report(report)
                if report.stopped_by in ("interrupt", "budget"):
                    return
            if self.should_stop() or self.budget_left == 0:
                return
            left = seconds - (self.clock() - started)
            if left > 0:
                self.sleep(left)
            if self.should_stop():
                return


def _errors_text(page: dict[str, Any]) -> str:
    errors = page.get("errors") or []
    texts = [str(e.get("detail") or e.get("title") or e) for e in errors if isinstance(e, dict)]
    return "; ".join(texts)[:200] or "no data in the answer"


def parse_interval(text: str) -> float:
    """``30s``, ``5m``, ``2h`` or plain seconds -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match:
        raise ConfigError(f"--every {text!r}: expected a number with s, m or h, like 5m")
    value = float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    if value < 1:
        raise ConfigError(f"--every {text!r}: the interval must be at least one second")
    return value


def parse_since(text: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 time (UTC when no zone is given)."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigError(f"--since {text!r}: expected a date like 2026-05-01 or an ISO 8601 time") from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
