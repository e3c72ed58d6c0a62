"""``carepulse lake ingest --engine spark``: threads rebuilt on Spark give the warehouse's threads and metrics.

The done-when of issue 17 on the public sample: ``lake ingest twcs FILE --engine spark`` then ``metrics
--lake --engine spark --by account --format json`` prints what ``ingest`` + ``metrics`` print. Then the
incremental path (the sample in two halves: late parents merge conversations, loaded tweets are relinked
and their months rewritten; the same file again is all duplicates) and the edge cases (a reply cycle
broken at its earliest tweet on the driver, a missing parent, a mention-only thread), compared row by row
with the warehouse through DuckDB over the Spark-written lake. One shared session (conftest).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from carepulse.cli import main
from carepulse.core.config import load_settings
from carepulse.etl.lake_ingest import ingest_lake
from carepulse.warehouse import Warehouse
from carepulse.warehouse.engines.duckdb_lake import DuckDBLake
from tests.etl.test_lake_ingest_duckdb import TWEET_COLUMNS, split
from tests.spark.conftest import differences, quiet

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::FutureWarning:pyspark.*")]


def same_tables(db: Path, lake: Path) -> None:
    reader, on_lake = Warehouse(db).reader(), DuckDBLake(lake)
    try:
        for sql in ("SELECT * FROM threads ORDER BY thread_id", f"SELECT {TWEET_COLUMNS} FROM tweets ORDER BY tweet_id",
                    "SELECT run_id, records_read, loaded, duplicate, quarantined FROM ingest_runs ORDER BY run_id"):
            assert on_lake.connection().execute(sql).fetchall() == reader.connection().execute(sql).fetchall(), sql
    finally:
        reader.close()
        on_lake.close()


def test_done_when_spark_ingest_and_metrics_match_the_warehouse(
        spark: Any, sample_lake: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.conftest import SHARED_SAMPLE

    db, _ = sample_lake
    lake = tmp_path / "lake"
    assert main(["lake", "ingest", "twcs", str(SHARED_SAMPLE), "--lake", str(lake), "--engine", "spark"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("read 1,000 = loaded 1,000 + duplicate 0 + quarantined 0")
    assert "1,000 tweets, 281 threads (263 answered)" in out[1] and "on spark" in out[1]
    results = []
    for where in (("--db", str(db)), ("--lake", str(lake), "--engine", "spark")):
        assert main(["metrics", *where, "--by", "account", "--format", "json"]) == 0
        results.append(json.loads(capsys.readouterr().out))
    warehouse, on_spark = results
    assert len(warehouse["groups"]) == 43
    assert differences(warehouse, on_spark) == []
    same_tables(db, lake)


def test_incremental_batches_on_spark_match_the_warehouse(spark: Any, tmp_path: Path) -> None:
    from tests.conftest import SHARED_SAMPLE

    settings = load_settings(None)
    db, lake = tmp_path / "wh.duckdb", tmp_path / "lake"
    for part in split(SHARED_SAMPLE, tmp_path):
        assert quiet("ingest", "twcs", str(part), "--db", str(db)) == 0
        report = ingest_lake(lake, "twcs", [part], settings, engine="spark", spark=spark)
        assert report.files[0].balanced() and report.files[0].loaded == 500
    assert report.rebuilt.months["tweets"]  # loaded tweets were relinked: their months rewritten
    same_tables(db, lake)
    again = ingest_lake(lake, "twcs", [part], settings, engine="spark", spark=spark)
    assert (again.files[0].duplicate, again.loaded, again.rebuilt.conversations) == (500, 0, 0)


def test_reply_cycles_and_edges_on_spark(spark: Any, tmp_path: Path) -> None:
    from tests.spark.conftest import edge_rows
    from tests.twcs_helpers import write_twcs

    source = write_twcs(tmp_path / "edges.csv", edge_rows())
    db, lake = tmp_path / "wh.duckdb", tmp_path / "lake"
    assert quiet("ingest", "twcs", str(source), "--db", str(db)) == 0
    report = ingest_lake(lake, "twcs", [source], load_settings(None), engine="spark", spark=spark)
    assert (report.files[0].loaded, report.files[0].duplicate, report.files[0].quarantined) == (15, 1, 1)
    assert report.rebuilt.cycles_broken == 1
    same_tables(db, lake)


def test_api_v2_jsonl_and_crm_on_spark_match_the_warehouse(spark: Any, tmp_path: Path) -> None:
    """The demo's Twitter API v2 pages and its German CRM export, loaded on Spark: the same tables (cases
    linked to the same threads) and the same figures, CRM-based costs included, as the warehouse."""
    from carepulse.demo.generator import generate_demo
    from carepulse.etl.lake_crm import ingest_crm_lake

    files = generate_demo(tmp_path / "files")
    settings = load_settings(None)
    db, lake = tmp_path / "wh.duckdb", tmp_path / "lake"
    accounts = [arg for handle in files.accounts for arg in ("--account", handle)]
    assert quiet("ingest", "jsonl", str(files.tweets_jsonl), *accounts, "--db", str(db)) == 0
    assert quiet("ingest", "crm", str(files.crm_csv), "--mapping", str(files.crm_mapping), "--db", str(db)) == 0
    tweets = ingest_lake(lake, "jsonl", [files.tweets_jsonl], settings, engine="spark", accounts=files.accounts,
                         spark=spark)
    cases = ingest_crm_lake(lake, [files.crm_csv], files.crm_mapping, settings, engine="spark", spark=spark)
    assert tweets.files[0].quarantined > 0 and cases.files[0].quarantined > 0  # the demo's planted defects
    assert cases.links["conversation"] + cases.links["handle_window"] > 1000
    same_tables(db, lake)
    reader, on_lake = Warehouse(db).reader(), DuckDBLake(lake)
    try:
        sql = "SELECT * FROM crm_cases ORDER BY case_id"
        assert on_lake.connection().execute(sql).fetchall() == reader.connection().execute(sql).fetchall()
    finally:
        reader.close()
        on_lake.close()
    results = []
    for where in (("--db", str(db)), ("--lake", str(lake), "--engine", "spark")):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(["metrics", *where, "--by", "account", "--format", "json"]) == 0
        results.append(json.loads(out.getvalue()))
    assert differences(results[0], results[1]) == []
