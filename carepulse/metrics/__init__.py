"""Metrics: the registry of metric definitions, the query engine over the warehouse, the statistics.

One home per definition:

* the SQL sources and their named measures (answered, sla_met, sla_decided, exposure, thanked, ...):
  :mod:`carepulse.metrics.sources`; metric expressions name measures as ``@name``, and the drill-down
  views (:mod:`carepulse.metrics.views`), the text proxies and the cost ledger select the same measure SQL;
* the metrics: :mod:`carepulse.metrics.registry`; each Python metric is computed by the one function
  marked ``@computes(<names>)`` (:mod:`~carepulse.metrics.pilot_figures`, :mod:`~carepulse.metrics.proxies`,
  :mod:`~carepulse.metrics.comparisons`), which the engine imports;
* each unit's formatting (value -> text, German or English): :mod:`carepulse.metrics.units`, used by the
  CLI and the dashboard;
* ``docs/metrics.md``: generated from the registry (:mod:`carepulse.metrics.docs`), checked by a test.

Headline numbers come from :mod:`carepulse.metrics.engine`; the drill-down lists from
:mod:`carepulse.metrics.views`, built from the same relations and measures. Pure functions returning
plain values or tidy pandas DataFrames.
"""
