"""A translated statement with its values written in as literals, for where Spark takes no parameter marker.

:func:`carepulse.warehouse.engines.spark_sql.to_spark` keeps values as named markers (``:name``), so a
translation serves every run of a statement. Spark refuses markers in a few places (some statements,
some clauses: ``UNSUPPORTED_FEATURE.PARAMETER_MARKER_IN_UNEXPECTED_STATEMENT``); there the engine asks
for :func:`with_literals`: the same tree, each marker replaced by a literal node, never by pasted text.
Moments are written in UTC (the session's zone), so they mean the instant they were.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from carepulse.warehouse.engines.spark_sql import spark_tree

if TYPE_CHECKING:
    from sqlglot import exp

# Spark error classes that mean "no parameter marker here": the statement is run again with literals
MARKER_REFUSED = ("PARAMETER_MARKER_IN_UNEXPECTED_STATEMENT", "UNBOUND_SQL_PARAMETER")


def literal(value: Any) -> exp.Expr:
    """A Python value as a Spark literal node."""
    from sqlglot import exp

    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, float) and not math.isfinite(value):
        special = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return exp.cast(exp.Literal.string(special), "DOUBLE")
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP_NTZ")
        return exp.cast(exp.Literal.string(value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")),
                        "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, time):
        return exp.Cast(this=exp.Literal.string(value.isoformat()),
                        to=exp.DataType(this=exp.DataType.Type.USERDEFINED, kind="TIME"))
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[literal(v) for v in value])
    raise TypeError(f"no Spark literal for {type(value).__name__}")


def with_literals(sql: str, params: Mapping[str, Any] | Sequence[Any] | None) -> str:
    """Spark SQL for one DuckDB statement with its values as literals (named or positional markers)."""
    from sqlglot import exp

    positional = iter(params if params is not None and not isinstance(params, Mapping) else ())

    def put(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            if node.name and isinstance(params, Mapping):
                return literal(params[node.name])
            return literal(next(positional))
        return node

    return spark_tree(sql).copy().transform(put, copy=False).sql(dialect="spark")
