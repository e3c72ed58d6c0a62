"""Where SLA breaches happen: counts of breached threads by agent x hour and by weekday x hour.

A team lead asks "who breaches, and when": the SLA-by-day chart says how many, not at which hour of
the week or with whom. Both grids come from ONE statement over the ``threads`` source relation
(:func:`metrics.sql.relation`, so the global filters, the dates and the as-of time apply exactly as to
the headline metrics) and the one definition of a breach, the measure ``@sla_breached``
(``metrics/sources.py``). So the cells add up to ``sla_breached_threads`` for the same selection, and a
change to the definition changes both at once.

Hour and weekday are the source's ``hour`` and ``weekday`` dimensions: the local time (configured zone)
the thread started. The agent is the ``agent`` dimension (CRM agent, else the signature ending the first
response). Only the ``top`` agents by breaches get a row of their own; the rest are summed into one
``OTHERS`` row, so 53 agents do not make an unreadable 53-row heatmap and no breach disappears. Breached
threads without an agent (waiting ones, unsigned responses) are the ``NO_AGENT`` row: they are not an
agent, so they never take a place in the ranking, but they count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from carepulse.core.config import Settings
from carepulse.metrics.context import Database, Filters, open_context
from carepulse.metrics.sources import NO_VALUE, SOURCES, expand
from carepulse.metrics.sql import relation

TOP_AGENTS = 15
HOURS = 24
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NO_AGENT = NO_VALUE.get("agent", "(none)")  # the agent breakdown's name for "no agent"
OTHERS = "(other agents)"  # parenthesised like "(none)": a group, not somebody's name

Row = tuple[str, int, int, int]  # (agent, ISO weekday 1-7, local hour 0-23, breached threads)


@dataclass(frozen=True)
class BreachCounts:
    """Breached threads per cell. ``rows`` label ``by_agent`` top to bottom: the top agents (most
    breaches first, then by name), then ``OTHERS`` (summing ``others`` agents) and ``NO_AGENT`` when
    they have breaches. ``by_weekday`` is 7 x 24, Monday first. Plain tuples: hashable, JSON-ready,
    and a test can compare cells without pandas."""

    rows: tuple[str, ...]
    by_agent: tuple[tuple[int, ...], ...]
    by_weekday: tuple[tuple[int, ...], ...]
    others: int
    as_of: datetime
    timezone: str

    @property
    def total(self) -> int:
        return sum(map(sum, self.by_weekday))

    def cell(self, row: str, hour: int) -> int:
        """Breaches of one agent row at one local hour (0 for a row that is not shown)."""
        return self.by_agent[self.rows.index(row)][hour] if row in self.rows else 0


def arrange(rows: Iterable[Row], *, as_of: datetime, timezone: str, top: int = TOP_AGENTS) -> BreachCounts:
    """The grids from per-(agent, weekday, hour) counts; the ranking and the "others" sum live here,
    apart from SQL, so they are tested on their own."""
    agent_hours: dict[str, list[int]] = {}
    weekday_hours = [[0] * HOURS for _ in WEEKDAY_NAMES]
    for agent, weekday, hour, count in rows:
        agent_hours.setdefault(agent, [0] * HOURS)[hour] += int(count)
        weekday_hours[weekday - 1][hour] += int(count)
    unattributed = agent_hours.pop(NO_AGENT, None)
    ranked = sorted(agent_hours, key=lambda a: (-sum(agent_hours[a]), a))
    shown, rest = ranked[:top], ranked[top:]
    labels = list(shown)
    cells = [tuple(agent_hours[a]) for a in shown]
    if rest:
        labels.append(OTHERS)
        cells.append(tuple(sum(agent_hours[a][h] for a in rest) for h in range(HOURS)))
    if unattributed is not None and any(unattributed):
        labels.append(NO_AGENT)
        cells.append(tuple(unattributed))
    return BreachCounts(tuple(labels), tuple(cells), tuple(map(tuple, weekday_hours)), len(rest), as_of, timezone)


def sla_breaches(filters: Filters | None = None, *, db: Database, settings: Settings, as_of: datetime | None = None,
                 top: int = TOP_AGENTS) -> BreachCounts:
    """Breached threads by agent x local hour and by local weekday x hour (see the module docstring).

    One scan of the filtered threads grouped by (agent, weekday, hour); both grids are sums of it.
    """
    ctx = open_context(db, settings, filters, "agent", as_of)
    try:
        dims = SOURCES["threads"].dims
        rel = relation(ctx, "threads", by="agent",
                       extra_columns=f"{dims['weekday'][0]} AS weekday_no, {dims['hour'][0]} AS hour_no")
        sql = rel.statement(expand("threads", f"""
SELECT {rel.key} AS agent, weekday_no, hour_no, count(*) AS breached
FROM b WHERE @sla_breached
GROUP BY ALL"""))
        found = [(str(agent), int(weekday), int(hour), int(n))
                 for agent, weekday, hour, n in ctx.con.execute(*sql).fetchall()]
        moment = ctx.as_of
    finally:
        ctx.con.close()
    return arrange(found, as_of=moment, timezone=settings.timezone, top=top)
