"""Twitter API v2 JSONL staging: hand-checked fixtures, every kind of damage, and a property test.

Every test stages into a real in-memory DuckDB. Expected values were read off the fixture files by
hand (see ``fixtures/jsonl/README.md``); none are computed with the code under test.
"""

from __future__ import annotations

import json
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepulse.core.config import Settings
from carepulse.core.errors import DataError
from carepulse.etl.loader import ingest_tweets
from carepulse.etl.sources.jsonl import reader as twitter_jsonl
from carepulse.etl.staging import create_staging
from carepulse.warehouse import Warehouse

FIXTURES = Path(__file__).parent / "fixtures" / "jsonl"
PAGES = FIXTURES / "page_v2.jsonl"
FLATTENED = FIXTURES / "flattened.jsonl"
MALFORMED = FIXTURES / "malformed.jsonl"

TWEET_COLUMNS = (
    "record_no, line, tweet_id, author_id, author_handle, inbound, created_at, text, lang, "
    "in_reply_to_tweet_id, in_reply_to_user_id, api_conversation_id, author_followers, "
    "retweet_count, reply_count, like_count, quote_count"
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def connect(time_zone: str = "UTC") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET TimeZone='{time_zone}'")
    create_staging(con)
    return con


def stage(path: Path, con: duckdb.DuckDBPyConnection | None = None, run_id: int = 1
          ) -> tuple[int, duckdb.DuckDBPyConnection]:
    con = con or connect()
    return twitter_jsonl.stage(con, path, run_id), con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def tweets(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return rows(con, f"SELECT {TWEET_COLUMNS} FROM stg_tweets ORDER BY record_no")


def quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return rows(con, "SELECT line, record_no, reason FROM stg_quarantine ORDER BY record_no")


def write(path: Path, *lines: str, end: str = "\n") -> Path:
    path.write_bytes("".join(line + end for line in lines).encode("utf-8"))
    return path


def tweet(tweet_id: str | int = "1787000000000000901", **fields: Any) -> str:
    """One flattened tweet line; override or drop (value None) any field."""
    base: dict[str, Any] = {"id": tweet_id, "author_id": "2244994945",
                            "created_at": "2026-05-04T12:00:00.000Z", "text": "hi"}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None})


# --- the page file, checked by hand -------------------------------------------------------------

# (record_no, line, tweet_id, author_id, author_handle, inbound, created_at, text, lang,
#  in_reply_to_tweet_id, in_reply_to_user_id, api_conversation_id, author_followers,
#  retweet_count, reply_count, like_count, quote_count)
PAGE_TWEETS = [
    (1, 1, 1787000000000000202, "783214", "AcmeHelp", None, utc("2026-05-04 08:15:30"),
     "@jane_doe Sorry to hear that! Please DM us your order number.", "en",
     1787000000000000101, "2244994945", 1787000000000000101, 120000, 0, 1, 3, 0),
    (2, 1, 1787000000000000303, "9876543210", "bob_k", None, utc("2026-05-04 09:00:00"),
     'Still waiting "2 weeks" now\nnot happy 🙄 @AcmeHelp', "en",
     None, None, 1787000000000000303, 87, 2, 0, 5, 1),
    (3, 1, 1787000000000000101, "2244994945", "jane_doe", None, utc("2026-05-04 08:01:02"),
     "@AcmeHelp my order #123 never arrived 😞", "en",
     None, None, 1787000000000000101, 1523, 0, 1, 2, 0),
    (4, 2, 1787000000000000404, "2244994945", "jane_doe", None, utc("2026-05-04 08:20:00"),
     "@AcmeHelp done, DM sent ✅", "en",
     1787000000000000202, "783214", 1787000000000000101, 1524, 0, 0, 1, 0),
]


def test_page_file_stages_data_tweets_then_included_tweets_with_hand_checked_values() -> None:
    read, con = stage(PAGES)
    assert read == 4
    assert tweets(con) == PAGE_TWEETS
    assert quarantine(con) == []


