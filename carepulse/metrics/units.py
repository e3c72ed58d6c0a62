"""Each registry unit's one formatter: a metric value as text, in German or English.

The CLI table (``carepulse metrics``), the dashboard (:mod:`carepulse.dashboard.formatting`, which
re-exports the primitives below, and Explore's grid) all write a metric value through
:func:`format_value`, so a share, a duration or an amount in euros reads the same everywhere.
``de`` writes ``1.234,5``, ``53 %``, ``1.234 €``; ``en`` writes ``1,234.5``, ``53%``, ``€1,234``.
``grid`` and ``digits`` say how a table column of the unit is formatted by the dashboard's grid.

Beside its formatter each unit has its export conversion (:class:`ExportUnit`): what a file for people
(XLSX, CSV) holds instead of the registry's value (minutes for seconds, percent for shares, whole counts,
euros to the cent) and the unit its column header names in German and English. Exports ask the unit,
never a column name, so a new metric of an existing unit exports right without a line of export code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from carepulse.metrics.registry import Unit
from carepulse.metrics.stats import duration_unit

Locale = Literal["de", "en"]
ExportType = Literal["int", "float", "text"]
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


DURATION_UNITS_DE = {"days": "Tage"}  # s, min and h read the same in German


def duration(seconds: float | None, locale: Locale) -> str:
    """A waiting or response time a reader grasps at once: ``45 s``, ``12 min``, ``3,5 h``, ``2,1 days``."""
    if missing(seconds):
        return MISSING
    assert seconds is not None
    if math.isinf(seconds):
        return "not reached"
    value, unit, digits = duration_unit(seconds)
    shown = DURATION_UNITS_DE.get(unit, unit) if locale == "de" else unit
    return f"{'-' if seconds < 0 else ''}{number(value, locale, digits)} {shown}"


@dataclass(frozen=True)
class ExportUnit:
    """A unit's values in an exported file: the number a person reads, and the unit the header names.

    Files for people (XLSX, CSV) hold ``value * times / per`` (one multiplication and one division, so
    minutes are exactly ``seconds / 60`` and percentages exactly ``share * 100``), rounded to ``decimals``,
    as ``dtype``. Machine files (Parquet, ``?csv=raw``) keep the registry's value and take only the dtype:
    their column names are the machine names, and a ``_s`` or ``_share`` name must hold seconds or a share.
    Numbers stay numbers in both: a spreadsheet sums them, and no text such as ``12 min`` is parsed back.
    """

    label_en: str = ""
    label_de: str = ""
    times: int = 1
    per: int = 1
    dtype: ExportType = "float"
    decimals: int | None = None

    def label(self, locale: Locale) -> str:
        """The unit in a column header, ``min`` / ``Min.``; empty for a plain number (a score, a ratio)."""
        return self.label_de if locale == "de" else self.label_en

    def human(self, value: Any) -> Any:
        """The value in a file for people: scaled, rounded, typed; missing stays None."""
        if missing(value):
            return None
        if self.dtype == "text" or isinstance(value, str):
            return str(value)
        scaled = float(value) * self.times / self.per
        if self.dtype == "int":
            return round(scaled)  # a Python float rounds to an int
        return round(scaled, self.decimals) if self.decimals is not None else scaled

    def machine(self, value: Any) -> Any:
        """The registry's value, typed: a count is a whole number (281, not 281.0); missing stays None."""
        if missing(value):
            return None
        if self.dtype == "text" or isinstance(value, str):
            return str(value)
        return round(float(value)) if self.dtype == "int" else float(value)

    def conversion(self) -> str:
        """How a file for people got its number from the registry's value, in words (for the columns sheet)."""
        steps = []
        if self.times != 1:
            steps.append(f"x {self.times}")
        if self.per != 1:
            steps.append(f"/ {self.per}")
        if self.dtype == "int":
            steps.append("rounded to a whole number")
        elif self.decimals is not None:
            steps.append(f"rounded to {self.decimals} decimals")
        return ", ".join(steps) or "as computed"


@dataclass(frozen=True)
class UnitFormat:
    """How values of one registry unit read: ``render`` (a present, numeric value to text), the
    dashboard grid's column kind and decimals for it, and ``export``, its conversion for exported files."""

    unit: str
    render: Callable[[float, Locale], str]
    grid: GridKind = "number"
    digits: int | None = 2
    export: ExportUnit = ExportUnit()

    def text(self, value: Any, locale: Locale = "en") -> str:
        if missing(value):
            return MISSING
        if isinstance(value, str):  # a month ("2027-03"), or a value a computation wrote as text
            return value
        return self.render(value, locale)


def _euros(value: float, locale: Locale) -> str:
    return money(value, locale, 2 if abs(value) < 100 else 0)


UNITS: dict[str, UnitFormat] = {u.unit: u for u in (
    UnitFormat("count", lambda v, loc: number(v, loc), "count", None, ExportUnit(dtype="int")),
    UnitFormat("share", lambda v, loc: percent(v, loc, 1), "share", None, ExportUnit("%", "%", times=100)),
    UnitFormat("seconds", duration, "duration", None, ExportUnit("min", "Min.", per=60)),
    UnitFormat("seconds/week", lambda v, loc: f"{duration(v, loc)}/week",
               export=ExportUnit("min/week", "Min./Woche", per=60)),
    UnitFormat("EUR", _euros, "money", None, ExportUnit("€", "€", decimals=2)),
    UnitFormat("score", lambda v, loc: number(v, loc, 2)),
    UnitFormat("points", lambda v, loc: points(v, loc, 2), export=ExportUnit("points", "Punkte")),
    UnitFormat("follower-hours", lambda v, loc: f"{number(v, loc)} follower-h",
               export=ExportUnit("follower-h", "Follower-Std.")),
    UnitFormat("month", lambda v, loc: str(v), export=ExportUnit(dtype="text")),
    UnitFormat("rho", lambda v, loc: number(v, loc, 2)),
    UnitFormat("AUC", lambda v, loc: number(v, loc, 2)),
    UnitFormat("FTE", lambda v, loc: f"{number(v, loc, 1)} FTE", export=ExportUnit("FTE", "VZÄ")),
)}
assert set(UNITS) == set(get_args(Unit)), "every registry unit has its formatter"


def unit_format(unit: str) -> UnitFormat:
    """The unit's formatter; an unknown unit reads as a plain number with one decimal."""
    return UNITS.get(unit) or UnitFormat(unit, lambda v, loc: number(v, loc, 1))


def format_value(value: Any, unit: str, locale: Locale = "en") -> str:
    """A metric value by its registry unit: the one formatter the CLI, the dashboard and Explore use."""
    return unit_format(unit).text(value, locale)
