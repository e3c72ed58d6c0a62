"""The demo generator: twarc2-shaped tweets, a German CRM export, and the story both must tell.

The checks read the written files the way a consumer would (JSON lines, ``csv`` with ``;``) and
share no code with the generator, so they test what lands on disk, not the simulation's internals.
The few broken records the generator plants on purpose are found by the same reading (a line that
is not JSON, a CSV row that breaks the export's format) and only then compared with its list.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carepulse.core.config import Settings
from carepulse.demo.generator import CRM_HEADERS, HISTORY_WEEKS, HOTLINE_VOLUME_DROP, DemoFiles, generate_demo

BERLIN = ZoneInfo("Europe/Berlin")
CREATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
GERMAN_TIMESTAMP = re.compile(r"\d\d\.\d\d\.\d{4} \d\d:\d\d")
SIGNATURE = re.compile(r" \^([A-Z]{2})$")
TWEET_FIELDS = ("id", "text", "author_id", "conversation_id", "created_at", "lang", "public_metrics",
                "edit_history_tweet_ids")  # fmt: skip
TWEET_METRICS = {"retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count", "impression_count"}
USER_METRICS = {"followers_count", "following_count", "tweet_count", "listed_count"}


@dataclass
class Demo:
    files: DemoFiles
    cpu_seconds: float
    pages: list[dict[str, Any]]
    tweets: dict[str, dict[str, Any]]
    users: dict[str, dict[str, Any]]
    brand_ids: set[str]
    crm_rows: list[dict[str, str]]
    broken_pages: dict[int, str]
    """Line number -> text of every tweets.jsonl line that is not JSON."""
    broken_crm_rows: dict[int, list[str]]
    """Line number -> what is wrong, for every CRM row that breaks the export's format."""

    def created(self, tweet: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))

    def parent(self, tweet: dict[str, Any]) -> dict[str, Any] | None:
        refs = [ref["id"] for ref in tweet.get("referenced_tweets", []) if ref["type"] == "replied_to"]
        return self.tweets.get(refs[0]) if refs else None

    def is_brand(self, tweet: dict[str, Any]) -> bool:
        return tweet["author_id"] in self.brand_ids

    def threads(self) -> dict[tuple[str, str], tuple[datetime, datetime | None]]:
        """(conversation, customer) -> (started_at, first_response_at), as docs/definitions.md defines them."""
        started: dict[tuple[str, str], datetime] = {}
        answered: dict[tuple[str, str], datetime] = {}
        for tweet in sorted(self.tweets.values(), key=self.created):
            if not self.is_brand(tweet):
                started.setdefault((tweet["conversation_id"], tweet["author_id"]), self.created(tweet))
                continue
            parent = self.parent(tweet)
            if parent is not None and not self.is_brand(parent):
                answered.setdefault((parent["conversation_id"], parent["author_id"]), self.created(tweet))
        return {key: (start, answered.get(key)) for key, start in started.items()}


def _german_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%d.%m.%Y %H:%M") if GERMAN_TIMESTAMP.fullmatch(text) else None
    except ValueError:  # 31.09. and the like
        return None


def _crm_problems(fields: list[str]) -> list[str]:
    """What breaks the export's format in one row (empty for a good row)."""
    if len(fields) != len(CRM_HEADERS):
        return ["field count"]
    row = dict(zip(CRM_HEADERS, fields, strict=True))
    opened, closed = _german_time(row["Erstellt am"]), _german_time(row["Geschlossen am"])
    checks = {
        "channel": row["Kanal"] in ("Twitter", "Telefon", "E-Mail", "Chat"),
        "outcome": row["Ergebnis"] in ("gelöst", "nicht gelöst", "eskaliert", "offen", "Duplikat"),
        "opened": opened is not None,
        "closed": (row["Geschlossen am"] == "") == (row["Ergebnis"] == "offen")
                  and (closed is not None or row["Geschlossen am"] == ""),
        "closed before opened": opened is None or closed is None or closed >= opened,
        "minutes": re.fullmatch(r"\d+,\d", row["Bearbeitungszeit (Min)"]) is not None,
        "csat": row["Zufriedenheit"] in ("", "1", "2", "3", "4", "5"),
        "nps": row["Weiterempfehlung"] == "" or (row["Weiterempfehlung"].isdigit()
                                                 and 0 <= int(row["Weiterempfehlung"]) <= 10),
        "tweet id": row["Tweet-ID"] == "" or row["Tweet-ID"].isdigit(),
    }  # fmt: skip
    return [name for name, ok in checks.items() if not ok]


