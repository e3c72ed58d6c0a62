"""The cost ledger: what each channel's work cost, per local month and per group, with fixed costs
charged only where they belong. ``docs/economics.md`` works every figure by hand.

Why a ledger and not one ratio: a controller must be able to add the slices up to the whole and
recompute each from the exported inputs. So every cell holds the raw inputs (cases, handled
minutes, fixed-cost days, allocation share) and the figures are derived in one place
(:class:`Line`).

* **Cases.** A channel's cases are its CRM cases (outcome ``duplicate`` left out). A **Twitter case**
  is a thread that was answered or has a Twitter CRM case, plus each Twitter CRM case linked to no
  thread (its tweets lie outside the warehouse); every Twitter figure uses this one count.
* **Handled minutes.** CRM cases: their handled minutes, else the channel's
  ``default_handled_minutes``. Answered Twitter threads without a Twitter CRM case: brand replies x
  ``minutes_per_brand_tweet``, plus ``minutes_per_dm_case`` when the thread was handed to DM.
* **Fixed costs**: ``fixed_monthly_eur`` for each calendar month, pro rata by day for a partial one
  (a full month costs exactly its monthly amount). They run only over the days a channel has data
  (its first to its last active day, inside the date filter): a CRM export that starts later than
  the tweets does not charge the hotline's licences for months it did not report. A filtered or
  broken-down slice (account, agent, team, category) carries the share of each month's fixed cost
  that its handled minutes are of the channel's in that month, so slices add up to the whole.

Two set-wise queries per selection (CRM cases; threads), grouped by channel, local month and group;
with a dimension filter the same two without it give the channel totals the shares are taken of.
"""

from __future__ import annotations

import calendar
import math
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, TypeVar, cast

from carepulse.core.config import ChannelCost, Settings
from carepulse.metrics import snapshots
from carepulse.metrics.context import TIME_BREAKDOWNS, Context, Filters, zone
from carepulse.metrics.sentiment import DM_HANDOFF_RE
from carepulse.metrics.sources import KEY_FORMATS, SOURCES, TOTAL, expand
from carepulse.metrics.sql import relation
from carepulse.metrics.sqltree import statement

TWITTER = "twitter"


@dataclass
class Tally:
    """What one channel did in one month for one group: the ledger's raw inputs."""

    cases: int = 0
    crm_cases: int = 0
    minutes: float = 0.0
    minutes_sq: float = 0.0  # sum of squared minutes of the observations (CRM cases, estimated threads)
    observations: int = 0
    resolved: int = 0
    final: int = 0
    estimated_cases: int = 0
    estimated_minutes: float = 0.0
    dm_cases: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Line:
    """One channel's costs for one group (or the whole selection), with the inputs behind them."""

    channel: str
    tally: Tally = field(default_factory=Tally)
    labour_eur: float = 0.0
    fixed_eur: float = 0.0
    fixed_days: float = 0.0
    months: list[str] = field(default_factory=list)
    partial_months: list[str] = field(default_factory=list)
    period: tuple[date, date] | None = None

    @property
    def cost_eur(self) -> float:
        return self.labour_eur + self.fixed_eur

    @property
    def cases(self) -> int:
        return self.tally.cases

    def per_case(self, amount: float) -> float | None:
        return amount / self.cases if self.cases else None

    @property
    def cost_per_case(self) -> float | None:
        return self.per_case(self.cost_eur)

    @property
    def variable_cost_per_case(self) -> float | None:
        return self.per_case(self.labour_eur)

    @property
    def resolution_rate(self) -> float | None:
        return self.tally.resolved / self.tally.final if self.tally.final else None

    @property
    def cost_per_resolved_case(self) -> float | None:
        rate = self.resolution_rate
        return self.cost_eur / (self.cases * rate) if rate and self.cases else None

    def merge(self, other: Line) -> None:
        self.tally.add(other.tally)
        self.labour_eur += other.labour_eur
        self.fixed_eur += other.fixed_eur
        self.fixed_days += other.fixed_days
        self.months = sorted({*self.months, *other.months})
        self.partial_months = sorted({*self.partial_months, *other.partial_months})
        if other.period:
            self.period = other.period if self.period is None else (
                min(self.period[0], other.period[0]), max(self.period[1], other.period[1]))


# (channel, month, group) -> tally
Tallies = dict[tuple[str, str, str], Tally]


