"""Numbers, shares, money, durations and dates in the configured locale (German or English).

The dashboard's words are English; its numbers follow ``settings.locale``: ``de`` writes
``1.234,5``, ``53 %``, ``1.234 €`` and ``03.11.2026``; ``en`` writes ``1,234.5``, ``53%``,
``€1,234`` and ``3 Nov 2026``. Plotly and AG Grid get the matching settings from here too
(separators, date formats, an ``Intl`` locale tag), so a figure and the table beside it agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal

from carepulse.metrics.stats import duration_unit

Locale = Literal["de", "en"]
MISSING = "–"
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def locale_of(setting: str | None) -> Locale:
    """``de``, ``de_DE``, ``de-AT`` ... are German; everything else is English."""
    return "de" if (setting or "").lower().startswith("de") else "en"


def _missing(value: Any) -> bool:
    """None, NaN and pandas' NA (whose truth value raises) are missing."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:
        return True


def number(value: float | int | None, locale: Locale, digits: int = 0) -> str:
    """Grouped thousands and fixed decimals: ``1.234,5`` (de) or ``1,234.5`` (en)."""
    if _missing(value):
        return MISSING
    assert value is not None
    if math.isinf(value):
        return "∞"
    if round(value, digits) == 0:
        value = 0.0  # never "-0,00": a value that rounds to zero has no sign
    text = f"{value:,.{digits}f}"
    return _german(text) if locale == "de" else text


def percent(share: float | None, locale: Locale, digits: int = 0) -> str:
    """A share 0..1 as a percentage: ``53 %`` (de, with a narrow space) or ``53%`` (en)."""
    if _missing(share):
        return MISSING
    assert share is not None
    body = number(share * 100, locale, digits)
    return f"{body}\u202f%" if locale == "de" else f"{body}%"


def ci_label(locale: Locale) -> str:
    """"95 % CI" (de) or "95% CI" (en): the interval's label in the page's percent format."""
    return f"{percent(0.95, locale)} CI"


def points(value: float | None, locale: Locale, digits: int = 1, signed: bool = True) -> str:
    """A difference in points, signed: ``+0,3`` / ``-1.2``."""
    if _missing(value):
        return MISSING
    assert value is not None
    text = number(abs(value), locale, digits)
    if round(value, digits) == 0:
        return ("±" if signed else "") + text
    return (("+" if value > 0 else "-") if signed else "") + text


def money(value: float | None, locale: Locale, digits: int = 0) -> str:
    """Euros: ``1.234 €`` (de) or ``€1,234`` (en); negative amounts keep their sign."""
    if _missing(value):
        return MISSING
    assert value is not None
    sign = "-" if round(value, digits) < 0 else ""
    body = number(abs(value), locale, digits)
    return f"{sign}{body}\u00a0€" if locale == "de" else f"{sign}€{body}"


def duration(seconds: float | None, locale: Locale) -> str:
    """A waiting or response time a reader grasps at once: ``45 s``, ``12 min``, ``3,5 h``, ``2,1 days``."""
    if _missing(seconds):
        return MISSING
    assert seconds is not None
    if math.isinf(seconds):
        return "not reached"
    value, unit, digits = duration_unit(seconds)
    return f"{'-' if seconds < 0 else ''}{number(value, locale, digits)} {unit}"


# Many values at once (the hover texts of a curve or a grid: thousands per figure): the same text as
# the functions above, value for value, without three nested calls per value.

def _german(text: str) -> str:
    """``1,234.5`` -> ``1.234,5``."""
    if "," not in text:
        return text.replace(".", ",")
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


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
            out.append(f"{'-' if seconds < 0 else ''}{_german(text) if de else text} {unit}")
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
    """A metric value by its registry unit (count, share, seconds, EUR, ...)."""
    if unit == "share":
        return percent(v, locale, 1)
    if unit in ("seconds",):
        return duration(v, locale)
    if unit == "seconds/week":
        return MISSING if _missing(v) else f"{duration(v, locale)}/week"
    if unit == "EUR":
        return money(v, locale, 2 if v is not None and not _missing(v) and abs(v) < 100 else 0)
    if unit == "count":
        return number(v, locale)
    if unit == "month":
        return MISSING if v is None else str(v)
    if unit in ("score", "points", "rho", "AUC"):
        return number(v, locale, 2)
    if unit == "FTE":
        return MISSING if _missing(v) else f"{number(v, locale, 1)} FTE"
    return number(v, locale, 1)


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
