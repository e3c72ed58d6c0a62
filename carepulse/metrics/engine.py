"""The one metrics API: the CLI, the dashboard, exports and tests all call these functions.

* :func:`compute` -> :class:`Result` (plain Python: total and per-group cells with CI and n);
* :func:`query` -> a tidy pandas DataFrame, one row per group, one column per metric;
* :func:`headline` -> the JSON-ready dict ``carepulse metrics --format json`` prints;
* :func:`explain` -> a metric's definition and the SQL that computes it;
* :func:`list_metrics`. The drill-down views (threads, the queue, curves) are :mod:`carepulse.metrics.views`,
  which builds on :func:`query`; they are not re-exported here, so the two modules import one way.

Set work happens in DuckDB; per source one statement computes every requested metric for every group and
the total (``(groups) UNION ALL (total)``, see :func:`carepulse.metrics.sql.aggregate_sql`). Python only
touches aggregates, except for the text proxies, whose scoring is Python by nature (and not part of the
default set).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from carepulse.core.config import Settings
from carepulse.core.errors import DataError
from carepulse.core.text import Text
from carepulse.metrics import comparisons, economics, pilot_figures, proxies
from carepulse.metrics.cells import Cell, MetricValues, Value
from carepulse.metrics.context import LATEST_TWEET_SQL, Context, Database, Filters, cursor, open_context
from carepulse.metrics.registry import (
    SQL_KINDS,
    Computation,
    Metric,
    check_computations,
    computation,
    default_metrics,
    list_metrics,
    resolve,
)
from carepulse.metrics.sources import TOTAL, TWEETS_BY_THREAD, Source
from carepulse.metrics.sql import Z95, aggregate_sql, bound, km_sql, plan_columns, relation
from carepulse.metrics.sqltree import display

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Cell", "Filters", "MetricValues", "Result", "Value", "agent_table", "compute", "explain", "headline",
           "list_metrics", "query"]

# The Python metrics' functions register themselves (``@computes``) when their modules are imported:
# here, statically, and checked once that every Python metric of the registry has its function.
COMPUTING_MODULES = (pilot_figures, proxies, comparisons)
check_computations()
# One statement per core at most: DuckDB already spreads each statement over the cores, and more
# statements than cores at once only contend (on 2 cores, 4 at once cost 5 % of `metrics --by account`).
MAX_WORKERS = max(1, min(4, os.cpu_count() or 1))
WEEKDAY_ORDER = {d: i for i, d in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))}
MISSING_KEYS = ("(unassigned)", "(none)")


@dataclass
class Result:
    as_of: datetime
    filters: Filters
    by: str | None
    metrics: list[Metric]
    total: dict[str, Cell]
    groups: dict[str, dict[str, Cell]]
    assumptions: dict[str, Any] = field(default_factory=dict)

    def verdicts(self) -> list[str]:
        """The sentences of statistics and of withheld numbers, in registry order (each a :class:`Text`: the
        metric's label, a message of its own, and its note)."""
        return [Text("{label}: {note}", label=Text(m.label), note=c.note) for m in self.metrics
                if (c := self.total[m.name]).note]


def compute(metrics: Sequence[str] | None = None, by: str | None = None, filters: Filters | None = None, *,
            db: Database, settings: Settings, as_of: datetime | None = None, ci: bool = False) -> Result:
    """Every requested metric for the whole selection and for each group of ``by``.

    One task per source statement (and per Python computation) runs on its own cursor; the tasks
    run concurrently, since each waits mostly on DuckDB, which releases the GIL.
    """
    chosen = resolve(metrics or default_metrics())
    ctx = open_context(db, settings, filters, by, as_of, ci)
    tasks: list[Callable[[Context], dict[str, MetricValues]]] = []
    for source_name in dict.fromkeys(m.source for m in chosen if m.kind in SQL_KINDS):
        ours = [m for m in chosen if m.source == source_name]
        plain = [m for m in ours if m.kind != "survival"]
        if plain:
            tasks.append(partial(_plain_metrics, source_name=source_name, chosen=plain))
        tasks += [partial(_survival_metric, source_name=source_name, metric=m) for m in ours
                  if m.kind == "survival"]
    by_computation: dict[Computation, list[Metric]] = {}
    for m in chosen:
        if m.kind not in SQL_KINDS:
            by_computation.setdefault(computation(m.name), []).append(m)
    for comp, produced in by_computation.items():
        tasks.append(partial(_python_metrics, comp=comp, chosen=produced))
    contexts = [replace(ctx, con=cursor(db)) for _ in tasks]
    values: dict[str, MetricValues] = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(tasks)))) as pool:
            for part in pool.map(lambda task, task_ctx: task(task_ctx), tasks, contexts):
                values.update(part)
    finally:
        for task_ctx in (ctx, *contexts):
            task_ctx.con.close()
    assumptions = economics.assumptions(settings) if any(m.source == "costs" for m in chosen) else {}
    for m in chosen:
        _withhold_small(m, values[m.name], settings.min_sample)
    return _assemble(ctx, chosen, values, assumptions)