def _read(files: DemoFiles, seconds: float) -> Demo:
    pages, broken_pages = [], {}
    for number, line in enumerate(files.tweets_jsonl.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            pages.append(json.loads(line))
        except json.JSONDecodeError:
            broken_pages[number] = line
    tweets = {tweet["id"]: tweet for page in pages for tweet in page["data"]}
    users = {user["id"]: user for page in pages for user in page["includes"]["users"]}
    brand_ids = {user_id for user_id, user in users.items() if user["username"] in files.accounts}
    lines = files.crm_csv.read_text(encoding="utf-8").splitlines()
    rows, broken_rows = [], {}
    for number, fields in enumerate(csv.reader(lines[1:], delimiter=";"), start=2):
        problems = _crm_problems(fields)
        if problems:
            broken_rows[number] = problems
        else:
            rows.append(dict(zip(CRM_HEADERS, fields, strict=True)))
    return Demo(files, seconds, pages, tweets, users, brand_ids, rows, broken_pages, broken_rows)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    started = time.process_time()
    files = generate_demo(tmp_path_factory.mktemp("demo"), seed=7)
    return _read(files, time.process_time() - started)


def _bytes(files: DemoFiles) -> list[bytes]:
    return [path.read_bytes() for path in (files.tweets_jsonl, files.crm_csv, files.crm_mapping)]


def test_same_seed_gives_identical_bytes(demo: Demo, tmp_path: Path) -> None:
    again = generate_demo(tmp_path, seed=7)
    assert _bytes(again) == _bytes(demo.files)


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    one = generate_demo(tmp_path / "a", seed=7, months=1)
    other = generate_demo(tmp_path / "b", seed=8, months=1)
    assert one.tweets_jsonl.read_bytes() != other.tweets_jsonl.read_bytes()
    assert one.crm_csv.read_bytes() != other.crm_csv.read_bytes()


def test_generation_is_quick_and_sized_like_a_pilot(demo: Demo) -> None:
    assert demo.cpu_seconds < 10
    assert 12_000 <= len(demo.tweets) <= 20_000
    assert demo.files.accounts == ("nordfunk_hilft", "nordfunk_b2b")


def test_every_line_is_a_twarc2_response_page(demo: Demo) -> None:
    for number, page in enumerate(demo.pages):
        assert set(page) == {"data", "includes", "meta", "__twarc"}
        assert 1 <= len(page["data"]) <= 100
        meta = page["meta"]
        assert meta["result_count"] == len(page["data"])
        assert meta["newest_id"] == page["data"][0]["id"]
        assert meta["oldest_id"] == page["data"][-1]["id"]
        twarc = page["__twarc"]
        assert re.fullmatch(r"https://api\.twitter\.com/2/users/\d+/(mentions|tweets)\?.+", twarc["url"])
        assert twarc["version"] == "2.14.0"
        assert CREATED_AT.fullmatch(twarc["retrieved_at"])
        if "next_token" in meta:
            assert f"pagination_token={meta['next_token']}" in demo.pages[number + 1]["__twarc"]["url"]


def test_pages_list_newest_first_and_include_authors_and_parents(demo: Demo) -> None:
    for page in demo.pages:
        ids = [int(tweet["id"]) for tweet in page["data"]]
        assert ids == sorted(ids, reverse=True)
        users = {user["id"] for user in page["includes"]["users"]}
        included = {tweet["id"] for tweet in page["includes"]["tweets"]}
        for tweet in page["data"]:
            assert tweet["author_id"] in users
            for ref in tweet.get("referenced_tweets", []):
                assert ref["id"] in included


def test_tweets_carry_the_api_v2_fields_with_string_ids(demo: Demo) -> None:
    for tweet in demo.tweets.values():
        assert all(field in tweet for field in TWEET_FIELDS)
        for key in ("id", "author_id", "conversation_id", "in_reply_to_user_id"):
            if key in tweet:
                assert isinstance(tweet[key], str) and tweet[key].isdigit()
        assert len(tweet["id"]) == 19
        assert CREATED_AT.fullmatch(tweet["created_at"])
        assert tweet["lang"] in ("de", "en")
        assert tweet["edit_history_tweet_ids"] == [tweet["id"]]
        assert set(tweet["public_metrics"]) == TWEET_METRICS
        assert len(tweet["text"]) <= 280
    for user in demo.users.values():
        assert isinstance(user["id"], str) and user["id"].isdigit()
        if user["id"] not in demo.brand_ids:
            assert re.fullmatch(r"\w{1,15}", user["username"])
        assert set(user["public_metrics"]) == USER_METRICS


def test_ids_grow_with_time(demo: Demo) -> None:
    by_id = sorted(demo.tweets.values(), key=lambda tweet: int(tweet["id"]))
    times = [tweet["created_at"] for tweet in by_id]
    assert times == sorted(times)


def test_every_reply_points_to_an_earlier_tweet_of_its_conversation(demo: Demo) -> None:
    replies = 0
    for tweet in demo.tweets.values():
        for ref in tweet.get("referenced_tweets", []):
            assert ref["type"] == "replied_to"
            parent = demo.tweets[ref["id"]]
            assert demo.created(parent) < demo.created(tweet)
            assert parent["conversation_id"] == tweet["conversation_id"]
            assert tweet["in_reply_to_user_id"] == parent["author_id"]
            replies += 1
    assert replies > len(demo.tweets) / 2


def test_reply_counts_match_the_replies_present(demo: Demo) -> None:
    replies = Counter(ref["id"] for tweet in demo.tweets.values() for ref in tweet.get("referenced_tweets", []))
    for tweet_id, tweet in demo.tweets.items():
        assert tweet["public_metrics"]["reply_count"] == replies[tweet_id]


def test_volume_grows_from_the_first_to_the_last_month(demo: Demo) -> None:
    times = sorted(demo.created(tweet) for tweet in demo.tweets.values())
    first = sum(1 for t in times if t < times[0] + timedelta(days=30))
    last = sum(1 for t in times if t > times[-1] - timedelta(days=30))
    assert last > 1.5 * first


def test_english_share_is_a_minority(demo: Demo) -> None:
    english = sum(tweet["lang"] == "en" for tweet in demo.tweets.values()) / len(demo.tweets)
    assert 0.05 <= english <= 0.25


def test_brand_tweets_are_signed_and_replies_address_the_customer(demo: Demo) -> None:
    signatures: Counter[str] = Counter()
    for tweet in demo.tweets.values():
        if not demo.is_brand(tweet):
            continue
        match = SIGNATURE.search(tweet["text"])
        assert match, tweet["text"]
        signatures[match.group(1)] += 1
        parent = demo.parent(tweet)
        if parent is not None and not demo.is_brand(parent):
            assert tweet["text"].startswith(f"@{demo.users[parent['author_id']]['username']} ")
    assert 10 <= len(signatures) <= 14


def test_customer_tweets_mention_a_brand_account(demo: Demo) -> None:
    for tweet in demo.tweets.values():
        if demo.is_brand(tweet):
            continue
        leading = re.match(r"(@\w+ )+", tweet["text"])
        assert leading, tweet["text"]
        assert {"@nordfunk_hilft", "@nordfunk_b2b"} & set(leading.group(0).split())


def test_both_accounts_tweet_and_the_main_one_dominates(demo: Demo) -> None:
    by_account = Counter(demo.users[tweet["author_id"]]["username"] for tweet in demo.tweets.values()
                         if demo.is_brand(tweet))  # fmt: skip
    share = by_account["nordfunk_hilft"] / sum(by_account.values())
    assert 0.8 <= share <= 0.97


def test_night_tweets_are_answered_the_next_morning(demo: Demo) -> None:
    waited_for_morning = 0
    for started, answered in demo.threads().values():
        start, answer = started.astimezone(BERLIN), answered and answered.astimezone(BERLIN)
        if answer and start.hour < 6 and answer.date() == start.date() and 8 <= answer.hour < 12:
            waited_for_morning += 1
    assert waited_for_morning >= 10


def test_some_threads_are_still_waiting_at_the_end(demo: Demo) -> None:
    threads = demo.threads()
    as_of = max(demo.created(tweet) for tweet in demo.tweets.values())
    recent_unanswered = [
        start for start, answer in threads.values() if answer is None and as_of - start < timedelta(days=3)
    ]
    assert recent_unanswered
    unanswered_share = sum(answer is None for _, answer in threads.values()) / len(threads)
    assert 0.04 <= unanswered_share <= 0.12


def test_response_times_worsen_as_volume_outgrows_the_team(demo: Demo) -> None:
    """Measured on threads started during weekday opening hours: over all hours the median sits
    between the quick daytime answers and the night backlog, so it says little about the team."""
    by_month: dict[str, list[float]] = defaultdict(list)
    for start, answer in demo.threads().values():
        local = start.astimezone(BERLIN)
        if answer is not None and local.weekday() < 5 and 8 <= local.hour < 19:
            by_month[local.strftime("%Y-%m")].append((answer - start).total_seconds())
    months = sorted(by_month)
    assert statistics.median(by_month[months[-2]]) > 2 * statistics.median(by_month[months[0]])


def test_crm_export_has_the_german_headers_and_format(demo: Demo) -> None:
    lines = demo.files.crm_csv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ";".join(CRM_HEADERS)
    assert lines[0].split(";") == [
        "Fallnummer", "Kanal", "Erstellt am", "Geschlossen am", "Ergebnis", "Kundennummer", "Twitter-Handle",
        "Tweet-ID", "Bearbeiter", "Team", "Kategorie", "Bearbeitungszeit (Min)", "Zufriedenheit",
        "Weiterempfehlung",
    ]  # fmt: skip
    good_lines = [line for number, line in enumerate(lines, start=1) if number not in demo.broken_crm_rows]
    assert all(line.count(";") == 13 for line in good_lines)
    ids = [line.split(";")[0] for line in lines[1:]]  # the broken rows' too
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"NF-\d{7}", i) for i in ids)
    assert len(demo.crm_rows) == len(lines) - 1 - len(demo.broken_crm_rows)
    for row in demo.crm_rows:
        assert row["Kanal"] in ("Twitter", "Telefon", "E-Mail", "Chat")
        assert row["Ergebnis"] in ("gelöst", "nicht gelöst", "eskaliert", "offen", "Duplikat")
        assert GERMAN_TIMESTAMP.fullmatch(row["Erstellt am"])
        assert (row["Geschlossen am"] == "") == (row["Ergebnis"] == "offen")
        if row["Geschlossen am"]:
            assert GERMAN_TIMESTAMP.fullmatch(row["Geschlossen am"])
        assert re.fullmatch(r"\d+,\d", row["Bearbeitungszeit (Min)"])
        assert row["Zufriedenheit"] == "" or 1 <= int(row["Zufriedenheit"]) <= 5
        assert row["Weiterempfehlung"] == "" or 0 <= int(row["Weiterempfehlung"]) <= 10


