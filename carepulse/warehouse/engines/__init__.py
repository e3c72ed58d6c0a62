"""Where metric statements run: the DuckDB warehouse, DuckDB over a Parquet lake, or Spark over the lake.

The metrics code runs ``ctx.con.execute(sql, params)`` and reads the result with ``fetchall``,
``fetchone``, ``df`` or ``fetchnumpy`` (:mod:`.base` names that seam); an engine is anything that hands
out such connections through ``connection()``, as :class:`carepulse.warehouse.store.Reader` does. The
statements are DuckDB SQL; the Spark engine translates each (:mod:`.spark_sql`) and refuses what would
change meaning silently (:mod:`.portability`). Nothing here imports pyspark until a Spark engine starts
its session (:mod:`.spark`).
"""

from __future__ import annotations

from pathlib import Path

from carepulse.core.errors import ConfigError
from carepulse.warehouse.engines.base import Engine
from carepulse.warehouse.engines.portability import PortabilityError, check

ENGINES = ("duckdb", "spark")

__all__ = ["ENGINES", "Engine", "PortabilityError", "check", "open_lake"]


def open_lake(path: Path | str, engine: str) -> Engine:
    """An engine reading the lake at ``path``: ``duckdb`` (in memory, no JVM) or ``spark``."""
    if engine == "duckdb":
        from carepulse.warehouse.engines.duckdb_lake import DuckDBLake

        return DuckDBLake(path)
    if engine == "spark":
        from carepulse.warehouse.engines.spark import SparkLake

        return SparkLake(path)
    raise ConfigError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
