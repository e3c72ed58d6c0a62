"""Local wall-clock time of a moment without asking ICU for every row.

``timezone($tz, started_at)`` is how the metric code says "the local time of this moment" (days, weeks,
months, hours and weekdays are local). DuckDB answers it through ICU's calendar, value by value: 178 ms
for the 2.55 M threads of a 10 M-tweet warehouse on 2 cores, against 15-30 ms for the form below, and
every statement that buckets by local time pays it (the Pilot page's weekly speed, the Team page's heat
maps by hour and weekday, the monthly cost ledger).

A zone's offset from UTC is constant between two of its transitions. Within a window of years
(the as-of's year and the two before it: :func:`window`) the local time is therefore the moment's microseconds
plus one of a few constants, ``make_timestamp(epoch_us(x) + offset)``, the constant picked by a balanced
tree of comparisons against the transitions (four for a zone with daylight saving time). Before
and after the window, and for NULL, the tree ends in ``timezone`` itself: every moment gets exactly the
value it got before, only faster where the data is.

The transitions are read from DuckDB's own ICU (hourly offsets over the window, each change then found
to the second), not from Python's zone database: the fast form and ``timezone`` cannot disagree, whatever
the two databases' versions. That costs 0.1-0.15 s once per zone and process, and only when a statement
is compiled (compiled statements are kept: :mod:`carepulse.metrics.sqlcache`).

:func:`rewrite` is applied by the compiler (:mod:`carepulse.metrics.sqltree`) to ``timezone($p, column)``
where ``$p`` is a zone placeholder (:data:`ZONE_PLACEHOLDERS`) and the column a moment (a ``*_at``
column: the warehouse's naming rule for TIMESTAMPTZ). The zone name stays a parameter; the transitions
become literal nodes of the tree, derived from the zone, never text pasted into SQL.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sqlglot import exp

ZONE_PLACEHOLDERS = ("tz", "bh_tz")  # the values that name a time zone in the metric code
YEARS_BACK = 2  # the window: the as-of's year and the two before it
_LOCK = threading.Lock()

Boundaries = tuple[tuple[datetime, ...], tuple[int | None, ...]]


def window(as_of: object = None) -> tuple[int, int]:
    """The years the fast form covers: the as-of's (a statement's ``$as_of``; else this year) and the
    :data:`YEARS_BACK` before it. Each transition in the window adds a comparison to every local time of
    a statement, and DuckDB plans each one: 57 of them (2005-2031) cost 14 ms of planning in a statement
    with six local times, more than they saved on the busiest account's 313 k threads."""
    year = (as_of if isinstance(as_of, datetime) and as_of.tzinfo else datetime.now(UTC)).astimezone(UTC).year
    return year - YEARS_BACK, year


@lru_cache(maxsize=32)
def boundaries(zone: str, years: tuple[int, int]) -> Boundaries:
    """(instants b_1 < ... < b_n, offsets o_0 ... o_n in microseconds): o_i holds from b_i to b_(i+1);
    o_0 (before the window) and o_n (after it) are None: ``timezone`` answers there.

    Found with ICU: the offset every hour of the window, then to the second within each hour where it
    changed (a zone never changes twice within an hour)."""
    import duckdb

    lo, hi = datetime(years[0], 1, 1, tzinfo=UTC), datetime(years[1] + 1, 1, 1, tzinfo=UTC)
    with _LOCK:
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            first = con.execute("SELECT epoch_us(timezone($z, $t)) - epoch_us($t)", {"z": zone, "t": lo}).fetchone()
            changes = con.execute("""
WITH hours AS (SELECT t, epoch_us(timezone($z, t)) - epoch_us(t) AS offset_us
               FROM generate_series($lo, $hi, INTERVAL 1 HOUR) AS s(t)),
changed AS (SELECT t FROM (SELECT t, offset_us, lag(offset_us) OVER (ORDER BY t) AS before FROM hours)
            WHERE offset_us <> before),
seconds AS (SELECT DISTINCT s.t, epoch_us(timezone($z, s.t)) - epoch_us(s.t) AS offset_us
            FROM changed AS c, generate_series(c.t - INTERVAL 1 HOUR, c.t, INTERVAL 1 SECOND) AS s(t))
SELECT t, offset_us FROM (SELECT t, offset_us, lag(offset_us) OVER (ORDER BY t) AS before FROM seconds)
WHERE offset_us <> before ORDER BY t""", {"z": zone, "lo": lo, "hi": hi}).fetchall()
        finally:
            con.close()
    assert first is not None
    cuts = (lo, *(t for t, _ in changes), hi)
    offsets = (None, int(first[0]), *(int(o) for _, o in changes), None)
    return cuts, offsets


def rewrite(tree: exp.Expression, zones: Mapping[str, str], years: tuple[int, int],
            literal: Callable[[datetime], exp.Expression]) -> exp.Expression:
    """``tree`` with each ``timezone($zone, moment_column)`` of a zone in ``zones`` in the fast form;
    ``literal`` writes a moment as a node (the compiler's own, :func:`carepulse.metrics.sqltree.literal`)."""
    from sqlglot import exp

    from carepulse.warehouse.engines.spark_sql import is_instant

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "timezone" and len(node.expressions) == 2:
            zone, moment = node.expressions
            if isinstance(zone, exp.Placeholder) and zone.name in zones and isinstance(moment, exp.Column) \
                    and is_instant(moment):
                return fast(node, moment, boundaries(zones[zone.name], years), literal)
        return node

    return tree.transform(swap)


def fast(exact: exp.Expression, moment: exp.Column, bounds: Boundaries,
         literal: Callable[[datetime], exp.Expression]) -> exp.Expression:
    """The balanced comparison tree: a leaf adds its interval's offset, or is ``exact`` outside the window."""
    from sqlglot import exp

    cuts, offsets = bounds

    def leaf(i: int) -> exp.Expression:
        offset = offsets[i]
        if offset is None:
            return exact.copy()
        micros: exp.Expression = exp.Anonymous(this="epoch_us", expressions=[moment.copy()])
        if offset:
            micros = exp.Add(this=micros, expression=exp.Literal.number(offset))
        return exp.Anonymous(this="make_timestamp", expressions=[micros])

    def tree(first: int, last: int) -> exp.Expression:
        """Offsets first..last: the moment lies between cuts[first - 1] and cuts[last]."""
        if first == last:
            return leaf(first)
        middle = (first + last + 1) // 2  # the moment is before cuts[middle - 1] or not
        before = exp.LT(this=moment.copy(), expression=literal(cuts[middle - 1]))
        return exp.Case(ifs=[exp.If(this=before, true=tree(first, middle - 1))], default=tree(middle, last))

    return exp.Paren(this=tree(0, len(offsets) - 1))
