"""Loads whose cost follows the delta (carepulse.warehouse.delta, docs/warehouse.md).

Every test loads the same inputs twice, once with every load rewriting the base (``CAREPULSE_LOAD_MODE=full``,
the design before the delta) and once into base + delta, and compares every table row for row: the delta is
a storage layout, never a different answer.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from benchmarks import generate
from benchmarks.processes import held_base
from carepulse.cli import main
from carepulse.core.config import Settings
from carepulse.core.errors import DataError
from carepulse.etl.erase import erase_customer
from carepulse.etl.loader import ingest_crm, ingest_tweets
from carepulse.metrics.context import LATEST_TWEET_SQL, default_as_of
from carepulse.warehouse import Reader, Warehouse, delta, store
from carepulse.warehouse.dashboard_users import add_user
from tests.twcs_helpers import at, row, stored_runs, write_twcs

VOLATILE = {"ingest_runs": ("started_at", "finished_at"), "meta": ()}


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table as sorted rows, through a reader (base and delta as the dashboard sees them)."""
    con = Warehouse(db).reader().connection()
    tables: dict[str, list[tuple[object, ...]]] = {}
    for table in delta.TABLES:
        columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()
                   if c[0] not in VOLATILE.get(table, ())]
        rows = con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        if table == "meta":
            rows = [r for r in rows if r[0] != delta.BASE_ID]
        tables[table] = sorted(rows, key=repr)
    return tables


