"""Spark over a lake: the metric statements, translated, run by a SparkSession on the lake's Parquet.

pyspark is an optional extra (``pip install 'carepulse[spark]'``) and is imported only here, only when a
Spark engine is opened: nothing else pays for it, and without it the command says so in one line.

:func:`session` makes the SparkSession, by the environment:

* ``CAREPULSE_SPARK_REMOTE=sc://host:15002``: Spark Connect (the server holds the data's access);
* ``CAREPULSE_SPARK_MASTER=spark://...|yarn|k8s://...``: a cluster; default ``local[2]``, one JVM here
  (UI off, 1 GB driver, ``-XX:TieredStopAtLevel=1 -XX:+UseSerialGC``: a short job is compile-bound, so
  the JIT's last tier and a parallel collector cost more than they save; and a 256 MB code cache, which
  C1 alone fills within a minute of queries otherwise, after which the JVM stops compiling);
* ``CAREPULSE_SPARK_DRIVER_MEMORY`` (default ``1g``);
* under ``spark-submit`` (``carepulse lake job``: its Python driver finds ``PYSPARK_GATEWAY_PORT`` set):
  the launcher's master, memory and ``--conf`` stand; only the session settings below are added.

Always: ANSI mode on (an overflow or a bad cast fails instead of turning into NULL or a wrapped number),
the session time zone UTC (the translation's ``from_utc_timestamp`` relies on it) and the TIME type on
(business hours). Spark's own log goes to ERROR (:data:`LOG_CONFIG`). Nothing is downloaded at run
time: no ``spark.jars.packages``, no Ivy (Iceberg or Delta: docs/scale.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carepulse.core.errors import CarepulseError, ConfigError, first_line
from carepulse.warehouse.engines.base import ArrowResult, Params
from carepulse.warehouse.engines.spark_literals import MARKER_REFUSED, with_literals
from carepulse.warehouse.engines.spark_sql import CATALOG_VIEWS, spark_args, to_spark
from carepulse.warehouse.lake import Lake

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

INSTALL_HINT = "pip install 'carepulse[spark]'"
LOCAL_MASTER = "local[2]"
# ANSI: an overflow or a bad cast fails instead of becoming NULL; UTC: from_utc_timestamp's wall-clock times
# (spark_sql); the TIME type: the business-hours calendar's opening times (Spark 4.1+; off by default).
SESSION_CONF = {"spark.sql.ansi.enabled": "true", "spark.sql.session.timeZone": "UTC",
                "spark.sql.timeType.enabled": "true"}
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    # C1 only fills the JVM's default 48 MB code cache within a minute of queries; the JIT then stops and
    # the rest runs interpreted (a 2-minute test run: 88 s of queries, 61 s with 256 MB)
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=256m",
}
RESULTS_KEPT, RESULT_ROWS_KEPT = 256, 10_000
_LOCK = threading.Lock()
_OWNER: dict[int, object] = {}  # id(session) -> the token of the SparkLake whose views it holds


class EngineError(CarepulseError):
    """The engine could not run a statement (or could not start); the message is the engine's first line."""

    exit_code = 2


@contextlib.contextmanager
def _engine_errors(doing: str) -> Iterator[None]:
    """Spark's failures (analysis, execution, the JVM) as one :class:`EngineError` line."""
    try:
        yield
    except CarepulseError:
        raise
    except Exception as exc:
        raise EngineError(f"Spark could not {doing}: {first_line(exc)}") from exc


def _builder() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError(f"the Spark engine needs pyspark, which is not installed: {INSTALL_HINT}") from exc
    return SparkSession.builder


LOG_CONFIG = """# carepulse: Spark, Hadoop and Parquet log at ERROR only (their start-up warnings are noise on a
# command's stderr). Spark's own loggers are named too: PySpark's shell mode compares their level with
# the root's and announces on stderr when they differ.
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.spark.name = org.apache.spark
logger.spark.level = error
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = error
logger.parquet.name = org.apache.parquet
logger.parquet.level = error
logger.shaded.name = org.sparkproject
logger.shaded.level = error
"""


def _log_config() -> str:
    """A log4j2 file for the local driver (log4j2 reads the format from the name's extension, so it cannot
    travel as package data here): written once to the temp directory, kept while its text is current."""
    path = Path(tempfile.gettempdir()) / "carepulse-spark-log4j2.properties"
    try:
        if not path.exists() or path.read_text(encoding="utf-8") != LOG_CONFIG:
            path.write_text(LOG_CONFIG, encoding="utf-8")
    except OSError:
        return ""
    return str(path)


