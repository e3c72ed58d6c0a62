"""The Kaplan-Meier quantile of the headline, per group and in total, from one fetch of the relation.

:func:`metrics.sql.km_sql` states the estimator as one SQL statement (``--explain`` shows it), but
DuckDB runs it as two nested partitioned window sorts over every distinct (group, time): about
0.9 s on 770 k threads on a 2-core machine, most of ``carepulse metrics``' budget. Here DuckDB only
scans the relation, and numpy does the rest with one sort (about 0.25 s on the same data):

1. from DuckDB, one row per thread (the group's hash, the time, whether it is an event) and the few
   group names beside it (:func:`thread_sql`, :func:`names_sql`); from an engine across a network
   (Spark), the observations and events per group and time and the names in one statement
   (:func:`data_sql`); either way numpy arrays, and the group hashes become small codes by a binary
   search among the names' hashes;
2. one ``argsort`` by time serves the total; a stable radix sort of the group codes on top of it
   orders by (group, time) for the groups;
3. per group, linear passes: distinct times, events ``d`` and observations ``c`` per time, the
   number at risk ``n`` (observations at or after the time), ``S(t) = prod(1 - d/n)``,
   Greenwood's ``sum d / (n (n - d))``, and the same quantile and log-log limits as ``km_sql``.

The result is exactly ``km_sql``'s (the tests compare both on random data with ties and on the
golden fixtures): the quantile and the limits are event times taken from the data, not arithmetic.
Should two group names share a 64-bit hash, :func:`km_rows` returns None and the engine falls back
to ``km_sql``.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import duckdb

from carepulse.metrics.registry import Metric
from carepulse.metrics.sources import TOTAL
from carepulse.metrics.sql import HALF_TOLERANCE, Z95, Relation, bound
from carepulse.metrics.sqltree import Statement

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Row = tuple[str, float | None, float | None, float | None, int, int]


def data_sql(rel: Relation, metric: Metric) -> Statement:
    """Per group and time: the observations ``c`` and the events ``d`` there, and each group's name, for an
    engine that hands its result over a network (Spark).

    Counts per (group, time) are exact and additive (the total's come from the groups' by adding them), so
    the engine aggregates and the driver receives one row per distinct time and group, not one per thread:
    on Spark that is what keeps the driver small. Grouped, the rows carry the group's 64-bit hash ``h`` and
    the aggregate is read twice: its rows (``k`` = 0), then one row per group with the group's name
    (``k`` = 1). Asking for the names in a statement of their own scanned and filtered the relation a second
    time (the weekly Kaplan-Meier of the busiest account at 10 M tweets: 105-120 ms in two statements,
    63-69 ms in one).
    """
    metric = bound(metric)
    assert metric.column and metric.event
    event = f"CASE WHEN coalesce({metric.event}, false) THEN 1 ELSE 0 END"
    counted = f"count(*) AS c, CAST(sum({event}) AS BIGINT) AS d"
    time = f"CAST({metric.column} AS DOUBLE)"
    observed = f"FROM b WHERE {metric.column} IS NOT NULL"
    if not rel.grouped:
        return rel.statement(f"\nSELECT 0 AS h, {time} AS t, {counted}\n{observed}\nGROUP BY {time}")
    return rel.statement(f""",
x AS (SELECT g, {time} AS t, {counted}
      {observed}
      GROUP BY g, {time})
