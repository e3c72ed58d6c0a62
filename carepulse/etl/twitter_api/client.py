"""The tweepy client and one request at a time: timeouts, token redaction, budget, rate limits, retries."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

import requests
import tweepy
from requests.adapters import HTTPAdapter

from carepulse.core import progress
from carepulse.core.errors import ConfigError, SourceError

log = logging.getLogger(__name__)

HANDLE_RE: Final = re.compile(r"[A-Za-z0-9_]{1,15}")
CONNECT_TIMEOUT: Final = 10.0
READ_TIMEOUT: Final = 60.0


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff: ``first``, ``2 * first``, ... up to ``cap``, at most ``attempts`` tries."""

    first: float
    cap: float
    attempts: int

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row (1-based)."""
        return float(min(self.cap, self.first * 2 ** (failures - 1)))


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: server faults and connection errors, and 429s."""

    server: Backoff = Backoff(first=2.0, cap=120.0, attempts=6)
    rate_limit_without_reset: Backoff = Backoff(first=60.0, cap=900.0, attempts=8)
    rate_limit_waits: int = 8
    """429s in a row (with a reset header) before giving up with a transient error."""


class Halt(Exception):
    """The cycle stops between requests: the budget is spent or the user asked to stop."""

    def __init__(self, reason: Literal["budget", "interrupt"]) -> None:
        super().__init__(reason)
        self.reason: Literal["budget", "interrupt"] = reason


class _TimeoutAdapter(HTTPAdapter):
    """tweepy sends requests without a timeout; a stalled connection would hang the pull for ever."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (CONNECT_TIMEOUT, READ_TIMEOUT)
        return super().send(request, *args, **kwargs)


class _RedactToken(logging.Filter):
    """tweepy logs request headers (the bearer token) at DEBUG: cut the token out of every record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "[redacted]"), None
        return True


def make_client(token: str) -> tweepy.Client:
    """A tweepy client that returns raw responses (pages are stored as received) and never waits itself."""
    if not token or not token.strip():
        raise ConfigError(
            "no Twitter bearer token: set TWITTER_BEARER_TOKEN or [twitter] bearer_token in carepulse.local.toml"
        )
    client = tweepy.Client(bearer_token=token.strip(), wait_on_rate_limit=False, return_type=requests.Response)
    adapter = _TimeoutAdapter()
    client.session.mount("https://", adapter)
    client.session.mount("http://", adapter)
    tweepy_log = logging.getLogger("tweepy.client")
    if not any(isinstance(f, _RedactToken) and f.token == client.bearer_token for f in tweepy_log.filters):
        tweepy_log.addFilter(_RedactToken(client.bearer_token))
    return client


def check_handle(handle: str) -> str:
    """A Twitter handle without ``@``; refuses anything else (it becomes a directory name)."""
    bare = handle.strip().lstrip("@")
    if not HANDLE_RE.fullmatch(bare):
        raise ConfigError(f"{handle!r} is not a Twitter handle (1-15 letters, digits or _)")
    return bare


def _api_message(exc: tweepy.HTTPException) -> str:
    messages = [m for m in exc.api_messages if m]
    try:
        body = exc.response.json()
        messages += [str(body[k]) for k in ("title", "detail") if isinstance(body, dict) and body.get(k)]
    except ValueError:
        pass
    unique = list(dict.fromkeys(m.strip() for m in messages if m.strip()))
    return "; ".join(unique)[:300]