def _python_metrics(ctx: Context, comp: Computation, chosen: list[Metric]) -> dict[str, MetricValues]:
    """The metrics one ``@computes`` function produces, asked of it in one call."""
    return comp.function(ctx, chosen)


def _has_rows(ctx: Context, table: str) -> bool:
    return ctx.con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone() == (True,)


def _plain_metrics(ctx: Context, source_name: str, chosen: list[Metric]) -> dict[str, MetricValues]:
    """Counts, sums, ratios, means and percentiles of one source: one statement for all groups and the total."""
    if source_name == "cases" and not _has_rows(ctx, "crm_cases"):
        return {m.name: MetricValues(Cell(0) if m.kind == "count" else Cell(n=0)) for m in chosen}
    lookup = {m.name: m for m in list_metrics()}
    grouped_by = ctx.by if ctx.by and any(m.allows(ctx.by) for m in chosen) else None
    joins = [j for m in chosen for j in m.joins]
    rel = relation(ctx, source_name, joins, by=grouped_by, source=_equivalent_source(ctx, source_name, grouped_by))
    total = (relation(ctx, source_name, joins, by=None, source=_equivalent_source(ctx, source_name, None))
             if grouped_by else None)
    columns, percentile_of = plan_columns(chosen, ci=ctx.ci, lookup=lookup)
    cur = ctx.con.execute(*aggregate_sql(rel, columns, total))
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for row in rows:  # percentile lists -> one value per metric
        for name, (alias, index) in percentile_of.items():
            quantiles = row[alias]
            row[name] = quantiles[index] if quantiles is not None else None
            row[f"{name}__n"] = row[f"{alias}__n"]
            limits = row.get(f"{alias}__ci")  # [lo, hi] per quantile of the list, in the same order
            row[f"{name}__lo"], row[f"{name}__hi"] = (
                (limits[2 * index], limits[2 * index + 1]) if limits is not None else (None, None))
    return {m.name: _split(m, rows, ctx, grouped_by) for m in chosen}


def _survival_metric(ctx: Context, source_name: str, metric: Metric) -> dict[str, MetricValues]:
    """Kaplan-Meier quantile: DuckDB scans, numpy runs the estimator (:mod:`carepulse.metrics.survival`);
    ``km_sql`` gives the same rows in pure SQL and serves when group hashes collide."""
    from carepulse.metrics import survival

    by = ctx.by if metric.allows(ctx.by) else None
    rel = relation(ctx, source_name, metric.joins, by=by)
    fast = survival.km_rows(ctx.con, rel, bound(metric))
    if fast is not None:
        rows = survival.rows_as_dicts(fast)
    else:
        cur = ctx.con.execute(*km_sql(rel, metric))
        rows = [dict(zip(("g", "q", "lo", "hi", "n", "events"), r, strict=True)) for r in cur.fetchall()]
    return {metric.name: _split(metric, rows, ctx, by)}


