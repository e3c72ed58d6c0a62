"""``carepulse lake export`` and ``carepulse metrics --lake DIR`` on DuckDB: no JVM, part of the default run.

The lake holds the warehouse's tables as Parquet by month; DuckDB over the lake must print exactly what
DuckDB prints over the warehouse file (it is the reference the Spark engine is compared with, in
test_spark_metrics.py). Every failure is one ``error:`` line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from carepulse.cli import main
from carepulse.warehouse.lake import MANIFEST, Lake
from tests.spark.conftest import differences


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_export_writes_months_and_accounts_for_every_row(sample_lake: tuple[Path, Path],
                                                         capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    db, _ = sample_lake
    code, out, err = run(capsys, "lake", "export", "--db", str(db), "--out", str(tmp_path / "lake"))
    assert code == 0 and not err
    assert "tweets: 1,000 rows in 5 months, 5 files" in out
    assert "threads: 281 rows in 5 months" in out
    assert "crm_cases: 0 rows" in out
    assert out.splitlines()[-1].startswith(f"lake {tmp_path / 'lake'}: 8 tables, ")
    lake = Lake(tmp_path / "lake")
    assert sorted(p.parent.name for p in lake.files("tweets"))[0] == "month=2011-08"
    assert lake.manifest()["tables"]["tweets"]["sorted_by"].startswith("conversation_id")
    assert ("created_at", "TIMESTAMP WITH TIME ZONE") in lake.columns("tweets")


def test_export_replaces_a_lake_but_never_another_directory(sample_lake: tuple[Path, Path],
                                                            capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    db, _ = sample_lake
    target = tmp_path / "lake"
    assert run(capsys, "lake", "export", "--db", str(db), "--out", str(target))[0] == 0
    stale = target / "tweets" / "month=1999-01"
    stale.mkdir()
    assert run(capsys, "lake", "export", "--db", str(db), "--out", str(target))[0] == 0
    assert not stale.exists() and (target / MANIFEST).exists()
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"\xff\xd8")
    code, out, err = run(capsys, "lake", "export", "--db", str(db), "--out", str(other))
    assert code == 2 and not out
    assert err.startswith("error: ") and "is not a carepulse lake" in err and len(err.splitlines()) == 1
    assert (other / "holiday.jpg").exists()


def test_export_of_a_missing_warehouse_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "lake", "export", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "l"))
    assert code == 2 and err.startswith("error: no warehouse at") and len(err.splitlines()) == 1
    assert not (tmp_path / "l").exists()


def test_metrics_on_the_lake_with_duckdb_print_the_warehouse_json(sample_lake: tuple[Path, Path],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db, lake = sample_lake
    code, warehouse, _ = run(capsys, "metrics", "--db", str(db), "--by", "account", "--format", "json")
    assert code == 0
    code, on_lake, err = run(capsys, "metrics", "--lake", str(lake), "--engine", "duckdb", "--by", "account",
                             "--format", "json")
    assert code == 0 and not err
    assert on_lake == warehouse
    total = json.loads(on_lake)["total"]
    assert (total["threads"], total["answered_threads"], total["first_response_median_s"]) == (281, 263, 740)


@pytest.mark.parametrize("by", [None, "team", "channel", "weekday", "week"])
def test_metrics_on_the_demo_lake_with_duckdb(demo_lake: tuple[Path, Path], by: str | None) -> None:
    from carepulse.core.config import load_settings
    from carepulse.metrics import engine
    from carepulse.warehouse import Warehouse
    from carepulse.warehouse.engines import open_lake

    db, lake = demo_lake
    settings = load_settings(None, db=db)
    expected = engine.headline(None, by, db=Warehouse(db).reader(), settings=settings)
    assert expected["total"]["cases"] > 0
    assert differences(expected, engine.headline(None, by, db=open_lake(lake, "duckdb"), settings=settings)) == []


def test_lake_errors_are_one_line(sample_lake: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, lake = sample_lake
    code, _, err = run(capsys, "metrics", "--engine", "spark", "--format", "json")
    assert code == 2 and err == "error: --engine needs --lake DIR (the warehouse file is always read by DuckDB)\n"
    code, _, err = run(capsys, "metrics", "--lake", str(tmp_path), "--format", "json")
    assert code == 2 and "is not a carepulse lake" in err and len(err.splitlines()) == 1
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    code, _, err = run(capsys, "metrics", "--lake", str(lake), "--engine", "spark")
    assert code == 2 and err == ("error: the Spark engine needs pyspark, which is not installed: "
                                 "pip install 'carepulse[spark]'\n")
