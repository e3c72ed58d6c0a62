"""Where metric statements run: the DuckDB warehouse, DuckDB over a Parquet lake, or Spark over the lake.

The metrics code runs ``ctx.con.execute(sql, params)`` and reads the result with ``fetchall``,
``fetchone``, ``df`` or ``fetchnumpy``; an engine is anything that hands out such connections through
``connection()`` (as :class:`carepulse.warehouse.store.Reader` does). The statements are DuckDB SQL;
the Spark engine translates each (:mod:`.spark_sql`) after the portability check (:mod:`.portability`).
Nothing here imports pyspark until a Spark engine is opened (:mod:`.spark`).
"""

from carepulse.warehouse.engines.portability import PortabilityError, check

__all__ = ["PortabilityError", "check"]
