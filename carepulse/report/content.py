"""The numbers of the management report, gathered once into plain dataclasses.

Every number comes from :func:`carepulse.metrics.engine.compute` (the report writes no SQL), for the
report's period and for the period it is compared with; what changed between the two, and whether it
is beyond noise, is :func:`carepulse.metrics.deltas.compare`'s verdict, so the report and the
dashboard's Pilot cards never disagree on "better" or "within noise". Rendering (words, charts, HTML,
PDF) is elsewhere and reads only these dataclasses, so it can be tested without a warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from carepulse import __version__
from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError, DataError
from carepulse.core.text import Text
from carepulse.metrics import deltas, engine, periods, registry
from carepulse.metrics.cells import Cell, Value
from carepulse.metrics.context import Database, Filters
from carepulse.metrics.data_views import filter_options, warehouse_summary
from carepulse.metrics.economics import assumptions
from carepulse.metrics.periods import Period, parse_period
from carepulse.metrics.registry import Metric


def N_(message: str) -> str:
    """Marks an English message for the catalogs; it is translated where it is shown (render, words)."""
    return message


CompareMode = Literal["previous", "year"]
COMPARE_MODES: tuple[str, ...] = ("previous", "year")
TWITTER = "twitter"
# Twitter's and the hotline's full cost per case are the registry's ``cost_per_case`` of one channel;
# they get names of their own here so that one Holm-adjusted comparison covers every number on page 1.
TWITTER_COST = "twitter_cost_per_case"
HOTLINE_COST = "hotline_cost_per_case"

# Page 1, section by section: (heading, metric names). Order is reading order.
# The headings are English message ids (N_), said in the report's language where they are shown.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (N_("Does the pilot pay off?"), ("pilot_net_benefit_eur", TWITTER_COST, HOTLINE_COST,
                                     "hotline_variable_cost_per_case")),
    (N_("Satisfaction"), ("csat_mean", "resolution_rate", "fcr_rate")),
    (N_("Speed"), ("first_response_median_s", "first_response_p90_s", "sla_met_share", "response_rate")),
    (N_("Queue"), ("unanswered_threads", "threads")),
)
# Computed once per period with the date filter; the channel split gives the two costs per case.
PERIOD_METRICS: tuple[str, ...] = (
    "pilot_net_benefit_eur", "cost_per_case", "hotline_variable_cost_per_case", "csat_mean", "resolution_rate",
    "fcr_rate", "first_response_median_s", "first_response_p90_s", "sla_met_share", "response_rate",
    "unanswered_threads", "threads", "cases", "twitter_cases", "crm_link_coverage",
)
# Payback is a since-launch figure: computed from the first day of the data to the period's end.
LAUNCH_METRICS: tuple[str, ...] = ("pilot_payback_month", "pilot_payback_projected_month",
                                   "deflection_breakeven_share")
DAILY_METRICS: tuple[str, ...] = ("threads", "sla_met_share")


@dataclass(frozen=True)
class Figure:
    """One number on page 1, with the comparison period's value and the verdict on the change."""

    metric: str
    label: str
    unit: str
    cell: Cell
    previous: Cell
    delta: deltas.Delta


@dataclass(frozen=True)
class Section:
    title: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Week:
    """Seven local days (fewer for a period's leading remainder) of one of the two periods."""

    start: date
    end: date
    threads: int
    sla_met_share: float | None
    sla_n: int
    current: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Payback:
    """Since launch up to the period's end: the month the set-up cost was paid back, else the projection."""

    month: Value
    month_note: str | None
    projected: Value
    projected_low: Value
    projected_high: Value
    projected_note: str | None
    breakeven_share: Value


@dataclass(frozen=True)
class Coverage:
    """What the data covers, and what the report leaves out."""

    first_day: date | None
    last_day: date | None
    tweets: int
    threads_total: int
    crm_cases_total: int
    threads_in_period: int
    cases_in_period: int
    twitter_cases_in_period: int
    crm_link_share: Value
    quarantined: int
    threads_before_main: int
    main_first_day: date | None
    period_days_with_data: int
    period_days: int


