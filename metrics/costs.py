"""The cost model: cost per case and per resolved case by channel, the Twitter pilot's net benefit
and its payback month. Assumptions come from ``settings.cost`` and are shown next to every result.

Per channel and month (local time), from two set-wise queries:

* CRM cases of the channel: ``cases``, handled minutes (a case without minutes counts the
  channel's ``default_handled_minutes``), outcomes, and cases resolved without recontact.
* Twitter only: answered threads **without** a CRM case also are cases; their handling time is
  ``brand replies x minutes_per_brand_tweet``.

``cost = handled minutes / 60 x hourly cost + fixed monthly cost x months``, where months are the
period's days / 30.436875 (the period: the date filter, else the first active day to the as-of
day; by month: that month's days inside the period). ``cost_per_case = cost / cases``;
``cost_per_resolved_case = cost / (cases x resolved / cases with a final outcome)``; the rate
comes from the channel's CRM cases, and for Twitter it is assumed to hold for threads without a
case too (cases get logged for the harder threads, so this is conservative).

Net benefit = Twitter cases resolved without another contact within the recontact window
(CRM Twitter cases, plus threads without a case at the CRM Twitter cases' rate) x the hotline's
cost per case, minus the Twitter channel's cost. Payback month: the first month in which the
cumulative net benefit since the pilot start (``cost.pilot_start``, else the first month with
Twitter activity) covers ``cost.pilot_setup_eur``.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from carepulse.config import ChannelCost, Settings, describe
from metrics.context import Context, zone
from metrics.registry import Metric
from metrics.sources import KEY_FORMATS
from metrics.sql import relation

DAYS_PER_MONTH = 365.25 / 12


@dataclass
class Tally:
    """What one channel did in one month."""

    cases: int = 0
    resolved: int = 0
    final: int = 0
    resolved_kept: int = 0
    minutes: float = 0.0
    threads_without_case: int = 0
    first_day: date | None = None

    def add(self, other: Tally) -> None:
        self.cases += other.cases
        self.resolved += other.resolved
        self.final += other.final
        self.resolved_kept += other.resolved_kept
        self.minutes += other.minutes
        self.threads_without_case += other.threads_without_case
        if other.first_day and (self.first_day is None or other.first_day < self.first_day):
            self.first_day = other.first_day


@dataclass
class ChannelResult:
    channel: str
    cases: int
    cost_eur: float
    labour_eur: float
    fixed_eur: float
    cost_per_case: float | None
    resolution_rate: float | None
    cost_per_resolved_case: float | None
    resolved_kept_est: float | None


@dataclass
class CostReport:
    """Everything the cost panel shows: per channel, per month, and the assumptions."""

    period: tuple[date, date] | None
    channels: dict[str, ChannelResult]
    months: dict[str, dict[str, ChannelResult]]
    net_benefit_eur: float | None
    monthly_net_benefit: dict[str, float | None]
    payback_month: str | None
    assumptions: dict[str, Any] = field(default_factory=dict)


def assumptions(settings: Settings) -> dict[str, Any]:
    cost = describe(settings)["cost"]
    cost["hotline_channel"] = settings.hotline_channel
    cost["recontact_days"] = settings.recontact_days
    cost["days_per_month"] = DAYS_PER_MONTH
    return dict(cost)


def _rate(settings: Settings, channel: str) -> ChannelCost:
    channels = settings.cost.channels
    return channels.get(channel) or channels["other"]


def _tallies(ctx: Context) -> dict[tuple[str, str], Tally]:
    """(channel, local month) -> tally, from CRM cases and Twitter threads without a case."""
    settings = ctx.settings
    default_minutes = " ".join(
        f"WHEN '{name}' THEN {float(c.default_handled_minutes)}" for name, c in settings.cost.channels.items()
    )
    other = float(settings.cost.channels["other"].default_handled_minutes)
    out: dict[tuple[str, str], Tally] = defaultdict(Tally)
    cases = relation(ctx, "cases", ("rc",), by="month")
    sql = f"""{cases.sql}
