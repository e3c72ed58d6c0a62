"""Numbers, shares, money, durations and dates in the configured locale (German or English).

A metric value's text comes from its unit's one formatter (:mod:`carepulse.metrics.units`, shared with
the CLI); the primitives (``number``, ``percent``, ``money``, ``duration``, ``points``) are that module's,
re-exported here beside the dashboard's own: many values at once, dates, component settings.

The dashboard's words are English; its numbers follow ``settings.locale``: ``de`` writes
``1.234,5``, ``53 %``, ``1.234 €`` and ``03.11.2026``; ``en`` writes ``1,234.5``, ``53%``,
``€1,234`` and ``3 Nov 2026``. Plotly and AG Grid get the matching settings from here too
(separators, date formats, an ``Intl`` locale tag), so a figure and the table beside it agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from carepulse.metrics.stats import duration_unit
from carepulse.metrics.units import (
    DURATION_UNITS_DE,
    MISSING,
    Locale,
    duration,
    format_value,
    german,
    locale_of,
    missing,
    money,
    number,
    percent,
    points,
)

# The unit formatters' primitives, part of this module's API (the pages call fmt.number, fmt.money ...).
REEXPORTED = (MISSING, Locale, duration, locale_of, money, number, percent, points)
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_german = german
_missing = missing


def ci_label(locale: Locale) -> str:
    """"95 % KI" (de: Konfidenzintervall) or "95% CI" (en): the interval's label in the page's language."""
    return f"{percent(0.95, locale)} {'KI' if locale == 'de' else 'CI'}"


# Many values at once (the hover texts of a curve or a grid: thousands per figure): the same text as
# the functions above, value for value, without three nested calls per value.

def numbers(values: Iterable[float | int | None], locale: Locale, digits: int = 0) -> list[str]:
    """:func:`number` for each value."""
    spec = f",.{digits}f"
    de = locale == "de"
    out = []
    for v in values:
        if v is None or _missing(v):
            out.append(MISSING)
        elif math.isinf(v):
            out.append("∞")
        else:
            text = format(0.0 if round(v, digits) == 0 else v, spec)  # no "-0", as in number()
            out.append(_german(text) if de else text)
    return out


def percents(shares: Iterable[float | None], locale: Locale, digits: int = 0) -> list[str]:
    """:func:`percent` for each share."""
    suffix = "\u202f%" if locale == "de" else "%"
    scaled = [None if s is None or _missing(s) else s * 100 for s in shares]
    return [MISSING if v is None else text + suffix
            for v, text in zip(scaled, numbers(scaled, locale, digits), strict=True)]


def durations(values: Iterable[float | None], locale: Locale) -> list[str]:
    """:func:`duration` for each value."""
    de = locale == "de"
    out = []
    for seconds in values:
        if seconds is None or _missing(seconds):
            out.append(MISSING)
        elif math.isinf(seconds):
            out.append("not reached")
        else:
            value, unit, digits = duration_unit(seconds)
            text = format(value, f",.{digits}f")
            shown = DURATION_UNITS_DE.get(unit, unit) if de else unit
            out.append(f"{'-' if seconds < 0 else ''}{_german(text) if de else text} {shown}")
    return out


def day(value: date | datetime | None, locale: Locale) -> str:
    """``03.11.2026`` (de) or ``3 Nov 2026`` (en)."""
    if value is None or _missing_time(value):
        return MISSING
    if locale == "de":
        return f"{value.day:02d}.{value.month:02d}.{value.year}"
    return f"{value.day} {_EN_MONTHS[value.month - 1]} {value.year}"


def moment(value: datetime | None, locale: Locale) -> str:
    """A local date and time to the minute: ``03.11.2026 23:11`` / ``3 Nov 2026 23:11``."""
    if value is None or _missing_time(value):
        return MISSING
    return f"{day(value, locale)} {value.hour:02d}:{value.minute:02d}"


def _missing_time(value: Any) -> bool:
    import pandas as pd

    return value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def value(v: Any, unit: str, locale: Locale) -> str:
    """A metric value by its registry unit (count, share, seconds, EUR, ...): the unit's one formatter,
    :func:`carepulse.metrics.units.format_value`, which the CLI uses too."""
    return format_value(v, unit, locale)


# ---- settings for the components ----------------------------------------------------------------

def plotly_separators(locale: Locale) -> str:
    """Plotly's ``layout.separators``: decimal mark, then thousands mark."""
    return ",." if locale == "de" else ".,"


def plotly_day_format(locale: Locale) -> str:
    """A d3 time format for date axes (numeric in German: plotly ships English month names only)."""
    return "%d.%m.%Y" if locale == "de" else "%d %b %Y"


def plotly_week_hover(locale: Locale) -> str:
    return "%d.%m.%Y" if locale == "de" else "%d %b %Y"


def intl_tag(locale: Locale) -> str:
    """The BCP 47 tag AG Grid's formatters hand to ``Intl.NumberFormat``."""
    return "de-DE" if locale == "de" else "en-GB"


def picker_format(locale: Locale) -> str:
    """``dcc.DatePickerRange.display_format`` (moment.js tokens)."""
    return "DD.MM.YYYY" if locale == "de" else "D MMM YYYY"


def csv_dialect(locale: Locale) -> tuple[str, str]:
    """(separator, decimal mark) a spreadsheet in that locale opens without an import dialog."""
    return (";", ",") if locale == "de" else (",", ".")
