"""The larger rewrites of :mod:`carepulse.warehouse.engines.spark_sql`: joins and table functions DuckDB has
and Spark lacks, written as Spark SQL with the same rows. Kept apart so the per-function fix-ups stay short.

* ``ASOF [LEFT] JOIN r ON l.t >= r.t [AND l.k = r.k ...]`` (the business-hours calendar): each right row
  gets the next ``r.t`` of its partition by window (``lead``), and the join becomes an ordinary range
  join on ``[r.t, next)``: the one right row with the greatest ``r.t`` at or before ``l.t``, as DuckDB's
  ASOF picks it. ``>`` makes the range ``(r.t, next]``. Other forms are left for the check to refuse.
* ``generate_series(a, b[, step]) AS s`` / ``range(a, b) AS d(x)``: integers become Spark's ``range``;
  dates and moments ``explode(sequence(a, b, step))`` (``generate_series`` includes its end in both).
* ``timezone(tz, day + time)``: DuckDB reads the wall-clock DATE + TIME in ``tz``; Spark gets
  ``to_utc_timestamp(make_timestamp(day, time), tz)`` (its TIME type is on: the engine enables it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

Fix = Callable[["exp.Expr"], "exp.Expr"]
NEXT = "carepulse_asof_next"


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    return exp.Anonymous(this=name, expressions=list(args))


def asof_join(join: exp.Join, sub: Fix) -> exp.Expr:
    """An ASOF join as a range join over the right side with each row's successor (see the module's doc)."""
    from sqlglot import exp

    right = join.this
    alias = right.alias_or_name
    condition = join.args.get("on")
    terms = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
    ranges = [t for t in terms if isinstance(t, exp.GTE | exp.GT)]
    equal = [t for t in terms if isinstance(t, exp.EQ)]
    if not isinstance(right, exp.Table) or len(ranges) != 1 or len(ranges) + len(equal) != len(terms):
        return join
    moment, start = ranges[0].this, ranges[0].expression
    if not (isinstance(start, exp.Column) and start.table == alias):
        return join

    def own(column: exp.Expr) -> exp.Expr | None:
        return exp.column(column.name) if isinstance(column, exp.Column) and column.table == alias else None

    keys = [k for t in equal for k in (own(t.this), own(t.expression)) if k is not None]
    window = exp.Window(this=_fn("lead", exp.column(start.name)), partition_by=keys,
                        order=exp.Order(expressions=[exp.Ordered(this=exp.column(start.name))]))
    source = exp.Table(this=right.this.copy(), db=right.args.get("db"))
    spread = exp.select(exp.Star(), exp.alias_(window, NEXT)).from_(source)
    nxt = exp.column(NEXT, table=alias)
    at_or_after = ranges[0].__class__(this=sub(moment.copy()), expression=start.copy())
    before = (exp.LT if isinstance(ranges[0], exp.GTE) else exp.LTE)(this=sub(moment.copy()), expression=nxt)
    upper = exp.Paren(this=exp.or_(exp.Is(this=nxt.copy(), expression=exp.Null()), before))
    on = exp.and_(*(sub(t.copy()) for t in equal), at_or_after, upper)
    return exp.Join(this=exp.Subquery(this=spread, alias=exp.TableAlias(this=exp.to_identifier(alias))),
                    side=join.args.get("side"), on=on)


def series_table(table: exp.Table, sub: Fix) -> exp.Expr:
    """``generate_series``/``range`` in FROM: Spark's ``range`` for integer literals, else a sequence."""
    from sqlglot import exp

    series = table.this
    start, end, step = series.args.get("start"), series.args.get("end"), series.args.get("step")
    alias = table.args.get("alias")
    name = alias.this.copy() if alias is not None else exp.to_identifier("generate_series")
    if all(isinstance(v, exp.Literal) and v.is_int for v in (start, end, *([step] if step else []))):
        stop = int(end.name) + (0 if series.args.get("is_end_exclusive") else 1)
        args = [start.copy(), exp.Literal.number(stop), *([step.copy()] if step else [])]
        if alias is None or not alias.columns:
            alias = exp.TableAlias(this=name, columns=[exp.to_identifier("range")])
        return exp.Table(this=_fn("range", *args), alias=alias.copy())
    if series.args.get("is_end_exclusive") or step is None or not isinstance(step, exp.Interval):
        return table  # range() over moments excludes its end: not translated, Spark fails on it loudly
    column = alias.columns[0].copy() if alias is not None and alias.columns else exp.to_identifier("generate_series")
    values = _fn("explode", _fn("sequence", sub(start.copy()), sub(end.copy()), step.copy()))
    return exp.Subquery(this=exp.select(exp.alias_(values, column)), alias=exp.TableAlias(this=name))


def wall_clock_to_utc(value: exp.Expr, zone: exp.Expr, sub: Fix) -> exp.Expr | None:
    """``timezone(tz, day + time)`` (a TIMESTAMP from a DATE and a TIME) as the UTC moment, or None."""
    from sqlglot import exp

    if not isinstance(value, exp.Add) or any(isinstance(v, exp.Interval) for v in (value.this, value.expression)):
        return None
    stamp = _fn("make_timestamp", sub(value.this.copy()), sub(value.expression.copy()))
    return _fn("to_utc_timestamp", stamp, sub(zone.copy()))
