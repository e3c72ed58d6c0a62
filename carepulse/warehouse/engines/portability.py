"""The portability check: constructs whose DuckDB meaning another engine would change without a word.

The metric SQL is written once, in DuckDB's dialect, and SQLGlot writes it for Spark. Most differences
fail loudly on Spark (an unknown function, a type error) and need no guard. The ones here do not: the
translated statement runs and returns other numbers. :func:`check` walks a statement's syntax tree and
raises :class:`PortabilityError` naming the first such construct and why, so a definition that would
drift is refused before any engine runs it. :mod:`carepulse.warehouse.engines.spark_sql` rewrites the
constructs it can translate exactly (and then checks what is left), so the check only ever sees a trap
that nobody translated.

The traps (from the feasibility study of issue 17, and those found while translating the metrics):

* ``list[i]`` with a computed index: DuckDB lists are 1-based, Spark arrays 0-based (the weekday label
  list); SQLGlot shifts literal indexes only.
* ``isodow(x)``: SQLGlot writes ``DAYOFWEEK(x) % 7 + 1``, which makes Monday 3; ``dayofweek`` is 0-based
  (Sunday = 0) in DuckDB and 1-based in Spark.
* ``len(list)`` / ``length(list)``: DuckDB counts list elements, Spark's ``length`` characters.
* ``unnest(...) WITH ORDINALITY``: becomes Spark's 0-based ``POSEXPLODE``; DuckDB counts from 1.
* ``epoch(ts)``: becomes ``unix_timestamp``, whole seconds; DuckDB keeps the microseconds.
* ``ASOF JOIN``: Spark has none (SQLGlot writes it through unchanged); the translation turns the
  ``l.t >= r.t`` form into a range join, any other form is refused.
* two ``unnest`` in one ``SELECT``: DuckDB zips them, Spark refuses two generators.
* ``list(x ORDER BY x)`` / ``array_agg``: becomes ``collect_list``, which drops the ORDER BY and the NULLs.
* ``arg_min(x, k)`` / ``arg_max``: becomes ``min_by``, which returns a NULL ``x`` where DuckDB skips it.
* ``date_diff('day', a, b)``: DuckDB counts midnights crossed, Spark's ``DATEDIFF(DAY, ...)`` whole days.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from carepulse.core.errors import CarepulseError

if TYPE_CHECKING:
    from sqlglot import exp


class PortabilityError(CarepulseError):
    """A statement holds a construct another engine would run with a different meaning, silently."""

    exit_code = 2

    def __init__(self, found: dict[str, str], sql: str = "") -> None:
        self.found = found
        shown = f" in: {' '.join(sql.split())[:160]}" if sql else ""
        listed = "; ".join(f"{construct} ({why})" for construct, why in found.items())
        super().__init__(f"not portable to Spark: {listed}{shown}")


# DuckDB functions the translation rewrites only in the forms the project uses; left over, they are another form.
UNTRANSLATED = {
    "timezone": "translated for a TIMESTAMPTZ (a *_at column or a parameter) only: for a TIMESTAMP DuckDB "
                "converts the other way",
    "arg_min_null": "translated with two arguments only",
    "arg_max_null": "translated with two arguments only",
    "list_select": "translated with a literal list of indexes only",
}
# Expressions known to be text: length() of these counts characters on both engines.
_TEXT_FUNCTIONS = ("Lower", "Upper", "Trim", "Concat", "DPipe", "Substring", "RegexpExtract", "Replace")


def _is_text(node: exp.Expr) -> bool:
    from sqlglot import exp

    if isinstance(node, exp.Literal):
        return node.is_string
    if isinstance(node, exp.Cast):
        return node.to.is_type(*exp.DataType.TEXT_TYPES)
    return type(node).__name__ in _TEXT_FUNCTIONS


def _filter_of(node: exp.Expr) -> exp.Expr | None:
    """The ``FILTER (WHERE ...)`` condition of an aggregate, if it has one."""
    from sqlglot import exp

    parent = node.parent
    if isinstance(parent, exp.Filter) and parent.this is node:
        where = parent.expression
        return where.this if isinstance(where, exp.Where) else where
    return None


def guards_null(condition: exp.Expr | None, value: exp.Expr) -> bool:
    """Whether ``condition`` (a filter) has ``value IS NOT NULL`` as one of its AND-ed terms."""
    from sqlglot import exp

    if condition is None:
        return False
    for term in condition.flatten() if isinstance(condition, exp.And) else (condition,):
        inner = term.unnest()
        if isinstance(inner, exp.Not) and isinstance(inner.this, exp.Is) and inner.this.this == value \
                and isinstance(inner.this.expression, exp.Null):
            return True
    return False


def ordered_by_itself(agg: exp.ArrayAgg) -> exp.Expr | None:
    """The aggregated value of ``list(x ORDER BY x)`` (ascending, one key, the value itself), else None."""
    from sqlglot import exp

    order = agg.this
    if not isinstance(order, exp.Order):
        return None
    keys = order.expressions
    if len(keys) == 1 and isinstance(keys[0], exp.Ordered) and not keys[0].args.get("desc") \
            and keys[0].this == order.this:
        return order.this
    return None


def traps(tree: exp.Expr) -> Iterator[tuple[str, str]]:
    """(construct, why) for each construct of ``tree`` that would change meaning on Spark."""
    from sqlglot import exp

    for node in tree.walk():
        if isinstance(node, exp.Bracket) and not all(isinstance(i, exp.Literal) for i in node.expressions):
            yield ("a list indexed by a computed value",
                   "DuckDB lists are 1-based, Spark arrays 0-based (e.g. the weekday label list)")
        elif isinstance(node, exp.DayOfWeekIso) or (
                isinstance(node, exp.Extract) and node.name.upper() in ("ISODOW", "DOW", "DAYOFWEEK")):
            yield ("isodow()", "SQLGlot writes DAYOFWEEK(x) % 7 + 1 for it: Monday becomes 3")
        elif isinstance(node, exp.DayOfWeek):
            yield ("dayofweek()", "Sunday is 0 in DuckDB, 1 in Spark")
        elif isinstance(node, exp.Length) and not _is_text(node.this):
            yield ("len()/length() of a value not known to be text",
                   "DuckDB counts a list's elements, Spark's length() counts characters")
        elif isinstance(node, exp.Unnest) and node.args.get("offset"):
            yield ("unnest() WITH ORDINALITY", "becomes Spark's POSEXPLODE, which counts from 0; DuckDB from 1")
        elif isinstance(node, exp.TimeToUnix | exp.UnixSeconds):
            yield ("epoch()", "becomes unix_timestamp(), whole seconds; DuckDB keeps the microseconds")
        elif isinstance(node, exp.Join) and str(node.args.get("method") or "").upper() == "ASOF":
            yield ("ASOF JOIN", "Spark has no ASOF JOIN")
        elif isinstance(node, exp.Select) and sum(
                isinstance(s.unalias(), exp.Unnest | exp.Explode) for s in node.selects) > 1:
            yield ("two unnest() in one SELECT", "DuckDB zips them; Spark refuses a second generator")
        elif isinstance(node, exp.ArrayAgg):
            value = ordered_by_itself(node) if isinstance(node.this, exp.Order) else node.this
            if isinstance(node.this, exp.Order) and value is None:
                yield ("list(... ORDER BY ...)", "collect_list keeps no order; only list(x ORDER BY x) is sorted")
            elif value is None or not guards_null(_filter_of(node), value):
                yield ("list()/array_agg() without FILTER (WHERE x IS NOT NULL)",
                       "DuckDB keeps NULL elements, Spark's collect_list drops them")
        elif isinstance(node, exp.ArgMin | exp.ArgMax):
            yield ("arg_min()/arg_max()", "DuckDB skips rows whose value is NULL, Spark's min_by returns it")
        elif isinstance(node, exp.DateDiff):
            yield (f"date_diff('{node.text('unit').lower()}', ...)",
                   "DuckDB's date_diff counts the boundaries crossed, Spark's DATEDIFF the whole units elapsed")
        elif isinstance(node, exp.Anonymous) and node.name.lower() in UNTRANSLATED:
            yield (f"{node.name.lower()}()", UNTRANSLATED[node.name.lower()])


def check(tree: exp.Expr, sql: str = "") -> None:
    """Raise :class:`PortabilityError` naming every construct of ``tree`` that would change meaning."""
    found = dict(traps(tree))
    if found:
        raise PortabilityError(found, sql)
