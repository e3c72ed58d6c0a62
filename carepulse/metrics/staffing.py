"""Staffing what-if: agents needed per hour of the week at today's volume and at x1.5, x2, from Erlang C.

Erlang C (the M/M/N queue) is what a workforce planner staffs a contact centre with, so the answer
to "what if volume doubles?" is given in the model they already trust and can check against their
own calculator. Its assumptions, said once here so the sentences need not repeat them: arrivals are
random (Poisson) at a steady rate within the hour, handling times are exponential around the AHT,
nobody gives up waiting, and each hour of the week is staffed on its own (work does not spill into
the next hour). A 60-minute Twitter SLA against a few minutes of handling is met easily, so at
Twitter volumes the occupancy cap (agents at most ``max_occupancy`` busy) usually decides the
staffing rather than the SLA; both are applied.

Because the queue pools randomness, twice the volume needs less than twice the agents (economies of
scale); that is the point of the what-if and what the verdict says in plain words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from carepulse.core.text import Text, join
from carepulse.metrics.context import Context, local_midnight_utc, zone
from carepulse.metrics.sql import relation
from carepulse.metrics.stats import count_text, duration_text, not_enough

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The same in a sentence, to be translated.
WEEKDAY_WORDS = (Text("Mon"), Text("Tue"), Text("Wed"), Text("Thu"), Text("Fri"), Text("Sat"), Text("Sun"))
# A ratio A / max_occupancy that is a whole number exactly but comes out of floating point a hair
# above it (10.000000000000002 for 10) must not cost a whole extra agent.
_ROUNDING = 1e-9


# ---- Erlang C ----------------------------------------------------------------------------------

def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _traffic(rate_per_hour: float, aht_seconds: float) -> float:
    """Offered load in Erlangs: the agent hours of work arriving per hour."""
    return rate_per_hour * aht_seconds / 3600.0


def _next_b(traffic: float, agents: int, b_before: float) -> float:
    """Erlang B for ``agents`` from Erlang B for ``agents - 1``: bounded in [0, 1] at every step, so
    no factorial or power overflows however large the traffic."""
    return traffic * b_before / (agents + traffic * b_before)


def _c_from_b(traffic: float, agents: int, b: float) -> float:
    """Erlang C from Erlang B (agents > traffic)."""
    return agents * b / (agents - traffic * (1.0 - b))


def _share_within(traffic: float, agents: int, c: float, target_seconds: float, aht_seconds: float) -> float:
    """Share answered within the target: P(wait <= t) = 1 - C * exp(-(N - A) * t / AHT)."""
    return 1.0 - c * math.exp(-(agents - traffic) * target_seconds / aht_seconds)


def erlang_c(traffic_erlangs: float, agents: int) -> float:
    """Probability that an arrival has to wait, with ``agents`` agents and ``traffic_erlangs`` of load.

    Computed through the Erlang B recursion rather than the textbook ratio of A^N / N! sums, which
    overflows a float from about 170 agents on. With no more agents than Erlangs the queue grows
    without bound and everyone waits: 1.0.
    """
    _check(math.isfinite(traffic_erlangs) and traffic_erlangs >= 0, f"traffic must be >= 0, got {traffic_erlangs}")
    _check(agents >= 0, f"agents must be >= 0, got {agents}")
    if agents <= traffic_erlangs:
        return 1.0
    if traffic_erlangs == 0:
        return 0.0
    b = 1.0
    for n in range(1, agents + 1):
        b = _next_b(traffic_erlangs, n, b)
    return _c_from_b(traffic_erlangs, agents, b)


def _check_rates(rate_per_hour: float, aht_seconds: float, target_seconds: float) -> None:
    _check(math.isfinite(rate_per_hour) and rate_per_hour >= 0, f"rate must be >= 0, got {rate_per_hour}")
    _check(math.isfinite(aht_seconds) and aht_seconds > 0, f"AHT must be > 0 seconds, got {aht_seconds}")
    _check(math.isfinite(target_seconds) and target_seconds >= 0,
           f"target must be >= 0 seconds, got {target_seconds}")


def service_level(rate_per_hour: float, aht_seconds: float, agents: int, target_seconds: float) -> float:
    """Share of arrivals answered within ``target_seconds`` (Erlang C).

    No arrivals: 1.0 (nobody waits). No more agents than Erlangs: 0.0 (the queue never clears).
    """
    _check_rates(rate_per_hour, aht_seconds, target_seconds)
    traffic = _traffic(rate_per_hour, aht_seconds)
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return _share_within(traffic, agents, erlang_c(traffic, agents), target_seconds, aht_seconds)


def agents_needed(rate_per_hour: float, aht_seconds: float, target_seconds: float, target_share: float,
                  max_occupancy: float = 0.85) -> int:
    """The fewest agents that answer ``target_share`` within ``target_seconds`` AND are busy at most
    ``max_occupancy`` of the time; 0 when nothing arrives.

    The occupancy cap is the planner's rule that agents who are never idle burn out: with a long
    SLA the service level alone would staff a desk at 99% occupancy. The search starts at the cap's
    minimum and carries the Erlang B recursion upward, so each candidate costs one step; the numbers
    are the same as :func:`service_level` gives, bit for bit.
    """
    _check_rates(rate_per_hour, aht_seconds, target_seconds)
    _check(0 <= target_share < 1, f"target share must be in [0, 1), got {target_share}")
    _check(0 < max_occupancy <= 1, f"max occupancy must be in (0, 1], got {max_occupancy}")
    traffic = _traffic(rate_per_hour, aht_seconds)
    if traffic == 0:
        return 0
    agents = max(1, math.ceil(traffic / max_occupancy - _ROUNDING))
    b = 1.0
    for n in range(1, agents + 1):
        b = _next_b(traffic, n, b)
    while True:
        if agents > traffic:
            c = _c_from_b(traffic, agents, b)
            if _share_within(traffic, agents, c, target_seconds, aht_seconds) >= target_share:
                return agents
        agents += 1
        b = _next_b(traffic, agents, b)


# ---- the plan ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """One volume factor: agents on the desk per hour of the week and what a week of them costs.

    ``agents[weekday][hour]`` (weekday 0 = Monday, local hours) is the 7 x 24 grid the dashboard
    draws as a heatmap. ``desk_hours`` are agent hours on the desk per week; ``paid_hours`` add the
    shrinkage (breaks, training, absence), ``fte`` and ``cost_eur`` (per week) follow from them. The
    peak is the first busiest hour in the week's order (None when nothing arrives).
    """

    factor: float
    agents: tuple[tuple[int, ...], ...]
    threads_per_week: float
    desk_hours: int
    paid_hours: float
    fte: float
    cost_eur: float
    peak_agents: int
    peak_weekday: int | None
    peak_hour: int | None


@dataclass(frozen=True)
class StaffingPlan:
    """Every scenario, in the order asked for, with the assumptions they were computed under."""

    scenarios: tuple[Scenario, ...]
    aht_seconds: float
    target_seconds: float
    target_share: float
    shrinkage: float
    hours_per_fte: float
    hourly_cost_eur: float
    max_occupancy: float

    def scenario(self, factor: float) -> Scenario:
        for s in self.scenarios:
            if math.isclose(s.factor, factor):
                return s
        raise KeyError(f"no scenario x{factor:g} (have {', '.join(f'x{s.factor:g}' for s in self.scenarios)})")


def _base_grid(arrivals: Sequence[tuple[int, int, float]]) -> list[list[float]]:
    grid = [[0.0] * 24 for _ in range(7)]
    seen: set[tuple[int, int]] = set()
    for weekday, hour, mean in arrivals:
        _check(0 <= weekday <= 6 and 0 <= hour <= 23, f"no hour of the week ({weekday}, {hour})")
        _check((weekday, hour) not in seen, f"hour of the week ({weekday}, {hour}) given twice")
        _check(math.isfinite(mean) and mean >= 0, f"arrivals must be >= 0, got {mean} at ({weekday}, {hour})")
        seen.add((weekday, hour))
        grid[weekday][hour] = float(mean)
    return grid


def staffing_plan(arrivals: Sequence[tuple[int, int, float]], *, aht_seconds: float, target_seconds: float,
                  target_share: float, scenarios: Sequence[float], shrinkage: float, hours_per_fte: float,
                  hourly_cost_eur: float, max_occupancy: float = 0.85) -> StaffingPlan:
    """Agents per hour of the week for each volume factor, and the week's hours, FTE and cost.

    ``arrivals`` are (weekday 0 = Monday, hour, mean arrivals in that hour of the week); hours not
    given have none. Each hour is staffed on its own with :func:`agents_needed` at ``mean x factor``
    arrivals per hour; an hour with any arrivals at all gets at least one agent, which is what a desk
    open around the clock costs.
    """
    _check(len(scenarios) > 0, "at least one scenario is needed")
    for factor in scenarios:
        _check(math.isfinite(factor) and factor >= 0, f"scenario factor must be >= 0, got {factor}")
    _check(0 <= shrinkage < 1, f"shrinkage must be in [0, 1), got {shrinkage}")
    _check(hours_per_fte > 0, f"hours per FTE must be > 0, got {hours_per_fte}")
    _check(hourly_cost_eur >= 0, f"hourly cost must be >= 0, got {hourly_cost_eur}")
    base = _base_grid(arrivals)
    known: dict[float, int] = {}

    def need(rate: float) -> int:
        if rate not in known:
            known[rate] = agents_needed(rate, aht_seconds, target_seconds, target_share, max_occupancy)
        return known[rate]

    plans = []
    for factor in scenarios:
        agents = tuple(tuple(need(base[d][h] * factor) for h in range(24)) for d in range(7))
        desk = sum(sum(row) for row in agents)
        paid = desk / (1.0 - shrinkage)
        peak = max(max(row) for row in agents)
        where = next(((d, h) for d in range(7) for h in range(24) if agents[d][h] == peak), None) if peak else None
        plans.append(Scenario(
            factor=float(factor), agents=agents, threads_per_week=sum(sum(row) for row in base) * factor,
            desk_hours=desk, paid_hours=paid, fte=paid / hours_per_fte, cost_eur=paid * hourly_cost_eur,
            peak_agents=peak, peak_weekday=where[0] if where else None, peak_hour=where[1] if where else None,
        ))
    return StaffingPlan(tuple(plans), float(aht_seconds), float(target_seconds), float(target_share),
                        float(shrinkage), float(hours_per_fte), float(hourly_cost_eur), float(max_occupancy))


# ---- arrivals from the warehouse ---------------------------------------------------------------

@dataclass(frozen=True)
class HourlyArrivals:
    """Mean threads started per local (weekday, hour), all 168 cells, over ``weeks`` complete weeks.

    ``weeks`` may be fewer than asked for when the data (or the date filter) covers fewer; it is 0
    when no complete week is covered, and every mean is then 0. ``first_week`` is the Monday the
    weeks start on; ``threads`` is how many threads the means are made of.
    """

    cells: list[tuple[int, int, float]]
    weeks: int
    first_week: date | None
    threads: int


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def hourly_arrivals(ctx: Context, weeks: int = 8) -> HourlyArrivals:
    """Mean Twitter threads started per local weekday x hour over the last ``weeks`` complete weeks.

    Weeks run Monday to Sunday in ``ctx.settings.timezone`` and end before the week the as-of time
    falls in (a week still under way would understate its hours). A week counts only when the data
    covers all of it: it must start on or after the day of the warehouse's first thread (the same rule
    as :func:`metrics.views.weekly_counts`; taken over all threads, since the account or team filters
    choose which threads are counted, not when collection began) and lie inside the date filter.
    Weeks inside that span without any thread count as zero. Staffing on a mean of complete weeks
    keeps one half-collected week from looking like a quiet one.

    Around a daylight-saving change a local hour occurs once less or once more within the span; the
    mean per week is kept as it is (one cell in one week in 8, a small bias either way).
    """
    _check(weeks >= 1, f"weeks must be >= 1, got {weeks}")
    tz = ctx.tz
    as_of_local = ctx.as_of.astimezone(zone(tz))
    end = as_of_local.date() - timedelta(days=as_of_local.weekday())
    if ctx.filters.date_to is not None:
        after = ctx.filters.date_to + timedelta(days=1)
        end = min(end, after - timedelta(days=after.weekday()))
    start = end - timedelta(weeks=weeks)
    if ctx.filters.date_from is not None:
        start = max(start, _monday_on_or_after(ctx.filters.date_from))
    start = min(start, end)
    lo_utc, hi_utc = local_midnight_utc(start, tz), local_midnight_utc(end, tz)
    rel = relation(ctx, "threads")
    sql = rel.statement(""",
