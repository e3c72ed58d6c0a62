"""DuckDB SQL to Spark SQL: SQLGlot's translation, the project's fix-ups, then the portability check.

The metric statements are compiled once, for DuckDB (:mod:`carepulse.metrics.sqltree`); Spark gets the
same statements, translated here, never a second hand-written copy. :func:`to_spark` parses the DuckDB
text (``read="duckdb"``), rewrites the constructs SQLGlot translates wrongly or not at all into Spark
expressions with DuckDB's meaning, runs :func:`~carepulse.warehouse.engines.portability.check` on what
is left (anything silent that nobody rewrote is refused, loudly), and writes Spark SQL. Values stay
parameters: a DuckDB ``$name`` becomes a Spark named marker ``:name`` (``spark.sql(query, args=...)``),
so the translation depends on the code alone and is kept per statement text.

The fix-ups, each exact for the way the project uses the construct:

* ``list[i]`` (1-based, NULL outside) -> ``try_element_at(list, CAST(nullif(i, 0) AS INT))``;
* ``isodow(x)`` -> ``EXTRACT(DAYOFWEEK_ISO FROM x)``; ``dayofweek(x)`` -> ``dayofweek(x) - 1``;
* ``epoch(ts)`` -> ``CAST(unix_micros(ts) AS DOUBLE) / 1000000`` (fractional seconds); ``epoch_us(ts)`` ->
  ``unix_micros(ts)``; ``make_timestamp(micros)`` -> ``CAST(timestamp_micros(micros) AS TIMESTAMP_NTZ)``
  (the local-time form of :mod:`carepulse.metrics.localtime`);
* ``timezone(tz, instant)`` -> ``CAST(from_utc_timestamp(instant, tz) AS TIMESTAMP_NTZ)``: DuckDB gives the
  wall-clock time as a TIMESTAMP without zone; Spark's session zone is UTC (the engine sets it);
* ``a / b`` -> ``CASE WHEN b = 0 THEN CAST(a AS DOUBLE) * Infinity ELSE CAST(a AS DOUBLE) / b END``:
  DuckDB divides as DOUBLE, IEEE at zero (Infinity, NaN); Spark with ANSI mode on raises there;
* ``arg_min_null(x, (a, b))`` -> ``min_by(x, struct(a, b))`` (and ``arg_max_null`` -> ``max_by``);
  ``arg_min(x, k)`` -> ``min_by(x, CASE WHEN x IS NOT NULL THEN k END)`` (DuckDB skips a NULL ``x``);
* ``quantile_cont(x, q)`` -> ``percentile(x, q)`` (both interpolate linearly; ``q`` may be a list);
* ``list(x ORDER BY x) FILTER (WHERE x IS NOT NULL ...)`` -> ``array_sort(collect_list(x) FILTER (...))``;
* ``list_select(l, [i, ...])`` -> ``array(try_element_at(l, i), ...)`` (1-based, NULL outside);
* ``SELECT unnest(a) AS x, unnest(b) AS y`` -> ``SELECT inline(arrays_zip(a, b)) AS (x, y)`` (zipped, the
  shorter padded with NULL, as DuckDB does);
* DuckDB's catalog functions (``duckdb_databases()``, ``duckdb_tables()``) -> the views of the same name
  the Spark engine registers (``carepulse_duckdb_databases`` ...), so no call site changes;
* unsigned integer types -> the signed or decimal type that holds them; TIME stays TIME (SQLGlot writes
  TIMESTAMP, which turns a time of day into a moment);
* ``ASOF JOIN``, ``generate_series`` in FROM and ``timezone(tz, day + time)``: :mod:`.spark_rewrites`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from carepulse.warehouse.engines import spark_rewrites as rewrites
from carepulse.warehouse.engines.portability import PortabilityError, check, guards_null, ordered_by_itself

if TYPE_CHECKING:
    from sqlglot import exp

CATALOG_VIEWS = {"duckdb_databases": "carepulse_duckdb_databases", "duckdb_tables": "carepulse_duckdb_tables"}
_UNSIGNED = {"UBIGINT": "DECIMAL(20, 0)", "UINT": "BIGINT", "UINTEGER": "BIGINT", "USMALLINT": "INT",
             "UTINYINT": "SMALLINT", "INT128": "DECIMAL(38, 0)", "HUGEINT": "DECIMAL(38, 0)",
             "UHUGEINT": "DECIMAL(38, 0)"}


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    return exp.Anonymous(this=name, expressions=list(args))


def _index(array: exp.Expr, position: exp.Expr) -> exp.Expr:
    """DuckDB's ``array[position]``: 1-based, negative from the end, NULL outside (and at 0)."""
    from sqlglot import exp

    return _fn("try_element_at", array, exp.cast(exp.Nullif(this=position, expression=exp.Literal.number(0)), "INT"))