def test_the_crm_export_holds_a_few_cases_typed_wrong(demo: Demo) -> None:
    """One broken row per kind of mistake, each exactly where the generator says it planted it."""
    planted = {d.line: d.what for d in demo.files.defects if d.file == demo.files.crm_csv.name}
    assert set(demo.broken_crm_rows) == set(planted)
    assert all(len(problems) == 1 for problems in demo.broken_crm_rows.values())
    kinds = Counter(problems[0] for problems in demo.broken_crm_rows.values())
    assert kinds == Counter({"field count": 1, "channel": 1, "opened": 1, "closed before opened": 1, "minutes": 1,
                             "csat": 1, "tweet id": 1})
    lines = demo.files.crm_csv.read_text(encoding="utf-8").splitlines()
    broken = {number: lines[number - 1] for number in planted}
    assert any(";Fax;" in line for line in broken.values())
    assert any(";ca. " in line for line in broken.values())
    assert any(re.search(r";31\.(04|06|09|11)\.\d{4} ", line) for line in broken.values())
    assert all(what for what in planted.values())


def test_a_killed_pull_left_cut_off_pages_that_the_next_line_holds_whole(demo: Demo) -> None:
    planted = {d.line for d in demo.files.defects if d.file == demo.files.tweets_jsonl.name}
    assert set(demo.broken_pages) == planted and 1 <= len(planted) <= 2
    lines = demo.files.tweets_jsonl.read_text(encoding="utf-8").splitlines()
    for number, text in demo.broken_pages.items():
        whole = lines[number]  # the next line (lines are 1-based, the list 0-based)
        assert whole.startswith(text) and len(text) < len(whole)
        assert set(json.loads(whole)) == {"data", "includes", "meta", "__twarc"}
    assert len(demo.files.defects) == len(demo.broken_pages) + len(demo.broken_crm_rows)