@dataclass(frozen=True)
class ReportContent:
    period: Period
    comparison: Period
    compare_mode: str
    sections: tuple[Section, ...]
    payback: Payback
    weeks: tuple[Week, ...]
    assumptions: dict[str, Any]
    coverage: Coverage
    as_of: datetime
    timezone: str
    version: str = __version__
    notes: tuple[str, ...] = field(default_factory=tuple)

    def figure(self, metric: str) -> Figure:
        for section in self.sections:
            for fig in section.figures:
                if fig.metric == metric:
                    return fig
        raise KeyError(metric)


# ---- pure helpers ----------------------------------------------------------------------------------

def comparison_period(period: Period, mode: str) -> Period:
    """The period the report compares with (:func:`carepulse.metrics.periods.comparison_period`): the one
    just before (``previous``) or a year earlier (``year``); a report always compares."""
    if mode not in COMPARE_MODES:
        raise ConfigError(f"--compare {mode!r}: expected one of {', '.join(COMPARE_MODES)}")
    other = periods.comparison_period(period, mode)
    assert other is not None
    return other


def report_metrics() -> dict[str, Metric]:
    """Page 1's metrics by name; the two per-channel costs are ``cost_per_case`` renamed (the hotline's has no
    good direction for the pilot: its cost per case rising is not the pilot's doing)."""
    lookup = registry.REGISTRY
    cost = lookup["cost_per_case"]
    extra = {
        TWITTER_COST: replace(cost, name=TWITTER_COST, label=N_("Cost per Twitter case")),
        HOTLINE_COST: replace(cost, name=HOTLINE_COST, label=N_("Cost per hotline case"),
                              higher_is_better=None),
    }
    names = [n for _, group in SECTIONS for n in group]
    return {n: extra.get(n) or lookup[n] for n in names}


def period_cells(total: Mapping[str, Cell], by_channel: Mapping[str, Mapping[str, Cell]],
                 hotline_channel: str) -> dict[str, Cell]:
    """The period's cells under page 1's names: the totals plus the two channels' cost per case."""
    cells = dict(total)
    cells[TWITTER_COST] = by_channel.get(TWITTER, {}).get("cost_per_case", Cell())
    cells[HOTLINE_COST] = by_channel.get(hotline_channel, {}).get("cost_per_case", Cell())
    return cells


def build_sections(current: Mapping[str, Cell], previous: Mapping[str, Cell],
                   days: tuple[int, int]) -> tuple[Section, ...]:
    """Page 1's sections, each number with its delta (one Holm-adjusted comparison over all of them)."""
    metrics = report_metrics()
    changes = deltas.compare(list(metrics.values()), current, previous, days)
    return tuple(
        Section(title, tuple(Figure(n, metrics[n].label, metrics[n].unit, current.get(n, Cell()),
                                    previous.get(n, Cell()), changes[n]) for n in names))
        for title, names in SECTIONS)


def weekly_blocks(daily: Mapping[str, Mapping[str, Cell]], period: Period, current: bool) -> list[Week]:
    """The period's days in blocks of seven counted back from its end (a leading remainder is a shorter
    block), so a block never mixes two periods and an ISO week or the last four weeks are whole weeks.

    Threads add up; the SLA met share of a block is the sum of the days' met threads (share times n)
    over the sum of their n, the same ratio the engine computes for the whole block."""
    blocks: list[Week] = []
    end = period.end
    while end >= period.start:
        start = max(period.start, end - timedelta(days=6))
        threads, met, n = 0, 0.0, 0
        day = start
        while day <= end:
            cells = daily.get(day.isoformat(), {})
            threads += int(_num(cells.get("threads", Cell()).value) or 0)
            sla = cells.get("sla_met_share", Cell())
            share, sla_n = _num(sla.value), sla.n or 0
            if share is not None and sla_n:
                met += share * sla_n
                n += sla_n
            day += timedelta(days=1)
        blocks.append(Week(start, end, threads, met / n if n else None, n, current))
        end = start - timedelta(days=1)
    return blocks[::-1]