def test_page_file_stages_every_user_object_with_the_pages_retrieval_time() -> None:
    _, con = stage(PAGES)
    users = rows(con, "SELECT run_id, author_id, handle, name, followers_count, seen_at FROM stg_users ORDER BY ALL")
    assert users == [
        (1, "2244994945", "jane_doe", "Jane Doe", 1523, utc("2026-05-04 10:00:00")),
        (1, "2244994945", "jane_doe", "Jane Doe", 1524, utc("2026-05-04 10:00:05")),
        (1, "783214", "AcmeHelp", "Acme Help", 120000, utc("2026-05-04 10:00:00")),
        (1, "9876543210", "bob_k", "Bob K. 🚲", 87, utc("2026-05-04 10:00:00")),
    ]


def test_api_errors_in_a_page_are_logged_not_counted(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="carepulse.etl.sources.jsonl.reader"):
        read, _ = stage(PAGES)
    assert read == 4
    assert "ignored 1 API error entries" in caplog.text


def test_timestamps_are_instants_whatever_the_session_time_zone() -> None:
    _, berlin = stage(PAGES, connect("Europe/Berlin"))
    assert [r[6] for r in tweets(berlin)] == [r[6] for r in PAGE_TWEETS]


# --- the flattened file -------------------------------------------------------------------------

def test_flattened_lines_are_one_record_each_with_the_inlined_author() -> None:
    read, con = stage(FLATTENED)
    assert read == 3
    assert [r[:7] + r[9:13] for r in tweets(con)] == [
        (1, 1, 1787000000000000101, "2244994945", "jane_doe", None, utc("2026-05-04 08:01:02"),
         None, None, 1787000000000000101, 1523),
        (2, 2, 1787000000000000202, "783214", "AcmeHelp", None, utc("2026-05-04 08:15:30"),
         1787000000000000101, "2244994945", 1787000000000000101, 120000),
        # created_at "10:20:00.000+02:00" is 08:20 UTC
        (3, 3, 1787000000000000404, "2244994945", "jane_doe", None, utc("2026-05-04 08:20:00"),
         1787000000000000202, "783214", 1787000000000000101, 1524),
    ]
    assert [r[13:] for r in tweets(con)] == [(0, 1, 2, 0), (0, 1, 3, 0), (0, 0, 1, 0)]


def test_flattened_lines_yield_inlined_users_but_not_bare_mentions() -> None:
    _, con = stage(FLATTENED)
    # line 1: author jane + the mention merged with AcmeHelp's user object;
    # line 2: author AcmeHelp, in_reply_to_user jane, referenced tweet's author jane;
    # line 3: author jane, in_reply_to_user AcmeHelp, referenced_tweets[0].tweet.author AcmeHelp.
    assert rows(con, "SELECT author_id, handle, count(*) FROM stg_users GROUP BY ALL ORDER BY ALL") == [
        ("2244994945", "jane_doe", 4), ("783214", "AcmeHelp", 4),
    ]
    assert rows(con, "SELECT DISTINCT seen_at FROM stg_users ORDER BY 1") == [
        (utc("2026-05-04 10:00:00"),), (utc("2026-05-04 10:00:05"),),
    ]


# --- ids ----------------------------------------------------------------------------------------

def test_a_19_digit_id_round_trips_exactly_as_string_and_as_json_integer(tmp_path: Path) -> None:
    big = 1859999999999999999
    assert int(float(big)) != big  # what a trip through a double would do
    path = write(tmp_path / "ids.jsonl",
                 tweet(str(big), conversation_id=str(big), referenced_tweets=[{"type": "replied_to",
                                                                              "id": str(big - 1)}]),
                 tweet(big - 2, author_id=9223372036854775807))
    _, con = stage(path)
    assert rows(con, "SELECT tweet_id, in_reply_to_tweet_id, api_conversation_id, author_id FROM stg_tweets "
                     "ORDER BY record_no") == [
        (big, big - 1, big, "2244994945"),
        (big - 2, None, None, "9223372036854775807"),
    ]