def test_crm_survey_answers_are_a_minority_and_twitter_scores_a_bit_higher(demo: Demo) -> None:
    def scores(channel: str) -> list[int]:
        return [int(row["Zufriedenheit"]) for row in demo.crm_rows if row["Kanal"] == channel and row["Zufriedenheit"]]

    rows = demo.crm_rows
    assert 0.2 <= sum(bool(row["Zufriedenheit"]) for row in rows) / len(rows) <= 0.4
    assert 0.1 <= sum(bool(row["Weiterempfehlung"]) for row in rows) / len(rows) <= 0.3
    difference = statistics.mean(scores("Twitter")) - statistics.mean(scores("Telefon"))
    assert 0.05 < difference < 0.6


def test_phone_cases_outnumber_and_outlast_twitter_cases(demo: Demo) -> None:
    def minutes(channel: str) -> list[float]:
        return [float(row["Bearbeitungszeit (Min)"].replace(",", ".")) for row in demo.crm_rows
                if row["Kanal"] == channel]  # fmt: skip

    assert len(minutes("Telefon")) > 2 * len(minutes("Twitter"))
    assert statistics.median(minutes("Telefon")) > statistics.median(minutes("Twitter")) + 2


def test_twitter_cases_point_to_their_threads_and_agents(demo: Demo) -> None:
    cases = [row for row in demo.crm_rows if row["Kanal"] == "Twitter"]
    case_share = sum(row["Ergebnis"] != "Duplikat" for row in cases) / len(demo.threads())
    assert 0.25 <= case_share <= 0.45
    by_tweet_id = [row for row in cases if row["Tweet-ID"]]
    assert 0.6 <= len(by_tweet_id) / len(cases) <= 0.8
    handles = {user["username"].lower() for user in demo.users.values()}
    for row in cases:
        assert row["Team"] == "Social Care"
        if row["Twitter-Handle"]:
            assert row["Twitter-Handle"].startswith("@") and row["Twitter-Handle"][1:].lower() in handles
    signatures: dict[str, set[str]] = defaultdict(set)
    for tweet in demo.tweets.values():
        match = SIGNATURE.search(tweet["text"])
        if demo.is_brand(tweet) and match:
            signatures[tweet["conversation_id"]].add(match.group(1))
    for row in by_tweet_id:
        first_initial, surname = row["Bearbeiter"].split(". ")
        conversation = demo.tweets[row["Tweet-ID"]]["conversation_id"]
        assert first_initial + surname[0] in signatures[conversation], row


