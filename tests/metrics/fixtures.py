"""Hand-made warehouses for the metric tests, small enough to check every number by hand.

Tweets go through the real loader (a TWCS-layout CSV -> ``etl.loader.ingest_tweets``), so the
golden tests cover the whole path. CRM cases and a few thread-only cases (follower counts, which
TWCS does not carry; weekly series for trends) are inserted as rows, documented where they are.

Time line of fixture A (UTC; Europe/Berlin is UTC+1 after 29 Oct 2017, so business hours
08:00-20:00 Berlin are 07:00-19:00 UTC). Day 0 = Tue 31 Oct 2017, day 1 = Wed 1 Nov 2017.
Brands: TelekomHilft (TH), AcmeCare (AC).

  conv 1  t1  c1  d0 09:00  "Seit drei Tagen kein Internet, echt eine Frechheit!"
          t2  TH  d0 09:10  reply to t1, asks for a DM, signed ^AB
          t3  c1  d0 09:30  reply to t2, "Danke, jetzt geht es wieder!"
  conv 4  t4  c2  d0 10:00  English complaint
          t5  TH  d0 12:00  reply to t4, signed -Becky
  conv 6  t6  c3  d0 11:00
          t7  AC  d0 11:30  reply to t6, signed *SR
          t8  c3  d0 11:40  reply to t7
          t9  AC  d0 12:40  reply to t8
  conv 10 t10 c4  d0 13:00  mentions @TelekomHilft, never answered
  conv 11 t11 c5  d0 14:00  to @AcmeCare
          t12 c6  d0 14:05  reply to t11 (another customer)
          t13 AC  d0 14:20  reply to t12 (so c6 is answered, c5 is not), asks for a DM, signed /ab
  conv 14 t14 c7  d0 21:00  (22:00 Berlin, closed)
          t15 TH  d1 08:00  reply to t14 (09:00 Berlin), signed ^KMG   <- latest tweet = as-of
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.warehouse import Warehouse
from tests.twcs_helpers import at, row, write_twcs

TH, AC = "TelekomHilft", "AcmeCare"

FIXTURE_A = [
    row(1, "c1", False, at("09:00"), f"@{TH} Seit drei Tagen kein Internet, echt eine Frechheit!"),
    row(2, TH, True, at("09:10"), "@c1 Das tut uns leid! Schreib uns bitte eine DM mit deiner Kundennummer. ^AB", 1),
    row(3, "c1", False, at("09:30"), f"@{TH} Danke, jetzt geht es wieder!", 2),
    row(4, "c2", False, at("10:00"), f"@{TH} my router is broken again, terrible service"),
    row(5, TH, True, at("12:00"), "@c2 Sorry to hear that. Have you restarted it? -Becky", 4),
    row(6, "c3", False, at("11:00"), f"@{AC} where is my order?"),
    row(7, AC, True, at("11:30"), "@c3 Let us check. *SR", 6),
    row(8, "c3", False, at("11:40"), f"@{AC} still nothing", 7),
    row(9, AC, True, at("12:40"), "@c3 It ships today. *SR", 8),
    row(10, "c4", False, at("13:00"), f"@{TH} Hotline ist nicht erreichbar, unverschämt!"),
    row(11, "c5", False, at("14:00"), f"@{AC} app crashes"),
    row(12, "c6", False, at("14:05"), "@c5 same here", 11),
    row(13, AC, True, at("14:20"), "@c6 We are on it, please DM us. /ab", 12),
    row(14, "c7", False, at("21:00"), f"@{TH} Störung in Köln?"),
    row(15, TH, True, at("08:00", day=1), "@c7 Wir prüfen das. ^KMG", 14),
]

# Fixture B: German texts whose lexicon scores are easy to work out (see test_golden).
FIXTURE_B = [
    row(1, "c1", False, at("09:00"), f"@{TH} Frechheit"),
    row(2, TH, True, at("09:10"), "@c1 Wir kümmern uns. ^AB", 1),
    row(3, "c1", False, at("09:20"), f"@{TH} Danke", 2),
    row(4, "c2", False, at("10:00"), f"@{TH} Danke"),
    row(5, "c3", False, at("11:00"), f"@{TH} Frechheit"),
    row(6, "c4", False, at("12:00"), f"@{TH} Super"),
    row(7, TH, True, at("12:10"), "@c4 Gern geschehen. ^AB", 6),
    row(8, "c4", False, at("12:30"), f"@{TH} Kaputt", 7),
]


def load_twcs(tmp_path: Path, rows: Sequence[list[str]], settings: Settings | None = None,
              name: str = "fixture.csv") -> Warehouse:
    """Write ``rows`` as a TWCS CSV and load it through the real loader into a fresh warehouse."""
    settings = settings or Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    ingest_tweets(warehouse, "twcs", [write_twcs(tmp_path / name, rows)], settings)
    return warehouse


CASE_COLUMNS = ("case_id", "channel", "opened_at", "closed_at", "outcome", "customer_ref", "twitter_handle",
                "agent", "team", "category", "handled_minutes", "csat", "nps", "link_method", "linked_thread_id")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def insert_cases(warehouse: Warehouse, cases: Sequence[dict[str, Any]]) -> None:
    """CRM cases as rows (the CRM loader is tested elsewhere); link fields are set by hand."""
    with warehouse.writer() as con:
        for case in cases:
            values = [case.get(c) for c in CASE_COLUMNS]
            values[CASE_COLUMNS.index("link_method")] = case.get("link_method", "none")
            con.execute(
                f"INSERT INTO crm_cases ({', '.join(CASE_COLUMNS)}, run_id) VALUES "
                f"({', '.join('?' for _ in CASE_COLUMNS)}, 0)", values,
            )


def execute(warehouse: Warehouse, sql: str, params: Sequence[Any] = ()) -> None:
    with warehouse.writer() as con:
        con.execute(sql, list(params))


def rows_of(warehouse: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    con: duckdb.DuckDBPyConnection = warehouse.reader().connection()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()



@dataclass(frozen=True)
class ThreadRow:
    """A ``threads`` row for facts TWCS cannot carry (follower counts) or long weekly series."""

    thread_id: str
    account: str
    started: datetime
    answered: datetime | None = None
    followers: int | None = None


def insert_threads(warehouse: Warehouse, threads: Sequence[ThreadRow]) -> None:
    with warehouse.writer() as con:
        for number, t in enumerate(threads, start=1):
            conversation = 10_000 + number
            customer = f"cust{number}"
            seconds = (t.answered - t.started).total_seconds() if t.answered else None
            con.execute(
                "INSERT INTO threads VALUES (?, ?, ?, ?, ?, 'first_response', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, "
                "NULL, ?)",
                [t.thread_id, conversation, customer, customer, t.account,
                 "answered" if t.answered else "unanswered", t.started, conversation, t.answered,
                 conversation + 1 if t.answered else None, seconds, 1 if t.answered else 0,
                 2 if t.answered else 1, t.started, t.answered, t.answered or t.started, t.followers],
            )