def test_ids_that_are_floats_signed_too_large_or_not_digits_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "bad_ids.jsonl"
    path.write_text(
        '{"id": 1.86e18, "author_id": "1", "created_at": "2026-05-04T12:00:00Z"}\n'
        + tweet("9223372036854775808") + "\n"
        + tweet("-5") + "\n"
        + tweet("12a") + "\n"
        + tweet(author_id=1.5) + "\n"
        + tweet(referenced_tweets=[{"type": "replied_to", "id": "x1"}]) + "\n",
        encoding="utf-8",
    )
    read, con = stage(path)
    assert read == 6
    assert tweets(con) == []
    assert [r[2] for r in quarantine(con)] == [
        "tweet id is not a 64-bit integer: '1.86e+18'",
        "tweet id is not a 64-bit integer: '9223372036854775808'",
        "tweet id is not a 64-bit integer: '-5'",
        "tweet id is not a 64-bit integer: '12a'",
        "tweet 1787000000000000901: author_id is not an integer id: '1.5'",
        "tweet 1787000000000000901: replied_to id is not a 64-bit integer: 'x1'",
    ]


# --- damage -------------------------------------------------------------------------------------

def test_malformed_file_quarantines_each_bad_record_with_line_and_reason() -> None:
    read, con = stage(MALFORMED)
    assert read == 9
    assert [(r[0], r[1], r[2]) for r in tweets(con)] == [
        (1, 1, 1787000000000000501), (6, 8, 1787000000000000506),
    ]
    assert quarantine(con) == [
        (3, 2, "line is not valid JSON"),
        (4, 3, "line is neither an API page nor a tweet: it is a JSON array"),
        (5, 4, "tweet has no id"),
        (6, 5, "tweet 1787000000000000505: created_at is not an ISO 8601 time with a zone: '04/05/2026 11:05'"),
        (8, 7, "data[1]: tweet 1787000000000000507 has no author_id"),
        (8, 8, "data[2]: not a tweet object: 42"),
        (9, 9, "line is not valid JSON; the file's last line has no line end, so the file was probably cut off"),
    ]


def test_quarantined_raw_is_the_line_or_item_without_its_line_end() -> None:
    _, con = stage(MALFORMED)
    raw = dict(rows(con, "SELECT record_no, raw FROM stg_quarantine"))
    lines = MALFORMED.read_text(encoding="utf-8").split("\n")
    assert raw[2] == lines[2]
    assert raw[4] == lines[4]
    assert raw[8] == "42"
    assert raw[9] == lines[8]


def test_raw_text_is_cut_to_2000_characters(tmp_path: Path) -> None:
    path = write(tmp_path / "long.jsonl", '{"text": "' + "x" * 5000)
    _, con = stage(path)
    assert rows(con, "SELECT length(raw) FROM stg_quarantine") == [(2000,)]


def test_crlf_line_ends_and_a_bom_change_nothing(tmp_path: Path) -> None:
    path = tmp_path / "windows.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + PAGES.read_bytes().replace(b"\n", b"\r\n"))
    read, con = stage(path)
    assert read == 4
    assert tweets(con) == PAGE_TWEETS


def test_bom_on_a_flattened_line_and_crlf_in_a_quarantined_line(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + tweet().encode() + b"\r\n{broken\r\n")
    read, con = stage(path)
    assert read == 2
    assert [r[:3] for r in tweets(con)] == [(1, 1, 1787000000000000901)]
    assert rows(con, "SELECT line, raw FROM stg_quarantine") == [(2, "{broken")]


def test_blank_and_whitespace_lines_are_not_records_but_keep_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path / "blanks.jsonl", "", tweet(), "   ", "\t", "", tweet("1787000000000000902"), "")
    read, con = stage(path)
    assert read == 2
    assert [(r[0], r[1]) for r in tweets(con)] == [(1, 2), (2, 6)]


