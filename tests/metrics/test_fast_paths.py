"""The engine's fast paths give exactly the numbers of the plain SQL they replace.

* Kaplan-Meier: :mod:`carepulse.metrics.survival` (DuckDB scan + numpy) against :func:`metrics.sql.km_sql`
  (one SQL statement), per group and in total, on random data full of ties, groups where every
  thread is answered, groups where none is, and an as-of that cuts through the data; both of its
  fetches (one row per thread from DuckDB, rows per group and time from an engine across a network).
* Reply times: ``tweets.first_reply_at`` and the stored first reply (``first_reply_by``, no join),
  against a plain-Python reading of the tweets, including two brand replies in the same second.
"""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from carepulse.core.config import Settings
from carepulse.metrics import engine, registry, survival
from carepulse.metrics.context import Filters, open_context
from carepulse.metrics.sql import km_sql, relation
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import ThreadRow, insert_threads, load_twcs
from tests.twcs_helpers import at, row

AS_OF = datetime(2017, 11, 1, tzinfo=UTC)
KM = registry.get("first_response_km_median_s")


def _threads(seed: int, n: int) -> list[ThreadRow]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        account = rng.choice(["A", "B", "C", "all_answered", "none_answered", None])
        started = AS_OF - timedelta(minutes=rng.randint(1, 3000))
        delay = timedelta(minutes=rng.randint(0, 300))  # whole minutes: many ties, also with censoring times
        answered_share = {"all_answered": 1.0, "none_answered": 0.0}.get(account or "", 0.6)
        answered = started + delay if rng.random() < answered_share else None
        rows.append(ThreadRow(f"t{i}", account, started, answered))  # type: ignore[arg-type]
    return rows


class Remote:
    """A connection that is not DuckDB's own, as Spark's is: km_rows then asks for rows per group and time."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.statements: list[str] = []

    def execute(self, sql: str, params: object = None) -> duckdb.DuckDBPyConnection:
        self.statements.append(sql)
        return self.con.execute(sql, params)


def _both(warehouse: Warehouse, settings: Settings, by: str | None,
          as_of: datetime, remote: bool = False) -> tuple[list[tuple], list[tuple]]:
    ctx = open_context(warehouse.reader(), settings, Filters(), by, as_of, ci=True)
    try:
        rel = relation(ctx, "threads", KM.joins, by=by)
        con = Remote(ctx.con) if remote else ctx.con
        fast = survival.km_rows(con, rel, KM)  # type: ignore[arg-type]
        if isinstance(con, Remote):
            assert con.statements == [survival.data_sql(rel, KM).sql]
        slow = ctx.con.execute(*km_sql(rel, KM)).fetchall()
    finally:
        ctx.con.close()
    assert fast is not None
    return sorted(fast, key=str), sorted(slow, key=str)


@pytest.mark.parametrize("remote", [False, True], ids=["duckdb", "remote"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("by", [None, "account", "day", "week", "hour"])
def test_numpy_kaplan_meier_equals_km_sql(tmp_path: Path, seed: int, by: str | None, remote: bool) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_threads(warehouse, _threads(seed, 400))
    for as_of in (AS_OF, AS_OF - timedelta(hours=20)):
        fast, slow = _both(warehouse, settings, by, as_of, remote)
        assert fast == slow


@pytest.mark.parametrize("remote", [False, True], ids=["duckdb", "remote"])
def test_numpy_kaplan_meier_on_no_threads_and_one_thread(tmp_path: Path, remote: bool) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_threads(warehouse, [ThreadRow("t0", "A", AS_OF - timedelta(hours=1), AS_OF - timedelta(minutes=30))])
    for by in (None, "account"):
        fast, slow = _both(warehouse, settings, by, AS_OF, remote)
        assert fast == slow
        fast, slow = _both(warehouse, settings, by, AS_OF - timedelta(days=3), remote)  # before every thread
        assert fast == slow == []


def test_duckdb_gets_one_row_per_thread_without_nulls(tmp_path: Path) -> None:
    """In process, the fetch is the plain scan: as many rows as threads started by the as-of time, and
    no column that numpy must mask (a masked array costs its import and a copy)."""
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    threads = _threads(5, 300)
    insert_threads(warehouse, threads)
    ctx = open_context(warehouse.reader(), settings, Filters(), "account", AS_OF)
    try:
        data = ctx.con.execute(*survival.thread_sql(relation(ctx, "threads", KM.joins, by="account"), KM)).fetchnumpy()
    finally:
        ctx.con.close()
    assert len(data["t"]) == sum(1 for t in threads if t.started <= AS_OF)
    assert not any(isinstance(column, np.ma.MaskedArray) for column in data.values())


def test_groups_whose_hashes_collide_fall_back_to_km_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The groups' names come beside their rows, keyed by a 64-bit hash: should two names share one, the
    numpy path gives up and the engine's answer is km_sql's, group by group."""
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_threads(warehouse, _threads(4, 300))
    expected = engine.compute([KM.name], "account", db=warehouse.reader(), settings=settings, as_of=AS_OF, ci=True)
    for name, hashes in (("data_sql", 2), ("thread_sql", 1), ("names_sql", 1)):
        original = getattr(survival, name)

        def colliding(*args: object, original: Any = original, hashes: int = hashes) -> tuple[str, object]:
            sql, params = original(*args)
            assert sql.count("hash(g)") == hashes, sql
            return sql.replace("hash(g)", "42"), params

        monkeypatch.setattr(survival, name, colliding)
    ctx = open_context(warehouse.reader(), settings, Filters(), "account", AS_OF)
    try:
        rel = relation(ctx, "threads", KM.joins, by="account")
        assert survival.km_rows(ctx.con, rel, KM) is None
        assert survival.km_rows(Remote(ctx.con), rel, KM) is None  # type: ignore[arg-type]
    finally:
        ctx.con.close()
    fallback = engine.compute([KM.name], "account", db=warehouse.reader(), settings=settings, as_of=AS_OF, ci=True)
    assert (fallback.total, fallback.groups) == (expected.total, expected.groups)
    assert len(expected.groups) == 6  # five accounts and the threads without one