@dataclass
class Ledger:
    """Every channel's lines per (month, group), and the channel spans fixed costs run over."""

    lines: dict[tuple[str, str, str], Line]
    spans: dict[str, tuple[date, date]]
    window: tuple[date | None, date | None]
    has_crm: bool
    grouped: bool
    _index: dict[str, list[tuple[tuple[str, str, str], Line]]] | None = field(default=None, repr=False)

    def select(self, *, channel: str | None = None, month: str | None = None, group: str | None = None) -> Line:
        """The sum of the lines that match (one channel's, or every channel's when ``channel`` is None)."""
        out = Line(channel or "(all)")
        for (ch, m, _), line in self._of_group(group):
            if (channel is None or ch == channel) and (month is None or m == month):
                out.merge(line)
        return out

    def _of_group(self, group: str | None) -> list[tuple[tuple[str, str, str], Line]]:
        """The lines of one group (all lines for None), indexed once: a breakdown by 100 accounts asks
        for each group's lines many times."""
        if group is None:
            return list(self.lines.items())
        if self._index is None:
            index: dict[str, list[tuple[tuple[str, str, str], Line]]] = defaultdict(list)
            for key, line in self.lines.items():
                index[key[2]].append((key, line))
            self._index = dict(index)
        return self._index.get(group, [])

    def channels(self) -> list[str]:
        return sorted({ch for ch, _, _ in self.lines})

    def groups(self) -> list[str]:
        return sorted({g for _, _, g in self.lines})

    def months(self, channel: str | None = None) -> list[str]:
        return sorted({m for ch, m, _ in self.lines if channel is None or ch == channel})


def labour_variance(t: Tally, per_minute: float) -> float | None:
    """Variance of the total labour of ``t.observations`` cases drawn like these: n x s^2 x (EUR a minute)^2,
    s^2 the sample variance of their handled minutes (None below two observations)."""
    n = t.observations
    if n < 2:
        return None
    variance = max((t.minutes_sq - t.minutes * t.minutes / n) / (n - 1), 0.0)
    return n * variance * per_minute * per_minute


def cost_per_case_interval(parts: list[Line], settings: Settings) -> tuple[float | None, float | None]:
    """95% interval of the cost per case of ``parts`` (one line per channel, months merged) from the spread
    of handled minutes between cases: a normal approximation of each channel's total labour, channels
    independent; fixed costs and case counts are known, not sampled. (None, None) when a channel with
    cases has fewer than two observations."""
    cases = sum(p.cases for p in parts)
    if not cases:
        return None, None
    variance = 0.0
    for p in parts:
        if not p.cases and not p.tally.observations:
            continue
        part = labour_variance(p.tally, rate(settings, p.channel).hourly_cost_eur / 60.0)
        if part is None:
            return None, None
        variance += part
    cpc = sum(p.cost_eur for p in parts) / cases
    half = 1.959963984540054 * math.sqrt(variance) / cases
    return cpc - half, cpc + half


def rate(settings: Settings, channel: str) -> ChannelCost:
    channels = settings.cost.channels
    return channels.get(channel) or channels["other"]


def _month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


WEEKS_PER_MONTH = 365.2425 / 7 / 12  # the one conversion between weekly volumes and monthly money


def month_days(month: str) -> int:
    first, last = month_bounds(month)
    return (last - first).days + 1


def month_bounds(month: str) -> tuple[date, date]:
    year, mon = (int(x) for x in month.split("-"))
    return date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])


def months_between(first: date, last: date) -> list[str]:
    out, day = [], date(first.year, first.month, 1)
    while day <= last:
        out.append(_month_of(day))
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def covered_days(month: str, span: tuple[date, date], window: tuple[date | None, date | None]) -> int:
    """Days of ``month`` inside the channel's span and the date filter."""
    lo, hi = month_bounds(month)
    first = max(lo, span[0], window[0] or lo)
    last = min(hi, span[1], window[1] or hi)
    return max((last - first).days + 1, 0)


def _local_month(source_name: str) -> str:
    """The source's local month as the column ``local_month`` of ``b``: the month breakdown's own expression
    (``sources._time_dims``), so the ledger's months are the dashboard's."""
    return f"{SOURCES[source_name].dims['month'][0]} AS local_month"