def _equivalent_source(ctx: Context, source_name: str, by: str | None) -> Source | None:
    """A cheaper relation giving the same numbers, where one exists for this request.

    Tweet counts by account, team or category need each customer tweet's thread; counting them
    per thread instead is equal when no date filter or earlier as-of cuts through a thread.
    """
    if source_name != "tweets" or ctx.filters.date_from or ctx.filters.date_to:
        return None
    needs_thread = by in ("account", "team", "category") or any(
        k in ("account", "team", "category") for k in ctx.filters.dimension_values())
    if not needs_thread:
        return None
    row = ctx.con.execute(f"SELECT {LATEST_TWEET_SQL}").fetchone()
    latest = row[0] if row else None
    return TWEETS_BY_THREAD if latest is None or latest <= ctx.as_of else None


def _split(m: Metric, rows: list[dict[str, Any]], ctx: Context, grouped_by: str | None) -> MetricValues:
    result = MetricValues()
    for row in rows:
        cell = _cell(m, row, ctx.ci)
        if row["g"] == TOTAL:
            result.total = cell
        elif m.allows(grouped_by):
            result.groups[row["g"]] = cell
    if not rows and m.kind == "count":
        result.total = Cell(0)
    return result


def _cell(m: Metric, row: dict[str, Any], ci: bool) -> Cell:
    name = m.name
    if m.kind == "count":
        return Cell(int(row[name] or 0))
    if m.kind == "sum":
        return Cell(_float(row[name]))
    if m.kind == "ratio":
        num, den = int(row[f"{name}__num"] or 0), int(row[f"{name}__den"] or 0)
        cell = Cell(num / den if den else None, n=den)
        if ci and m.ci == "wilson" and den:
            cell.ci_low, cell.ci_high = _wilson(num, den)
        return cell
    if m.kind == "mean":
        n = int(row[f"{name}__n"] or 0)
        cell = Cell(_float(row[name]), n=n)
        if ci and m.ci == "t" and n >= 2:
            from carepulse.metrics.stats import t_interval

            cell.ci_low, cell.ci_high = t_interval(_float(row[name]), _float(row.get(f"{name}__sd")), n)
        return cell
    if m.kind == "percentile":
        cell = Cell(_float(row[name]), n=int(row[f"{name}__n"] or 0))
        if ci and m.ci == "order":
            cell.ci_low, cell.ci_high = _float(row.get(f"{name}__lo")), _float(row.get(f"{name}__hi"))
        return cell
    if m.kind == "survival":
        cell = Cell(_float(row["q"]), n=int(row["n"] or 0))
        if ci:
            cell.ci_low, cell.ci_high = _float(row["lo"]), _float(row["hi"])
        if cell.value is None and row["events"] is not None and row["n"]:
            cell.note = (Text("not reached: fewer than half of {n} threads answered by the as-of time",
                              n=f"{row['n']:,}") if row["events"] else Text("no thread answered yet"))
        return cell
    raise ValueError(f"{name}: kind {m.kind} is not computed in SQL")


def _wilson(count: int, nobs: int) -> tuple[float, float]:
    """95% Wilson score interval, closed form: the numbers of :func:`metrics.stats.wilson`
    (statsmodels), which the tests check, without importing statsmodels and scipy (about a
    second) into the plain headline, whose response rate and SLA share now carry intervals."""
    p, z2 = count / nobs, Z95 * Z95
    centre = (p + z2 / (2 * nobs)) / (1 + z2 / nobs)
    half = Z95 * math.sqrt(p * (1 - p) / nobs + z2 / (4 * nobs * nobs)) / (1 + z2 / nobs)
    return max(0.0, centre - half), min(1.0, centre + half)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _withhold_small(m: Metric, values: MetricValues, min_sample: int) -> None:
    """Estimates from fewer than ``min_sample`` observations become 'not enough data'."""
    if not m.needs_min_sample or m.kind == "statistic":
        return
    for cell in (values.total, *values.groups.values()):
        if cell.value is not None and (cell.n or 0) < min_sample:
            cell.value = cell.ci_low = cell.ci_high = None
            cell.note = Text("not enough data ({what} = {n}, minimum {minimum})", what="n", n=f"{cell.n or 0:,}",
                             minimum=min_sample)