def test_some_resolved_twitter_cases_come_back_by_phone_within_a_week(demo: Demo) -> None:
    def opened(row: dict[str, str]) -> datetime:
        return datetime.strptime(row["Erstellt am"], "%d.%m.%Y %H:%M")

    calls: dict[str, list[datetime]] = defaultdict(list)
    for row in demo.crm_rows:
        if row["Kanal"] == "Telefon":
            calls[row["Kundennummer"]].append(opened(row))
    resolved = [row for row in demo.crm_rows if row["Kanal"] == "Twitter" and row["Ergebnis"] == "gelöst"]
    came_back = [
        row for row in resolved
        if row["Kundennummer"] and any(timedelta(0) < call - opened(row) <= timedelta(days=7)
                                       for call in calls[row["Kundennummer"]])
    ]  # fmt: skip
    assert 0.04 <= len(came_back) / len(resolved) <= 0.12


def test_crm_mapping_is_the_agreed_toml(demo: Demo) -> None:
    mapping = tomllib.loads(demo.files.crm_mapping.read_text(encoding="utf-8"))
    assert mapping["source"] == {"delimiter": ";", "decimal": ",", "date_format": "%d.%m.%Y %H:%M",
                                 "timezone": "Europe/Berlin"}  # fmt: skip
    assert list(mapping["columns"].values()) == list(CRM_HEADERS)
    assert mapping["values"]["channel"] == {"Twitter": "twitter", "Telefon": "phone", "E-Mail": "email", "Chat": "chat"}
    assert mapping["values"]["outcome"]["gelöst"] == "resolved"