def session(master: str | None = None, remote: str | None = None, app_name: str = "carepulse") -> SparkSession:
    """A SparkSession for local mode, a cluster master or a Spark Connect server (see the module's doc)."""
    builder = _builder()
    remote = remote or os.environ.get("CAREPULSE_SPARK_REMOTE")
    if remote:
        builder = builder.appName(app_name).remote(remote)
    elif os.environ.get("PYSPARK_GATEWAY_PORT") and master is None:
        pass  # launched by spark-submit: its JVM runs with the name, master and memory it was given
    else:
        builder = builder.appName(app_name)
        if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
            raise ConfigError("the Spark engine needs Java 17 or later: install it (Debian: apt-get install "
                              "openjdk-17-jre-headless) or set JAVA_HOME")
        master = master or os.environ.get("CAREPULSE_SPARK_MASTER") or LOCAL_MASTER
        builder = builder.master(master).config(
            "spark.driver.memory", os.environ.get("CAREPULSE_SPARK_DRIVER_MEMORY", "1g"))
        if master.startswith("local"):
            for key, value in LOCAL_CONF.items():
                builder = builder.config(key, value)
            options = f"{LOCAL_CONF['spark.driver.extraJavaOptions']} -Dlog4j2.configurationFile={_log_config()}"
            builder = builder.config("spark.driver.extraJavaOptions", options)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        raise EngineError(f"cannot start Spark: {first_line(exc)}") from exc
    for key, value in SESSION_CONF.items():  # an existing session (getOrCreate) keeps its own: set them
        spark.conf.set(key, value)
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
        args = spark_args(parameters)
        key = (translated, repr(sorted(args.items()) if isinstance(args, dict) else args))
        table = self.owner.remembered(key)
        if table is None:
            try:
                try:
                    table = self.owner.spark.sql(translated, args=args).toArrow()
                except Exception as exc:
                    if args is None or not any(c in str(exc) for c in MARKER_REFUSED):
                        raise
                    table = self.owner.spark.sql(with_literals(query, args)).toArrow()
            except CarepulseError:
                raise
            except Exception as exc:
                raise EngineError(f"Spark could not run a statement: {first_line(exc)}") from exc
            self.owner.remember(key, table)
        return ArrowResult(table)

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
        self._results: OrderedDict[tuple[str, str], pa.Table] = OrderedDict()
        self._token = object()  # names this engine in _OWNER (an id could be reused once it is gone)

    def remembered(self, key: tuple[str, str]) -> pa.Table | None:
        with _LOCK:
            return self._results.get(key)

    def remember(self, key: tuple[str, str], table: pa.Table) -> None:
        """Keep a small result: a published lake never changes, so the same statement with the same values
        gives the same rows. The metrics ask some questions once per group (is there CRM data, each
        channel's span: 4 statements x 43 accounts); a Spark job costs ~0.1 s where DuckDB takes 1 ms."""
        if table.num_rows > RESULT_ROWS_KEPT:
            return
        with _LOCK:
            self._results[key] = table
            if len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)

    @property
    def spark(self) -> SparkSession:
        with _LOCK:
            if self._spark is None:
                self._spark = session()
            return self._spark

    def label(self) -> str:
        """Where the statements run, for a command's report: ``spark local[2]``, ``spark yarn``, ..."""
        try:
            return f"spark {self.spark.conf.get('spark.master')}"
        except Exception:  # Spark Connect may not expose the master
            return "spark"

    def ensure_views(self) -> None:
        """Register the lake's tables (and DuckDB's catalog functions) as the session's temp views, unless
        this lake's are the ones there: one session may serve several lakes in turn (the tests do)."""
        spark = self.spark
        with _LOCK:
            if _OWNER.get(id(spark)) is self._token:
                return
            tables = list(self.lake.manifest()["tables"])
            for table in tables:
                lake_frame(spark, self.lake, table).createOrReplaceTempView(table)
            spark.sql("SELECT current_database() AS database_name, CAST(NULL AS STRING) AS path") \
                .createOrReplaceTempView(CATALOG_VIEWS["duckdb_databases"])
            spark.createDataFrame([("default", "main", t) for t in tables],
                                  "database_name STRING, schema_name STRING, table_name STRING") \
                .createOrReplaceTempView(CATALOG_VIEWS["duckdb_tables"])
            _OWNER[id(spark)] = self._token

    def connection(self) -> SparkConnection:
        """A connection; the first call starts the session and registers the views (the CLI makes it in a
        thread while the metric modules import, as it attaches the warehouse)."""
        self.ensure_views()
        return SparkConnection(self)

    # LakeWork (base.py): the ingest's steps as checkpointed temp views, so a pass's lineage is one step

    def _frame(self, sql: str) -> DataFrame:
        self.ensure_views()
        with _engine_errors("run a statement"):
            return self.spark.sql(to_spark(sql))

    def attach(self, name: str, folder: Path) -> None:
        self.ensure_views()  # first: registering the lake's views later would replace this one of the same name
        with _engine_errors(f"read {folder}"):
            self.spark.read.parquet(str(folder)).createOrReplaceTempView(name)

    def materialise(self, name: str, sql: str) -> None:
        frame = self._frame(sql)
        with _engine_errors("run a statement"):
            frame.localCheckpoint().createOrReplaceTempView(name)

    def arrow(self, sql: str) -> pa.Table:
        frame = self._frame(sql)
        with _engine_errors("run a statement"):
            return frame.toArrow()

    def write(self, name: str, folder: Path, order: str, partition: str | None) -> None:
        """One file per month (a month's rows in one task), moments as microseconds since the epoch in UTC
        (DuckDB reads them back as TIMESTAMPTZ; Spark's default INT96 is a legacy encoding), zstd."""
        keys = [k.strip() for k in order.split(",")]
        with _engine_errors(f"write {folder}"):
            self.spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
            frame = self.spark.table(name)
            if partition:
                frame.repartition(partition).sortWithinPartitions(partition, *keys).write \
                    .partitionBy(partition).option("compression", "zstd").parquet(str(folder))
            else:
                frame.coalesce(1).sortWithinPartitions(*keys).write.option("compression", "zstd").parquet(str(folder))

    def close(self) -> None:
        """Stop the session if this engine started it (a session passed in stays its owner's)."""
        with _LOCK:
            if self._spark is not None and self._own_session:
                self._spark.stop()
                self._spark = None
