"""Statements as syntax trees: the one place where code and values meet.

The metric declarations (sources, measures, metric expressions) are SQL *code*: column names, functions,
joins. Every *value* in a statement (the as-of time, the time zone, the SLA in seconds, a filter's
account, a drilled group, a setting's pattern) is a named placeholder in that code, ``$as_of``.
:func:`statement` compiles the code through a SQLGlot syntax tree into DuckDB SQL and hands the values
to DuckDB as bound parameters: a value never becomes code. A team called ``$as_of`` or
``') OR 1=1 --`` is a parameter like any other, and no template is ever filled.

Compiling parses the code, expands ``carepulse_signature(expr)`` (the agent a brand tweet's sign-off
names: it depends on how many signature patterns are configured, whose texts are parameters too) and
puts local times in a form that spares ICU (:mod:`carepulse.metrics.localtime`: it depends on the
zone named by ``$tz``, which stays a parameter) and writes the tree. The result depends on the code (and
that zone) alone, so it is kept: in memory, and in a small cache
file (:mod:`carepulse.metrics.sqlcache`), so that a command run again does not even import SQLGlot
(about 0.1 s) nor parse (about 30 ms per statement). :func:`display` writes the same tree with the values
put in as literal nodes, pretty-printed: what ``--explain`` shows, and what another engine is given.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from carepulse.metrics import localtime, sqlcache

if TYPE_CHECKING:
    from sqlglot import exp

DIALECT = "duckdb"
SIGNATURE = "carepulse_signature"
SIGNATURE_PATTERNS = "agent_signature_patterns"  # the value holding the patterns (a tuple of str)
_LOCK = threading.Lock()
_COMPILED: dict[str, tuple[str, tuple[str, ...]]] = {}


class MissingValue(KeyError):
    """A placeholder without a value: a bug in the statement's code, never the user's input."""


class Statement:
    """Finished SQL and its parameters; ``con.execute(*statement)`` runs it. ``code`` and ``values``
    are kept for :func:`display`."""

    __slots__ = ("code", "params", "sql", "values")

    def __init__(self, sql: str, params: dict[str, Any], code: str, values: Mapping[str, Any]) -> None:
        self.sql, self.params, self.code, self.values = sql, params, code, values

    def __iter__(self) -> Iterator[Any]:
        return iter((self.sql, self.params))

    def __repr__(self) -> str:
        return f"Statement({self.sql!r}, {self.params!r})"


def _parse(code: str) -> exp.Expression:
    import sqlglot

    return cast("exp.Expression", sqlglot.parse_one(code, read=DIALECT))


@lru_cache(maxsize=1024)
def parse(code: str) -> exp.Expression:
    """The tree of ``code`` (SQL with ``$name`` placeholders and no values), parsed once per process."""
    return _parse(code)


@lru_cache(maxsize=16)
def _signature_code(count: int) -> exp.Expression:
    """The agent a brand tweet's sign-off names, under the name the CRM knows the agent by.

    Signatures carry initials (``^AB``), the CRM full names ("A. Becker"); without a bridge the same
    person shows up twice in every per-agent table. A signature becomes the CRM name whose initials
    (first letter of the first and of the last word) it equals, when exactly one CRM agent has them;
    otherwise it stays as signed. The patterns are parameters ``$sig_0`` ...; without any: NULL."""
    if count == 0:
        return parse("CAST(NULL AS VARCHAR)")
    parts = [f"nullif(regexp_extract(carepulse_arg, $sig_{i}, 1), '')" for i in range(count)]
    signed = parts[0] if count == 1 else "coalesce(" + ", ".join(parts) + ")"
    return parse(
        "coalesce((SELECT min(agent) FROM (SELECT DISTINCT trim(agent) AS agent FROM crm_cases"
        " WHERE channel = 'twitter' AND agent LIKE '% %')"
        " WHERE upper(left(agent, 1) || regexp_extract(agent, '(\\S)\\S*$', 1)) = upper(" + signed + ")"
        " HAVING count(*) = 1), " + signed + ")")


def _expanded(code: str, signatures: int) -> exp.Expression:
    """The tree of ``code`` with every ``carepulse_signature(x)`` replaced by the signature expression."""
    from sqlglot import exp

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() == SIGNATURE:
            argument = node.expressions[0]

            def put(inner: exp.Expression) -> exp.Expression:
                if isinstance(inner, exp.Column) and inner.name == "carepulse_arg" and not inner.table:
                    return argument.copy()
                return inner

            return _signature_code(signatures).transform(put)
        return node

    return parse(code).transform(swap)


def _write(tree: exp.Expression, pretty: bool = False) -> str:
    return tree.sql(dialect=DIALECT, pretty=pretty, normalize_functions="lower")


def compiled(code: str, signatures: int, zones: tuple[tuple[str, str], ...] = (),
             years: tuple[int, int] | None = None) -> tuple[str, tuple[str, ...]]:
    """(DuckDB SQL, the placeholder names it binds) of ``code``; from memory, the cache file, or compiled.

    ``zones`` ((placeholder, zone name) pairs) put local times in the fast form of
    :mod:`carepulse.metrics.localtime` for the ``years`` it covers: both are part of the key."""
    covered = years or localtime.window()
    key = sqlcache.key(code, signatures, repr((zones, covered)) if zones else "")
    with _LOCK:
        found = _COMPILED.get(key) or sqlcache.get(key)
    if found is None:
        from sqlglot import exp

        tree = _expanded(code, signatures)
        if zones:
            tree = localtime.rewrite(tree, dict(zones), covered, literal)
        names = tuple(dict.fromkeys(p.name for p in tree.find_all(exp.Placeholder)))
        found = (_write(tree), names)
        sqlcache.put(key, found)
    with _LOCK:
        _COMPILED[key] = found
    return found


def _signature_values(values: Mapping[str, Any]) -> dict[str, str]:
    return {f"sig_{i}": p for i, p in enumerate(values.get(SIGNATURE_PATTERNS) or ())}


def _param(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return value


def statement(code: str, values: Mapping[str, Any] | None = None) -> Statement:
    """``code`` compiled, with the values of its placeholders as parameters. A placeholder without a value
    raises :class:`MissingValue`."""
    given = dict(values or {})
    given.update(_signature_values(given))
    zones = tuple((p, given[p]) for p in localtime.ZONE_PLACEHOLDERS
                  if isinstance(given.get(p), str)) if "timezone(" in code.lower() else ()
    sql, names = compiled(code, len(given.get(SIGNATURE_PATTERNS) or ()), zones,
                          localtime.window(given.get("as_of")) if zones else None)
    missing = [n for n in names if n not in given]
    if missing:
        raise MissingValue(f"no value for {', '.join('$' + n for n in missing)}")
    return Statement(sql, {n: _param(given[n]) for n in names}, code, given)


def literal(value: Any) -> exp.Expression:
    """A value as a literal node: text, number, boolean, NULL, a moment (TIMESTAMPTZ, in UTC, microseconds
    kept), a day (DATE), a time of day (TIME) or a list of these."""
    from sqlglot import exp

    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float):
        return exp.Literal.number(repr(_param(value)))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"a moment without a time zone: {value!r}")
        return exp.cast(exp.Literal.string(value.astimezone(UTC).isoformat(sep=" ")), "TIMESTAMPTZ")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, time):
        return exp.cast(exp.Literal.string(value.isoformat()), "TIME")
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[literal(v) for v in value])
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def display(stmt: Statement, *, pretty: bool = True) -> str:
    """The statement with its values put in as literal nodes: what ``--explain`` shows (and the text
    another engine would run). Built from the tree, never by pasting values into text."""
    from sqlglot import exp

    values = stmt.values

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            return literal(values[node.name])
        return node

    signatures = len(values.get(SIGNATURE_PATTERNS) or ())
    return _write(_expanded(stmt.code, signatures).transform(swap), pretty=pretty)

