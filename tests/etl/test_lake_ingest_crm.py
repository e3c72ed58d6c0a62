"""``carepulse lake ingest jsonl`` and ``lake ingest crm`` on the demo's own files (DuckDB engine, no JVM).

The demo writes what a real installation has: Twitter API v2 pages (with a cut-off page) and a German
CRM export with its mapping (with broken rows). Loaded into a warehouse (``ingest``) and into a lake
(``lake ingest``), every table the metrics read must be the same row for row, and ``metrics --all`` (every
figure: costs, resolution, satisfaction, statistics) must give the same numbers. The lake is loaded in both
orders (the same order into both): CRM after the tweets (as the demo does) and CRM first, whose cases
then link only once the tweet load re-links them, as the warehouse's tweet load does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carepulse.demo.generator import generate_demo
from carepulse.warehouse import Warehouse
from carepulse.warehouse.engines.duckdb_lake import DuckDBLake
from tests.etl.test_lake_ingest_duckdb import TWEET_COLUMNS, rows, run
from tests.spark.conftest import differences

TABLES = ("SELECT * FROM threads ORDER BY thread_id", f"SELECT {TWEET_COLUMNS} FROM tweets ORDER BY tweet_id",
          "SELECT * FROM crm_cases ORDER BY case_id", "SELECT * FROM accounts ORDER BY handle_key",
          "SELECT * FROM users ORDER BY author_id",
          "SELECT run_id, source, records_read, loaded, updated, duplicate, quarantined FROM ingest_runs "
          "ORDER BY run_id",
          "SELECT line, record_no, reason, raw FROM quarantine ORDER BY file, line, record_no")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, tuple[str, ...]]:
    files = generate_demo(tmp_path_factory.mktemp("demo_files"))
    return files.tweets_jsonl, files.crm_csv, files.crm_mapping, tuple(files.accounts)


def accounts_args(accounts: tuple[str, ...]) -> list[str]:
    return [arg for handle in accounts for arg in ("--account", handle)]


@pytest.mark.parametrize("crm_first", [False, True], ids=["tweets-then-crm", "crm-then-tweets"])
def test_demo_files_give_the_warehouse_tables_and_every_metric(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, demo: tuple[Path, Path, Path, tuple[str, ...]],
        crm_first: bool) -> None:
    tweets, crm, mapping, accounts = demo
    db, lake = tmp_path / "wh.duckdb", tmp_path / "lake"
    steps = [["ingest", "jsonl", str(tweets), *accounts_args(accounts)],
             ["ingest", "crm", str(crm), "--mapping", str(mapping)]]
    outputs = []
    for args in reversed(steps) if crm_first else steps:  # the same order into both: run ids follow it
        code, _, err = run(capsys, *args, "--db", str(db))
        assert code == 0, err
        code, out, err = run(capsys, "lake", *args, "--lake", str(lake))
        assert code == 0, err
        outputs.append(out)
    crm_out = outputs[0] if crm_first else outputs[1]
    assert " = loaded " in crm_out.splitlines()[0] and "quarantined 0" not in crm_out.splitlines()[0]
    links = crm_out.splitlines()[1]
    if crm_first:  # no threads yet: nothing links until the tweets arrive
        assert "conversation 0, handle_window 0" in links
    else:
        assert "conversation 0," not in links
    reader, on_lake = Warehouse(db).reader(), DuckDBLake(lake)
    try:
        for sql in TABLES:
            assert rows(on_lake.connection(), sql) == rows(reader.connection(), sql), sql
        linked = rows(on_lake.connection(), "SELECT count(*) FROM crm_cases WHERE link_method <> 'none'")[0][0]
        assert linked > 1000
    finally:
        reader.close()
        on_lake.close()
    printed = []
    for where in (["--db", str(db)], ["--lake", str(lake), "--engine", "duckdb"]):
        code, out, err = run(capsys, "metrics", *where, "--all", "--format", "json")
        assert code == 0, err
        printed.append(out)
    # Every figure equal; a float sum may differ in its last bits where rows are added in another order
    # (DuckDB's parallel aggregation: follower-hours 7242.150448 vs ...449 in one run).
    assert differences(json.loads(printed[0]), json.loads(printed[1])) == []
    assert '"pilot_net_benefit_eur"' in printed[0]