MONTH_NAME = KEY_FORMATS["month"].format(g="b.local_month")
"""The ledger's month as text, from ``b.local_month`` grouped: named once per group, as every breakdown names its
groups (``KEY_FORMATS``), not once per row (a 3 M-tweet warehouse's 770,000 threads: 47-59 ms for the statement
alone with ``strftime`` on every row, 35-36 ms like this). The statements group by ``b.local_month`` and ``b.g``
themselves, not ``GROUP BY ALL``, which would group by the named texts; Spark runs the same statements."""


def _case_tallies(ctx: Context, by: str | None, out: Tallies) -> None:
    """CRM cases by (channel, local month, group)."""
    settings = ctx.settings
    names = list(settings.cost.channels)
    defaults = [float(settings.cost.channels[n].default_handled_minutes) for n in names]
    rel = relation(ctx, "cases", by=by, extra_columns=_local_month("cases"))
    code = f"""
SELECT coalesce(b.channel, 'other') AS channel, {MONTH_NAME} AS month,
       {rel.key} AS grp, count(*),
       count(*) FILTER (WHERE b.channel = 'twitter' AND b.linked_thread_id IS NOT NULL),
       sum(coalesce(b.handled_minutes, d.minutes, $other)),
       count(*) FILTER (WHERE b.resolved), count(*) FILTER (WHERE b.final),
       sum(power(coalesce(b.handled_minutes, d.minutes, $other), 2))
FROM b LEFT JOIN (SELECT unnest($names::VARCHAR[]) AS channel, unnest($minutes::DOUBLE[]) AS minutes) d
       ON d.channel = b.channel
GROUP BY coalesce(b.channel, 'other'), b.local_month, b.g"""
    params = {"tz": ctx.tz, "names": names, "minutes": defaults,
              "other": float(settings.cost.channels["other"].default_handled_minutes)}
    for channel, month, grp, n, linked_twitter, minutes, resolved, final, squares in ctx.con.execute(
            *rel.statement(code, params)).fetchall():
        # A Twitter CRM case linked to a thread is that thread's case: its minutes count here, the case
        # itself is counted once, with the threads.
        cases = int(n) - int(linked_twitter)
        out[(channel, month, grp)].add(Tally(cases=cases, crm_cases=int(n), minutes=float(minutes or 0),
                                             minutes_sq=float(squares or 0), observations=int(n),
                                             resolved=int(resolved), final=int(final)))


def _thread_tallies(ctx: Context, by: str | None, out: Tallies, *, with_dm: bool = True) -> None:
    """Twitter threads by (local month, group): cases, and the estimated work of those without a CRM case.

    The DM hand-off test (a brand reply to the customer asking for a DM, ``DM_HANDOFF_RE``) runs only on
    the replies to the threads that need it (answered, no Twitter CRM case, in the selection): the
    regular expression is evaluated in an aggregate after the join, so one account's slice reads its own
    replies, not the whole warehouse's brand tweets. ``with_dm=False`` (no CRM data, so no cost is judged;
    only the staffing what-if uses the minutes, as handling time) leaves the DM test out.

    Which threads are Twitter cases is the source measure ``costed`` (answered by the as-of time, or with a
    Twitter CRM case), so it respects ``--as-of``. Their estimated minutes count ``brand_replies``, the
    thread's brand replies over the whole warehouse: with an as-of before a thread's last reply they
    include the later replies (not yet cut at the as-of time).
    """
    cost = ctx.settings.cost
    rel = relation(ctx, "threads", ("twc",), by=by, extra_columns=_local_month("threads"))
    code = expand("threads", """,
estimated AS (SELECT b.thread_id, b.conversation_id, b.customer_id FROM b WHERE @costed_by_tweets),
handed_to_dm AS (
    SELECT e.thread_id
    FROM estimated e
    JOIN tweets p ON p.conversation_id = e.conversation_id AND p.author_id = e.customer_id AND NOT p.is_brand
    JOIN tweets r ON r.parent_id = p.tweet_id AND r.is_brand AND r.created_at <= $as_of
    GROUP BY e.thread_id
    HAVING bool_or(regexp_matches(r.text, $dm_re)))
""" + f"""
SELECT {MONTH_NAME} AS month, {rel.key} AS grp,
       count(*) FILTER (WHERE @costed),
       count(*) FILTER (WHERE @costed_by_tweets),
       sum(b.brand_replies) FILTER (WHERE @costed_by_tweets),
       count(d.thread_id),
       sum(power(b.brand_replies * $per_tweet + CASE WHEN d.thread_id IS NULL THEN 0 ELSE $per_dm END, 2))
           FILTER (WHERE @costed_by_tweets)
FROM b LEFT JOIN handed_to_dm d ON d.thread_id = b.thread_id
GROUP BY b.local_month, b.g""")
    params = {"tz": ctx.tz, "as_of": ctx.as_of, "dm_re": DM_HANDOFF_RE, "per_tweet": cost.minutes_per_brand_tweet,
              "per_dm": cost.minutes_per_dm_case}
    if not with_dm:
        code = expand("threads", f"""
SELECT {MONTH_NAME} AS month, {rel.key} AS grp,
       count(*) FILTER (WHERE @costed),
       count(*) FILTER (WHERE @costed_by_tweets),
       sum(b.brand_replies) FILTER (WHERE @costed_by_tweets), 0,
       sum(power(b.brand_replies * $per_tweet, 2)) FILTER (WHERE @costed_by_tweets)
FROM b GROUP BY b.local_month, b.g""")
        params = {"tz": ctx.tz, "per_tweet": cost.minutes_per_brand_tweet}
    rows = ctx.con.execute(*rel.statement(code, params)).fetchall()
    for month, grp, cases, estimated, replies, dm, squares in rows:
        handled = float(replies or 0) * cost.minutes_per_brand_tweet + int(dm) * cost.minutes_per_dm_case
        out[(TWITTER, month, grp)].add(Tally(cases=int(cases), minutes=handled, estimated_cases=int(estimated),
                                             estimated_minutes=handled, dm_cases=int(dm),
                                             minutes_sq=float(squares or 0), observations=int(estimated)))