def _written_index(bracket: exp.Bracket) -> exp.Expr | None:
    """The 1-based index DuckDB's text had, or None when ``bracket`` is no list index.

    SQLGlot's parser stores indexes 0-based, but shifts them only when it can tell the index is an
    integer (a literal, ``count(...)``); a column of unknown type stays as written, 1-based. The same
    type test tells which case a parsed index is in, so the shift is undone where it was made."""
    from sqlglot import exp
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.simplify import simplify

    (index,) = bracket.expressions
    container = annotate_types(bracket.this.copy(), dialect="duckdb")
    if container.type is None or container.type.this not in (exp.DataType.Type.UNKNOWN, exp.DataType.Type.ARRAY):
        return None
    typed = annotate_types(index.copy(), dialect="duckdb")
    if typed.type is not None and typed.type.this in exp.DataType.INTEGER_TYPES:
        return simplify(exp.Add(this=index.copy(), expression=exp.Literal.number(1)))
    return index


def _divide(dividend: exp.Expr, divisor: exp.Expr) -> exp.Expr:
    """DuckDB's ``a / b``: a DOUBLE division, IEEE at zero (``1 / 0`` is Infinity, ``0 / 0`` NaN), where
    Spark with ANSI on raises (and without it gives NULL). ``a * Infinity`` is IEEE's ``a / 0``."""
    from sqlglot import exp

    numerator = exp.cast(dividend, "DOUBLE")
    at_zero = exp.Mul(this=numerator.copy(), expression=exp.cast(exp.Literal.string("Infinity"), "DOUBLE"))
    zero = exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=zero, true=at_zero)],
                    default=exp.Div(this=numerator, expression=divisor))


def is_instant(node: exp.Expr) -> bool:
    """Whether ``node`` is a moment (TIMESTAMPTZ): a ``*_at`` column, a parameter, or min/max of those.

    The warehouse names every TIMESTAMPTZ column ``..._at`` and no other (``tests/warehouse/
    test_portability.py`` holds schema.sql to it), and the metric code keeps the rule for its aliases
    (``reply_at``, ``last_at``; wall-clock times are ``local_start``, ``first_local``)."""
    from sqlglot import exp

    if isinstance(node, exp.Placeholder):
        return True
    if isinstance(node, exp.Column):
        return node.name.lower().endswith("_at")
    if isinstance(node, exp.Cast):
        return node.to.is_type("timestamptz")
    if isinstance(node, exp.Min | exp.Max | exp.Coalesce | exp.Greatest | exp.Least):
        return all(is_instant(a) for a in node.iter_expressions())
    return False


def _zip_unnests(select: exp.Select) -> exp.Expr | None:
    """``SELECT unnest(a) AS x, unnest(b) AS y`` (nothing else, no FROM) as one zipping generator."""
    from sqlglot import exp

    selects = select.selects
    if len(selects) < 2 or select.args.get("from_") or select.args.get("from"):
        return None
    arrays, names = [], []
    for s in selects:
        inner = s.unalias()
        if not isinstance(inner, exp.Unnest | exp.Explode):
            return None
        arrays.append(inner.expressions[0] if isinstance(inner, exp.Unnest) else inner.this)
        names.append(exp.to_identifier(s.alias))
    zipped = _fn("inline", _fn("arrays_zip", *(_sub(a) for a in arrays)))
    if all(n.name for n in names):
        return exp.Select(expressions=[exp.Aliases(this=zipped, expressions=names)])
    # unnamed: only inside a CTE that names its columns (bh_hours(isodow, opens, closes) AS (...))
    cte = select.parent
    if isinstance(cte, exp.CTE) and len(cte.args["alias"].columns) == len(arrays):
        return exp.Select(expressions=[zipped])
    return None