def _assemble(ctx: Context, chosen: list[Metric], values: dict[str, MetricValues],
              assumptions: dict[str, Any]) -> Result:
    total = {m.name: values[m.name].total for m in chosen}
    groups: dict[str, dict[str, Cell]] = {}
    if ctx.by is not None:
        keys = {k for m in chosen for k in values[m.name].groups}
        for key in sorted(keys, key=lambda k: _group_order(ctx.by, k)):
            row: dict[str, Cell] = {}
            for m in chosen:
                cell = values[m.name].groups.get(key)
                if cell is None:
                    cell = Cell(0) if m.kind == "count" and m.allows(ctx.by) else Cell()
                row[m.name] = cell
            groups[key] = row
    return Result(ctx.as_of, ctx.filters, ctx.by, chosen, total, groups, assumptions)


def _group_order(by: str | None, key: str) -> tuple[int, Any]:
    if key in MISSING_KEYS:
        return (2, key)
    if by == "weekday":
        return (0, WEEKDAY_ORDER.get(key, 9))
    return (0, (key.lower(), key))


# ---- consumers ---------------------------------------------------------------------------------

def query(metrics: Sequence[str] | None = None, by: str | None = None, filters: Filters | None = None, *,
          db: Database, settings: Settings, as_of: datetime | None = None, ci: bool = False,
          include_total: bool = False) -> pd.DataFrame:
    """A tidy DataFrame: one row per group (column named after ``by``), one column per metric.

    Without ``by`` it has one row. ``ci=True`` adds ``<metric>_ci_low``, ``<metric>_ci_high``
    and ``<metric>_n`` for metrics that have them; ``include_total`` appends a ``(total)`` row.
    """
    import pandas as pd

    result = compute(metrics, by, filters, db=db, settings=settings, as_of=as_of, ci=ci)
    rows = [{**({by: key} if by else {}), **_flat(result, cells, ci)} for key, cells in result.groups.items()]
    if by is None or include_total:
        rows.append({**({by: "(total)"} if by else {}), **_flat(result, result.total, ci)})
    columns = ([by] if by else []) + list(_flat(result, result.total, ci))
    return pd.DataFrame(rows, columns=columns)


def _flat(result: Result, cells: dict[str, Cell], ci: bool) -> dict[str, Value]:
    flat: dict[str, Value] = {}
    for m in result.metrics:
        cell = cells[m.name]
        flat[m.name] = cell.value
        if ci and m.kind != "count":
            if m.ci or m.kind == "statistic":
                flat[f"{m.name}_ci_low"] = cell.ci_low
                flat[f"{m.name}_ci_high"] = cell.ci_high
            if m.kind == "statistic":
                flat[f"{m.name}_p"] = cell.p
            if m.kind not in ("sum", "derived"):
                flat[f"{m.name}_n"] = cell.n
    return flat


def _json_value(value: Value, key: str = "") -> Value:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if key.endswith("_p"):
            return float(f"{value:.4g}")  # a p-value keeps its significant digits: 9.4e-07 is not 1e-06
        return round(value, 6)
    return value


def headline(metrics: Sequence[str] | None = None, by: str | None = None, filters: Filters | None = None, *,
             db: Database, settings: Settings, as_of: datetime | None = None, ci: bool = True) -> dict[str, Any]:
    """``{"as_of", "filters", "total": {metric: value}, "groups": {key: {metric: value}}}`` plus
    ``verdicts`` (sentences) and ``assumptions`` (the cost model, when cost metrics are asked)."""
    result = compute(metrics, by, filters, db=db, settings=settings, as_of=as_of, ci=ci)
    out: dict[str, Any] = {
        "as_of": result.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "filters": result.filters.describe(),
        "by": by,
        "total": {k: _json_value(v, k) for k, v in _flat(result, result.total, ci).items()},
        "groups": {key: {k: _json_value(v, k) for k, v in _flat(result, cells, ci).items()}
                   for key, cells in result.groups.items()},
        "verdicts": result.verdicts(),
    }
    if result.assumptions:
        out["assumptions"] = result.assumptions
    return out