def tallies(ctx: Context, by: str | None, *, threads: bool = True) -> Tallies:
    """The ledger's raw inputs; ``threads=False`` reads the CRM cases only (the hotline needs no tweets)."""
    out: Tallies = defaultdict(Tally)
    crm = has_crm(ctx)
    if crm:
        _case_tallies(ctx, by, out)
    if threads:
        _thread_tallies(ctx, by, out, with_dm=crm)
    return {k: v for k, v in out.items() if v.cases or v.crm_cases or v.minutes}


def has_crm(ctx: Context) -> bool:
    return ctx.con.execute("SELECT EXISTS (SELECT 1 FROM crm_cases)").fetchone() == (True,)


def spans(ctx: Context) -> dict[str, tuple[date, date]]:
    """Each channel's first and last active local day up to the as-of time (no filter applies: a
    channel's fixed costs run while it works, whatever slice is looked at)."""
    sql = """
SELECT coalesce(channel, 'other'), min(timezone($tz, opened_at))::DATE, max(timezone($tz, opened_at))::DATE
FROM crm_cases WHERE opened_at <= $as_of AND outcome IS DISTINCT FROM 'duplicate' GROUP BY 1
UNION ALL
SELECT 'twitter', min(timezone($tz, started_at))::DATE, max(timezone($tz, started_at))::DATE
FROM threads WHERE started_at <= $as_of HAVING count(*) > 0"""
    out: dict[str, tuple[date, date]] = {}
    for channel, first, last in ctx.con.execute(*statement(sql, {"tz": ctx.tz, "as_of": ctx.as_of})).fetchall():
        if first is None:
            continue
        old = out.get(channel)
        out[channel] = (first, last) if old is None else (min(old[0], first), max(old[1], last))
    return out


T = TypeVar("T")
_TOTALS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_TOTALS_LOCK = threading.Lock()
_TOTALS_KEPT = 32