def _fix(node: exp.Expr) -> exp.Expr:
    """One node rewritten for Spark (children of a rewritten node are fixed through :func:`fixed`)."""
    from sqlglot import exp

    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and not isinstance(node.expressions[0], exp.Slice) \
            and not (isinstance(node.expressions[0], exp.Literal) and node.expressions[0].is_string):
        written = _written_index(node)
        if written is not None:
            return _index(_sub(node.this), _sub(written))
    if isinstance(node, exp.DayOfWeekIso) or (isinstance(node, exp.Extract) and node.name.upper() == "ISODOW"):
        value = node.this if isinstance(node, exp.DayOfWeekIso) else node.expression
        return exp.Extract(this=exp.var("DAYOFWEEK_ISO"), expression=_sub(value))
    if isinstance(node, exp.DayOfWeek):
        return exp.Sub(this=_fn("dayofweek", _sub(node.this)), expression=exp.Literal.number(1))
    if isinstance(node, exp.TimestampTrunc | exp.DateTrunc) and not is_instant(node.this):
        # DuckDB truncates a TIMESTAMP or DATE to a TIMESTAMP without zone; Spark's date_trunc always
        # returns its zoned TIMESTAMP: cast back, or a wall-clock week start comes back as an instant
        truncated = exp.TimestampTrunc(this=_sub(node.this), unit=node.args.get("unit"))
        return exp.cast(truncated, "TIMESTAMP_NTZ")
    if isinstance(node, exp.DateDiff) and node.args.get("date_part_boundary") \
            and node.text("unit").upper() in ("DAY", "DAYS"):
        # DuckDB counts the midnights crossed; Spark's DATEDIFF(DAY, ...) whole days elapsed
        return _fn("datediff", exp.cast(_sub(node.this), "DATE"), exp.cast(_sub(node.expression), "DATE"))
    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
        return rewrites.series_table(node, _sub)
    if isinstance(node, exp.Join) and str(node.args.get("method") or "").upper() == "ASOF":
        return rewrites.asof_join(node, _sub)
    if isinstance(node, exp.UnixToTime) and node.text("scale") == "6":
        # DuckDB's make_timestamp(microseconds): a TIMESTAMP without zone (the local-time form of
        # metrics/localtime.py); Spark's session zone is UTC, so the cast keeps the wall-clock value
        return exp.cast(_fn("timestamp_micros", _sub(node.this)), "TIMESTAMP_NTZ")
    if isinstance(node, exp.TimeToUnix):
        micros = exp.cast(_fn("unix_micros", _sub(node.this)), "DOUBLE")
        return exp.Paren(this=exp.Div(this=micros, expression=exp.Literal.number(1000000)))
    if isinstance(node, exp.Div):
        return _divide(_sub(node.this), _sub(node.expression))
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        return _fn("percentile", _sub(node.this), _sub(node.expression))
    if isinstance(node, exp.ArgMin | exp.ArgMax):
        value = _sub(node.this)
        key = exp.Case().when(exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())), _sub(node.expression))
        return _fn("min_by" if isinstance(node, exp.ArgMin) else "max_by", value, key)
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
        value = ordered_by_itself(node.this)
        where = node.expression.this if isinstance(node.expression, exp.Where) else node.expression
        if value is not None and guards_null(where, value):
            listed = exp.Filter(this=_fn("collect_list", _sub(value)), expression=_sub(node.expression))
            return _fn("array_sort", listed)
        return node
    if isinstance(node, exp.Select):
        zipped = _zip_unnests(node)
        if zipped is not None:
            return zipped
        for projection in node.expressions:
            # Spark reads "x IN (SELECT :v)" as the column SELECT's JSON path v: a marker gets its own name
            if isinstance(projection, exp.Placeholder) and projection.name:
                projection.replace(exp.alias_(projection.copy(), projection.name))
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous | exp.Func):
        view = CATALOG_VIEWS.get(node.this.name.lower() if isinstance(node.this, exp.Anonymous) else "")
        if view:
            return exp.Table(this=exp.to_identifier(view), alias=node.args.get("alias"))
    if isinstance(node, exp.DataType) and node.this.name in _UNSIGNED:
        return exp.DataType.build(_UNSIGNED[node.this.name], dialect="spark")
    if isinstance(node, exp.DataType) and node.this.name == "TIME":
        return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind="TIME")  # SQLGlot writes TIMESTAMP for TIME
    if isinstance(node, exp.Anonymous):
        return _fix_function(node)
    return node


