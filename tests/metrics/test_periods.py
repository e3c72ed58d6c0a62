"""Named periods and comparison periods, worked by hand on the calendar."""

from datetime import date

import pytest

from carepulse.core.errors import ConfigError
from carepulse.metrics import periods

LAST = date(2026, 11, 3)  # a Tuesday


def test_iso_week_month_and_last_weeks() -> None:
    week = periods.parse_period("2026-W44", LAST)
    assert (week.start, week.end, week.days) == (date(2026, 10, 26), date(2026, 11, 1), 7)
    month = periods.parse_period("2026-10", LAST)
    assert (month.start, month.end) == (date(2026, 10, 1), date(2026, 10, 31))
    last4 = periods.parse_period("last-4-weeks", LAST)
    assert (last4.start, last4.end, last4.days) == (date(2026, 10, 7), LAST, 28)
    assert "2026-11-03" in last4.label


def test_previous_has_equal_length_and_a_month_the_previous_month() -> None:
    prev = periods.parse_period("LAST-4-WEEKS", LAST).previous()
    assert (prev.start, prev.end) == (date(2026, 9, 9), date(2026, 10, 6))
    sep = periods.parse_period("2026-10", LAST).previous()
    assert (sep.start, sep.end) == (date(2026, 9, 1), date(2026, 9, 30))
    jan = periods.parse_period("2026-01", LAST).previous()
    assert (jan.start, jan.end) == (date(2025, 12, 1), date(2025, 12, 31))
    w1 = periods.parse_period("2026-W01", LAST).previous()
    assert (w1.start, w1.end) == (date(2025, 12, 22), date(2025, 12, 28))


def test_year_before() -> None:
    assert periods.parse_period("2026-10", LAST).year_before().label == "2025-10"
    assert periods.parse_period("2026-W44", LAST).year_before().label == "2025-W44"
    # 2026 has 53 ISO weeks, 2025 has 52: week 53 compares with the last week of 2025
    assert periods.parse_period("2026-W53", LAST).year_before().label == "2025-W52"
    leap = periods.Period(date(2028, 2, 29), date(2028, 3, 6), "x").year_before()
    assert (leap.start, leap.end) == (date(2027, 2, 28), date(2027, 3, 6))


@pytest.mark.parametrize("text", ["2026-W60", "2026-13", "LAST-0-WEEKS", "yesterday", "2026-W4"])
def test_bad_periods_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="--period"):
        periods.parse_period(text, LAST)


def test_presets_count_back_from_the_data() -> None:
    def span(name: str, launch: date | None = date(2026, 5, 4)) -> tuple[date, date]:
        p = periods.preset_period(name, LAST, launch)
        return p.start, p.end

    assert span("last-7-days") == (date(2026, 10, 28), LAST)
    assert span("last-4-weeks") == (date(2026, 10, 7), LAST)
    assert span("this-month") == (date(2026, 11, 1), LAST)
    assert span("last-month") == (date(2026, 10, 1), date(2026, 10, 31))
    assert span("since-launch") == (date(2026, 5, 4), LAST)
    assert span("since-launch", None) == (LAST, LAST)
    assert set(periods.PRESETS) == set(periods.PRESET_LABELS)


def test_selected_and_comparison_period() -> None:
    sel = periods.selected_period(date(2026, 10, 1), None, date(2026, 5, 1), LAST)
    assert sel is not None and (sel.start, sel.end) == (date(2026, 10, 1), LAST)
    assert periods.selected_period(None, None, None, None) is None
    prev = periods.comparison_period(sel, "previous")
    assert prev is not None and prev.days == sel.days and prev.end == date(2026, 9, 30)
    assert periods.comparison_period(sel, "none") is None
    with pytest.raises(ConfigError):
        periods.comparison_period(sel, "lastweek")