def _launch(demo: Demo) -> datetime:
    """The pilot's first day (local midnight): the day of the first tweet."""
    first = min(demo.created(tweet) for tweet in demo.tweets.values()).astimezone(BERLIN)
    return first.replace(hour=0, minute=0, second=0, microsecond=0)


def test_the_crm_export_reaches_back_before_the_launch_without_twitter(demo: Demo) -> None:
    """The CRM export holds the weeks before the launch: hotline, e-mail and chat only, numbered
    below the pilot's cases and in time order, so a before/after comparison has its "before"."""
    launch = _launch(demo).replace(tzinfo=None)
    opened = [datetime.strptime(row["Erstellt am"], "%d.%m.%Y %H:%M") for row in demo.crm_rows]
    assert opened == sorted(opened)
    before = [row for row, at in zip(demo.crm_rows, opened, strict=True) if at < launch]
    after = [row for row, at in zip(demo.crm_rows, opened, strict=True) if at >= launch]
    assert launch - timedelta(weeks=HISTORY_WEEKS) <= min(opened) < launch - timedelta(weeks=HISTORY_WEEKS, days=-1)
    assert {row["Kanal"] for row in before} == {"Telefon", "E-Mail", "Chat"}
    assert max(int(row["Fallnummer"][3:]) for row in before) < min(int(row["Fallnummer"][3:]) for row in after)
    phone_before = sum(row["Kanal"] == "Telefon" for row in before)
    phone_after = sum(row["Kanal"] == "Telefon" for row in after)
    assert phone_before > 1.5 * phone_after  # a year before against half a year after, at 1 / 0.8 the rate


def test_the_hotline_estimate_recovers_the_true_drop(demo: Demo, tmp_path: Path) -> None:
    """The simulation's launch took HOTLINE_VOLUME_DROP of the hotline's calls: the interrupted-time-series
    estimate on the loaded CRM export must find it (95% CI holds it) and call it a drop (CI below 0).
    The pilot's three outages and the calls of Twitter customers whose problem came back are in the data."""
    from carepulse.etl.loader import ingest_crm
    from carepulse.metrics.context import open_context
    from carepulse.metrics.itsa import hotline_weekly, segmented_regression
    from carepulse.warehouse import Warehouse

    settings = Settings(db=tmp_path / "crm.duckdb")
    warehouse = Warehouse(settings.db)
    ingest_crm(warehouse, [demo.files.crm_csv], demo.files.crm_mapping, settings)
    ctx = open_context(warehouse.reader(), settings)
    try:
        launch = _launch(demo).date()
        weeks, counts = hotline_weekly(ctx, launch)
    finally:
        ctx.con.close()
    result = segmented_regression(weeks, counts, launch, min_weeks=settings.min_weeks)
    assert (result.pre_weeks, result.post_weeks) == (HISTORY_WEEKS, 26)
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low <= -HOTLINE_VOLUME_DROP <= result.ci_high < 0
    assert "a clear drop" in result.verdict