def agent_table(filters: Filters | None = None, *, db: Database, settings: Settings,
                as_of: datetime | None = None) -> pd.DataFrame:
    """Per agent (CRM agent, else the signature ending the first response): volume, speed, SLA."""
    return query(["answered_threads", "brand_tweets", "first_response_median_s", "first_response_p90_s",
                  "sla_met_share"], by="agent", filters=filters, db=db, settings=settings, as_of=as_of)


def explain(metric: str, by: str | None = None, filters: Filters | None = None, *,
            settings: Settings | None = None, db: Database | None = None, as_of: datetime | None = None,
            translate: Callable[[str], str] | None = None) -> str:
    """The metric's definition in words and the SQL the engine runs for it; ``translate``: the engine's own
    dialect for the statement (Spark: translated and portability-checked, as it would run)."""
    def sql(text: str) -> str:
        return text if translate is None else translate(text)

    m = resolve([metric])[0]
    settings = settings or Settings()
    if db is None:
        import duckdb

        from carepulse.warehouse.store import apply_schema

        db = duckdb.connect(":memory:")
        apply_schema(db)
        as_of = as_of or datetime.now(UTC)
    ctx = open_context(db, settings, filters, by, as_of, ci=True)
    ctx.memo = False  # SQL to read and run elsewhere names only the warehouse's tables
    head = (f"{m.name} ({m.label}): {m.description}\n"
            f"unit: {m.unit}; kind: {m.kind}; source: {m.source}; "
            f"breakdowns: {', '.join(sorted(m.breakdowns)) or 'none (whole selection only)'}"
            + (f"; 95% interval: {m.ci}" if m.ci else "")
            + (f"; withheld below n = {settings.min_sample}" if m.needs_min_sample else "") + "\n")
    try:
        if m.kind not in SQL_KINDS:
            comp = computation(m.name)
            return (head + f"computed in Python by {comp.name}:\n" + comp.explain()
                    + _evidence(m, by, filters, db, settings, as_of))
        grouped_by = by if m.allows(by) else None
        rel = relation(ctx, m.source, m.joins, by=grouped_by)
        if m.kind == "survival":
            return head + ("-- the engine fetches each observation's group, time and event (on Spark: their counts "
                           "per group and time) and runs this same estimator in numpy (metrics/survival.py); this "
                           "statement gives the same rows:\n"
                           ) + sql(display(km_sql(rel, m)))
        lookup = {x.name: x for x in list_metrics()}
        total = relation(ctx, m.source, m.joins, by=None) if grouped_by else None
        return head + sql(display(aggregate_sql(rel, plan_columns([m], ci=True, lookup=lookup)[0], total)))
    finally:
        ctx.con.close()


def _evidence(m: Metric, by: str | None, filters: Filters | None, db: Database, settings: Settings,
              as_of: datetime | None) -> str:
    """A statistic's value on this warehouse with the p-values its verdict rests on (the detail view)."""
    if m.kind != "statistic":
        return ""
    # computed with the family it is shown with (metrics.comparisons.TESTED), so the adjusted p is the page's
    family = [n for n in computation(m.name).family if n != m.name]
    cell = compute([m.name, *family], by, filters, db=db, settings=settings, as_of=as_of, ci=True).total[m.name]
    lines = [f"\non this warehouse: {cell.note or cell.value}"]
    if cell.p is not None:
        lines.append(f"p = {cell.p:.4g}")
    for key, value in (cell.detail or {}).items():
        if isinstance(value, bool | int | str):
            lines.append(f"{key} = {value}")
        elif isinstance(value, float):
            lines.append(f"{key} = {value:.4g}")
    return "\n".join(lines) + "\n"


def require_data(db: Database) -> None:
    """A clear error when the warehouse holds neither tweets nor CRM cases."""
    con = cursor(db)
    try:
        row = con.execute("SELECT (SELECT count(*) FROM tweets) + (SELECT count(*) FROM crm_cases)").fetchone()
    finally:
        con.close()
    if not row or not row[0]:
        raise DataError("the warehouse is empty: load data first (carepulse ingest ..., or carepulse demo)")