SELECT 0 AS k, hash(g) AS h, t, c, d, NULL AS name FROM x
UNION ALL
SELECT 1, hash(g), NULL, NULL, NULL, {rel.key} FROM x GROUP BY g""")


def thread_sql(rel: Relation, metric: Metric) -> Statement:
    """One row per observation: the group's hash ``h``, the time ``t`` and whether it is an event ``d``;
    for DuckDB, which hands its result to numpy in the same process.

    Here aggregating by (group, time) first costs more than it saves: a hash aggregate over about two
    thirds as many distinct (group, time) pairs as threads, and a result with NULLs (numpy's masked arrays)
    and a string column of Python objects. The plain scan gives three columns without NULLs (3 M tweets,
    770 k threads, by account: 45-52 ms with :func:`names_sql`, against 105-155 ms for :func:`data_sql`'s
    fetch). Every value is counted the same either way: one observation per row (``c`` = 1).
    """
    metric = bound(metric)
    assert metric.column and metric.event
    group = "hash(g)" if rel.grouped else "CAST(0 AS UBIGINT)"
    return rel.statement(f"""
SELECT {group} AS h, CAST({metric.column} AS DOUBLE) AS t,
       CAST(coalesce({metric.event}, false) AS TINYINT) AS d
FROM b WHERE {metric.column} IS NOT NULL""")


def names_sql(rel: Relation) -> Statement:
    """Each group's hash and name (a few rows), beside :func:`thread_sql`."""
    return rel.statement(f"\nSELECT hash(g) AS h, {rel.key} AS name FROM b GROUP BY g")


def km_rows(con: duckdb.DuckDBPyConnection, rel: Relation, metric: Metric) -> list[Row] | None:
    """Rows like ``km_sql``'s: (group, quantile, CI low, CI high, n, events), groups then total.

    None when two group names collide on their hash (the caller then runs ``km_sql``).
    """
    assert metric.quantile is not None
    import numpy as np

    if isinstance(con, duckdb.DuckDBPyConnection):  # in process: one row per thread (see thread_sql)
        data = con.execute(*thread_sql(rel, metric)).fetchnumpy()
        hashes = np.asarray(data["h"])
        rows_: Any = slice(None)  # every row is an observation
        named = con.execute(*names_sql(rel)).fetchall() if rel.grouped else []
        name_hashes = np.asarray([h for h, _ in named], dtype=np.uint64)
        names = [str(name) for _, name in named]
        c = np.ones(len(hashes), dtype=np.int64)
    else:  # across a network: one row per group and time (see data_sql)
        data = con.execute(*data_sql(rel, metric)).fetchnumpy()
        kind = np.asarray(data["k"]) if rel.grouped else np.zeros(len(data["t"]), dtype=np.int64)
        named_at = np.flatnonzero(kind == 1)
        hashes = np.asarray(data["h"])
        rows_ = np.flatnonzero(kind == 0)
        name_hashes = hashes[named_at]
        names = [str(data["name"][i]) for i in named_at]  # one per group: a few
        c = np.asarray(data["c"])[rows_].astype(np.int64)

    labels: list[str] = []
    if rel.grouped:
        if len(set(name_hashes.tolist())) != len(name_hashes):  # a few; np.unique would import numpy.ma
            return None
        labels = sorted(set(names))  # two keys may share a name, as in km_sql
        position = {name: i for i, name in enumerate(labels)}
        by_hash = np.argsort(name_hashes)
        code_of = np.asarray([position[name] for name in names], dtype=np.int64)[by_hash]
        group = code_of[np.searchsorted(name_hashes[by_hash], hashes[rows_])]
    t = np.asarray(data["t"], dtype=np.float64)[rows_]
    d = np.asarray(data["d"])[rows_].astype(np.int64)

    if len(t) == 0:
        return []
    level = 1.0 - metric.quantile
    by_time = np.argsort(t)
    rows: list[Row] = []
    if rel.grouped:
        group = group.astype(np.int16 if len(labels) < 2**15 else np.int64)
        order = by_time[np.argsort(group[by_time], kind="stable")]  # by (group, time): radix sort, stable
        sorted_group = group[order]
        bounds = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1], True])
        t_g, c_g, d_g = t[order], c[order], d[order]
        for start, end in itertools.pairwise(bounds):
            rows.append((labels[int(sorted_group[start])],
                         *_km(t_g[start:end], c_g[start:end], d_g[start:end], level)))
    rows.append((TOTAL, *_km(t[by_time], c[by_time], d[by_time], level)))
    return rows


def _km(t: npt.NDArray[np.float64], counts: npt.NDArray[np.int64], deaths: npt.NDArray[np.int64],
        level: float) -> tuple[float | None, float | None, float | None, int, int]:
    """Quantile, log-log CI limits, n and events of one sample sorted by time (``km_sql``'s rules), given
    as observations and events per time (a time may repeat: the total adds the groups' rows)."""
    import numpy as np

    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    c = np.add.reduceat(counts, starts)
    d = np.add.reduceat(deaths, starts)
    total = int(c.sum())
    n = total - np.cumsum(c) + c  # at risk: observations at or after this time
    events = int(d.sum())
    has_event = d > 0
    if not has_event.any():
        return None, None, None, total, events
    te, de, ne = t[starts][has_event], d[has_event], n[has_event].astype(np.float64)
    live = de < ne
    ended = np.maximum.accumulate(~live)  # once every one at risk has the event, S stays 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.cumsum(np.where(live, np.log(1.0 - de / ne), 0.0))
        greenwood = np.cumsum(np.where(live, de / (ne * (ne - de)), 0.0))
        s = np.where(ended, 0.0, np.exp(log_s))
        z = np.where(~ended & (greenwood > 0),
                     np.abs((np.log(-log_s) - np.log(-np.log(level))) * (-log_s) / np.sqrt(greenwood)), np.nan)
    below = np.flatnonzero(s < level - HALF_TOLERANCE)
    quantile = float(te[below[0]]) if len(below) else None
    inside = np.flatnonzero(z <= Z95)
    if not len(inside):
        return quantile, None, None, total, events
    last = int(inside[-1])
    high = float("inf") if last == len(te) - 1 else float(te[last + 1])
    return quantile, float(te[inside[0]]), high, total, events


def rows_as_dicts(rows: list[Row]) -> list[dict[str, Any]]:
    return [dict(zip(("g", "q", "lo", "hi", "n", "events"), r, strict=True)) for r in rows]
