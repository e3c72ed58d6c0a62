"""Does the Twitter pilot pay off, since when, how sure, under which assumptions.

Built on the cost ledger (:mod:`carepulse.metrics.costs`); ``docs/economics.md`` works every figure by hand.

* **Avoided cost** of a month = Twitter cases x ``deflection_share`` x the hotline's *variable* cost
  per case in that month (handled minutes x hourly cost / cases; the pilot period's when the
  hotline has no case that month) + the hotline fixed costs actually cut
  (``hotline_fixed_avoided_monthly_eur``, pro rata by the days Twitter worked; default none).
* **Net benefit** of a month = avoided cost - Twitter's cost (labour + its fixed costs). The pilot's
  net benefit is the sum over the pilot months (from ``pilot_start``, else the first Twitter month);
  it does not include the set-up cost, which payback does.
* **Break-even deflection share**: the share at which the net benefit is zero,
  (Twitter cost - avoided fixed) / sum of (Twitter cases x hotline variable cost per case).
* **Payback month**: the first month whose cumulative net benefit, starting at minus
  ``pilot_setup_eur``, is at least zero. If not reached: **projected** from 1,000 simulated paths of
  the weekly answered-thread volume (the ETS model of the volume forecast) with today's margin per
  case and fixed costs; the month is the paths' median and the range their 2.5 % and 97.5 %
  quantiles, open when more than 2.5 % of the paths do not pay back within ``projection_months``.
* Without hotline cases no avoided cost can be valued: the figures are withheld with the reason,
  never made up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from carepulse.core.config import Settings, describe
from carepulse.core.text import Text
from carepulse.metrics.context import Context, Filters
from carepulse.metrics.costs import TWITTER, WEEKS_PER_MONTH, Ledger, Line, covered_days, ledger, memoised, month_days


@dataclass
class Month:
    """One pilot month: the inputs and the result, a row of the payback table."""

    month: str
    twitter_cases: int
    hotline_cpc: float | None
    avoided_eur: float
    twitter_cost_eur: float
    net_eur: float
    cumulative_eur: float
    partial: bool


@dataclass
class Projection:
    month: str | None
    low: str | None
    high: str | None
    sentence: str


@dataclass
class Pilot:
    """The pilot's economics for one selection."""

    deflection: float
    twitter: Line
    hotline: Line
    hotline_cpc: float | None
    months: list[Month] = field(default_factory=list)
    net_eur: float | None = None
    breakeven_share: float | None = None
    sensitivity: list[tuple[float, float]] = field(default_factory=list)
    payback_month: str | None = None
    projection: Projection | None = None
    reason: str | None = None
    start_month: str | None = None
    period: tuple[date, date] | None = None
    launch: date | None = None
    payback_reason: str | None = None  # the net benefit stands, payback is not judged (a slice, a later start)

    def net_at(self, share: float) -> float | None:
        """The net benefit at another deflection share: the model is linear in it."""
        if not self.months:
            return None
        valued = sum(m.twitter_cases * (m.hotline_cpc or 0.0) for m in self.months)
        avoided_fixed = sum(m.avoided_eur for m in self.months) - self.deflection * valued
        return share * valued + avoided_fixed - sum(m.twitter_cost_eur for m in self.months)


def assumptions(settings: Settings) -> dict[str, Any]:
    cost = describe(settings)["cost"]
    cost["hotline_channel"] = settings.hotline_channel
    cost["staffing"] = describe(settings)["staffing"]
    cost["sla_minutes"] = settings.sla_minutes
    return dict(cost)


def _start_month(ctx: Context, book: Ledger) -> str | None:
    start = ctx.settings.cost.pilot_start
    if start:
        return f"{start.year:04d}-{start.month:02d}"
    months = book.months(TWITTER)
    return months[0] if months else None