coverage AS (
    SELECT timezone($tz, $hi_utc) AS hi,
           greatest(timezone($tz, $lo_utc),
                    coalesce(date_trunc('week', CAST(timezone($tz, min(started_at)) AS DATE) + 6),
                             timezone($tz, $hi_utc))) AS lo
    FROM threads WHERE started_at <= $as_of),
span AS (SELECT lo, greatest(datediff('day', lo, hi) // 7, 0) AS weeks FROM coverage),
counted AS (
    SELECT isodow(s.local_start) - 1 AS weekday, hour(s.local_start) AS hour, count(*) AS threads
    FROM (SELECT timezone($tz, started_at) AS local_start FROM b
          WHERE started_at >= $lo_utc AND started_at < $hi_utc) s, span
    WHERE s.local_start >= span.lo
    GROUP BY ALL)
SELECT d.weekday, h.hour, coalesce(n.threads, 0) AS threads,
       CASE WHEN span.weeks > 0 THEN coalesce(n.threads, 0) / span.weeks ELSE 0.0 END AS mean,
       span.weeks, span.lo
FROM range(7) d(weekday) CROSS JOIN range(24) h(hour) CROSS JOIN span
LEFT JOIN counted n ON n.weekday = d.weekday AND n.hour = h.hour
ORDER BY d.weekday, h.hour""", {"lo_utc": lo_utc, "hi_utc": hi_utc})
    rows = ctx.con.execute(*sql).fetchall()
    used = int(rows[0][4]) if rows else 0
    return HourlyArrivals(
        cells=[(int(r[0]), int(r[1]), float(r[3])) for r in rows], weeks=used,
        first_week=rows[0][5].date() if rows and used > 0 else None, threads=sum(int(r[2]) for r in rows),
    )


# ---- the sentence ------------------------------------------------------------------------------

def _peak(s: Scenario) -> Text | None:
    if s.peak_weekday is None or s.peak_hour is None:
        return None
    where = {"weekday": WEEKDAY_WORDS[s.peak_weekday], "hour": f"{s.peak_hour:02d}"}
    if s.peak_agents == 1:
        return Text("peak 1 agent on {weekday} at {hour}:00", **where)
    return Text("peak {agents} agents on {weekday} at {hour}:00", agents=s.peak_agents, **where)


def _scenario_text(s: Scenario, shrinkage: float, first: bool) -> Text:
    """The week's hours, FTE, cost and peak of one scenario; the ``first`` says where and at which shrinkage."""
    values = {"hours": count_text(s.desk_hours), "fte": f"{s.fte:.1f}", "cost": count_text(round(s.cost_eur))}
    peak = _peak(s)
    if first:
        values["shrinkage"] = f"{shrinkage:.0%}"
        if peak is not None:
            return Text("{hours} agent hours a week on the desk ({fte} FTE at {shrinkage} shrinkage, {cost} EUR a "
                        "week; {peak})", **values, peak=peak)
        return Text("{hours} agent hours a week on the desk ({fte} FTE at {shrinkage} shrinkage, {cost} EUR a week)",
                    **values)
    if peak is not None:
        return Text("{hours} agent hours a week ({fte} FTE, {cost} EUR a week; {peak})", **values, peak=peak)
    return Text("{hours} agent hours a week ({fte} FTE, {cost} EUR a week)", **values)


def verdict(plan: StaffingPlan, weeks: int | None = None) -> str:
    """The plan in one paragraph a manager can read; ``weeks`` (from :class:`HourlyArrivals`) says
    what the volumes stand on, and 0 weeks gives "not enough data" rather than a staff of zero.

    Each sentence is a :class:`Text` (the paragraph joins them), so that it can be said in German."""
    if weeks is not None and weeks < 1:
        return not_enough(weeks, 1, Text("complete weeks")).verdict
    first, *rest = plan.scenarios
    if first.threads_per_week == 0 and all(s.threads_per_week == 0 for s in rest):
        return Text("No threads arrived in the weeks looked at, so the model staffs no agents.")
    lead = {"threads": count_text(round(first.threads_per_week)), "sla": duration_text(plan.target_seconds),
            "share": f"{plan.target_share:.0%}", "plan": _scenario_text(first, plan.shrinkage, True)}
    clauses: list[str] = [
        Text("At today's volume (about {threads} threads a week) the SLA of {sla} for {share} of threads needs "
             "{plan}", **lead) if first.factor == 1 else
        Text("At x{factor} (about {threads} threads a week) the SLA of {sla} for {share} of threads needs {plan}",
             factor=f"{first.factor:g}", **lead)]
    for s in rest:
        more = _scenario_text(s, plan.shrinkage, False)
        clauses.append(Text("at today's volume {plan}", plan=more) if s.factor == 1 else
                       Text("at x{factor} {plan}", factor=f"{s.factor:g}", plan=more))
    sentences: list[str] = [Text("{plan}.", plan=join(clauses))]
    today = next((s for s in plan.scenarios if s.factor == 1 and s.desk_hours > 0), None)
    biggest = max(plan.scenarios, key=lambda s: s.factor)
    if today is not None and biggest.factor > 1:
        scale = {"factor": f"{biggest.factor:g}", "ratio": f"{biggest.desk_hours / today.desk_hours:.2f}"}
        quiet = any(1 in row for row in today.agents)
        sentences.append(
            Text("Volume x{factor} takes {ratio} times the agent hours, not {factor} times: a larger team absorbs "
                 "random peaks better, and a quiet hour needs one agent however few threads it gets.", **scale)
            if quiet else
            Text("Volume x{factor} takes {ratio} times the agent hours, not {factor} times: a larger team absorbs "
                 "random peaks better.", **scale))
    model = {"aht": duration_text(plan.aht_seconds), "busy": f"{plan.max_occupancy:.0%}"}
    if weeks is None:
        sentences.append(Text("(Erlang C with {aht} of handling per thread and agents at most {busy} busy.)", **model))
    elif weeks == 1:
        sentences.append(Text("(Erlang C with {aht} of handling per thread and agents at most {busy} busy; volumes: "
                              "mean of the last {weeks} complete week.)", **model, weeks=count_text(weeks)))
    else:
        sentences.append(Text("(Erlang C with {aht} of handling per thread and agents at most {busy} busy; volumes: "
                              "mean of the last {weeks} complete weeks.)", **model, weeks=count_text(weeks)))
    return join(sentences, " ")
