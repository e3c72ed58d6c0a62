"""Numbers and dates in the configured locale: expected strings written by hand."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from carepulse.dashboard import formatting as fmt


@pytest.mark.parametrize(("setting", "expected"), [("de", "de"), ("de_DE", "de"), ("de-AT", "de"), ("en", "en"),
                                                   ("en_GB", "en"), ("fr", "en"), ("", "en"), (None, "en")])
def test_locale_of(setting: str | None, expected: str) -> None:
    assert fmt.locale_of(setting) == expected


def test_numbers_group_thousands_and_use_the_locale_decimal_mark() -> None:
    assert fmt.number(1234567.891, "de", 2) == "1.234.567,89"
    assert fmt.number(1234567.891, "en", 2) == "1,234,567.89"
    assert fmt.number(5143, "de") == "5.143"
    assert fmt.number(-0.5, "en", 1) == "-0.5"
    assert fmt.number(math.inf, "de") == "∞"


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_missing_values_are_a_dash(missing: object) -> None:
    for text in (fmt.number(missing, "de"), fmt.percent(missing, "en"), fmt.money(missing, "de"),  # type: ignore[arg-type]
                 fmt.duration(missing, "en"), fmt.points(missing, "de")):  # type: ignore[arg-type]
        assert text == fmt.MISSING


def test_percent_money_points() -> None:
    assert fmt.percent(0.53, "de") == "53\u202f%"
    assert fmt.percent(0.5304, "en", 1) == "53.0%"
    assert fmt.money(1234.5, "de", 2) == "1.234,50\u00a0€"
    assert fmt.money(1234.5, "en") == "€1,234"
    assert fmt.money(-15000, "de") == "-15.000\u00a0€"
    assert fmt.points(0.2234, "de", 2) == "+0,22"
    assert fmt.points(-1.25, "en", 1) == "-1.2"
    assert fmt.points(0.0, "en") == "±0.0"


@pytest.mark.parametrize(("seconds", "de", "en"), [
    (45, "45 s", "45 s"),
    (89, "89 s", "89 s"),
    (90, "2 min", "2 min"),
    (21 * 60, "21 min", "21 min"),
    (3.5 * 3600, "3,5 h", "3.5 h"),
    (2.1 * 86400, "2,1 Tage", "2.1 days"),
    (-120, "-2 min", "-2 min"),
    (math.inf, "not reached", "not reached"),
])
def test_durations(seconds: float, de: str, en: str) -> None:
    assert fmt.duration(seconds, "de") == de
    assert fmt.duration(seconds, "en") == en


def test_dates_and_moments() -> None:
    moment = datetime(2026, 11, 3, 23, 11, 59)
    assert fmt.day(date(2026, 5, 4), "de") == "04.05.2026"
    assert fmt.day(date(2026, 5, 4), "en") == "4 May 2026"
    assert fmt.moment(moment, "de") == "03.11.2026 23:11"
    assert fmt.moment(pd.Timestamp(moment), "en") == "3 Nov 2026 23:11"
    assert fmt.moment(pd.NaT, "de") == fmt.MISSING
    assert fmt.day(None, "en") == fmt.MISSING


def test_values_by_registry_unit() -> None:
    assert fmt.value(0.25, "share", "de") == "25,0\u202f%"
    assert fmt.value(600, "seconds", "en") == "10 min"
    assert fmt.value(9.41, "EUR", "de") == "9,41\u00a0€"
    assert fmt.value(4234.4, "EUR", "en") == "€4,234"
    assert fmt.value(5143, "count", "de") == "5.143"
    assert fmt.value("2026-07", "month", "de") == "2026-07"
    assert fmt.value(3.63153, "score", "en") == "3.63"


def test_component_settings_follow_the_locale() -> None:
    assert fmt.plotly_separators("de") == ",." and fmt.plotly_separators("en") == ".,"
    assert fmt.intl_tag("de") == "de-DE"
    assert fmt.picker_format("de") == "DD.MM.YYYY"
    assert fmt.csv_dialect("de") == (";", ",") and fmt.csv_dialect("en") == (",", ".")


def test_many_values_at_once_read_exactly_as_one_at_a_time() -> None:
    """The figures format thousands of hover texts with the list versions: same text, value for value."""
    values = [None, float("nan"), float("inf"), float("-inf"), 0, 0.0, -0.0, 1, -1, 0.05, 0.25, 0.35, 12.25, 89.5, 90,
              5399.9, 5400, 129_599, 129_600, 1e9, -3600.5, 1234.5, -1_234_567.25, np.float64(12.5), np.int64(7),
              np.nan, pd.NA]
    values += list(np.random.default_rng(7).exponential(3600, 500)) + list(np.random.default_rng(8).random(500))
    for locale in ("de", "en"):
        for digits in (0, 1, 2):
            assert fmt.numbers(values, locale, digits) == [fmt.number(v, locale, digits) for v in values]
            assert fmt.percents(iter(values), locale, digits) == [fmt.percent(v, locale, digits) for v in values]
        assert fmt.durations(values, locale) == [fmt.duration(v, locale) for v in values]
    assert fmt.percents([0.123, None], "de", 1) == ["12,3\u202f%", "–"]
    assert fmt.durations([45, 3600 * 3.5, 86400 * 2000], "de") == ["45 s", "3,5 h", "2.000,0 Tage"]


def test_a_value_that_rounds_to_zero_has_no_sign() -> None:
    """Issue 12: "-0,00" appeared on cards; a value that rounds to zero is shown without a minus."""
    from carepulse.dashboard import formatting as f

    assert f.points(-0.001, "de", 2) == "±0,00"
    assert f.number(-0.0004, "de", 2) == "0,00"
    assert f.percent(-0.00001, "de", 1) == "0,0\u202f%"
    assert f.money(-0.001, "de", 2) == "0,00\u00a0€"
    assert f.money(-0.001, "en", 2) == "€0.00"
    assert f.points(-0.5, "en", 1) == "-0.5" and f.points(0.04, "en", 1) == "±0.0"
