"""The API client under faults: rate limits, backoff, 401/403, the monthly cap, full-archive pacing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from carepulse.core.config import Settings
from carepulse.core.errors import SourceError
from tests.etl.twitter_api_helpers import (
    CLEAN_REQUESTS,
    NOW,
    TOKEN,
    Failure,
    FakeTime,
    FakeX,
    connect,
    page,
    puller,
    snapshot,
)
from tests.etl.twitter_api_helpers import clean as clean  # shared fixtures, re-exported for pytest
from tests.etl.twitter_api_helpers import fake_x as fake_x

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
