"""Each registry unit's one formatter: a metric value as text, in German or English.

The CLI table (``carepulse metrics``), the dashboard (:mod:`carepulse.dashboard.formatting`, which
re-exports the primitives below, and Explore's grid) all write a metric value through
:func:`format_value`, so a share, a duration or an amount in euros reads the same everywhere.
``de`` writes ``1.234,5``, ``53 %``, ``1.234 €``; ``en`` writes ``1,234.5``, ``53%``, ``€1,234``.
``grid`` and ``digits`` say how a table column of the unit is formatted by the dashboard's grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from carepulse.metrics.registry import Unit
from carepulse.metrics.stats import duration_unit

Locale = Literal["de", "en"]
GridKind = Literal["share", "duration", "money", "count", "number"]
MISSING = "–"


def locale_of(setting: str | None) -> Locale:
    """``de``, ``de_DE``, ``de-AT`` ... are German; everything else is English."""
    return "de" if (setting or "").lower().startswith("de") else "en"


def missing(value: Any) -> bool:
    """None, NaN and pandas' NA (whose truth value raises) are missing."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:
        return True


def german(text: str) -> str:
    """``1,234.5`` -> ``1.234,5``."""
    if "," not in text:
        return text.replace(".", ",")
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def number(value: float | int | None, locale: Locale, digits: int = 0) -> str:
    """Grouped thousands and fixed decimals: ``1.234,5`` (de) or ``1,234.5`` (en)."""
    if missing(value):
        return MISSING
    assert value is not None
    if math.isinf(value):
        return "∞"
    if round(value, digits) == 0:
        value = 0.0  # never "-0,00": a value that rounds to zero has no sign
    text = f"{value:,.{digits}f}"
    return german(text) if locale == "de" else text


def percent(share: float | None, locale: Locale, digits: int = 0) -> str:
    """A share 0..1 as a percentage: ``53 %`` (de, with a narrow space) or ``53%`` (en)."""
    if missing(share):
        return MISSING
    assert share is not None
    body = number(share * 100, locale, digits)
    return f"{body}\u202f%" if locale == "de" else f"{body}%"


def points(value: float | None, locale: Locale, digits: int = 1, signed: bool = True) -> str:
    """A difference in points, signed: ``+0,3`` / ``-1.2``."""
    if missing(value):
        return MISSING
    assert value is not None
    text = number(abs(value), locale, digits)
    if round(value, digits) == 0:
        return ("±" if signed else "") + text
    return (("+" if value > 0 else "-") if signed else "") + text


def money(value: float | None, locale: Locale, digits: int = 0) -> str:
    """Euros: ``1.234 €`` (de) or ``€1,234`` (en); negative amounts keep their sign."""
    if missing(value):
        return MISSING
    assert value is not None
    sign = "-" if round(value, digits) < 0 else ""
    body = number(abs(value), locale, digits)
    return f"{sign}{body}\u00a0€" if locale == "de" else f"{sign}€{body}"


def duration(seconds: float | None, locale: Locale) -> str:
    """A waiting or response time a reader grasps at once: ``45 s``, ``12 min``, ``3,5 h``, ``2,1 days``."""
    if missing(seconds):
        return MISSING
    assert seconds is not None
    if math.isinf(seconds):
        return "not reached"
    value, unit, digits = duration_unit(seconds)
    return f"{'-' if seconds < 0 else ''}{number(value, locale, digits)} {unit}"


@dataclass(frozen=True)
class UnitFormat:
    """How values of one registry unit read: ``render`` (a present, numeric value to text), and the
    dashboard grid's column kind and decimals for it."""

    unit: str
    render: Callable[[float, Locale], str]
    grid: GridKind = "number"
    digits: int | None = 2

    def text(self, value: Any, locale: Locale = "en") -> str:
        if missing(value):
            return MISSING
        if isinstance(value, str):  # a month ("2027-03"), or a value a computation wrote as text
            return value
        return self.render(value, locale)


def _euros(value: float, locale: Locale) -> str:
    return money(value, locale, 2 if abs(value) < 100 else 0)


UNITS: dict[str, UnitFormat] = {u.unit: u for u in (
    UnitFormat("count", lambda v, loc: number(v, loc), "count", None),
    UnitFormat("share", lambda v, loc: percent(v, loc, 1), "share", None),
    UnitFormat("seconds", duration, "duration", None),
    UnitFormat("seconds/week", lambda v, loc: f"{duration(v, loc)}/week"),
    UnitFormat("EUR", _euros, "money", None),
    UnitFormat("score", lambda v, loc: number(v, loc, 2)),
    UnitFormat("points", lambda v, loc: points(v, loc, 2)),
    UnitFormat("follower-hours", lambda v, loc: f"{number(v, loc)} follower-h"),
    UnitFormat("month", lambda v, loc: str(v)),
    UnitFormat("rho", lambda v, loc: number(v, loc, 2)),
    UnitFormat("AUC", lambda v, loc: number(v, loc, 2)),
    UnitFormat("FTE", lambda v, loc: f"{number(v, loc, 1)} FTE"),
)}
assert set(UNITS) == set(get_args(Unit)), "every registry unit has its formatter"


def unit_format(unit: str) -> UnitFormat:
    """The unit's formatter; an unknown unit reads as a plain number with one decimal."""
    return UNITS.get(unit) or UnitFormat(unit, lambda v, loc: number(v, loc, 1))


def format_value(value: Any, unit: str, locale: Locale = "en") -> str:
    """A metric value by its registry unit: the one formatter the CLI, the dashboard and Explore use."""
    return unit_format(unit).text(value, locale)