def _hotline_book(ctx: Context, book: Ledger) -> Ledger:
    """The hotline's ledger for the selection. Only the filters a call has apply: the date and the
    category. Account, agent, team and channel describe who answered on Twitter; the calls those
    Twitter cases replaced were the hotline's, whoever answers them there."""
    f = ctx.filters
    if not (f.account or f.team or f.channel) and not book.grouped:
        return book
    hotline_ctx = replace(ctx, filters=Filters(date_from=f.date_from, date_to=f.date_to, category=f.category))
    return memoised(ctx, ("hotline", f.date_from, f.date_to, f.category),
                    lambda: ledger(hotline_ctx, None, threads=False))


def pilot(ctx: Context, book: Ledger | None = None, group: str | None = None, by: str | None = None) -> Pilot:
    """The economics of the selection (or of one ``group`` of a ledger grouped ``by``).

    A group is valued at the selection's hotline cost per case, month by month, so that the groups'
    net benefits add up to the selection's (a category's own call length would make the whole
    differ from the sum of its parts)."""
    settings = ctx.settings
    hotline_name = settings.hotline_channel
    book = book or ledger(ctx, by)
    hotline_book = _hotline_book(ctx, book)
    hotline_group = None
    start = _start_month(ctx, book)
    deflection = settings.cost.deflection_share
    twitter = book.select(channel=TWITTER, group=group)
    result = Pilot(deflection, twitter, Line(hotline_name), None, start_month=start, period=twitter.period,
                   launch=settings.cost.pilot_start or (book.spans[TWITTER][0] if TWITTER in book.spans else None))
    if not book.has_crm:
        result.reason = _not_judged(Text("no CRM data (the hotline's cases and costs come from the CRM export)"))
        return result
    if not hotline_book.months(hotline_name):
        result.reason = _not_judged(Text("no {channel} (hotline) cases in this selection to value a deflected case "
                                         "by", channel=hotline_name))
        return result
    if start is None or not twitter.cases:
        result.reason = _not_judged(Text("no Twitter cases in this selection"))
        return result
    pilot_months = [m for m in book.months(TWITTER) if m >= start]
    hotline_pilot = Line(hotline_name)
    for m in hotline_book.months(hotline_name):
        if m >= start:
            hotline_pilot.merge(hotline_book.select(channel=hotline_name, month=m, group=hotline_group))
    if not hotline_pilot.cases:  # no hotline cases during the pilot: the whole window's
        hotline_pilot = hotline_book.select(channel=hotline_name, group=hotline_group)
    result.hotline = hotline_pilot
    result.hotline_cpc = hotline_pilot.variable_cost_per_case
    if result.hotline_cpc is None:
        result.reason = _not_judged(Text("no {channel} (hotline) cases in this selection", channel=hotline_name))
        return result
    avoided_monthly = settings.cost.hotline_fixed_avoided_monthly_eur
    balance = -settings.cost.pilot_setup_eur
    for m in pilot_months:
        tw = book.select(channel=TWITTER, month=m, group=group)
        own = hotline_book.select(channel=hotline_name, month=m, group=hotline_group)
        cpc = own.variable_cost_per_case if own.cases else result.hotline_cpc
        avoided = tw.cases * deflection * (cpc or 0.0) + avoided_monthly * tw.fixed_days / month_days(m)
        net = avoided - tw.cost_eur
        balance += net
        result.months.append(Month(m, tw.cases, cpc, avoided, tw.cost_eur, net, balance, bool(tw.partial_months)))
    result.net_eur = sum(m.net_eur for m in result.months)
    valued = sum(m.twitter_cases * (m.hotline_cpc or 0.0) for m in result.months)
    avoided_fixed = sum(m.avoided_eur for m in result.months) - deflection * valued
    twitter_cost = sum(m.twitter_cost_eur for m in result.months)
    result.breakeven_share = (twitter_cost - avoided_fixed) / valued if valued else None
    result.sensitivity = [(share, result.net_at(share) or 0.0) for share in settings.cost.deflection_sensitivity]
    if ctx.filters.date_from and start < f"{ctx.filters.date_from:%Y-%m}":
        result.payback_reason = Text("payback counts from the pilot start ({start}); the date filter starts later, "
                                     "so payback is not judged for this selection", start=start)
        return result
    if ctx.filters.dimension_values() or group is not None:
        result.payback_reason = Text("payback is judged for the whole pilot: the set-up cost is not split by "
                                     "account, team, category or channel")
        return result
    result.payback_month = next((m.month for m in result.months if m.cumulative_eur >= 0), None)
    return result


