"""The portability check and the DuckDB -> Spark translation, without a JVM (issue 17).

One test per silent trap: the check refuses each, naming the construct. Then the fix-ups: the Spark
text each translated construct becomes (Spark runs them against DuckDB's numbers in tests/spark), and
every statement ``carepulse metrics`` runs on the public sample, for every breakdown and every metric,
translates (the business-hours ones with their ASOF joins rewritten as range joins).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from carepulse.cli import main
from carepulse.core.config import load_settings
from carepulse.metrics import engine, registry
from carepulse.metrics.context import BREAKDOWNS
from carepulse.warehouse import Warehouse
from carepulse.warehouse.engines.portability import PortabilityError, check
from carepulse.warehouse.engines.spark_sql import to_spark


def parsed(sql: str) -> Any:
    return sqlglot.parse_one(sql, read="duckdb")


def refused(sql: str) -> str:
    with pytest.raises(PortabilityError) as caught:
        check(parsed(sql), sql)
    return str(caught.value)


def test_trap_weekday_label_list_is_one_based() -> None:
    assert "a list indexed by a computed value" in refused(
        "SELECT ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][g] FROM b")


def test_trap_isodow() -> None:
    assert "isodow()" in refused("SELECT isodow(created_at) FROM tweets")
    assert "isodow()" in refused("SELECT extract(isodow FROM created_at) FROM tweets")


def test_trap_len_of_a_list() -> None:
    assert "len()/length()" in refused("SELECT len([1, 2, 3])")
    assert "len()/length()" in refused("SELECT len(list(x)) FROM t")
    check(parsed("SELECT length(lower(text)) FROM tweets"))  # text: fine


def test_trap_with_ordinality() -> None:
    assert "WITH ORDINALITY" in refused("SELECT * FROM unnest([10, 20]) WITH ORDINALITY AS u(x, i)")


def test_trap_epoch_whole_seconds() -> None:
    assert "epoch()" in refused("SELECT epoch(created_at) FROM tweets")


def test_trap_asof_join() -> None:
    assert "ASOF JOIN" in refused("SELECT * FROM threads th ASOF LEFT JOIN bh_cum b ON th.started_at >= b.istart")


def test_trap_two_unnest_in_one_select() -> None:
    assert "two unnest()" in refused("SELECT unnest(a), unnest(b) FROM t")


def test_found_traps_collect_list_order_and_nulls_arg_min_date_diff() -> None:
    assert "ORDER BY" in refused("SELECT list(x ORDER BY y) FILTER (WHERE x IS NOT NULL) FROM t")
    assert "NULL" in refused("SELECT list(x ORDER BY x) FROM t")
    assert "arg_min()" in refused("SELECT arg_min(x, y) FROM t")
    assert "date_diff('week'" in refused("SELECT date_diff('week', a, b) FROM t")


def test_every_trap_in_one_statement_is_named() -> None:
    message = refused("SELECT isodow(t), epoch(t) FROM a ASOF JOIN b ON a.t >= b.t")
    assert all(name in message for name in ("isodow()", "epoch()", "ASOF JOIN"))


@pytest.mark.parametrize("sql", [
    "SELECT * FROM unnest([10, 20]) WITH ORDINALITY AS u(x, i)",
    "SELECT len(list(x)) FROM t",
    "SELECT * FROM a ASOF LEFT JOIN b ON a.t <= b.t",
    "SELECT unnest(a), unnest(b) FROM t",
    "SELECT timezone('Europe/Berlin', local_start) FROM t",
])
def test_untranslated_traps_are_refused_by_the_translation(sql: str) -> None:
    with pytest.raises(PortabilityError, match="not portable to Spark"):
        to_spark(sql)


@pytest.mark.parametrize(("duckdb_sql", "spark_part"), [
    ("SELECT ['Mon', 'Tue'][g] FROM b", "TRY_ELEMENT_AT(ARRAY('Mon', 'Tue'), CAST(NULLIF(g, 0) AS INT))"),
    ("SELECT [5, 6][count(*)] FROM b", "TRY_ELEMENT_AT(ARRAY(5, 6), CAST(NULLIF(COUNT(*)"),
    ("SELECT isodow(x) FROM t", "EXTRACT(DAYOFWEEK_ISO FROM x)"),
    ("SELECT epoch(created_at) FROM t", "CAST(UNIX_MICROS(created_at) AS DOUBLE) / 1000000"),
    ("SELECT timezone($tz, created_at) FROM t", "CAST(FROM_UTC_TIMESTAMP(created_at, :tz) AS TIMESTAMP_NTZ)"),
    ("SELECT arg_min_null(agent, (opened_at, case_id)) FROM c", "MIN_BY(agent, STRUCT(opened_at, case_id))"),
    ("SELECT quantile_cont(frs, [0.5, 0.9]) FROM b", "PERCENTILE(frs, ARRAY(0.5, 0.9))"),
    ("SELECT list_select(list(x ORDER BY x) FILTER (WHERE x IS NOT NULL), [1, 3]) FROM b",
     "ARRAY(TRY_ELEMENT_AT(ARRAY_SORT(COLLECT_LIST(x) FILTER(WHERE NOT x IS NULL))"),
    ("SELECT * FROM t JOIN (SELECT unnest($a) AS h, unnest($b) AS code) m ON t.h = m.h",
     "(SELECT INLINE(ARRAYS_ZIP(:a, :b)) AS (h, code)) AS m"),
    ("SELECT a / b FROM t", "CASE WHEN b = 0 THEN CAST(a AS DOUBLE) * CAST('Infinity' AS DOUBLE) "
                            "ELSE CAST(a AS DOUBLE) / b END"),
    ("SELECT date_diff('day', lo, hi) FROM t", "DATEDIFF(CAST(hi AS DATE), CAST(lo AS DATE))"),
    ("SELECT date_trunc('week', local_start) FROM t", "CAST(DATE_TRUNC('WEEK', local_start) AS TIMESTAMP_NTZ)"),
    ("SELECT d.x FROM range(0, 7) AS d(x)", "RANGE(0, 7) AS d(x)"),
    ("SELECT x FROM t WHERE x IN (SELECT $v)", "x IN (SELECT :v AS v)"),  # else Spark reads SELECT:v, a path
    ("SELECT path FROM duckdb_databases()", "FROM carepulse_duckdb_databases"),
    ("SELECT CAST($h AS UBIGINT[])", "CAST(:h AS ARRAY<DECIMAL(20, 0)>)"),
    ("SELECT CAST($opens AS TIME[])", "CAST(:opens AS ARRAY<TIME>)"),
    ("SELECT * FROM th ASOF LEFT JOIN bh_cum b0 ON th.started_at >= b0.istart",
     "LEFT JOIN (SELECT *, LEAD(istart) OVER (ORDER BY istart NULLS LAST) AS carepulse_asof_next FROM bh_cum) AS b0 "
     "ON th.started_at >= b0.istart AND (b0.carepulse_asof_next IS NULL OR th.started_at < b0.carepulse_asof_next)"),
    ("SELECT timezone($tz, d.day + h.opens) FROM d, h", "TO_UTC_TIMESTAMP(MAKE_TIMESTAMP(d.day, h.opens), :tz)"),
    ("SELECT s.generate_series FROM generate_series($a, $b, INTERVAL 1 DAY) s",
     "FROM (SELECT EXPLODE(SEQUENCE(:a, :b, INTERVAL '1' DAY)) AS generate_series) AS s"),
])
def test_fix_ups(duckdb_sql: str, spark_part: str) -> None:
    assert spark_part in to_spark(duckdb_sql)


def test_values_as_literals_where_spark_takes_no_marker() -> None:
    from datetime import UTC, date, datetime, time, timedelta, timezone

    from carepulse.warehouse.engines.spark_literals import with_literals

    berlin = timezone(timedelta(hours=1))
    sql = with_literals("SELECT $at, $day, $opens, $name, $inf, $ids FROM t WHERE x IN (SELECT $name)",
                        {"at": datetime(2017, 12, 2, 19, 6, 3, 500, tzinfo=berlin), "day": date(2017, 1, 2),
                         "opens": time(8), "name": "o'brien", "inf": float("-inf"), "ids": (1, 2)})
    assert sql == ("SELECT CAST('2017-12-02 18:06:03.000500' AS TIMESTAMP) AS at, CAST('2017-01-02' AS DATE) AS day, "
                   "CAST('08:00:00' AS TIME) AS opens, 'o\\'brien' AS name, CAST('-Infinity' AS DOUBLE) AS inf, "
                   "ARRAY(1, 2) AS ids FROM t WHERE x IN (SELECT 'o\\'brien' AS name)")
    assert with_literals("SELECT * FROM t LIMIT ?", [5]) == "SELECT * FROM t LIMIT 5"
    assert datetime(2017, 1, 1, tzinfo=UTC)  # moments go in as UTC: the Spark session's zone


def test_schema_names_every_moment_column_at() -> None:
    """The translation takes a ``*_at`` column for a TIMESTAMPTZ (spark_sql._is_instant): hold the schema to it."""
    schema = (Path(__file__).resolve().parents[2] / "carepulse" / "warehouse" / "schema.sql").read_text()
    columns = re.findall(r"^\s+([a-z_]+)\s+([A-Z]+)", schema, flags=re.M)
    assert columns
    for name, kind in columns:
        assert (kind == "TIMESTAMPTZ") == name.endswith("_at"), name


class Recording:
    """A warehouse reader whose cursors note every statement they run."""

    def __init__(self, db: Path, seen: dict[str, Any]) -> None:
        self.reader, self.seen = Warehouse(db).reader(), seen

    def connection(self) -> Any:
        return _Cursor(self.reader.connection(), self.seen)


class _Cursor:
    def __init__(self, con: Any, seen: dict[str, Any]) -> None:
        self.con, self.seen = con, seen

    def execute(self, sql: str, params: Any = None) -> Any:
        self.seen[sql] = params
        return self.con.execute(sql, params) if params is not None else self.con.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import SHARED_SAMPLE

    db = tmp_path_factory.mktemp("portability") / "sample.duckdb"
    assert main(["ingest", "twcs", str(SHARED_SAMPLE), "--db", str(db)]) == 0
    return db


def test_every_default_statement_translates(sample_db: Path) -> None:
    seen: dict[str, Any] = {}
    settings = load_settings(None, db=sample_db)
    for by in (None, *BREAKDOWNS):
        engine.headline(None, by, db=Recording(sample_db, seen), settings=settings)
    assert len(seen) > 30
    for sql in seen:
        assert to_spark(sql)


def test_every_metric_translates_business_hours_too(sample_db: Path) -> None:
    settings = load_settings(None, db=sample_db)
    asof = 0
    for metric in registry.list_metrics():
        seen: dict[str, Any] = {}
        engine.headline([metric.name], "account", db=Recording(sample_db, seen), settings=settings)
        for sql in seen:
            asof += "ASOF" in sql
            assert "ASOF" not in to_spark(sql), metric.name
    assert asof >= 4  # the business-hours metrics: their ASOF joins became range joins
