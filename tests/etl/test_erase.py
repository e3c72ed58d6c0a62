"""``carepulse erase --customer``: one customer goes, everyone else's numbers stay, and the bytes go too.

Fixture (TWCS layout, day 0 = 31 Oct 2017, UTC). Brand AcmeCare (AC); the customer to erase is Zorblefan42
(written in three spellings), the one who stays is otherguy.

  conv 1  t1  otherguy  09:00  root
          t2  AC        09:10  reply to t1
          t3  Zorble... 09:20  reply to t2 ("quuxwidget": the word the file must lose)
          t4  AC        09:30  reply to t3               <- a brand reply to the customer: erased with them
          t5  otherguy  09:40  reply to t2, names @zorblefan42   <- stays, handle replaced
          t6  AC        09:50  reply to t5, names @ZORBLEFAN42   <- stays, handle replaced
  conv 7  t7  Zorble... 11:00  root, t8 AC 11:30 reply       <- the customer's own conversation: gone
  conv 9  t9  thirdone  12:00  root, t10 AC 12:05 reply      <- untouched
  row 11: the customer, unparseable time -> quarantined (raw names them); row 12: thirdone, quarantined (stays)
"""

from __future__ import annotations

import builtins
import hashlib
import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from carepulse.cli import main
from carepulse.core.config import Settings
from carepulse.etl.erase import customer_key
from carepulse.etl.transform.crm_links import link_crm_cases
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import insert_cases, load_twcs, rows_of, utc
from tests.twcs_helpers import at, row

AC = "AcmeCare"
HANDLE = "Zorblefan42"
SECRET_WORD = b"quuxwidget"

ROWS = [
    row(1, "otherguy", False, at("09:00"), f"@{AC} my router is dead since monday"),
    row(2, AC, True, at("09:10"), "@otherguy sorry, please DM us", 1),
    row(3, HANDLE, False, at("09:20"), f"@{AC} @otherguy same here, my quuxwidget exploded", 2),
    row(4, AC, True, at("09:30"), f"@{HANDLE} we are on it", 3),
    row(5, "otherguy", False, at("09:40"), f"@{AC} still dead, like @zorblefan42 said", 2),
    row(6, AC, True, at("09:50"), "@otherguy fixed now, also for @ZORBLEFAN42", 5),
    row(7, "zorblefan42", False, at("11:00"), f"@{AC} where is my quuxwidget order"),
    row(8, AC, True, at("11:30"), "@zorblefan42 it ships today", 7),
    row(9, "thirdone", False, at("12:00"), f"@{AC} hello"),
    row(10, AC, True, at("12:05"), "@thirdone hi", 9),
    ["11", HANDLE, "True", "yesterday", f"@{AC} quuxwidget again", "", ""],
    ["12", "thirdone", "True", "tomorrow", f"@{AC} broken date", "", ""],
]


def _build(tmp_path: Path) -> Warehouse:
    warehouse = load_twcs(tmp_path, ROWS)
    insert_cases(warehouse, [
        {"case_id": "C-ERASE", "channel": "twitter", "opened_at": utc("2017-10-31 09:25"),
         "twitter_handle": "@zorblefan42", "category": "quuxwidget"},
        {"case_id": "C-STAY", "channel": "twitter", "opened_at": utc("2017-10-31 09:05"),
         "twitter_handle": "otherguy", "category": "router"},
    ])
    with warehouse.writer() as con:
        link_crm_cases(con, 48.0)
        con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                    [HANDLE, HANDLE, "Zorb Quuxwidget", 12, datetime(2017, 10, 31, tzinfo=UTC)])
    raw = tmp_path / "raw" / AC
    raw.mkdir(parents=True)
    (raw / "mentions-20171031T120000Z.jsonl").write_text(
        '{"data": [{"id": "3", "text": "same here"}], "includes": {"users": [{"username": "zorblefan42"}]}}\n'
        '{"data": [{"id": "1", "text": "router"}]}\n', encoding="utf-8")
    (raw / "mentions-20171031T130000Z.jsonl").write_text('{"data": [{"id": "9", "text": "hello"}]}\n',
                                                         encoding="utf-8")
    return warehouse


@pytest.fixture
def built(tmp_path: Path) -> Warehouse:
    return _build(tmp_path)


def _threads(warehouse: Warehouse) -> dict[str, dict[str, Any]]:
    con = warehouse.reader().connection()
    try:
        result = con.execute("SELECT * FROM threads ORDER BY thread_id")
        names = [d[0] for d in result.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in result.fetchall()}
    finally:
        con.close()


def _erase(warehouse: Warehouse, *extra: str) -> int:
    return main(["erase", "--customer", *extra, "--db", str(warehouse.path), "--yes"])


