"""The data's own evidence beside the cost model's assumptions: did the hotline get lighter (ITS,
:mod:`carepulse.metrics.itsa`), and what would a desk staffed to the SLA cost at today's volume and more
(Erlang C, :mod:`carepulse.metrics.staffing`)?

Both take their inputs from the pilot's economics (:class:`metrics.economics.Pilot`): the launch
day, the Twitter cases per week, the handled minutes per Twitter case (the staffing model's handling
time) and the hotline's variable cost per case, so the three answers rest on one set of numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from carepulse.core.config import WEEKDAYS, BusinessHours
from carepulse.core.text import Text
from carepulse.metrics.context import Context
from carepulse.metrics.costs import WEEKS_PER_MONTH, memoised
from carepulse.metrics.economics import Pilot
from carepulse.metrics.itsa import ItsResult, hotline_weekly, implied_deflection, segmented_regression
from carepulse.metrics.staffing import HourlyArrivals, StaffingPlan, hourly_arrivals, staffing_plan, verdict
from carepulse.metrics.stats import Finding


def launch_day(ctx: Context, whole: Pilot) -> date | None:
    return ctx.settings.cost.pilot_start or whole.launch


def twitter_cases_per_week(whole: Pilot) -> float | None:
    days = whole.twitter.fixed_days
    return whole.twitter.cases / (days / 7) if days else None


def its(ctx: Context, whole: Pilot) -> ItsResult | None:
    launch = launch_day(ctx, whole)
    if launch is None:
        return None
    def estimate() -> ItsResult:
        weeks, counts = hotline_weekly(ctx, launch)
        return segmented_regression(weeks, counts, launch, min_weeks=ctx.settings.min_weeks)

    # Only the team and category filters reach hotline cases (metrics.itsa.HOTLINE_FILTERS): every
    # account's slice shares one estimate per snapshot.
    f = ctx.filters
    return memoised(ctx, ("its", f.team, f.category, launch, ctx.settings.min_weeks, ctx.settings.hotline_channel),
                    estimate)


def hotline_change(ctx: Context, whole: Pilot, result: ItsResult | None = None) -> Finding:
    """The ITS estimate (``result``, else computed) as a finding, its sentence extended by the implied
    deflection share."""
    if whole.reason and "no CRM data" in whole.reason:
        return Finding(None, verdict=whole.reason)
    result = result or its(ctx, whole)
    if result is None:
        return Finding(None, verdict=Text("cannot be judged: {reason}", reason=Text(
            "no Twitter launch in the data (no Twitter threads)")))
    if result.value is None:
        return Finding(None, n=result.pre_weeks + result.post_weeks, verdict=result.verdict)
    share, low, high = implied_deflection(result, twitter_cases_per_week(whole))
    sentence = result.verdict
    if share is not None and low is not None and high is not None:
        sentence = Text("{verdict} Calls avoided per Twitter case: {share} (95% CI {low} to {high}), against the "
                        "assumed deflection share of {assumed}.", verdict=result.verdict, share=f"{share:.0%}",
                        low=f"{low:.0%}", high=f"{high:.0%}", assumed=f"{whole.deflection:.0%}")
    return Finding(result.value, result.ci_low, result.ci_high, result.p, result.pre_weeks + result.post_weeks,
                   sentence)


def open_hours_arrivals(cells: list[tuple[int, int, float]], hours: BusinessHours) -> list[tuple[int, int, float]]:
    """Arrivals moved to the hours the desk is open: a thread that comes in at night waits for the
    morning, so the morning's first hour carries it (the Monday backlog of a real desk). Closed hours
    need no agent. A calendar with no open hour at all leaves the arrivals where they are."""
    grid = {(d, h): v for d, h, v in cells}
    open_cells = [(d, h) for d in range(7) for h in range(24) if _is_open(hours, d, h)]
    if not open_cells:
        return cells
    out = {cell: 0.0 for cell in grid}
    for (d, h), value in grid.items():
        index = d * 24 + h
        for step in range(168):
            cell = divmod((index + step) % 168, 24)
            if _is_open(hours, *cell):
                out[cell] = out.get(cell, 0.0) + value
                break
    return [(d, h, out.get((d, h), 0.0)) for d in range(7) for h in range(24)]


def _is_open(hours: BusinessHours, weekday: int, hour: int) -> bool:
    """The hour [hour, hour+1) starts inside the opening hours of that weekday."""
    span = hours.hours.get(WEEKDAYS[weekday])
    return span is not None and span[0].hour <= hour < (span[1].hour + (1 if span[1].minute else 0))


@dataclass(frozen=True)
class Staffing:
    plan: StaffingPlan | None
    arrivals: HourlyArrivals
    sentences: dict[float, str]
    summary: str


def staffing_for(ctx: Context, whole: Pilot, factors: list[float] | None = None) -> Staffing:
    """The Erlang C plan at today's arrivals and each volume factor, with cost against benefit."""
    settings = ctx.settings
    plan_settings = settings.staffing
    factors = factors or list(plan_settings.scenarios)
    arrivals = hourly_arrivals(ctx, plan_settings.weeks)
    cases, minutes = whole.twitter.cases, whole.twitter.tally.minutes
    if arrivals.weeks < 1 or not cases or not minutes:
        reason = Text("cannot be judged: {reason}", reason=Text("no complete week of Twitter threads")
                      if arrivals.weeks < 1 else Text("no handled minutes of Twitter cases"))
        return Staffing(None, arrivals, {f: reason for f in factors}, reason)
    twitter_rate = settings.cost.channels["twitter"]
    cells = open_hours_arrivals(arrivals.cells, settings.business_hours)
    plan = staffing_plan(cells, aht_seconds=minutes / cases * 60, target_seconds=settings.sla_minutes * 60,
                         target_share=plan_settings.target_share, scenarios=factors,
                         shrinkage=plan_settings.shrinkage, hours_per_fte=plan_settings.hours_per_fte,
                         hourly_cost_eur=twitter_rate.hourly_cost_eur, max_occupancy=plan_settings.max_occupancy)
    sentences: dict[float, str] = {}
    for s in plan.scenarios:
        staff_month = s.cost_eur * WEEKS_PER_MONTH
        if whole.hotline_cpc is not None:
            saved = s.threads_per_week * WEEKS_PER_MONTH * whole.deflection * whole.hotline_cpc
            sentences[s.factor] = Text("{fte} FTE, {cost} EUR a month for the desk against {saved} EUR a month of "
                                       "hotline time saved at a deflection share of {share}.", fte=f"{s.fte:.1f}",
                                       cost=f"{staff_month:,.0f}", saved=f"{saved:,.0f}",
                                       share=f"{whole.deflection:.0%}")
        else:
            sentences[s.factor] = Text("{fte} FTE, {cost} EUR a month for the desk.", fte=f"{s.fte:.1f}",
                                       cost=f"{staff_month:,.0f}")
    return Staffing(plan, arrivals, sentences, verdict(plan, arrivals.weeks))


def staffing(ctx: Context, whole: Pilot, factors: list[float]) -> tuple[dict[float, float], dict[float, str]]:
    result = staffing_for(ctx, whole, factors)
    if result.plan is None:
        return {}, result.sentences
    return {s.factor: s.fte for s in result.plan.scenarios}, result.sentences
