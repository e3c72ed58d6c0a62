"""``carepulse lake ingest`` on the DuckDB engine: the same threads, tweets, accounting and metrics as
``carepulse ingest`` + ``carepulse metrics`` on the same files (issue 17). No JVM: part of the default run.

Each case loads the same files into a warehouse and into a lake and compares the whole ``threads`` table,
the tweets' computed columns and ``carepulse metrics --by account --format json``. The files: the public
sample; the sample split in two by alternate rows (parents arrive after their replies: conversations merge
and loaded tweets are relinked); a generated file and a second batch whose replies land in the first
(touched conversations); the edge cases of tests/spark (a reply cycle, a missing parent, two customers in
one conversation, a mention-only thread, a duplicate and a damaged record).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from carepulse.cli import main
from carepulse.warehouse import Warehouse
from carepulse.warehouse.engines.duckdb_lake import DuckDBLake
from carepulse.warehouse.lake import Lake
from tests.conftest import SHARED_SAMPLE

TWEET_COLUMNS = ("tweet_id, source, author_id, author_handle, is_brand, created_at, text, in_reply_to_tweet_id, "
                 "parent_id, conversation_id, run_id, record_no, first_reply_at, first_reply_id, first_reply_by")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def load_both(capsys: pytest.CaptureFixture[str], folder: Path, *files: Path) -> tuple[Path, Path, list[str]]:
    """Each file in turn through ``ingest`` and ``lake ingest``; (warehouse, lake, the lake's output lines)."""
    db, lake = folder / "wh.duckdb", folder / "lake"
    lines: list[str] = []
    for file in files:
        code, warehouse_out, err = run(capsys, "ingest", "twcs", str(file), "--db", str(db))
        assert code == 0, err
        code, lake_out, err = run(capsys, "lake", "ingest", "twcs", str(file), "--lake", str(lake),
                                  "--engine", "duckdb")
        assert code == 0 and "error:" not in err, err  # a reply cycle's warning is logged as by ingest
        assert lake_out.splitlines()[0] == warehouse_out.splitlines()[0]  # the accounting line
        lines += lake_out.splitlines()
    return db, lake, lines


def rows(con: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def assert_same(capsys: pytest.CaptureFixture[str], db: Path, lake: Path) -> dict[str, Any]:
    reader, on_lake = Warehouse(db).reader(), DuckDBLake(lake)
    try:
        for sql in ("SELECT * FROM threads ORDER BY thread_id", f"SELECT {TWEET_COLUMNS} FROM tweets ORDER BY tweet_id",
                    "SELECT * FROM accounts ORDER BY handle_key",
                    "SELECT run_id, records_read, loaded, duplicate, quarantined FROM ingest_runs ORDER BY run_id",
                    "SELECT run_id, line, record_no, reason FROM quarantine ORDER BY run_id, record_no, line"):
            expected, found = rows(reader.connection(), sql), rows(on_lake.connection(), sql)
            assert found == expected, sql
    finally:
        reader.close()
        on_lake.close()
    code, warehouse_json, _ = run(capsys, "metrics", "--db", str(db), "--by", "account", "--format", "json")
    assert code == 0
    code, lake_json, err = run(capsys, "metrics", "--lake", str(lake), "--engine", "duckdb", "--by", "account",
                               "--format", "json")
    assert code == 0 and not err
    assert lake_json == warehouse_json
    return dict(json.loads(lake_json))


def test_the_sample_gives_the_warehouse_threads_and_metrics(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db, lake, lines = load_both(capsys, tmp_path, SHARED_SAMPLE)
    assert lines[0].endswith("read 1,000 = loaded 1,000 + duplicate 0 + quarantined 0")
    assert "1,000 tweets, 281 threads (263 answered)" in lines[1]
    total = assert_same(capsys, db, lake)["total"]
    assert (total["threads"], total["answered_threads"], total["first_response_median_s"]) == (281, 263, 740)
    assert sorted(p.parent.name for p in Lake(lake).files("threads"))[0] == "month=2011-08"
    code, out, _ = run(capsys, "lake", "ingest", "twcs", str(SHARED_SAMPLE), "--lake", str(lake))
    assert code == 0 and out.splitlines()[0].endswith("read 1,000 = loaded 0 + duplicate 1,000 + quarantined 0")
    assert "1,000 tweets, 281 threads (263 answered); 0 new records" in out.splitlines()[1]


def split(source: Path, folder: Path) -> tuple[Path, Path]:
    """The sample's records in two files by alternate rows: many replies arrive before their parents."""
    with source.open(encoding="utf-8", newline="") as fh:
        header, *records = list(csv.reader(fh))
    parts = (folder / "even.csv", folder / "odd.csv")
    for index, part in enumerate(parts):
        with part.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(records[index::2])
    return parts


def test_late_parents_merge_conversations_as_in_the_warehouse(capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path) -> None:
    db, lake, lines = load_both(capsys, tmp_path, *split(SHARED_SAMPLE, tmp_path))
    assert "0 reply cycles broken" in lines[-1]
    assert_same(capsys, db, lake)


def test_a_generated_file_and_a_batch_replying_into_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from benchmarks import generate

    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    assert generate.main(["--tweets", "3000", "--seed", "5", "--out", str(first)]) == 0
    assert generate.main(["--tweets", "1500", "--seed", "6", "--id-offset", "3000", "--out", str(second)]) == 0
    capsys.readouterr()
    db, lake, lines = load_both(capsys, tmp_path, first, second)
    assert_same(capsys, db, lake)
    rebuilt = int(lines[-1].split(" new records, ")[1].split(" conversations")[0].replace(",", ""))
    assert 0 < rebuilt < 1500  # only the second batch's conversations and the ones it touched


def test_edge_cases_cycles_missing_parents_duplicates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.spark.conftest import edge_rows
    from tests.twcs_helpers import write_twcs

    source = write_twcs(tmp_path / "edges.csv", edge_rows())
    db, lake, lines = load_both(capsys, tmp_path, source)
    assert lines[0].endswith("read 17 = loaded 15 + duplicate 1 + quarantined 1")
    assert "1 reply cycles broken" in lines[1]
    assert_same(capsys, db, lake)


def test_failures_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"\xff\xd8")
    code, out, err = run(capsys, "lake", "ingest", "twcs", str(SHARED_SAMPLE), "--lake", str(other))
    assert code == 2 and not out and err.startswith("error: ") and len(err.splitlines()) == 1
    code, out, err = run(capsys, "lake", "ingest", "twcs", str(tmp_path / "none.csv"), "--lake", str(tmp_path / "l"))
    assert code == 2 and err == f"error: {tmp_path / 'none.csv'}: no such file\n"


def test_results_are_kept_per_published_lake(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A lake read by DuckDB has no file path, so the metrics' memo keys it by the lake and its manifest:
    the same key while the lake is unchanged, a new one once a load publishes (else the channel spans,
    read once per group, are read per group: 102 times for 43 accounts, 11 s at 3 M tweets)."""
    from datetime import UTC, datetime

    from carepulse.core.config import load_settings
    from carepulse.metrics import snapshots
    from carepulse.metrics.context import Context

    first, second = split(SHARED_SAMPLE, tmp_path)
    lake = tmp_path / "lake"
    assert run(capsys, "lake", "ingest", "twcs", str(first), "--lake", str(lake))[0] == 0

    def key() -> tuple[object, ...] | None:
        engine = DuckDBLake(lake)
        try:
            ctx = Context(engine.connection(), load_settings(None), datetime(2018, 1, 1, tzinfo=UTC))
            return snapshots.of(ctx)
        finally:
            engine.close()

    before = key()
    assert before is not None and before[:2] == ("views", str(lake.resolve())) and key() == before
    assert run(capsys, "lake", "ingest", "twcs", str(second), "--lake", str(lake))[0] == 0
    after = key()
    assert after is not None and after != before


def test_long_work_says_which_step_and_pass_it_is_in(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the load shows its phase and each pointer-jumping pass (a pass of a large rebuild on
    Spark takes a while); recorded here through the progress bar's own methods."""
    from carepulse.core import progress

    said: list[str] = []
    monkeypatch.setattr(progress.Phases, "start", lambda self, name: said.append(f"phase: {name}"))
    monkeypatch.setattr(progress.Phases, "note", lambda self, text: said.append(text))
    assert run(capsys, "lake", "ingest", "twcs", str(SHARED_SAMPLE), "--lake", str(tmp_path / "lake"))[0] == 0
    assert said[:2] == ["phase: parse, validate, dedupe", "phase: rebuilding conversations on duckdb"]
    assert said[2].startswith("pointer jumping, pass 1: ") and said[2].endswith(" tweets not at their root yet")
    assert "threads of the touched conversations" in said and said[-1] == "phase: re-linking CRM cases"