def memoised(ctx: Context, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per snapshot and ``key`` (which must name everything else it depends on):
    the parts of a slice's answer that do not depend on the slice (the channel totals its share is taken
    of, the hotline's cost) are read once, not at every filter change. Never memoised in memory."""
    snapshot = snapshots.of(ctx)
    if snapshot is None:
        return compute()
    full = (snapshot, ctx.as_of, ctx.tz, repr(ctx.settings.cost), *key)
    with _TOTALS_LOCK:
        if full in _TOTALS:
            _TOTALS.move_to_end(full)
            return cast(T, _TOTALS[full])
    value = compute()
    with _TOTALS_LOCK:
        _TOTALS[full] = value
        while len(_TOTALS) > _TOTALS_KEPT:
            _TOTALS.popitem(last=False)
    return value


def _channel_totals(ctx: Context, threads: bool) -> Tallies:
    """Every channel's tallies without the dimension filters (the date window kept): what a slice's share
    of the fixed costs is taken of; the same for every slice."""
    whole_ctx = replace(ctx, filters=Filters(date_from=ctx.filters.date_from, date_to=ctx.filters.date_to))
    return memoised(ctx, ("totals", ctx.filters.date_from, ctx.filters.date_to, threads),
                    lambda: tallies(whole_ctx, None, threads=threads))


def _window(ctx: Context) -> tuple[date | None, date | None]:
    end = ctx.as_of.astimezone(zone(ctx.tz)).date()
    if ctx.filters.date_to and ctx.filters.date_to < end:
        end = ctx.filters.date_to
    return ctx.filters.date_from, end


def ledger(ctx: Context, by: str | None = None, *, threads: bool = True) -> Ledger:
    """The selection's ledger, grouped by a dimension or time breakdown (``by``) or not at all.
    ``threads=False``: the CRM channels only (Twitter's threads are not read)."""
    chosen = tallies(ctx, by, threads=threads)
    if by is None and not ctx.filters.dimension_values():  # these are the channel totals of every slice
        chosen = memoised(ctx, ("totals", ctx.filters.date_from, ctx.filters.date_to, threads), lambda: chosen)
    sliced = bool(ctx.filters.dimension_values()) or (by is not None and by not in TIME_BREAKDOWNS)
    whole = _channel_totals(ctx, threads) if ctx.filters.dimension_values() else chosen
    channel_minutes: dict[tuple[str, str], float] = defaultdict(float)
    for (ch, month, _), t in whole.items():
        channel_minutes[(ch, month)] += t.minutes
    window = _window(ctx)
    active = memoised(ctx, ("spans",), lambda: spans(ctx))  # as_of and tz are in every memo key
    lines: dict[tuple[str, str, str], Line] = {}
    for (ch, month, grp), t in chosen.items():
        span = active.get(ch)
        line = Line(ch, t, t.minutes / 60.0 * rate(ctx.settings, ch).hourly_cost_eur)
        if span is not None:
            days = covered_days(month, span, window)
            lo, hi = month_bounds(month)
            share = 1.0
            if sliced:
                total = channel_minutes.get((ch, month), 0.0)
                share = t.minutes / total if total else 0.0
            month_days = (hi - lo).days + 1
            line.fixed_days = days * share
            line.fixed_eur = rate(ctx.settings, ch).fixed_monthly_eur * days / month_days * share
            line.months = [month]
            line.partial_months = [month] if days < month_days else []
            first = max(lo, span[0], window[0] or lo)
            line.period = (first, first + timedelta(days=max(days - 1, 0)))
        lines[(ch, month, grp)] = line
    if not sliced:
        _fixed_only_months(ctx, by, lines, active, window, chosen)
    return Ledger(lines, active, window, has_crm(ctx), by is not None)


def _fixed_only_months(ctx: Context, by: str | None, lines: dict[tuple[str, str, str], Line],
                       active: dict[str, tuple[date, date]], window: tuple[date | None, date | None],
                       chosen: Tallies) -> None:
    """Months inside a channel's span without any case still carry its fixed cost (unsliced selections:
    a slice has no minutes there to take a share by)."""
    if by not in (None, "month"):
        return
    for ch, span in active.items():
        lo, hi = max(span[0], window[0] or span[0]), min(span[1], window[1] or span[1])
        for month in months_between(lo, hi) if lo <= hi else []:
            grp = month if by == "month" else TOTAL
            if (ch, month, grp) in lines:
                continue
            days = covered_days(month, span, window)
            first, last = month_bounds(month)
            line = Line(ch, Tally(), 0.0, months=[month])
            line.fixed_days = days
            line.fixed_eur = rate(ctx.settings, ch).fixed_monthly_eur * days / ((last - first).days + 1)
            line.partial_months = [month] if days < (last - first).days + 1 else []
            lines[(ch, month, grp)] = line


def channel_lines(book: Ledger, channels: Iterable[str] | None = None) -> dict[str, Line]:
    return {ch: book.select(channel=ch) for ch in (channels or book.channels())}