def _not_judged(reason: Text) -> Text:
    """A withheld figure's reason: "cannot be judged: " and why (the dashboard may show the why alone)."""
    return Text("cannot be judged: {reason}", reason=reason)


# ---- projection ----------------------------------------------------------------------------------

def _month_equivalents(book: Ledger, group: str | None) -> float:
    """Calendar months of Twitter work in the selection (partial months pro rata), for per-month rates."""
    twitter = [(m, line) for (ch, m, g), line in book.lines.items() if ch == TWITTER and (group is None or g == group)]
    span = book.spans.get(TWITTER)
    total = 0.0
    for month in sorted({m for m, _ in twitter}):
        total += covered_days(month, span, book.window) / month_days(month) if span else 0.0
    return total


def project(ctx: Context, result: Pilot, book: Ledger, weekly_cases: list[tuple[date, int]],
            group: str | None = None) -> Projection:
    """The payback month the volume forecast leads to, with a range (see the module docstring)."""
    settings = ctx.settings
    horizon_months = settings.cost.projection_months
    if result.payback_month:
        return Projection(result.payback_month, result.payback_month, result.payback_month,
                          Text("paid back in {month}", month=result.payback_month))
    if result.reason or result.payback_reason or not result.months or result.hotline_cpc is None:
        return Projection(None, None, None, result.reason or result.payback_reason or Text("cannot be judged"))
    if len(weekly_cases) < max(settings.min_weeks, 4):
        return Projection(None, None, None, Text("no projection: {weeks} complete weeks of Twitter volume (at least "
                                                 "{minimum} needed)", weeks=len(weekly_cases),
                                                 minimum=max(settings.min_weeks, 4)))
    twitter = result.twitter
    margin = result.deflection * result.hotline_cpc - (twitter.variable_cost_per_case or 0.0)
    months = _month_equivalents(book, group) or 1.0
    avoided_fixed = sum(m.avoided_eur for m in result.months) - result.deflection * sum(
        m.twitter_cases * (m.hotline_cpc or 0.0) for m in result.months)
    fixed_net_month = (twitter.fixed_eur - avoided_fixed) / months
    balance = result.months[-1].cumulative_eur
    if margin <= 0 and fixed_net_month >= 0:
        return Projection(None, None, None, Text("not projected to pay back: each Twitter case costs more than the "
                                                 "hotline time it saves at these assumptions"))
    from carepulse.metrics.stats import forecast_paths

    horizon = math.ceil(horizon_months * WEEKS_PER_MONTH)
    paths = forecast_paths([n for _, n in weekly_cases], horizon=horizon)
    weekly_net = paths * margin - fixed_net_month / WEEKS_PER_MONTH
    cumulative = balance + np.cumsum(weekly_net, axis=0)
    reached = cumulative >= 0
    first_week = np.where(reached.any(axis=0), reached.argmax(axis=0), np.inf)
    last_week = weekly_cases[-1][0]

    def month_of(q: float) -> str | None:
        index = float(np.quantile(first_week, q))
        if math.isinf(index):
            return None
        day = last_week + timedelta(days=7 * (int(index) + 1) + 6)
        return f"{day.year:04d}-{day.month:02d}"

    mid, low, high = month_of(0.5), month_of(0.025), month_of(0.975)
    if mid is None:
        return Projection(None, low, None, Text("not projected to pay back within {months} months at the forecast "
                                                "volume", months=horizon_months))
    until = high or Text("later than {n} months from now", n=horizon_months)
    return Projection(mid, low, high, Text("projected payback {month} (95% range {low} to {high}), from the volume "
                                           "forecast of {weeks} weeks and today's margin per case", month=mid,
                                           low=low, high=until, weeks=len(weekly_cases)))