def test_text_with_emoji_newlines_quotes_and_line_separators_survives(tmp_path: Path) -> None:
    text = 'a "quoted" word\nnew line\r\ttab \\ backslash 😀🇩🇪 \u2028 \u2029 é'
    path = tmp_path / "text.jsonl"
    # ensure_ascii=False: emoji and U+2028 go in raw, which must not split the line
    path.write_text(json.dumps({"id": "1", "author_id": "2", "created_at": "2026-05-04T12:00:00Z",
                                "text": text}, ensure_ascii=False) + "\n" + tweet() + "\n", encoding="utf-8")
    read, con = stage(path)
    assert read == 2
    assert rows(con, "SELECT line, text FROM stg_tweets ORDER BY line") == [(1, text), (2, "hi")]


def test_a_file_of_blank_lines_has_no_records(tmp_path: Path) -> None:
    read, con = stage(write(tmp_path / "blank.jsonl", "", " ", ""))
    assert read == 0
    assert tweets(con) == [] and quarantine(con) == []


def test_zoneless_or_impossible_times_are_quarantined_not_guessed(tmp_path: Path) -> None:
    path = write(tmp_path / "times.jsonl",
                 tweet(created_at="2026-05-04 12:00:00"),
                 tweet(created_at="2026-02-30T12:00:00.000Z"),
                 tweet(created_at=None),
                 tweet(created_at="2026-05-04T12:00:00.123456789Z"))
    read, con = stage(path)
    assert read == 4
    assert [r[2] for r in quarantine(con)] == [
        "tweet 1787000000000000901: created_at is not an ISO 8601 time with a zone: '2026-05-04 12:00:00'",
        "tweet 1787000000000000901: created_at is not an ISO 8601 time with a zone: '2026-02-30T12:00:00.000Z'",
        "tweet 1787000000000000901 has no created_at",
    ]
    assert [r[6] for r in tweets(con)] == [datetime(2026, 5, 4, 12, 0, 0, 123456, tzinfo=UTC)]


def test_lines_that_are_neither_pages_nor_tweets(tmp_path: Path) -> None:
    path = write(tmp_path / "other.jsonl", '"just a string"', "42", "null", '{"foo": 1}',
                 '{"id": "7", "username": "someone", "name": "Some One"}',
                 '{"data": [{"id": "8", "username": "u8", "name": "U8"}]}')
    read, con = stage(path)
    assert read == 6
    assert [r[2] for r in quarantine(con)] == [
        "line is neither an API page nor a tweet: it is a JSON string",
        "line is neither an API page nor a tweet: it is a JSON number",
        "line is neither an API page nor a tweet: it is a JSON null",
        "line is neither an API page (no data/includes/meta/errors) nor a tweet (no id/text/author_id/created_at)",
        "a user object, not a tweet (is this a users or followers export?)",
        "data[0]: a user object, not a tweet (is this a users or followers export?)",
    ]


def test_single_object_data_empty_pages_and_error_only_pages(tmp_path: Path) -> None:
    single = '{"data": ' + tweet() + ', "includes": {"users": [{"id": "2244994945", "username": "jane_doe"}]}}'
    path = write(tmp_path / "shapes.jsonl", single,
                 '{"meta": {"result_count": 0}}',
                 '{"errors": [{"title": "Not Found Error"}, {"title": "Authorization Error"}]}',
                 '{"data": "oops", "meta": {}}')
    read, con = stage(path)
    assert read == 2
    assert [(r[0], r[1], r[2], r[4]) for r in tweets(con)] == [(1, 1, 1787000000000000901, "jane_doe")]
    assert quarantine(con) == [(4, 2, "data[0]: not a tweet object: \"oops\"")]


def test_invalid_utf8_deep_in_a_file_costs_only_that_line(tmp_path: Path) -> None:
    filler = [tweet(str(1787000000000010000 + i)) for i in range(1000)]  # > 64 KiB checked up front
    path = tmp_path / "late_bad_byte.jsonl"
    path.write_bytes(("\n".join(filler) + "\n").encode() + b'{"text": "caf\xe9"}\n' + tweet().encode() + b"\n")
    read, con = stage(path)
    assert read == 1002
    assert rows(con, "SELECT line, record_no, reason, raw FROM stg_quarantine") == [
        (1001, 1001, "line is not valid UTF-8 (byte 14 of the line)", '{"text": "caf\ufffd"}'),
    ]
    assert rows(con, "SELECT count(*), max(line) FROM stg_tweets") == [(1001, 1002)]


