"""Spark over a lake: the metric statements, translated, run by a SparkSession on the lake's Parquet.

pyspark is an optional extra (``pip install 'carepulse[spark]'``) and is imported only here, only when a
Spark engine is opened: nothing else pays for it, and without it the command says so in one line.

:func:`session` makes the SparkSession, by the environment:

* ``CAREPULSE_SPARK_REMOTE=sc://host:15002``: Spark Connect (the server holds the data's access);
* ``CAREPULSE_SPARK_MASTER=spark://...|yarn|k8s://...``: a cluster; default ``local[2]``, one JVM here
  (UI off, 1 GB driver, ``-XX:TieredStopAtLevel=1 -XX:+UseSerialGC``: local mode starts in ~20 s and a
  short job is compile-bound, so the JIT's last tier and a parallel collector cost more than they save);
* ``CAREPULSE_SPARK_DRIVER_MEMORY`` (default ``1g``).

Always: ANSI mode on (an overflow or a bad cast fails instead of turning into NULL or a wrapped number)
and the session time zone UTC (the translation's ``from_utc_timestamp`` relies on it). Nothing is
downloaded at run time: no ``spark.jars.packages``, no Ivy (Iceberg or Delta: docs/scale.md).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carepulse.core.errors import CarepulseError, ConfigError, first_line
from carepulse.warehouse.engines.base import ArrowResult, Params
from carepulse.warehouse.engines.spark_sql import CATALOG_VIEWS, spark_args, to_spark
from carepulse.warehouse.lake import Lake

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

INSTALL_HINT = "pip install 'carepulse[spark]'"
LOCAL_MASTER = "local[2]"
SESSION_CONF = {"spark.sql.ansi.enabled": "true", "spark.sql.session.timeZone": "UTC"}
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}
_LOCK = threading.Lock()
_OWNER: dict[int, int] = {}  # id(session) -> id(the SparkLake whose views it holds)


class EngineError(CarepulseError):
    """The engine could not run a statement (or could not start); the message is the engine's first line."""

    exit_code = 2


def _builder() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError(f"the Spark engine needs pyspark, which is not installed: {INSTALL_HINT}") from exc
    return SparkSession.builder


def session(master: str | None = None, remote: str | None = None, app_name: str = "carepulse") -> SparkSession:
    """A SparkSession for local mode, a cluster master or a Spark Connect server (see the module's doc)."""
    builder = _builder().appName(app_name)
    remote = remote or os.environ.get("CAREPULSE_SPARK_REMOTE")
    if remote:
        builder = builder.remote(remote)
    else:
        if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
            raise ConfigError("the Spark engine needs Java 17 or later: install it (Debian: apt-get install "
                              "openjdk-17-jre-headless) or set JAVA_HOME")
        master = master or os.environ.get("CAREPULSE_SPARK_MASTER") or LOCAL_MASTER
        builder = builder.master(master).config(
            "spark.driver.memory", os.environ.get("CAREPULSE_SPARK_DRIVER_MEMORY", "1g"))
        if master.startswith("local"):
            for key, value in LOCAL_CONF.items():
                builder = builder.config(key, value)
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        raise EngineError(f"cannot start Spark: {first_line(exc)}") from exc
    for key, value in SESSION_CONF.items():  # an existing session (getOrCreate) keeps its own: set them
        spark.conf.set(key, value)
    if not remote:
        spark.sparkContext.setLogLevel("ERROR")  # the one error line is ours; Spark's warnings are noise here
    return spark


def spark_type(duckdb_type: str) -> str:
    """A DuckDB column type as Spark DDL (through SQLGlot, with the same unsigned-type rules)."""
    import sqlglot

    from carepulse.warehouse.engines.spark_sql import fixed

    return fixed(sqlglot.exp.DataType.build(duckdb_type, dialect="duckdb")).sql(dialect="spark")


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def lake_frame(spark: SparkSession, lake: Lake, table: str) -> DataFrame:
    """One lake table with the warehouse's columns and types (no partition column; empty when no files)."""
    columns = [(n, spark_type(t)) for n, t in lake.columns(table)]
    if not lake.files(table):
        return spark.createDataFrame([], ", ".join(f"{_quoted(n)} {t}" for n, t in columns))
    folder = str(lake.path / table)
    frame = spark.read.option("basePath", folder).parquet(folder) if lake.partitioned(table) \
        else spark.read.parquet(folder)
    return frame.selectExpr(*(f"CAST({_quoted(n)} AS {t}) AS {_quoted(n)}" for n, t in columns))


class SparkConnection:
    """``ctx.con`` for Spark: each DuckDB statement translated (:func:`to_spark`), its values as named
    parameters, the rows back through Arrow."""

    def __init__(self, owner: SparkLake) -> None:
        self.owner = owner

    def execute(self, query: str, parameters: Params = None) -> ArrowResult:
        self.owner.ensure_views()
        translated = to_spark(query)
        try:
            frame = self.owner.spark.sql(translated, args=spark_args(parameters))
            return ArrowResult(frame.toArrow())
        except CarepulseError:
            raise
        except Exception as exc:
            raise EngineError(f"Spark could not run a statement: {first_line(exc)}") from exc

    def cursor(self) -> SparkConnection:
        return SparkConnection(self.owner)

    def close(self) -> None:
        """Nothing to release: the session belongs to the engine."""


class SparkLake:
    """An engine over a lake: ``connection()`` as ``warehouse.store.Reader``, statements run on Spark."""

    name = "spark"

    def __init__(self, path: Path | str, spark: SparkSession | None = None) -> None:
        self.lake = Lake(path)
        self.lake.manifest()  # a missing or newer lake fails here, before a JVM starts
        self._spark = spark
        self._own_session = spark is None

    @property
    def spark(self) -> SparkSession:
        with _LOCK:
            if self._spark is None:
                self._spark = session()
            return self._spark

    def ensure_views(self) -> None:
        """Register the lake's tables (and DuckDB's catalog functions) as the session's temp views, unless
        this lake's are the ones there: one session may serve several lakes in turn (the tests do)."""
        spark = self.spark
        with _LOCK:
            if _OWNER.get(id(spark)) == id(self):
                return
            tables = list(self.lake.manifest()["tables"])
            for table in tables:
                lake_frame(spark, self.lake, table).createOrReplaceTempView(table)
            spark.sql("SELECT current_database() AS database_name, CAST(NULL AS STRING) AS path") \
                .createOrReplaceTempView(CATALOG_VIEWS["duckdb_databases"])
            spark.createDataFrame([("default", "main", t) for t in tables],
                                  "database_name STRING, schema_name STRING, table_name STRING") \
                .createOrReplaceTempView(CATALOG_VIEWS["duckdb_tables"])
            _OWNER[id(spark)] = id(self)

    def connection(self) -> SparkConnection:
        """A connection; the first call starts the session and registers the views (the CLI makes it in a
        thread while the metric modules import, as it attaches the warehouse)."""
        self.ensure_views()
        return SparkConnection(self)

    def close(self) -> None:
        """Stop the session if this engine started it (a session passed in stays its owner's)."""
        with _LOCK:
            if self._spark is not None and self._own_session:
                self._spark.stop()
                self._spark = None
