"""The report's words: what a change means, the period's name, each number as text.

Plain functions of the gathered dataclasses, no HTML: the HTML escapes what these return. Numbers are
written only through :mod:`carepulse.metrics.units` (the formatters of the CLI and the dashboard), so a
share, a duration or an amount in euros reads the same in the report as on the screen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from carepulse.metrics import deltas, units
from carepulse.metrics.cells import Cell, Value
from carepulse.metrics.deltas import Delta
from carepulse.metrics.periods import Period
from carepulse.report.content import Figure, Payback

LOCALE: units.Locale = "en"
Tone = Literal["good", "bad", "neutral", "none"]


def value(v: Value, unit: str) -> str:
    return units.format_value(v, unit, LOCALE)


def cell_text(cell: Cell, unit: str) -> str:
    """A cell's value, or the engine's reason it has none ("not enough data ...") shortened to its gist."""
    if cell.value is None and (cell.note or "").startswith("not enough data"):
        return "not enough data"
    return value(cell.value, unit)


def interval_text(cell: Cell, unit: str) -> str:
    """``95% interval a to b`` when the cell has one, else empty."""
    if not isinstance(cell.ci_low, int | float) or not isinstance(cell.ci_high, int | float):
        return ""
    return f"95% interval {value(cell.ci_low, unit)} to {value(cell.ci_high, unit)}"


def change_text(delta: Delta, unit: str) -> str:
    """The change in the metric's own unit (a share's in percentage points), as the Pilot cards write it:
    :func:`carepulse.metrics.deltas.change_text`. Empty without a comparison value."""
    if delta.change is None:
        return ""
    return deltas.change_text(delta, unit, LOCALE)


def direction_word(delta: Delta) -> str:
    """``better`` / ``worse`` where the metric has a good direction, else ``up`` / ``down`` (or ``unchanged``)."""
    if delta.change is None:
        return "no comparison"
    if delta.change == 0:
        return "unchanged"
    if delta.better is True:
        return "better"
    if delta.better is False:
        return "worse"
    return "up" if delta.change > 0 else "down"


def noise_word(delta: Delta) -> str:
    """Holm-adjusted verdict of :mod:`carepulse.metrics.deltas`: beyond noise, within noise, or not tested."""
    if delta.change is None:
        return ""
    if delta.beyond_noise is True:
        return "beyond noise"
    if delta.beyond_noise is False:
        return "within noise"
    return "not tested"


def tone(delta: Delta) -> Tone:
    """Colour of the verdict: only a change beyond noise with a good direction is green or red."""
    if delta.beyond_noise and delta.better is not None:
        return "good" if delta.better else "bad"
    if delta.change is None:
        return "none"
    return "neutral"


def arrow(delta: Delta) -> str:
    if not delta.change:
        return "="
    return "▲" if delta.change > 0 else "▼"


def verdict(figure: Figure) -> str:
    """``better, beyond noise`` / ``up, within noise`` / ``no comparison``."""
    noise = noise_word(figure.delta)
    return direction_word(figure.delta) + (f", {noise}" if noise else "")


def period_range(period: Period) -> str:
    if period.start == period.end:
        return period.start.isoformat()
    return f"{period.start.isoformat()} to {period.end.isoformat()}"


def period_title(period: Period) -> str:
    """``2026-W44 (2026-10-26 to 2026-11-01)``; a label that already names its days stays as it is."""
    label = period.label
    if period.end.isoformat() in label:
        return f"{label} ({period.start.isoformat()} to {period.end.isoformat()})"
    return f"{label} ({period_range(period)})"


def comparison_title(period: Period, mode: str) -> str:
    kind = "the previous period" if mode == "previous" else "the same period a year earlier"
    return f"compared with {kind}: {period_range(period)}"


def week_label(start: date, end: date) -> str:
    """A week on a chart's axis: its last day, month and day (``10-27``)."""
    return end.isoformat()[5:]


def payback_text(payback: Payback) -> tuple[str, str]:
    """(headline, detail) for the payback: the month it paid back, or the projection with its range."""
    if isinstance(payback.month, str):
        return payback.month, "the month the cumulative net benefit covered the set-up cost"
    if isinstance(payback.projected, str):
        low = payback.projected_low if isinstance(payback.projected_low, str) else "?"
        high = payback.projected_high if isinstance(payback.projected_high, str) else "open"
        return f"{payback.projected}, projected", f"not yet paid back; 95% range {low} to {high}"
    reason = payback.projected_note or payback.month_note or "cannot be judged with this data"
    return "not paid back", reason


def as_of_text(moment: datetime, tz: str) -> str:
    from carepulse.metrics.context import zone

    local = moment.astimezone(zone(tz))
    return f"{local:%Y-%m-%d %H:%M} ({tz})"


def minutes(m: float) -> str:
    return units.duration(m * 60, LOCALE)


def money(eur: float, digits: int = 0) -> str:
    return units.money(eur, LOCALE, digits)


def share(x: float) -> str:
    return units.percent(x, LOCALE)


def count(n: int | float) -> str:
    return units.number(n, LOCALE)