class Requester:
    """Sends one request at a time: budget, stop requests, rate limits, retries and error messages."""

    def __init__(self, *, sleep: Callable[[float], object], clock: Callable[[], float],
                 should_stop: Callable[[], bool], max_requests: int | None, retry: RetryPolicy) -> None:
        self.sleep = sleep
        self.clock = clock
        self.should_stop = should_stop
        self.max_requests = max_requests
        self.retry = retry
        self.sent = 0
        self._exhausted_until: dict[str, float] = {}
        self._last_sent: dict[str, float] = {}

    def _check(self) -> None:
        if self.should_stop():
            raise Halt("interrupt")
        if self.max_requests is not None and self.sent >= self.max_requests:
            raise Halt("budget")

    def wait(self, seconds: float, why: str) -> None:
        """Sleep ``seconds`` showing why: a countdown bar on a terminal, one log line otherwise."""
        if seconds <= 0:
            return
        until = datetime.fromtimestamp(self.clock() + seconds, UTC)
        message = f"{why}: waiting {seconds:.0f} s, until {until:%H:%M:%S} UTC"
        if progress.enabled():
            with progress.bar(round(seconds), message, unit="s") as bar:
                left = seconds
                while left > 0:
                    if self.should_stop():
                        raise Halt("interrupt")
                    step = min(1.0, left)
                    self.sleep(step)
                    bar.update(step)
                    left -= step
        else:
            log.warning(message)
            self.sleep(seconds)
        if self.should_stop():
            raise Halt("interrupt")

    def _pace(self, family: str, min_interval: float) -> None:
        """Wait out a window the previous answer said is used up, and keep ``min_interval`` between requests."""
        now = self.clock()
        reset = self._exhausted_until.pop(family, 0.0)
        if reset > now:
            self.wait(reset - now, f"rate limit of {family} used up")
        last = self._last_sent.get(family)
        if min_interval and last is not None and self.clock() - last < min_interval:
            self.sleep(min_interval - (self.clock() - last))

    def _note_limits(self, family: str, response: requests.Response) -> None:
        remaining, reset = response.headers.get("x-rate-limit-remaining"), response.headers.get("x-rate-limit-reset")
        if remaining is not None and reset is not None and remaining.strip() == "0" and reset.strip().isdigit():
            self._exhausted_until[family] = float(reset) + 1

    def call(self, what: str, family: str, send: Callable[[], requests.Response],
             min_interval: float = 0.0) -> requests.Response:
        """One API request, retried as the policy says. ``what`` names it in messages; ``family`` is its
        rate-limit window (one per endpoint)."""
        server_failures = 0
        unreset_429s = 0
        rate_waits = 0
        while True:
            self._check()
            self._pace(family, min_interval)
            self._check()
            self.sent += 1
            self._last_sent[family] = self.clock()
            try:
                response = send()
            except tweepy.TooManyRequests as exc:
                if _usage_capped(exc):
                    raise SourceError(
                        f"{what}: 429, the monthly read cap of this app's access tier is used up "
                        f"({_api_message(exc)}); it resets with the billing cycle"
                    ) from None
                rate_waits += 1
                if rate_waits > self.retry.rate_limit_waits:
                    raise SourceError(f"{what}: still rate limited after {rate_waits - 1} waits",
                                      transient=True) from None
                if exc.reset_time is not None:
                    self.wait(max(1.0, exc.reset_time - self.clock() + 1), f"rate limited on {what} (429)")
                else:
                    unreset_429s += 1
                    if unreset_429s >= self.retry.rate_limit_without_reset.attempts:
                        raise SourceError(f"{what}: still rate limited after {unreset_429s} backoffs",
                                          transient=True) from None
                    self.wait(self.retry.rate_limit_without_reset.delay(unreset_429s),
                              f"rate limited on {what} (429 without x-rate-limit-reset), backing off")
                continue
            except tweepy.Unauthorized:
                raise SourceError(
                    "the X API rejected the bearer token (401 Unauthorized): check TWITTER_BEARER_TOKEN "
                    "(or [twitter] bearer_token in carepulse.local.toml), or regenerate it in the developer portal"
                ) from None
            except tweepy.Forbidden as exc:
                said = f"; the API said: {_api_message(exc)}" if _api_message(exc) else ""
                raise SourceError(
                    f"{what}: 403 Forbidden: this app's access tier does not include this endpoint, or the app "
                    f"is not attached to a project (see docs/pull.md, 'Setup: token and access'){said}"
                ) from None
            except tweepy.TwitterServerError as exc:
                server_failures += 1
                self._retry_or_fail(what, f"server error {exc.response.status_code}", server_failures)
                continue
            except requests.RequestException as exc:
                server_failures += 1
                self._retry_or_fail(what, f"connection problem ({type(exc).__name__})", server_failures)
                continue
            except tweepy.HTTPException as exc:
                status = getattr(exc.response, "status_code", "?")
                said = _api_message(exc)
                raise SourceError(f"{what}: the API refused the request ({status})" + (f": {said}" if said else "")) \
                    from None
            self._note_limits(family, response)
            return response

    def _retry_or_fail(self, what: str, problem: str, failures: int) -> None:
        policy = self.retry.server
        if failures >= policy.attempts:
            raise SourceError(f"{what}: {problem}, {failures} tries in a row; try again later", transient=True)
        self.wait(policy.delay(failures), f"{what}: {problem}, retry {failures} of {policy.attempts - 1}")


def _usage_capped(exc: tweepy.TooManyRequests) -> bool:
    try:
        body = exc.response.json()
    except ValueError:
        return False
    text = json.dumps(body).lower() if isinstance(body, dict) else ""
    return "usagecapexceeded" in text or "usage-capped" in text
