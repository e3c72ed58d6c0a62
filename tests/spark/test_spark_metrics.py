"""The same metrics on Spark: the DuckDB statements, translated, give DuckDB's numbers (issue 17).

Run with ``python -m pytest -q -m spark tests/spark`` (one local[2] session for the whole run, conftest).
The done-when check first: on the public sample, ``carepulse metrics --by account --format json`` prints
the same JSON on the warehouse, on the lake with DuckDB and on the lake with Spark. Then every breakdown
on the sample and the demo (CRM cases, costs, statistics), every fixed trap against DuckDB on edge
values, and the refused ones as one error line.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import duckdb
import pytest

from carepulse.cli import main
from carepulse.core.config import load_settings
from carepulse.metrics import engine, registry
from carepulse.metrics.context import BREAKDOWNS, Database
from carepulse.warehouse import Warehouse
from carepulse.warehouse.engines.spark import SparkLake
from tests.spark.conftest import differences

# pyspark 4.3 warns that it does not fully support pandas 3 (it converts through Arrow here)
pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::FutureWarning:pyspark.*")]


BUSINESS_HOURS = ["first_response_bh_median_s", "first_response_bh_p90_s", "sla_breached_bh_threads",
                  "sla_met_bh_share"]
_ENGINES: dict[Path, SparkLake] = {}


def spark_db(lake: Path, spark: Any) -> Database:
    """The Spark engine of a lake, one per lake for the run (its views and kept results are shared, as in one
    ``carepulse metrics`` run), typed as the metrics take a database: its connections offer what the
    metrics call (carepulse/warehouse/engines/base.py), not the whole DuckDB type the signature names."""
    engine = _ENGINES.setdefault(lake, SparkLake(lake, spark))
    return cast("Database", engine)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_done_when_the_same_json_on_warehouse_duckdb_lake_and_spark_lake(
        spark: Any, sample_lake: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    db, lake = sample_lake
    outputs = [run(capsys, "metrics", *where, "--by", "account", "--format", "json")
               for where in (("--db", str(db)), ("--lake", str(lake), "--engine", "duckdb"),
                             ("--lake", str(lake), "--engine", "spark"))]
    assert [code for code, _, _ in outputs] == [0, 0, 0]
    warehouse, on_duckdb, on_spark = (json.loads(out) for _, out, _ in outputs)
    assert len(warehouse["groups"]) == 43
    for account, cells in warehouse["groups"].items():
        for key in ("threads", "answered_threads", "first_response_median_s", "first_response_km_median_s"):
            assert on_spark["groups"][account][key] == cells[key], (account, key)
    assert differences(warehouse, on_duckdb) == []
    assert differences(warehouse, on_spark) == []


@pytest.mark.parametrize("by", [None, *BREAKDOWNS])
def test_every_breakdown_on_the_sample(spark: Any, sample_lake: tuple[Path, Path], by: str | None) -> None:
    db, lake = sample_lake
    settings = load_settings(None, db=db)
    expected = engine.headline(None, by, db=Warehouse(db).reader(), settings=settings)
    assert differences(expected, engine.headline(None, by, db=spark_db(lake, spark), settings=settings)) == []


@pytest.mark.parametrize("by", [None, "account", "agent", "day", "hour", "weekday"])
def test_edge_cases_cycles_missing_parents_two_customers_dst(spark: Any, edge_lake: tuple[Path, Path],
                                                             by: str | None) -> None:
    db, lake = edge_lake
    settings = load_settings(None, db=db)
    names = [*(m.name for m in registry.list_metrics() if m.default), *BUSINESS_HOURS, "sla_breached_threads"]
    expected = engine.headline(names, by, db=Warehouse(db).reader(), settings=settings)
    assert expected["total"]["threads"] == 7 and expected["total"]["answered_threads"] == 5
    assert differences(expected, engine.headline(names, by, db=spark_db(lake, spark), settings=settings)) == []


@pytest.mark.parametrize("by", [None, "team", "channel", "weekday"])
def test_crm_costs_and_statistics_on_the_demo(spark: Any, demo_lake: tuple[Path, Path], by: str | None) -> None:
    db, lake = demo_lake
    settings = load_settings(None, db=db)
    names = None if by else ["cases", "resolution_rate", "fcr_rate", "recontact_7d_rate", "csat_mean", "nps",
                             "cost_per_case", "pilot_net_benefit_eur", "csat_diff_twitter_hotline",
                             "threads_forecast_4w", "staffing_fte_x1", "thanks_rate", "dm_handoff_rate"]
    expected = engine.headline(names, by, db=Warehouse(db).reader(), settings=settings)
    assert expected["total"]["cases"] > 0
    assert differences(expected, engine.headline(names, by, db=spark_db(lake, spark), settings=settings)) == []


MOMENTS = [datetime(2017, 10, d, 0, 30, 0, 250_000, tzinfo=UTC) for d in range(23, 31)]  # Mon .. Mon, DST on 29th

# DuckDB statements with the traps the translation fixes, on edge values: the same rows on both engines.
# (Moments are named ``*_at``, as the warehouse names them: the translation reads the name, spark_sql._is_instant.)
FIXED: list[tuple[str, dict[str, Any] | None]] = [
    ("SELECT isodow(m_at) AS d, ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][isodow(m_at)] AS label, "
     "dayofweek(m_at) FROM (SELECT unnest($moments) AS m_at) ORDER BY m_at", {"moments": MOMENTS}),
    ("SELECT epoch(m_at) - epoch($as_of), timezone('Europe/Berlin', m_at), hour(timezone('Europe/Berlin', m_at)), "
     "strftime(date_trunc('week', timezone('Europe/Berlin', m_at)), '%Y-%m-%d') "
     "FROM (SELECT unnest($moments) AS m_at) ORDER BY m_at", {"moments": MOMENTS, "as_of": MOMENTS[0]}),
    ("SELECT arg_min_null(v, (k, i)), arg_max_null(v, (k, i)), arg_min(v, k), quantile_cont(k, [0.5, 0.9]), "
     "quantile_cont(k, 0.25) FILTER (WHERE k > 1), list_select(list(k ORDER BY k) FILTER (WHERE k IS NOT NULL), "
     "[0, 1, 3, 9]) FROM (SELECT unnest([NULL, 'b', 'c', NULL]) AS v, unnest([1, 2, 3, 4]) AS k, "
     "unnest([1, 2, 3, 4]) AS i)", None),
    ("SELECT h, code FROM (SELECT unnest($a) AS h, unnest($b) AS code) ORDER BY h", {"a": [3, 1, 2], "b": [30, 10]}),
    ("SELECT 7 / 2, 1 / 0, -2.5 / 0, 0 / 0 IS NULL, isnan(0 / 0), date_diff('day', $lo, $hi), [10, 20, 30][$i], "
     "[10, 20, 30][0]",
     {"lo": datetime(2017, 10, 1, 23, 0, tzinfo=UTC), "hi": datetime(2017, 10, 2, 1, 0, tzinfo=UTC), "i": 3}),
    ("SELECT d.x, CAST($day AS DATE) + CAST(d.x AS INTEGER) FROM range(0, 3) AS d(x) ORDER BY d.x",
     {"day": date(2017, 12, 30)}),
    ("SELECT x FROM (SELECT unnest([1, 2, 3]) AS x) WHERE x IN (SELECT $v) AND x < $w", {"v": 2, "w": 3.5}),
]


def test_values_as_literals_give_the_same_rows(spark: Any) -> None:
    """Where Spark takes no marker the engine writes the values in as literals: the same rows as with markers."""
    from carepulse.warehouse.engines.spark_literals import with_literals

    for sql, params in FIXED:
        if params:
            con = duckdb.connect(":memory:")
            con.execute("SET TimeZone = 'UTC'")
            assert spark.sql(with_literals(sql, params)).collect() == [tuple(r) for r in con.execute(
                sql, params).fetchall()], sql


def test_a_refused_marker_is_run_again_with_literals(spark: Any, sample_lake: tuple[Path, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    engine_of_its_own = SparkLake(sample_lake[1], spark)  # nothing kept from the other tests
    engine_of_its_own.ensure_views()
    real = spark.sql

    def no_markers(query: str, args: Any = None) -> Any:
        if args:
            raise RuntimeError("[UNSUPPORTED_FEATURE.PARAMETER_MARKER_IN_UNEXPECTED_STATEMENT] not here")
        return real(query)

    monkeypatch.setattr(spark, "sql", no_markers)
    rows = engine_of_its_own.connection().execute(
        "SELECT count(*) FROM tweets WHERE created_at <= $at AND author_handle <> $who",
        {"at": datetime(2017, 11, 1, tzinfo=UTC), "who": "o'brien"}).fetchall()
    monkeypatch.undo()
    con = duckdb.connect(str(sample_lake[0]), read_only=True)
    assert rows == con.execute("SELECT count(*) FROM tweets WHERE created_at <= '2017-11-01 00:00:00+00'").fetchall()


@pytest.mark.parametrize(("sql", "params"), FIXED)
def test_fixed_traps_give_duckdbs_rows(spark: Any, sample_lake: tuple[Path, Path], sql: str,
                                       params: dict[str, Any] | None) -> None:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    expected = con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()
    got = cast(SparkLake, spark_db(sample_lake[1], spark)).connection().execute(sql, params).fetchall()
    assert got == expected


@pytest.mark.parametrize(("which", "by"), [("sample", None), ("sample", "account"), ("sample", "weekday"),
                                           ("demo", None), ("demo", "team")])
def test_business_hours_asof_joins_as_range_joins(spark: Any, sample_lake: tuple[Path, Path],
                                                  demo_lake: tuple[Path, Path], which: str, by: str | None) -> None:
    db, lake = sample_lake if which == "sample" else demo_lake
    settings = load_settings(None, db=db)
    expected = engine.headline(BUSINESS_HOURS, by, db=Warehouse(db).reader(), settings=settings)
    assert expected["total"]["sla_met_bh_share"] is not None
    got = engine.headline(BUSINESS_HOURS, by, db=spark_db(lake, spark), settings=settings)
    assert differences(expected, got) == []


def test_a_definition_with_a_trap_is_refused_in_one_line(spark: Any, sample_lake: tuple[Path, Path],
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A new group label counting list elements (DuckDB) would count characters on Spark: refused, not run."""
    from carepulse.metrics import sources

    monkeypatch.setitem(sources.KEY_FORMATS, "hour", "lpad(CAST(len([{g}, {g}]) AS VARCHAR), 2, '0')")
    code, out, err = run(capsys, "metrics", "--lake", str(sample_lake[1]), "--engine", "spark", "--by", "hour",
                         "--metrics", "threads", "--format", "json")
    assert code == 2 and not out
    assert err.startswith("error: not portable to Spark: len()/length() of a value not known to be text (DuckDB "
                          "counts a list's elements, Spark's length() counts characters) in: ")
    assert len(err.splitlines()) == 1


def test_explain_on_spark_shows_the_statement_spark_runs(spark: Any, sample_lake: tuple[Path, Path],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``--explain`` on a Spark lake prints the translated statement, and that text runs on Spark with the
    numbers of the warehouse (the median per account)."""
    db, lake = sample_lake
    code, out, _ = run(capsys, "metrics", "--lake", str(lake), "--engine", "spark", "--explain",
                       "first_response_median_s", "--by", "account")
    assert code == 0
    sql = out.split("\n", 2)[2]
    assert "PERCENTILE(" in sql and "quantile_cont" not in sql and "$" not in sql
    rows = {r[0]: r[1][0] for r in spark.sql(sql).collect()}
    code, warehouse, _ = run(capsys, "metrics", "--db", str(db), "--by", "account", "--format", "json",
                             "--metrics", "first_response_median_s", "--no-ci")
    groups = json.loads(warehouse)["groups"]
    assert len(rows) == len(groups) + 1
    assert all(rows[name] == pytest.approx(values["first_response_median_s"]) for name, values in groups.items()
               if values["first_response_median_s"] is not None)
