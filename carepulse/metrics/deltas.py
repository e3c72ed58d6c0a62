"""What changed between two periods, per metric, and whether the change is beyond noise.

Used by the Pilot page's cards and by the management report, so "better", "worse" and "within noise"
mean the same in both. The test depends on what the metric is:

* a **share** (``ratio`` with a Wilson interval): the two-proportion z-test (pooled), on the counts
  behind the shares (the share times its n);
* a **count** of events (threads, tweets, cases): the conditional binomial test of two Poisson rates,
  per day of each period (so periods of unequal length compare fairly);
* anything else with a 95 % interval on both sides (medians, means, euros): an approximate z-test
  from the two intervals (each half-width / 1.96 taken as a standard error); it says so, because
  a median's interval is not symmetric;
* without intervals: no test; the change is shown, "beyond noise" stays unknown.

The p-values of one comparison (all cards at once) are Holm-adjusted together: with a dozen cards, one
would otherwise look "significant" by chance every other week.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from carepulse.core.config import Settings
from carepulse.metrics import engine
from carepulse.metrics.cells import Cell
from carepulse.metrics.context import Database, Filters
from carepulse.metrics.registry import Metric
from carepulse.metrics.units import MISSING, Locale, format_value, number, percent

ALPHA = 0.05
METHODS = {
    "proportions": "two-proportion z-test",
    "rates": "exact test of two Poisson rates per day",
    "intervals": "approximate z-test from the two 95% intervals",
}


@dataclass(frozen=True)
class Delta:
    """One metric's change from ``previous`` to ``current``.

    ``better`` is None when the metric has no good direction or did not change; ``beyond_noise`` is
    None when no test applies (no interval, too few data) and otherwise the Holm-adjusted verdict."""

    metric: str
    current: float | None
    previous: float | None
    change: float | None
    relative: float | None
    better: bool | None
    p: float | None
    beyond_noise: bool | None
    method: str | None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _normal_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def proportions_p(count_a: int, n_a: int, count_b: int, n_b: int) -> float | None:
    """Two-sided p of the pooled two-proportion z-test; None when it is undefined."""
    if n_a <= 0 or n_b <= 0:
        return None
    pooled = (count_a + count_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    if se == 0.0:
        return None if count_a / n_a == count_b / n_b else 0.0
    return _normal_p((count_a / n_a - count_b / n_b) / se)


def rates_p(count_a: int, days_a: int, count_b: int, days_b: int) -> float | None:
    """Two-sided exact p that two Poisson counts over ``days_a`` and ``days_b`` share one daily rate:
    given the sum, ``count_a`` is binomial with p = days_a / (days_a + days_b)."""
    total = count_a + count_b
    if total == 0 or days_a <= 0 or days_b <= 0:
        return None
    from scipy.stats import binomtest

    return float(binomtest(count_a, total, days_a / (days_a + days_b)).pvalue)


def intervals_p(a: Cell, b: Cell) -> float | None:
    va, vb = _number(a.value), _number(b.value)
    lo_a, hi_a, lo_b, hi_b = (_number(x) for x in (a.ci_low, a.ci_high, b.ci_low, b.ci_high))
    if va is None or vb is None or lo_a is None or hi_a is None or lo_b is None or hi_b is None:
        return None
    se = math.hypot((hi_a - lo_a) / (2 * 1.959963984540054), (hi_b - lo_b) / (2 * 1.959963984540054))
    if se == 0.0:
        return None
    return _normal_p((va - vb) / se)


def _test(metric: Metric, current: Cell, previous: Cell, days: tuple[int, int]) -> tuple[float | None, str | None]:
    va, vb = _number(current.value), _number(previous.value)
    if va is None or vb is None:
        return None, None
    if metric.kind == "ratio" and metric.unit == "share" and current.n and previous.n:
        p = proportions_p(round(va * current.n), current.n, round(vb * previous.n), previous.n)
        return p, METHODS["proportions"]
    if metric.kind == "count":
        return rates_p(round(va), days[0], round(vb), days[1]), METHODS["rates"]
    p = intervals_p(current, previous)
    return p, (METHODS["intervals"] if p is not None else None)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (None stays None and does not count as a test)."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    m = len(tested)
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def compare(metrics: Sequence[Metric], current: Mapping[str, Cell], previous: Mapping[str, Cell],
            days: tuple[int, int]) -> dict[str, Delta]:
    """Each metric's change; ``days`` are the lengths of the current and the previous period."""
    out: dict[str, Delta] = {}
    raw: list[float | None] = []
    for m in metrics:
        a, b = current.get(m.name, Cell()), previous.get(m.name, Cell())
        va, vb = _number(a.value), _number(b.value)
        change = va - vb if va is not None and vb is not None else None
        relative = change / abs(vb) if change is not None and vb else None
        better = None
        if change and m.higher_is_better is not None:
            better = (change > 0) == m.higher_is_better
        p, method = _test(m, a, b, days)
        raw.append(p)
        out[m.name] = Delta(m.name, va, vb, change, relative, better, p, None, method)
    for (name, delta), adjusted in zip(list(out.items()), holm(raw), strict=True):
        if adjusted is not None:
            out[name] = replace(delta, p=adjusted, beyond_noise=adjusted < ALPHA)
    return out


def compare_periods(names: Sequence[str], current: Filters, previous: Filters, *, db: Database,
                    settings: Settings) -> dict[str, Delta]:
    """The metrics ``names`` in two selections (the same filters, other dates) and what changed.

    Both are computed with intervals (``ci=True``): the tests above need them."""
    if current.date_from is None or current.date_to is None or previous.date_from is None \
            or previous.date_to is None:
        raise ValueError("a period comparison needs both ends of both periods")
    now = engine.compute(names, None, current, db=db, settings=settings, ci=True)
    before = engine.compute(names, None, previous, db=db, settings=settings, ci=True)
    days = ((current.date_to - current.date_from).days + 1, (previous.date_to - previous.date_from).days + 1)
    return compare(now.metrics, now.total, before.total, days)


def change_text(delta: Delta, unit: str, locale: Locale = "en") -> str:
    """The change in the metric's own unit, signed: a share changes by percentage points (``+3.1 pp``),
    everything else by the unit's formatter (``+12 min``, ``-€1.20``, ``+140``); counts add the relative
    change (``+140 (+12%)``)."""
    change = delta.change
    if change is None:
        return MISSING
    sign = "+" if change > 0 else "-" if change < 0 else "±"
    if unit == "share":
        return f"{sign}{number(abs(change) * 100, locale, 1)} {'Pp.' if locale == 'de' else 'pp'}"
    text = sign + format_value(abs(change), unit, locale).lstrip("+±")  # ``points`` writes its own sign
    if unit == "count" and delta.relative is not None:
        text += f" ({'+' if delta.relative >= 0 else '-'}{percent(abs(delta.relative), locale, 0)})"
    return text