def test_reply_times_use_first_reply_and_break_ties_by_tweet_id(tmp_path: Path) -> None:
    """Two brand replies in the same second: the lower tweet id is the first reply, counted once."""
    th, ac = "TelekomHilft", "AcmeCare"
    rows = [
        row(1, "c1", False, at("09:00"), f"@{th} help"),
        row(2, th, True, at("09:10"), "@c1 on it ^AB", 1),
        row(3, ac, True, at("09:10"), "@c1 same second ^SR", 1),  # a tie with tweet 2
        row(4, th, True, at("09:40"), "@c1 later reply, not the first", 1),
        row(5, "c2", False, at("10:00"), f"@{ac} hello"),
        row(6, ac, True, at("11:00"), "@c2 hi -Becky", 5),
        row(7, "c2", False, at("11:05"), f"@{ac} thanks", 6),
        row(8, ac, True, at("11:35"), "@c2 welcome -Becky", 7),
        row(9, "c3", False, at("12:00"), f"@{th} never answered"),
    ]
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = load_twcs(tmp_path, rows, settings)
    # customer tweets with a brand reply: 1 (600 s, by TH or AC: a tie), 5 (3600 s), 7 (1800 s)
    total = engine.compute(["reply_time_median_s"], db=warehouse.reader(), settings=settings)
    assert total.total["reply_time_median_s"].value == statistics.median([600, 3600, 1800])
    assert total.total["reply_time_median_s"].n == 3
    for by in ("account", "agent"):
        result = engine.compute(["reply_time_median_s"], by=by, db=warehouse.reader(), settings=settings)
        cells = {k: v["reply_time_median_s"] for k, v in result.groups.items()}
        assert sum(c.n or 0 for c in cells.values()) == 3  # the tie counts once, never twice
    by_account = engine.compute(["reply_time_median_s"], by="account", db=warehouse.reader(), settings=settings)
    # tweet 1's first reply is tweet 2 (TelekomHilft): same second as tweet 3, lower id
    assert by_account.groups[th]["reply_time_median_s"].value == 600
    assert by_account.groups[ac]["reply_time_median_s"].value == statistics.median([3600, 1800])
    filtered = engine.compute(["reply_time_median_s"], None, Filters(account=ac), db=warehouse.reader(),
                              settings=settings)
    assert filtered.total["reply_time_median_s"].n == 2