def tweets_in(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 20 k-tweet base file and two 1 k batches whose replies reach back into it (old conversations change)."""
    folder = tmp_path_factory.mktemp("delta-inputs")
    files = {"base": folder / "base.csv", "b1": folder / "b1.csv", "b2": folder / "b2.csv"}
    assert generate.main(["--tweets", "20000", "--out", str(files["base"])]) == 0
    assert generate.main(["--tweets", "1000", "--id-offset", "20000", "--seed", "2", "--out", str(files["b1"])]) == 0
    assert generate.main(["--tweets", "1000", "--id-offset", "21000", "--seed", "3", "--out", str(files["b2"])]) == 0
    files["crm"] = _crm_file(folder / "crm.csv", files["base"], files["b1"])
    return files


def _crm_file(path: Path, *sources: Path) -> Path:
    """CRM cases naming tweets of the base and of the first batch, some updated by a second export row."""
    rows = []
    for source in sources:
        with source.open(encoding="utf-8") as f:
            rows += [r for r in csv.DictReader(f) if r["inbound"] == "True"][:40]
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["case_id", "channel", "opened_at", "closed_at", "outcome", "customer_ref", "twitter_handle",
                      "conversation_id", "agent", "team", "category", "handled_minutes", "csat", "nps"])
        for i, r in enumerate(rows):
            out.writerow([f"C-{i}", "twitter", "2018-01-10T10:00:00Z", "", "resolved", "", f"@{r['author_id']}",
                          r["tweet_id"], "AK", "social", "billing", "5", str(1 + i % 5), ""])
    return path


@pytest.fixture(scope="module")
def base(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("delta-base") / "wh.duckdb"
    ingest_tweets(Warehouse(db), "twcs", [inputs["base"]], Settings(db=db))
    return db


def copy_of(base: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "wh.duckdb"
    shutil.copyfile(base, db)
    return db


def load_all(db: Path, inputs: dict[str, Path], warehouse: Warehouse | None = None) -> list[object]:
    """Four loads; the totals the last one reports are the tables' counts (in a delta load they are added up
    from the base's, the replaced keys' and the delta's). With ``warehouse``, all four through that one object;
    returns the resident writer's kept DuckDB after each load (None where it kept none)."""
    settings = Settings(db=db)
    kept: list[object] = []

    def through() -> Warehouse:
        if warehouse is not None and reports:
            kept.append(warehouse._kept.con if warehouse._kept else None)
        return warehouse if warehouse is not None else Warehouse(db)

    reports: list[Any] = []
    reports.append(ingest_tweets(through(), "twcs", [inputs["b1"]], settings))
    reports.append(ingest_crm(through(), [inputs["crm"]], None, settings))
    reports.append(ingest_tweets(through(), "twcs", [inputs["b2"]], settings))
    reports.append(ingest_tweets(through(), "twcs", [inputs["b1"]], settings))  # all duplicates
    through()
    con = Warehouse(db).reader().connection()
    counted = con.execute("""SELECT (SELECT count(*) FROM tweets), (SELECT count(*) FROM threads),
                                    (SELECT count(*) FROM threads WHERE status = 'answered'),
                                    (SELECT count(*) FROM crm_cases)""").fetchone()
    last = reports[-1].totals
    assert (last["tweets"], last["threads"], last["answered_threads"], last["crm_cases"]) == counted
    return kept


def full_rewrite(base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 then: str) -> Path:
    """The reference every delta test compares with: the four loads into a copy of ``base``, each rewriting the
    whole file; afterwards loads run in mode ``then``."""
    monkeypatch.setenv(delta.MODE_ENV, "full")
    full = copy_of(base, tmp_path / "full")
    load_all(full, inputs)
    monkeypatch.setenv(delta.MODE_ENV, then)
    return full


def test_small_loads_write_only_the_delta_and_read_as_a_full_rewrite(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = full_rewrite(base, inputs, tmp_path, monkeypatch, then="auto")
    assert not delta.delta_path(full).exists()

    monkeypatch.setattr(delta, "COMPACT_SHARE", 1.0)  # two batches of 5 % each: no compaction in between here
    db = copy_of(base, tmp_path / "delta")
    before, reader = sha(db), Warehouse(db).reader()
    snapshot = reader.snapshot_id()
    load_all(db, inputs)
    assert sha(db) == before, "a small load must not rewrite the base"
    assert reader.snapshot_id() != snapshot, "caches keyed by the snapshot must see the load"
    got, want = dump(db), dump(full)
    assert got == want
    assert len(got["tweets"]) > 21_900 and len(got["crm_cases"]) == 80
    assert {r[0] for r in got["ingest_runs"]} == {1, 2, 3, 4, 5}
    # the second batch replied to tweets of the base: their conversations were rebuilt in the delta
    con = reader.connection()
    assert 0 < con.execute("SELECT count(*) FROM wd.tweets").fetchone()[0] < 20_000 / 5
    assert con.execute("SELECT count(*) FROM wd.threads__replaced").fetchone()[0] > 0


def test_a_resident_writer_keeps_its_base_attached_and_loads_what_fresh_writers_load(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``Warehouse(resident=True)`` (``ingest --watch``) keeps one DuckDB with the base attached from load to
    load; the tables are row for row those of full rewrites, and nothing of a load is left in the instance."""
    full = full_rewrite(base, inputs, tmp_path, monkeypatch, then="auto")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1.0)  # no compaction: the same base throughout
    db = copy_of(base, tmp_path / "resident")
    before = sha(db)
    resident = Warehouse(db, resident=True)
    kept = load_all(db, inputs, resident)
    assert kept[0] is not None and all(con is kept[0] for con in kept)  # one instance for all four loads
    assert dump(db) == dump(full) and sha(db) == before
    con = resident._kept.con if resident._kept else None
    assert con is not None
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal").fetchone() == (0,)
    assert sorted(r[0] for r in con.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal")
                  .fetchall()) == [delta.BASE_DB, "memory"]


def test_a_resident_writer_lets_go_of_the_base_its_compaction_replaces(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = full_rewrite(base, inputs, tmp_path, monkeypatch, then="delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 0.0)  # every load folds its delta into a new base file
    db = copy_of(base, tmp_path / "resident")
    kept = load_all(db, inputs, Warehouse(db, resident=True))
    assert kept == [None, None, None, None]  # closed before each compaction: the next load attaches the new base
    assert held_base(db) == []  # not the replaced file either
    assert dump(db) == dump(full)


def test_a_deferring_writer_publishes_the_load_and_folds_the_delta_when_asked(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``defer_compaction`` (the resident loader): a load that leaves the delta due returns with the delta published
    and the base untouched; ``compact_if_due`` then folds it, once."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 0.0)
    db = copy_of(base, tmp_path / "deferring")
    before, settings = sha(db), Settings(db=db)
    loader = Warehouse(db, resident=True, defer_compaction=True)
    ingest_tweets(loader, "twcs", [inputs["b1"]], settings)
    assert sha(db) == before and delta.delta_path(db).exists()
    published = dump(db)
    seconds = loader.compact_if_due()
    assert seconds is not None and seconds > 0
    assert sha(db) != before and not delta.delta_path(db).exists()
    assert dump(db) == published  # the same rows, now in the base alone
    assert loader.compact_if_due() is None  # nothing due any more
    assert held_base(db) == []  # the kept instance held the replaced base: closed before the fold


def test_a_deferred_compaction_another_process_did_first_is_not_done_twice(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 0.0)
    db = copy_of(base, tmp_path / "deferring")
    loader = Warehouse(db, resident=True, defer_compaction=True)
    ingest_tweets(loader, "twcs", [inputs["b1"]], Settings(db=db))
    assert Warehouse(db).compact()  # `carepulse compact` got there first
    folded = sha(db)
    assert loader.compact_if_due() is None
    assert sha(db) == folded  # no second rewrite of the base


def test_a_failed_deferred_compaction_says_the_load_is_published_and_the_next_load_folds(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 0.0)
    db = copy_of(base, tmp_path / "deferring")
    settings = Settings(db=db)
    loader = Warehouse(db, resident=True, defer_compaction=True)
    ingest_tweets(loader, "twcs", [inputs["b1"]], settings)
    published = dump(db)

    def full_disk(self: Warehouse, *args: object, **kwargs: object) -> None:
        raise store.ResourceError("no space left on device while writing the new base")

    with monkeypatch.context() as patch:
        patch.setattr(store.Warehouse, "_writing_base", full_disk)
        with pytest.raises(store.ResourceError, match=r"^the load is published, but folding its delta into a new "
                                                      r"base failed .*: no space left on device"):
            loader.compact_if_due()
    assert delta.delta_path(db).exists() and dump(db) == published
    ingest_tweets(loader, "twcs", [inputs["b2"]], settings)  # the next load finds the delta due again
    assert loader.compact_if_due() is not None and not delta.delta_path(db).exists()


def test_a_resident_writer_lets_go_of_a_base_another_process_replaced(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``carepulse compact`` (or a big load) from another process publishes a new base while the loader waits
    for its next file; the watcher's look at its folder calls ``release_stale``, which closes the old one."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1.0)
    db = copy_of(base, tmp_path / "resident")
    resident, settings = Warehouse(db, resident=True), Settings(db=db)
    ingest_tweets(resident, "twcs", [inputs["b1"]], settings)
    assert resident._kept is not None and held_base(db) == [str(db)]
    resident.release_stale()  # nothing replaced yet: kept
    assert resident._kept is not None
    assert Warehouse(db).compact()
    assert held_base(db) == [f"{db} (deleted)"]  # the old base's blocks stay on disk while it is held
    resident.release_stale()
    assert resident._kept is None and held_base(db) == []
    ingest_tweets(resident, "twcs", [inputs["b2"]], settings)  # and the next load attaches the new base
    assert resident._kept is not None and held_base(db) == [str(db)]


def test_a_failed_load_drops_the_kept_instance_and_the_next_load_is_whole(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1.0)
    fresh = copy_of(base, tmp_path / "fresh")
    ingest_tweets(Warehouse(fresh), "twcs", [inputs["b1"]], Settings(db=fresh))
    db = copy_of(base, tmp_path / "resident")
    resident, settings = Warehouse(db, resident=True), Settings(db=db)
    ingest_tweets(resident, "twcs", [inputs["b2"]], settings)
    assert resident._kept is not None
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,twcs,file\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(DataError):
        ingest_tweets(resident, "twcs", [bad], settings)
    assert resident._kept is None  # closed with the failed load
    delta.delta_path(db).unlink()  # back to the base alone, to compare with one load of b1
    ingest_tweets(resident, "twcs", [inputs["b1"]], settings)
    assert resident._kept is not None
    assert dump(db) == dump(fresh)


def test_a_reply_to_a_base_tweet_moves_that_row_into_the_delta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worked by hand: the base holds an unanswered customer tweet (1) and a brand tweet (5); the delta load
    brings the brand's answer (2) to 1 and a customer's reply (6) to 5, which joins 5's conversation. Tweet 1 gains
    its first reply, so its row is replaced; tweet 5's columns stay as they were (a customer's reply is no first
    reply), so its row stays in the base. c1's thread is rebuilt as answered (30 minutes), c2's is new."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 10.0)  # a two-tweet base: any delta would be folded at once
    db = tmp_path / "wh.duckdb"
    first = write_twcs(tmp_path / "a.csv", [row(1, "c1", False, at("10:00"), "@acme my router is down"),
                                            row(5, "acme", True, at("09:00"), "We are here for you")])
    ingest_tweets(Warehouse(db), "twcs", [first], Settings(db=db))
    before = sha(db)
    later = write_twcs(tmp_path / "b.csv", [row(2, "acme", True, at("10:30"), "@c1 sorry, DM us", parent=1),
                                            row(6, "c2", False, at("11:00"), "@acme same here", parent=5)])
    report = ingest_tweets(Warehouse(db), "twcs", [later], Settings(db=db))
    assert sha(db) == before
    con = Warehouse(db).reader().connection()
    assert con.execute("SELECT tweet_id FROM wd.tweets__replaced ORDER BY 1").fetchall() == [(1,)]
    # the totals the load reports count tweet 1 once: base 2 - replaced 1 + delta 3 (1 again, 2 and 6)
    assert (report.totals["tweets"], report.totals["threads"], report.totals["answered_threads"]) == (4, 2, 1)
    assert con.execute("SELECT tweet_id, first_reply_id FROM tweets ORDER BY 1").fetchall() == [
        (1, 2), (2, None), (5, None), (6, None)]
    assert con.execute("SELECT customer_handle, status, first_response_seconds FROM threads "
                       "ORDER BY 1").fetchall() == [("c1", "answered", 1800.0), ("c2", "unanswered", None)]
    assert con.execute("SELECT count(*) FROM wd.threads__replaced").fetchone() == (1,)


def _tweet_blocks(delta_file: Path) -> dict[int, set[tuple[object, ...]]]:
    """The delta's ``tweets`` storage: per row group of :data:`delta.ROW_GROUP_ROWS` rows, where its segments lie."""
    con = duckdb.connect(str(delta_file), read_only=True)
    try:
        rows = con.execute("SELECT row_group_id, column_name, segment_id, count, block_id, block_offset "
                           "FROM pragma_storage_info('tweets')").fetchall()
    finally:
        con.close()
    full = {group for group, _, _, count, _, _ in rows if count == delta.ROW_GROUP_ROWS}
    return {group: {r[1:] for r in rows if r[0] == group} for group in full}


def test_a_load_into_a_kept_delta_leaves_the_earlier_loads_row_groups_where_they_are(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second load that touches none of the first one's tweets must not rewrite them: the first load's full row
    groups keep their blocks. With DuckDB's default row groups (122,880 rows) the commit merged and rewrote the
    delta's partly filled groups, so a load's commit grew with the delta (delta.ROW_GROUP_ROWS)."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1e9)  # a one-tweet base: no compaction here
    db = tmp_path / "wh.duckdb"
    seed = write_twcs(tmp_path / "seed.csv", [row(1, "acme", True, at("09:00"), "We are here for you")])
    ingest_tweets(Warehouse(db), "twcs", [seed], Settings(db=db))
    first = write_twcs(tmp_path / "first.csv", [row(100 + i, f"c{i % 50}", False, at("10:00", day=i % 20),
                                                    f"@acme tweet {i}") for i in range(5_000)])
    ingest_tweets(Warehouse(db), "twcs", [first], Settings(db=db))
    before = _tweet_blocks(delta.delta_path(db))
    assert len(before) >= 2, "the first load's 5,000 tweets fill at least two row groups"
    second = write_twcs(tmp_path / "second.csv", [row(10_000 + i, "d", False, at("12:00", day=30), f"@acme new {i}")
                                                  for i in range(3_000)])
    ingest_tweets(Warehouse(db), "twcs", [second], Settings(db=db))
    after = _tweet_blocks(delta.delta_path(db))
    assert {group: after.get(group) for group in before} == before
    assert Warehouse(db).reader().connection().execute("SELECT count(*) FROM tweets").fetchone() == (8_001,)


def test_a_delta_past_its_share_is_folded_into_a_new_base(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = full_rewrite(base, inputs, tmp_path, monkeypatch, then="delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 0.0)
    db = copy_of(base, tmp_path / "compacted")
    before = sha(db)
    load_all(db, inputs)
    assert not delta.delta_path(db).exists() and sha(db) != before
    assert dump(db) == dump(full)


def test_a_compaction_keeps_the_threads_in_runs_of_one_account(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The base is written in runs of one account (docs/warehouse.md, ``threads``); a compaction appends the delta's
    threads, which several loads wrote, as one more run per account, not one per load."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1.0)
    db = copy_of(base, tmp_path / "runs")
    assert stored_runs(db)[0] == 0
    for batch in ("b1", "b2"):
        ingest_tweets(Warehouse(db), "twcs", [inputs[batch]], Settings(db=db))
    assert Warehouse(db).compact() and not delta.delta_path(db).exists()
    backwards, runs, accounts = stored_runs(db)
    assert backwards == 1 and runs <= 2 * len(accounts)


def test_the_latest_tweet_time_is_read_through_the_delta(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``LATEST_TWEET_SQL`` (a top-1, for the zone maps) is ``max(created_at)`` of what readers see: the delta's
    tweets count, and a base row the delta hides does not."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    db = copy_of(base, tmp_path / "latest")
    ingest_tweets(Warehouse(db), "twcs", [inputs["b1"]], Settings(db=db))

    def latest() -> tuple[object, object, object]:
        con = Warehouse(db).reader().connection()
        found = (con.execute(f"SELECT {LATEST_TWEET_SQL}").fetchone()[0],
                 con.execute("SELECT max(created_at) FROM tweets").fetchone()[0], default_as_of(con))
        con.close()
        return found

    before = latest()
    assert before[0] == before[1] == before[2]
    with Warehouse(db).writer(batch_bytes=1) as con:  # a small write: into the delta, hiding the latest rows
        assert delta.delta_path(db).exists()
        delta.delete(con, "tweets", "created_at = (SELECT max(created_at) FROM tweets)")
    after = latest()
    assert after[0] == after[1] == after[2] and after[0] < before[0]


def test_a_delta_left_beside_a_newer_base_is_ignored_by_readers_and_loads(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between publishing a compacted base and removing the old delta leaves both files: the delta's
    base id no longer matches, so its rows (already in the new base) are not counted twice."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    db = copy_of(base, tmp_path / "stale")
    ingest_tweets(Warehouse(db), "twcs", [inputs["b1"]], Settings(db=db))
    kept = tmp_path / "old.delta"
    shutil.copyfile(delta.delta_path(db), kept)
    assert Warehouse(db).compact()
    shutil.copyfile(kept, delta.delta_path(db))  # as if the crash came before the unlink
    assert len(dump(db)["tweets"]) == 20_000 + tweets_in(inputs["b1"])
    ingest_tweets(Warehouse(db), "twcs", [inputs["b2"]], Settings(db=db))
    assert len(dump(db)["tweets"]) == 20_000 + tweets_in(inputs["b1"]) + tweets_in(inputs["b2"])
    assert not Warehouse(db).reader().connection().execute(
        "SELECT count(*) FROM wd.tweets WHERE tweet_id BETWEEN 20001 AND 21000").fetchone()[0]


def test_writes_that_rewrite_the_base_fold_the_delta_in_first(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    db = copy_of(base, tmp_path / "users")
    ingest_tweets(Warehouse(db), "twcs", [inputs["b1"]], Settings(db=db))
    assert delta.delta_path(db).exists()
    add_user(db, "lea", "analyst", "a long enough password")
    assert not delta.delta_path(db).exists()
    tables = dump(db)
    assert len(tables["tweets"]) == 20_000 + tweets_in(inputs["b1"])
    assert [r[0] for r in tables["dashboard_users"]] == ["lea"]


def test_an_erasure_leaves_no_byte_of_the_customer_in_base_or_delta(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    db = copy_of(base, tmp_path / "erase")
    ingest_tweets(Warehouse(db), "twcs", [inputs["b1"]], Settings(db=db))
    con = Warehouse(db).reader().connection()
    handle, text = con.execute("SELECT author_handle, text FROM wd.tweets WHERE NOT is_brand AND length(text) > 40 "
                               "ORDER BY tweet_id LIMIT 1").fetchone()
    erase_customer(Warehouse(db), handle, Settings(db=db), None)
    files = [p for p in (db, delta.delta_path(db)) if p.exists()]
    assert files == [db]
    assert text.encode() not in db.read_bytes()
    assert not Warehouse(db).reader().connection().execute(
        "SELECT count(*) FROM tweets WHERE author_handle = ?", [handle]).fetchone()[0]


def _published(db: Path) -> dict[str, str]:
    return {p.name: sha(p) for p in (db, delta.delta_path(db)) if p.exists()}


def _restore(saved: Path, db: Path) -> None:
    for p in (db, delta.delta_path(db)):
        p.unlink(missing_ok=True)
    for p in saved.iterdir():
        shutil.copyfile(p, db.parent / p.name)


@pytest.mark.parametrize("mode", ["delta", "full"])
def test_kill_9_at_random_points_of_a_load_publishes_nothing(
        base: Path, inputs: dict[str, Path], tmp_path: Path, mode: str) -> None:
    db = copy_of(base, tmp_path / mode)
    env = {**os.environ, delta.MODE_ENV: mode}
    command = [sys.executable, "-m", "carepulse.cli", "ingest", "twcs", "--db", str(db)]
    subprocess.run([*command, str(inputs["b1"])], env=env, check=True, capture_output=True)
    published = _published(db)
    assert (delta.delta_path(db).name in published) == (mode == "delta")
    saved = tmp_path / "saved"
    saved.mkdir()
    for name in published:
        shutil.copyfile(db.parent / name, saved / name)
    before = dump(db)
    rows_before = len(before["tweets"])

    started = time.perf_counter()  # how long a whole load takes here, to kill it at points inside
    subprocess.run([*command, str(inputs["b2"])], env=env, check=True, capture_output=True)
    whole = time.perf_counter() - started
    after = dump(db)  # the load complete: what a kill between its publish and the process's end leaves
    assert len(after["tweets"]) == rows_before + tweets_in(inputs["b2"])
    unpublished = 0
    points = random.Random(18)
    for delay in sorted(points.uniform(0.05, 0.95) * whole for _ in range(5)):
        _restore(saved, db)
        loader = subprocess.Popen([*command, str(inputs["b2"])], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        loader.send_signal(signal.SIGKILL)
        if loader.wait() != -signal.SIGKILL:
            continue  # it finished first
        state = dump(db)
        assert state in (before, after), f"killed after {delay:.2f} s of {whole:.2f} s: a mix was published"
        if state == before:  # killed before its publish: not a byte of the published files changed
            unpublished += 1
            assert _published(db) == published, f"killed after {delay:.2f} s of {whole:.2f} s"
    # a load here may run faster than the timed one, so a late kill can come after its publish (then the whole
    # load stands); most come before it, and those are what this test is for
    assert unpublished >= 3
    done = subprocess.run([*command, str(inputs["b2"])], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(dump(db)["tweets"]) == rows_before + tweets_in(inputs["b2"])
    assert not list(db.parent.glob(f".{db.name}.*")), "the next load sweeps what a killed one left"


def test_kill_9_of_the_resident_loader_publishes_a_load_whole_or_not_and_a_restart_loads_its_file(
        base: Path, inputs: dict[str, Path], tmp_path: Path) -> None:
    """``ingest --watch`` killed at random points of its second load (its kept DuckDB in use): the warehouse is the
    one before that load or, when the kill came after the publish, the one after it, never a mix; a file whose load
    was not published is still in the folder, and the next start loads it (or finds every record a duplicate)."""
    env = {**os.environ, delta.MODE_ENV: "delta"}
    db, inbox, saved = copy_of(base, tmp_path / "resident"), tmp_path / "inbox", tmp_path / "saved"
    saved.mkdir()
    shutil.copyfile(db, saved / db.name)
    command = [sys.executable, "-m", "carepulse.cli", "ingest", "twcs", "--watch", str(inbox), "--poll", "0.01",
               "--db", str(db)]

    def hand(source: Path, name: str) -> float:
        shutil.copyfile(source, inbox / f".{name}.tmp")
        os.rename(inbox / f".{name}.tmp", inbox / name)
        return time.perf_counter()

    def loaded(loader: subprocess.Popen[str]) -> None:
        assert loader.stdout is not None
        for line in loader.stdout:
            if ": loaded in " in line:
                return
        raise AssertionError(f"the loader ended ({loader.wait()}) before it loaded a file")

    def started() -> subprocess.Popen[str]:
        """The saved warehouse, an empty folder, and a loader that has loaded b1: its next load uses the kept DuckDB."""
        _restore(saved, db)
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir()
        loader = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        hand(inputs["b1"], "1.csv")
        loaded(loader)
        return loader

    loader = started()
    before = dump(db)
    handed = hand(inputs["b2"], "2.csv")
    loaded(loader)
    whole, after = time.perf_counter() - handed, dump(db)
    loader.kill()
    loader.wait()
    assert len(after["tweets"]) == len(before["tweets"]) + tweets_in(inputs["b2"])
    outcomes = set()
    points = random.Random(19)
    for delay in sorted(points.uniform(0.0, 1.1) * whole for _ in range(8)):
        loader = started()
        hand(inputs["b2"], "2.csv")
        time.sleep(delay)
        loader.send_signal(signal.SIGKILL)
        assert loader.wait() == -signal.SIGKILL
        state, waiting = dump(db), (inbox / "2.csv").exists()
        assert state in (before, after), f"killed {delay:.3f} s into a {whole:.3f} s load: a mix was published"
        assert waiting or state == after, "a file whose load was not published was moved out of the folder"
        outcomes.add((state == after, waiting))
        again = subprocess.run([*command, "--once"], env=env, capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
        final = dump(db)
        assert {k: v for k, v in final.items() if k != "ingest_runs"} == \
               {k: v for k, v in after.items() if k != "ingest_runs"}
        assert not (inbox / "2.csv").exists()
    assert (False, True) in outcomes, "no kill landed before the publish: the delays did not test a half-done load"


def test_a_reader_lets_go_of_a_base_a_compaction_replaced_without_waiting_for_a_query(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``Reader.release_stale`` (an idle dashboard calls it in the background): nothing happens while the
    snapshot is published; once a compaction replaced the base, the reader closes it (after the retire delay,
    0 here) and its next query attaches the new one."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(store, "RETIRE_AFTER_S", 0.0)
    db = copy_of(base, tmp_path / "reader")
    reader = Warehouse(db).reader()
    before = reader.connection().execute("SELECT count(*) FROM tweets").fetchone()
    assert held_base(db) == [str(db)]
    assert reader.release_stale() is False and held_base(db) == [str(db)]  # still the published base
    ingest_tweets(Warehouse(db), "twcs", [inputs["b1"]], Settings(db=db))
    assert Warehouse(db).compact()
    assert held_base(db) == [f"{db} (deleted)"]
    assert Reader.release_all_stale() >= 1
    deadline = time.monotonic() + 10
    while held_base(db) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert held_base(db) == []
    after = reader.connection().execute("SELECT count(*) FROM tweets").fetchone()
    assert after is not None and before is not None and after[0] == before[0] + tweets_in(inputs["b1"])
    assert held_base(db) == [str(db)]


def test_a_reader_sees_a_whole_delta_load_or_none_of_it(
        base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader polling through a delta load and the compaction that follows it (two publishes: the delta, then a
    new base without one) sees the state before the load or after it, never a mix, and never waits."""
    db = copy_of(base, tmp_path / "reader")
    batch = tmp_path / "b.csv"
    assert generate.main(["--tweets", "30000", "--id-offset", "20000", "--seed", "4", "--out", str(batch)]) == 0
    reader = Warehouse(db).reader()
    env = {**os.environ, delta.MODE_ENV: "delta"}
    loader = subprocess.Popen([sys.executable, "-m", "carepulse.cli", "ingest", "twcs", str(batch), "--db", str(db)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[tuple[int, int]] = set()
    slowest = 0.0
    while loader.poll() is None:
        started = time.perf_counter()
        seen.add(reader.connection().execute("SELECT (SELECT count(*) FROM tweets), "
                                             "(SELECT count(*) FROM ingest_runs)").fetchone())
        slowest = max(slowest, time.perf_counter() - started)
        time.sleep(0.02)
    _, err = loader.communicate()
    assert loader.returncode == 0, err
    assert not delta.delta_path(db).exists(), "30 k rows into 20 k: the load published a delta, then compacted it"
    final = reader.connection().execute("SELECT (SELECT count(*) FROM tweets), "
                                        "(SELECT count(*) FROM ingest_runs)").fetchone()
    assert final == (50_000, 2)
    assert seen <= {(20_000, 1), (50_000, 2)} and (20_000, 1) in seen, seen
    assert slowest < 1.0, "a reader waited for the writer"


def test_backup_copies_base_and_delta_as_a_pair_and_compact_folds_them(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1.0)
    db = copy_of(base, tmp_path / "live")
    ingest_tweets(Warehouse(db), "twcs", [inputs["b1"]], Settings(db=db))
    want = dump(db)
    dest = tmp_path / "backups" / "monday.duckdb"
    dest.parent.mkdir()
    assert main(["backup", str(dest), "--db", str(db)]) == 0
    assert sorted(p.name for p in dest.parent.iterdir()) == ["monday.duckdb", "monday.duckdb.delta"]
    assert dump(dest) == want, "the restored pair reads as the warehouse did"
    assert main(["compact", "--db", str(db)]) == 0
    assert "folded into a new base" in capsys.readouterr().out
    assert not delta.delta_path(db).exists() and dump(db) == want
    assert main(["backup", str(dest), "--db", str(db)]) == 0
    assert sorted(p.name for p in dest.parent.iterdir()) == ["monday.duckdb"], "no stale delta beside the base"
    assert dump(dest) == want
    assert main(["compact", "--db", str(db)]) == 0
    assert "nothing to fold" in capsys.readouterr().out
    assert main(["backup", str(db), "--db", str(db)]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_shared_key_is_brought_into_the_delta_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worked by hand: conversation 1 has two threads (c1 asks, the brand answers, c2 joins under the answer).
    Owning c1's thread alone must bring c2's along: threads are replaced by conversation, and a listed
    conversation hides all its base rows."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    db = tmp_path / "wh.duckdb"
    rows = [row(1, "c1", False, at("10:00"), "@acme router down"),
            row(2, "acme", True, at("10:05"), "@c1 sorry", parent=1),
            row(3, "c2", False, at("10:10"), "@acme me too", parent=2)]
    ingest_tweets(Warehouse(db), "twcs", [write_twcs(tmp_path / "a.csv", rows)], Settings(db=db))
    with Warehouse(db).writer(batch_bytes=1) as con:
        assert delta.target(con, "threads") == f"{delta.WORK_DB}.main.threads"
        delta.own(con, "threads", "customer_handle = 'c1'")
        assert con.execute(f"SELECT count(*) FROM {delta.WORK_DB}.main.threads").fetchone() == (2,)
        assert con.execute(f"SELECT conversation_id FROM {delta.WORK_DB}.main.threads__replaced").fetchall() == [(1,)]
        assert sorted(con.execute("SELECT customer_handle FROM threads").fetchall()) == [("c1",), ("c2",)]


def _late_parent_files(folder: Path, taken_over: bool) -> list[Path]:
    """A reply whose parent is missing (and another thread); a load into its conversation, which with ``taken_over``
    answers the reply earlier (so the load takes the reply over into the delta); then the missing parent itself,
    which must pull the conversation into its own."""
    earlier_answer = [row(12, "AcmeHelp", True, at("09:10"), "looking", 10)] if taken_over else []
    return [write_twcs(folder / "first.csv", [row(10, "cust_a", False, at("09:00"), "@AcmeHelp hi?", 99),
                                              row(11, "AcmeHelp", True, at("09:30"), "hello", 10),
                                              row(30, "cust_b", False, at("10:00"), "@AcmeHelp broken")]),
            write_twcs(folder / "second.csv", [*earlier_answer,
                                               row(20, "cust_a", False, at("11:00"), "still there?", 11)]),
            write_twcs(folder / "third.csv", [row(99, "cust_a", False, at("08:00"), "@AcmeHelp my router")])]


def _load_each(db: Path, files: list[Path]) -> None:
    for file in files:
        ingest_tweets(Warehouse(db), "twcs", [file], Settings(db=db))


@pytest.mark.parametrize("taken_over", [False, True], ids=["reply-in-the-base", "reply-in-the-delta"])
def test_a_late_parent_finds_its_replies_in_the_base_list_of_orphans_and_in_the_delta(
        taken_over: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Delta loads look for the loaded replies to a new tweet in the base's list of orphans and in the delta
    (``delta.replying_tweets``), not in every tweet of the base: the answer must be the full rewrite's."""
    files = _late_parent_files(tmp_path / "in", taken_over)
    monkeypatch.setenv(delta.MODE_ENV, "full")
    full = tmp_path / "full" / "wh.duckdb"
    _load_each(full, files)
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1000.0)  # a three-tweet base: every load would fold otherwise
    db = tmp_path / "delta" / "wh.duckdb"
    _load_each(db, files[:2])
    con = Warehouse(db).reader().connection()
    # tweet 10 waits for its parent in the base's list; an earlier first reply made the second load take it over
    assert con.execute(f"SELECT tweet_id FROM wh.{delta.ORPHANS}").fetchall() == [(10,)]
    assert ((10,) in con.execute("SELECT tweet_id FROM wd.tweets__replaced").fetchall()) == taken_over
    con.close()
    _load_each(db, files[2:])
    assert delta.delta_path(db).exists()
    assert dump(db) == dump(full)
    con = Warehouse(db).reader().connection()
    assert con.execute("SELECT DISTINCT conversation_id FROM tweets WHERE tweet_id IN (10, 11, 12, 20, 99)"
                       ).fetchall() == [(99,)]


def test_a_base_written_before_the_list_of_orphans_is_read_whole(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = full_rewrite(base, inputs, tmp_path, monkeypatch, then="delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1.0)
    db = copy_of(base, tmp_path / "old-base")
    with duckdb.connect(str(db)) as con:  # as an earlier carepulse wrote it: no list of orphans, no stored counts
        con.execute(f"DROP TABLE {delta.ORPHANS}")
        con.execute(f"DROP TABLE {delta.BASE_COUNTS}")
    load_all(db, inputs)  # the totals it reports are the tables' counts
    assert dump(db) == dump(full)
    assert Warehouse(db).compact()
    con = Warehouse(db).reader().connection()
    listed = con.execute(f"SELECT count(*) FROM wh.{delta.ORPHANS}").fetchone()
    assert listed is not None and listed[0] > 0  # the compaction wrote the list into the new base
    stored = con.execute(f"SELECT name, n FROM wh.{delta.BASE_COUNTS}").fetchall()
    assert stored == con.execute(f"SELECT 'answered_threads', count(*) FROM threads WHERE {delta.ANSWERED}").fetchall()


def test_a_delta_load_reports_the_answered_threads_of_the_base_from_its_stored_count(
        base: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The base's answered threads are counted once, when the base is written (delta.BASE_COUNTS), not by a read
    of every thread's status in each load. Shown by a stored count made wrong on purpose: the report follows it."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    with duckdb.connect(str(base), read_only=True) as con:
        assert con.execute(f"SELECT name, n FROM {delta.BASE_COUNTS}").fetchall() == con.execute(
            f"SELECT 'answered_threads', count(*) FROM threads WHERE {delta.ANSWERED}").fetchall()
    db = copy_of(base, tmp_path / "tampered")
    with duckdb.connect(str(db)) as con:
        con.execute(f"UPDATE {delta.BASE_COUNTS} SET n = n + 1000 WHERE name = 'answered_threads'")
    report = ingest_tweets(Warehouse(db), "twcs", [inputs["b1"]], Settings(db=db))
    assert delta.delta_path(db).exists()  # a delta load, not a rewrite (which would count afresh)
    (answered,), = Warehouse(db).reader().connection().execute(
        f"SELECT count(*) FROM threads WHERE {delta.ANSWERED}").fetchall()
    assert report.totals["answered_threads"] == answered + 1000


def _text_compression(db_file: Path) -> set[str]:
    con = duckdb.connect(str(db_file), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT compression FROM pragma_storage_info('tweets') "
                                          "WHERE column_name = 'text' AND segment_type = 'VARCHAR'").fetchall()}
    finally:
        con.close()


def test_texts_are_stored_with_zstd_in_base_delta_and_compacted_base_and_read_back_intact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """schema.sql stores ``tweets.text`` with ZSTD (faster to write and smaller than DICT_FSST for texts that
    hardly ever repeat). The base a load writes, the delta beside it and the base a compaction folds them into keep it,
    and every text reads back byte for byte, emoji, umlauts, quotes and an empty one included."""
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1e9)  # a two-tweet base: the compaction comes by command
    db = tmp_path / "wh.duckdb"
    texts = {1: "@acme mein Router geht nicht 😡 \"schon wieder\"", 2: "@c1 Sorry! DM us, bitte ✉️", 3: "",
             4: "=SUM(A1) is not a formula here", 5: "Grüße, ß und ÄÖÜ"}
    first = [row(1, "c1", False, at("10:00"), texts[1]), row(2, "acme", True, at("10:05"), texts[2], parent=1)]
    ingest_tweets(Warehouse(db), "twcs", [write_twcs(tmp_path / "a.csv", first)], Settings(db=db))
    later = [row(3, "c2", False, at("11:00"), texts[3]), row(4, "c3", False, at("11:10"), texts[4]),
             row(5, "c4", False, at("11:20"), texts[5])]
    ingest_tweets(Warehouse(db), "twcs", [write_twcs(tmp_path / "b.csv", later)], Settings(db=db))
    assert delta.delta_path(db).exists(), "the second load went into a delta"
    assert _text_compression(db) == {"ZSTD"} and _text_compression(delta.delta_path(db)) == {"ZSTD"}

    def stored() -> dict[int, str]:
        con = Warehouse(db).reader().connection()
        return {int(i): ("" if t is None else str(t))
                for i, t in con.execute("SELECT tweet_id, text FROM tweets").fetchall()}

    assert stored() == texts
    assert main(["compact", "--db", str(db)]) == 0
    assert not delta.delta_path(db).exists() and _text_compression(db) == {"ZSTD"}
    assert stored() == texts


def test_the_status_words_written_counted_and_listed_are_the_warehouses_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``threads.status`` words come from ``warehouse.values``: the loader writes them, a load's report counts the
    answered ones from the base's stored count and the delta, and the metrics' as-of status lists the same words.
    Worked by hand: c1 is answered by acme (first load), c2 waits (second load, into the delta)."""
    from carepulse.metrics import views
    from carepulse.warehouse import values

    monkeypatch.setenv(delta.MODE_ENV, "delta")
    monkeypatch.setattr(delta, "COMPACT_SHARE", 1e9)
    db = tmp_path / "wh.duckdb"
    first = [row(1, "c1", False, at("10:00"), "@acme router down"), row(2, "acme", True, at("10:05"), "@c1 DM us",
                                                                         parent=1)]
    ingest_tweets(Warehouse(db), "twcs", [write_twcs(tmp_path / "a.csv", first)], Settings(db=db))
    later = [row(3, "c2", False, at("11:00"), "@acme still waiting")]
    report = ingest_tweets(Warehouse(db), "twcs", [write_twcs(tmp_path / "b.csv", later)], Settings(db=db))
    con = Warehouse(db).reader().connection()
    stored = dict(con.execute("SELECT customer_handle, status FROM threads").fetchall())
    assert stored == {"c1": values.ANSWERED, "c2": values.UNANSWERED}
    assert report.totals["answered_threads"] == 1 and report.totals["threads"] == 2
    listed = views.threads(db=Warehouse(db).reader(), settings=Settings(db=db), limit=None)
    assert dict(zip(listed["customer_handle"], listed["status"], strict=True)) == stored
    answered = views.threads(db=Warehouse(db).reader(), settings=Settings(db=db), status=values.ANSWERED, limit=None)
    assert list(answered["customer_handle"]) == ["c1"]
    with pytest.raises(AssertionError):
        values.quoted("o'brien")