SELECT coalesce(channel, 'other') AS channel, {cases.key} AS month, count(*),
       count(*) FILTER (WHERE resolved), count(*) FILTER (WHERE final),
       count(*) FILTER (WHERE resolved AND NOT recontacted),
       sum(coalesce(handled_minutes, CASE channel {default_minutes} ELSE {other} END)),
       min(timezone('{ctx.tz}', opened_at))::DATE
FROM b GROUP BY ALL"""
    has_cases = ctx.con.execute("SELECT EXISTS (SELECT 1 FROM crm_cases)").fetchone() == (True,)
    for channel, month, n, resolved, final, kept, minutes, first in (ctx.con.execute(sql).fetchall()
                                                                      if has_cases else []):
        out[(channel, month)].add(Tally(int(n), int(resolved), int(final), int(kept), float(minutes or 0), 0, first))
    per_tweet = float(settings.cost.minutes_per_brand_tweet)
    threads = relation(ctx, "threads", ("tc",))
    # Threads are tallied per UTC quarter hour first and only those buckets are put into local months:
    # time-zone offsets and their changes fall on quarter hours, so a bucket never straddles a local
    # month, and 770 k per-row time-zone conversions (0.1 s) become a few thousand.
    month = KEY_FORMATS["month"].format(g=f"date_trunc('month', timezone('{ctx.tz}', to_timestamp(q * 900)))")
    sql = f"""{threads.sql},
quarters AS (
    SELECT CAST(floor(epoch(started_at) / 900) AS BIGINT) AS q,
           count(*) FILTER (WHERE brand_replies > 0 AND NOT linked) AS handled,
           sum(brand_replies) FILTER (WHERE NOT linked) AS replies, min(started_at) AS first_at
    FROM b GROUP BY q)
SELECT {month} AS month, sum(handled), sum(replies), min(timezone('{ctx.tz}', first_at))::DATE
FROM quarters GROUP BY ALL"""
    for month, handled, replies, first in ctx.con.execute(sql).fetchall():
        if handled:
            out[("twitter", month)].add(Tally(int(handled), 0, 0, 0, float(replies or 0) * per_tweet, int(handled),
                                              first))
    return dict(out)


def _period(ctx: Context, tallies: dict[tuple[str, str], Tally]) -> tuple[date, date] | None:
    firsts = [t.first_day for t in tallies.values() if t.first_day]
    start = ctx.filters.date_from or (min(firsts) if firsts else None)
    if start is None:
        return None
    end = ctx.as_of.astimezone(zone(ctx.tz)).date()
    if ctx.filters.date_to and ctx.filters.date_to < end:
        end = ctx.filters.date_to
    return start, max(start, end)


def _month_days(month: str, period: tuple[date, date]) -> int:
    year, mon = (int(x) for x in month.split("-"))
    first = max(date(year, mon, 1), period[0])
    last = min(date(year, mon, calendar.monthrange(year, mon)[1]), period[1])
    return max((last - first).days + 1, 0)


def _channel_result(channel: str, tally: Tally, days: int, settings: Settings) -> ChannelResult:
    rate = _rate(settings, channel)
    labour = tally.minutes / 60.0 * rate.hourly_cost_eur
    fixed = rate.fixed_monthly_eur * days / DAYS_PER_MONTH
    cost = labour + fixed
    resolution = tally.resolved / tally.final if tally.final else None
    crm_cases = tally.cases - tally.threads_without_case
    kept_rate = tally.resolved_kept / tally.final if tally.final else None
    kept = (tally.resolved_kept + tally.threads_without_case * kept_rate) if kept_rate is not None else None
    resolved_est = tally.cases * resolution if resolution is not None else None
    return ChannelResult(
        channel=channel, cases=tally.cases, cost_eur=cost, labour_eur=labour, fixed_eur=fixed,
        cost_per_case=cost / tally.cases if tally.cases else None, resolution_rate=resolution,
        cost_per_resolved_case=cost / resolved_est if resolved_est else None,
        resolved_kept_est=kept if crm_cases or tally.threads_without_case else None,
    )


def _net(channels: dict[str, ChannelResult], settings: Settings, hotline_cpc: float | None) -> float | None:
    twitter = channels.get("twitter")
    if twitter is None or twitter.resolved_kept_est is None or hotline_cpc is None:
        return None
    return twitter.resolved_kept_est * hotline_cpc - twitter.cost_eur


def report(ctx: Context) -> CostReport:
    """The whole cost picture for the context's filters (the breakdown is ignored)."""
    settings = ctx.settings
    tallies = _tallies(ctx)
    period = _period(ctx, tallies)
    if period is None:
        return CostReport(None, {}, {}, None, {}, None, assumptions(settings))
    months = sorted({m for _, m in tallies})
    per_month: dict[str, dict[str, ChannelResult]] = {}
    totals: dict[str, Tally] = defaultdict(Tally)
    for month in months:
        per_month[month] = {
            ch: _channel_result(ch, t, _month_days(month, period), settings)
            for (ch, m), t in sorted(tallies.items()) if m == month
        }
        for (ch, m), t in tallies.items():
            if m == month:
                totals[ch].add(t)
    days = (period[1] - period[0]).days + 1
    channels = {ch: _channel_result(ch, t, days, settings) for ch, t in sorted(totals.items())}
    hotline = channels.get(settings.hotline_channel)
    net = _net(channels, settings, hotline.cost_per_case if hotline else None)
    monthly: dict[str, float | None] = {}
    for month, chans in per_month.items():
        own = chans.get(settings.hotline_channel)
        cpc = own.cost_per_case if own and own.cost_per_case else (hotline.cost_per_case if hotline else None)
        monthly[month] = _net(chans, settings, cpc)
    return CostReport(period, channels, per_month, net, monthly, _payback(ctx, monthly, tallies),
                      assumptions(settings))