def test_block_size_changes_nothing(tmp_path: Path) -> None:
    combined = tmp_path / "combined.jsonl"
    combined.write_bytes(PAGES.read_bytes() + FLATTENED.read_bytes() + MALFORMED.read_bytes())
    expected_read, con = stage(combined)
    expected = (tweets(con), rows(con, "SELECT * FROM stg_quarantine ORDER BY record_no"),
                rows(con, "SELECT * FROM stg_users ORDER BY ALL"))
    for block_bytes in (1, 50, 700, 4096):  # 1 and 50 are shorter than any line
        with mock.patch.object(twitter_jsonl, "BLOCK_BYTES", block_bytes):
            read, con = stage(combined)
        got = (tweets(con), rows(con, "SELECT * FROM stg_quarantine ORDER BY record_no"),
               rows(con, "SELECT * FROM stg_users ORDER BY ALL"))
        assert (read, got) == (expected_read, expected), block_bytes


def test_two_files_stage_side_by_side_and_leave_no_work_tables() -> None:
    con = connect()
    assert twitter_jsonl.stage(con, PAGES, 1) == 4
    assert twitter_jsonl.stage(con, MALFORMED, 2) == 9
    assert rows(con, "SELECT run_id, count(*) FROM stg_tweets GROUP BY 1 ORDER BY 1") == [(1, 4), (2, 2)]
    assert rows(con, "SELECT run_id, count(*) FROM stg_quarantine GROUP BY 1 ORDER BY 1") == [(2, 7)]
    assert rows(con, "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_jl%' ESCAPE '\\'") == []


# --- files that are not JSONL at all ------------------------------------------------------------

def test_empty_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        stage(path)


def test_binary_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "tweets.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(256)))
    with pytest.raises(DataError, match="binary"):
        stage(path)


def test_latin1_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(tweet(text="caf\u00e9").encode("latin-1").replace(b"\\u00e9", b"\xe9") + b"\n" * 10)
    with pytest.raises(DataError, match="not UTF-8"):
        stage(path)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        stage(tmp_path / "nope.jsonl")


# --- through the shared loader ------------------------------------------------------------------

def test_loader_builds_the_thread_and_a_reload_changes_nothing(tmp_path: Path) -> None:
    settings_ = Settings(db=tmp_path / "wh" / "carepulse.duckdb")
    warehouse = Warehouse(settings_.db)
    first = ingest_tweets(warehouse, "jsonl", [PAGES, FLATTENED], settings_, accounts=["AcmeHelp"])
    # the flattened file repeats the same tweets with the same content
    assert [(f.records_read, f.loaded, f.duplicate, f.quarantined) for f in first.files] == [
        (4, 4, 0, 0), (3, 0, 3, 0),
    ]
    con = warehouse.reader().connection()
    # jane's thread: 08:01:02 -> AcmeHelp at 08:15:30 = 868 s; bob's quote tweet is unanswered
    assert con.execute(
        "SELECT customer_handle, status, first_response_seconds FROM threads ORDER BY customer_handle"
    ).fetchall() == [("bob_k", "unanswered", None), ("jane_doe", "answered", 868.0)]
    again = ingest_tweets(warehouse, "jsonl", [PAGES], settings_, accounts=["AcmeHelp"])
    assert [(f.loaded, f.duplicate, f.quarantined) for f in again.files] == [(0, 4, 0)]


# --- property: every record is accounted for, at its line ---------------------------------------

