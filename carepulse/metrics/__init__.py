"""Metrics: the registry of metric definitions, the query engine over the warehouse, the statistics.

Every consumer (the CLI, the dashboard, exports, tests) asks :mod:`carepulse.metrics.engine`; nothing else
writes metric SQL. Definitions live once, in :mod:`carepulse.metrics.registry`; ``docs/metrics.md`` explains
each in words. Pure functions returning plain values or tidy pandas DataFrames.
"""