def _num(value: Value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# ---- gathering (the engine's reads) -------------------------------------------------------------------

def resolve_period(period_text: str, *, db: Database, settings: Settings) -> tuple[Period, date, date]:
    """The period named by ``period_text``, counted back from the data's last local day, and the data's span.

    A warehouse without data, or a period that lies wholly outside the data, is a :class:`DataError`:
    a report of empty cards would read like a week in which nobody wrote."""
    engine.require_data(db)
    options = filter_options(db=db, settings=settings)
    if options.first_day is None or options.last_day is None:
        raise DataError("the warehouse has no dated tweets or CRM cases")
    period = parse_period(period_text, options.last_day)
    if period.end < options.first_day or period.start > options.last_day:
        raise DataError(f"--period {period_text}: {period.start} to {period.end} lies outside the data, "
                        f"which covers {options.first_day} to {options.last_day}")
    return period, options.first_day, options.last_day


def gather(period_text: str, *, db: Database, settings: Settings, compare: str = "previous") -> ReportContent:
    """Everything the report shows, for ``period_text`` compared with the previous period or a year earlier."""
    if compare not in COMPARE_MODES:  # checked before the warehouse is read
        raise ConfigError(f"--compare {compare!r}: expected one of {', '.join(COMPARE_MODES)}")
    period, first_day, last_day = resolve_period(period_text, db=db, settings=settings)
    other = comparison_period(period, compare)
    summary = warehouse_summary(db=db, settings=settings)
    options = filter_options(db=db, settings=settings)
    as_of = engine.compute(["threads"], None, Filters(date_to=period.end), db=db, settings=settings).as_of

    def cells_of(p: Period) -> dict[str, Cell]:
        result = engine.compute(list(PERIOD_METRICS), "channel", Filters(date_from=p.start, date_to=p.end),
                                db=db, settings=settings, as_of=as_of, ci=True)
        return period_cells(result.total, result.groups, settings.hotline_channel)

    def daily_of(p: Period) -> dict[str, dict[str, Cell]]:
        return engine.compute(list(DAILY_METRICS), "day", Filters(date_from=p.start, date_to=p.end),
                              db=db, settings=settings, as_of=as_of).groups

    current, previous = cells_of(period), cells_of(other)
    launch = engine.compute(list(LAUNCH_METRICS), None, Filters(date_to=period.end), db=db, settings=settings,
                            as_of=as_of, ci=True).total
    daily = daily_of(period)
    weeks = weekly_blocks(daily_of(other), other, False) + weekly_blocks(daily, period, True)
    projected = launch["pilot_payback_projected_month"]
    payback = Payback(launch["pilot_payback_month"].value, launch["pilot_payback_month"].note, projected.value,
                      projected.ci_low, projected.ci_high, projected.note, launch["deflection_breakeven_share"].value)
    in_data = sum(1 for key, cells in daily.items()
                  if _num(cells.get("threads", Cell()).value) and _is_day(key))
    coverage = Coverage(
        first_day=first_day, last_day=last_day, tweets=int(summary["tweets"] or 0),
        threads_total=int(summary["threads"] or 0), crm_cases_total=int(summary["crm_cases"] or 0),
        threads_in_period=int(_num(current["threads"].value) or 0),
        cases_in_period=int(_num(current["cases"].value) or 0),
        twitter_cases_in_period=int(_num(current["twitter_cases"].value) or 0),
        crm_link_share=current["crm_link_coverage"].value, quarantined=int(summary["quarantined"] or 0),
        threads_before_main=options.threads_before_main, main_first_day=options.main_first_day,
        period_days_with_data=in_data, period_days=period.days)
    return ReportContent(
        period=period, comparison=other, compare_mode=compare,
        sections=build_sections(current, previous, (period.days, other.days)), payback=payback, weeks=tuple(weeks),
        assumptions=assumptions(settings), coverage=coverage, as_of=as_of, timezone=settings.timezone,
        notes=tuple(_notes(current)))


def _is_day(key: str) -> bool:
    try:
        date.fromisoformat(key)
    except ValueError:
        return False
    return True


def _notes(current: Mapping[str, Cell]) -> list[str]:
    """The engine's sentences for withheld or qualified numbers of the period (not enough data, no CRM ...),
    each after its metric's label; both stay translatable (a :class:`Text` whose parts are said apart)."""
    out: list[str] = []
    for name, metric in report_metrics().items():
        note = current.get(name, Cell()).note
        if note and current.get(name, Cell()).value is None:
            out.append(Text("{label}: {note}", label=Text(metric.label), note=note))
    return out


def headline_names(sections: Sequence[Section]) -> list[str]:
    return [f.metric for s in sections for f in s.figures]