@st.composite
def jsonl_files(draw: st.DrawFn) -> tuple[list[str], list[tuple[int, int, str | None]]]:
    """Random lines and, for each expected record, (line, record_no, text if it is a good tweet)."""
    lines: list[str] = []
    expected: list[tuple[int, int, str | None]] = []
    texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
    ids = st.integers(1, 2**63 - 1)

    def good_tweet() -> tuple[dict[str, Any], str]:
        text = draw(texts)
        tweet_id = draw(ids)
        return ({"id": draw(st.sampled_from([str(tweet_id), tweet_id])), "author_id": str(draw(ids)),
                 "created_at": "2026-05-04T12:00:00.000Z", "text": text}, text)

    def bad_item() -> Any:
        return draw(st.sampled_from([{"text": "no id"}, {"id": "1", "author_id": "2", "created_at": "never"},
                                     7, None, "s", [1]]))

    for line_no in range(1, draw(st.integers(0, 25)) + 1):
        kind = draw(st.sampled_from(["flat", "page", "page", "bad", "blank"]))
        if kind == "flat":
            obj, text = good_tweet()
            expected.append((line_no, len(expected) + 1, text))
            lines.append(json.dumps(obj, ensure_ascii=draw(st.booleans())))
        elif kind == "page":
            page: dict[str, Any] = {"data": [], "includes": {"tweets": [], "users": []}, "meta": {}}
            for part in ("data", "includes"):
                for _ in range(draw(st.integers(0, 4))):
                    good = draw(st.booleans())
                    item, good_text = good_tweet() if good else (bad_item(), None)
                    (page["data"] if part == "data" else page["includes"]["tweets"]).append(item)
                    expected.append((line_no, len(expected) + 1, good_text))
            lines.append(json.dumps(page, ensure_ascii=draw(st.booleans())))
        elif kind == "bad":
            expected.append((line_no, len(expected) + 1, None))
            lines.append("x" + draw(texts).replace("\n", " "))  # never valid JSON
        else:
            lines.append(draw(st.sampled_from(["", " ", "\t", "\r"])))
    return lines, expected


@given(jsonl_files(), st.sampled_from(["\n", "\r\n"]), st.booleans(), st.sampled_from([4096, 1 << 20]))
@settings(max_examples=60, deadline=None)
def test_every_record_is_staged_or_quarantined_at_its_line(
    generated: tuple[list[str], list[tuple[int, int, str | None]]], line_end: str, final_line_end: bool,
    block_bytes: int,
) -> None:
    lines, expected = generated
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gen.jsonl"
        body = line_end.join(lines) + (line_end if final_line_end else "")
        path.write_bytes(body.encode("utf-8") or b"\n")
        with mock.patch.object(twitter_jsonl, "BLOCK_BYTES", block_bytes):
            read, con = stage(path)
    staged = rows(con, "SELECT line, record_no, text FROM stg_tweets")
    quarantined = rows(con, "SELECT line, record_no, NULL FROM stg_quarantine")
    assert read == len(expected) == len(staged) + len(quarantined)
    assert sorted(staged + quarantined) == expected



def test_pages_without_includes_are_counted_and_warned_about(tmp_path: Path) -> None:
    """Brand replies on a page without includes.users are known only by author id; without a warning
    they would silently count as new unanswered customer threads."""
    def item(n: int, author: str, reply_to: int | None) -> dict[str, Any]:
        tweet: dict[str, Any] = {"id": str(1000 + n), "text": f"tweet {n}", "author_id": author,
                                 "created_at": f"2026-11-01T10:{n:02d}:00.000Z", "conversation_id": str(1000 + n)}
        if reply_to is not None:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": str(reply_to)}]
        return tweet

    bare = tmp_path / "bare.jsonl"
    bare.write_text(json.dumps({"data": [item(n, "555", None) for n in range(1, 51)], "meta": {}}) + "\n",
                    encoding="utf-8")
    report = ingest_tweets(Warehouse(tmp_path / "w.duckdb"), "jsonl", [bare], Settings(), accounts=["brand"])
    assert report.files[0].loaded == 50
    [warning] = report.warnings
    assert warning.startswith("50 new tweet(s) from 1 author(s) came without a user record")

    named = tmp_path / "named.jsonl"
    named.write_text(json.dumps({"data": [item(60, "555", None)],
                                 "includes": {"users": [{"id": "555", "username": "brand"}]}}) + "\n",
                     encoding="utf-8")
    report = ingest_tweets(Warehouse(tmp_path / "w.duckdb"), "jsonl", [named], Settings(), accounts=["brand"])
    assert report.warnings == []  # the brand's user came with the page: its tweets are the brand's