def _payback(ctx: Context, monthly: dict[str, float | None], tallies: dict[tuple[str, str], Tally]) -> str | None:
    start = ctx.settings.cost.pilot_start
    twitter_months = sorted(m for ch, m in tallies if ch == "twitter")
    first = start.strftime("%Y-%m") if start else (twitter_months[0] if twitter_months else None)
    if first is None:
        return None
    balance = -float(ctx.settings.cost.pilot_setup_eur)
    for month in sorted(monthly):
        value = monthly[month]
        if month < first or value is None:
            continue
        balance += value
        if balance >= 0:
            return month
    return None


def compute(ctx: Context, metrics: list[Metric]) -> dict[str, Any]:
    """Values of the cost metrics for the total and the requested breakdown (channel or month)."""
    from metrics.engine import Cell, MetricValues

    rep = report(ctx)
    out = {m.name: MetricValues() for m in metrics}

    def cells(chans: dict[str, ChannelResult], net: float | None) -> dict[str, Cell]:
        cost = sum(c.cost_eur for c in chans.values())
        cases = sum(c.cases for c in chans.values())
        known = [c for c in chans.values() if c.resolution_rate is not None]
        resolved = sum(c.cases * (c.resolution_rate or 0) for c in known)
        return {
            "cost_per_case": Cell(cost / cases if cases else None, n=cases),
            "cost_per_resolved_case": Cell(sum(c.cost_eur for c in known) / resolved if resolved else None),
            "pilot_net_benefit_eur": Cell(net),
        }

    total = cells(rep.channels, rep.net_benefit_eur)
    total["pilot_payback_month"] = Cell(rep.payback_month,
                                        note=None if rep.payback_month or rep.net_benefit_eur is None
                                        else "the set-up cost is not yet paid back")
    groups: dict[str, dict[str, Cell]] = {}
    if ctx.by == "channel":
        for ch, result in rep.channels.items():
            groups[ch] = cells({ch: result}, None)
            groups[ch]["pilot_net_benefit_eur"] = Cell()
    elif ctx.by == "month":
        for month, chans in rep.months.items():
            groups[month] = cells(chans, rep.monthly_net_benefit.get(month))
    for m in metrics:
        out[m.name].total = total[m.name]
        if m.allows(ctx.by) and ctx.by is not None:
            out[m.name].groups = {k: v[m.name] for k, v in groups.items() if m.name in v}
    return out