def test_the_customer_goes_and_the_other_customers_numbers_stay(built: Warehouse,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    before = _threads(built)
    assert {"1-otherguy", f"1-{HANDLE}", "7-zorblefan42", "9-thirdone"} <= set(before)
    assert rows_of(built, "SELECT linked_thread_id FROM crm_cases WHERE case_id = 'C-STAY'") == [("1-otherguy",)]
    assert SECRET_WORD in built.path.read_bytes() and HANDLE.lower().encode() in built.path.read_bytes().lower()

    assert _erase(built, f"@{HANDLE.upper()}") == 0
    out = capsys.readouterr().out
    assert "tweets of the customer" in out and "brand replies to them" in out
    counts = {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"^ +(\S.*?) +([\d,]+) +\(\w+\)$", out, re.M)}
    assert counts == {"tweets of the customer": 2, "brand replies to them": 2, "threads of the customer": 2,
                      "CRM cases": 1, "Twitter user records": 1, "quarantined records": 1}
    assert "raw pull pages deleted: 1" in out and "mentions-20171031T120000Z.jsonl" in out
    assert HANDLE.lower() not in out.lower()

    after = _threads(built)
    assert set(after) == {"1-otherguy", "9-thirdone"}
    # the other customer's thread: the same in everything but the conversation's size (t3 and t4 are gone)
    assert after["1-otherguy"] == {**before["1-otherguy"], "conversation_tweets": 4}
    assert after["9-thirdone"] == before["9-thirdone"]
    assert rows_of(built, "SELECT case_id, linked_thread_id FROM crm_cases") == [("C-STAY", "1-otherguy")]
    assert rows_of(built, "SELECT count(*) FROM users") == [(0,)]
    assert rows_of(built, "SELECT count(*) FROM quarantine") == [(1,)]
    assert rows_of(built, "SELECT tweet_id, text FROM tweets WHERE tweet_id IN (5, 6) ORDER BY 1") == [
        (5, f"@{AC} still dead, like @[erased] said"), (6, "@otherguy fixed now, also for @[erased]")]
    assert [r[0] for r in rows_of(built, "SELECT tweet_id FROM tweets ORDER BY 1")] == [1, 2, 5, 6, 9, 10]

    published = built.path.read_bytes().lower()
    assert HANDLE.lower().encode() not in published
    assert SECRET_WORD not in published
    assert not (built.path.parent / "raw" / AC / "mentions-20171031T120000Z.jsonl").exists()
    assert (built.path.parent / "raw" / AC / "mentions-20171031T130000Z.jsonl").exists()
    leftovers = [p.name for p in built.path.parent.iterdir() if p.name.startswith(".wh.duckdb")]
    assert leftovers == []


def test_a_second_erasure_removes_nothing_and_says_so(built: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    assert _erase(built, HANDLE) == 0
    capsys.readouterr()
    checksum = hashlib.sha256(built.path.read_bytes()).hexdigest()
    assert _erase(built, HANDLE) == 0
    out = capsys.readouterr().out
    assert out.startswith("nothing to erase") and "nothing was changed" in out
    assert hashlib.sha256(built.path.read_bytes()).hexdigest() == checksum


def test_without_yes_and_without_a_terminal_it_refuses(built: Warehouse, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    checksum = hashlib.sha256(built.path.read_bytes()).hexdigest()
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    assert main(["erase", "--customer", HANDLE, "--db", str(built.path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no terminal to confirm the erasure on")
    assert hashlib.sha256(built.path.read_bytes()).hexdigest() == checksum


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_it_shows_what_goes_and_asks(built: Warehouse, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    checksum = hashlib.sha256(built.path.read_bytes()).hexdigest()
    monkeypatch.setattr(sys, "stdin", _Terminal())
    monkeypatch.setattr(builtins, "input", lambda prompt: "no")
    assert main(["erase", "--customer", HANDLE, "--db", str(built.path)]) == 1
    out = capsys.readouterr().out
    assert "this will remove" in out and "raw pull pages to delete: 1" in out and "nothing was changed" in out
    assert hashlib.sha256(built.path.read_bytes()).hexdigest() == checksum
    monkeypatch.setattr(builtins, "input", lambda prompt: "yes")
    assert main(["erase", "--customer", HANDLE, "--db", str(built.path)]) == 0
    assert rows_of(built, "SELECT count(*) FROM tweets") == [(6,)]


def test_a_plain_delete_would_keep_the_bytes(built: Warehouse) -> None:
    """Why the erasure writes the file afresh: DuckDB keeps deleted rows in free blocks (this test keeps the
    byte checks above honest: the fixture's text is stored where a grep finds it)."""
    with built.writer() as con:
        con.execute("DELETE FROM tweets WHERE lower(author_handle) = ?", [HANDLE.lower()])
    assert rows_of(built, "SELECT count(*) FROM tweets WHERE text LIKE '%quuxwidget%'") == [(0,)]
    assert SECRET_WORD in built.path.read_bytes()


def test_brands_and_non_handles_are_refused(built: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    assert _erase(built, "acmecare") == 2
    assert "is a brand account, not a customer" in capsys.readouterr().err
    assert _erase(built, "bob smith") == 2
    assert "is not a Twitter handle" in capsys.readouterr().err
    with pytest.raises(Exception, match="not a Twitter handle"):
        customer_key("a%b")
    assert customer_key(" @Bob_1 ") == "bob_1"


def test_the_api_ids_of_the_customer_go_too(tmp_path: Path) -> None:
    """A handle's user id: its rows in ``users``, and a brand reply's ``in_reply_to_user_id`` pointing at it."""
    from carepulse.etl.erase import erase_customer

    warehouse = load_twcs(tmp_path, ROWS[:6])
    with warehouse.writer() as con:
        con.execute("INSERT INTO users VALUES ('9988776655', ?, 'Z', 1, now())", [HANDLE])
        con.execute("UPDATE tweets SET in_reply_to_user_id = '9988776655' WHERE tweet_id = 6")
    report = erase_customer(warehouse, HANDLE, Settings(db=warehouse.path), tmp_path / "raw")
    assert report.removed["users"] == 1 and report.author_ids == 2
    assert report.removed["brand_replies"] == 2  # t4 (reply to t3) and t6 (in reply to the customer's user id)
    assert b"9988776655" not in warehouse.path.read_bytes()