def _fix_function(node: exp.Anonymous) -> exp.Expr:
    """DuckDB functions SQLGlot passes through by name."""
    from sqlglot import exp

    name, args = node.name.lower(), node.expressions
    if name == "epoch_us" and len(args) == 1:
        return _fn("unix_micros", _sub(args[0]))
    if name == "timezone" and len(args) == 2:
        if is_instant(args[1]):
            return exp.cast(_fn("from_utc_timestamp", _sub(args[1]), _sub(args[0])), "TIMESTAMP_NTZ")
        return rewrites.wall_clock_to_utc(args[1], args[0], _sub) or node
    if name in ("arg_min_null", "arg_max_null") and len(args) == 2:
        key = args[1]
        ordering = (_fn("struct", *(_sub(k) for k in key.expressions)) if isinstance(key, exp.Tuple)
                    else _sub(key))
        return _fn("min_by" if name == "arg_min_null" else "max_by", _sub(args[0]), ordering)
    if name == "list_select" and len(args) == 2 and isinstance(args[1], exp.Array):
        listed = _sub(args[0])
        return exp.Array(expressions=[_index(listed.copy(), _sub(i)) for i in args[1].expressions])
    return node


def fixed(tree: exp.Expr) -> exp.Expr:
    """A copy of ``tree`` (DuckDB) with every fix-up applied."""
    return _sub(tree.copy())


def _sub(node: exp.Expr) -> exp.Expr:
    """``node`` fixed in place: a rebuilt node takes its children over (the walk does not enter a node it
    replaced, so they are fixed here), and is never copied whole again (deep copies made translating a
    statement quadratic: 0.3 s each)."""
    return node.transform(_fix, copy=False)


@lru_cache(maxsize=1024)
def spark_tree(sql: str) -> exp.Expr:
    """The Spark tree of one DuckDB statement (do not change it: it is kept); :class:`PortabilityError`
    when it holds an untranslated trap."""
    import sqlglot

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise PortabilityError({"a statement SQLGlot cannot parse": str(exc).splitlines()[0]}, sql) from exc
    tree = _sub(tree)  # freshly parsed: no copy needed
    check(tree, sql)
    return tree


@lru_cache(maxsize=1024)
def to_spark(sql: str) -> str:
    """Spark SQL for one DuckDB statement, its values as named markers (``:name``)."""
    return spark_tree(sql).sql(dialect="spark")


def spark_value(value: Any) -> Any:
    """A parameter's value as ``spark.sql(args=...)`` takes it (lists for tuples; the rest as they are)."""
    if isinstance(value, tuple | list):
        return [spark_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str | Decimal | date | datetime | time):
        return value
    raise TypeError(f"no Spark parameter for {type(value).__name__}")


def spark_args(params: Mapping[str, Any] | Sequence[Any] | None) -> dict[str, Any] | list[Any] | None:
    """Named (``$name`` -> ``:name``) or positional (``?``) parameters for ``spark.sql``."""
    if params is None:
        return None
    if isinstance(params, Mapping):
        return {name: spark_value(v) for name, v in params.items()}
    return [spark_value(v) for v in params]
