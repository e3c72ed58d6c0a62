"""Named periods (an ISO week, a month, the last N weeks, the dashboard's presets) and the period a
comparison is made against.

A period is a closed range of local days, the same unit the global date filters use, so a period is
just ``Filters(date_from=start, date_to=end)``. "Relative" periods (last 7 days, this month) count back
from the data's last day, not from the wall clock: a warehouse whose newest tweet is from last Tuesday
would otherwise show an empty "last 7 days" (the demo's data ends weeks before today), and the label
names the days so nobody mistakes them for the calendar's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from carepulse.core.errors import ConfigError

# The dashboard's one-click ranges, in the order they are offered.
PRESETS: tuple[str, ...] = ("last-7-days", "last-4-weeks", "this-month", "last-month", "since-launch")
PRESET_LABELS: dict[str, dict[str, str]] = {
    "last-7-days": {"en": "Last 7 days", "de": "Letzte 7 Tage"},
    "last-4-weeks": {"en": "Last 4 weeks", "de": "Letzte 4 Wochen"},
    "this-month": {"en": "This month", "de": "Dieser Monat"},
    "last-month": {"en": "Last month", "de": "Letzter Monat"},
    "since-launch": {"en": "Since launch", "de": "Seit Start"},
}
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_LAST = re.compile(r"^LAST-(\d{1,3})-(DAYS|WEEKS)$")


@dataclass(frozen=True)
class Period:
    """Local days ``start`` to ``end``, both included."""

    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length just before this one (a month: the previous calendar month, so
        October is compared with September, not with the 31 days before it)."""
        if self._is_month():
            last = self.start - timedelta(days=1)
            return month_period(last.year, last.month)
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end, f"previous {self.days} days")

    def year_before(self) -> Period:
        """The same period one year earlier (an ISO week: the same week number; 29 February: the 28th)."""
        if self._is_month():
            return month_period(self.start.year - 1, self.start.month)
        iso = self.start.isocalendar()
        if self.days == 7 and iso.weekday == 1:
            year = iso.year - 1
            week = min(iso.week, date(year, 12, 28).isocalendar().week)
            return week_period(year, week)
        return Period(_minus_year(self.start), _minus_year(self.end), f"{self.label}, a year earlier")

    def _is_month(self) -> bool:
        return self.start.day == 1 and self.end == _month_end(self.start.year, self.start.month)


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def month_period(year: int, month: int) -> Period:
    return Period(date(year, month, 1), _month_end(year, month), f"{year:04d}-{month:02d}")


def week_period(year: int, week: int) -> Period:
    start = date.fromisocalendar(year, week, 1)
    return Period(start, start + timedelta(days=6), f"{year:04d}-W{week:02d}")


def parse_period(text: str, last_day: date) -> Period:
    """``2026-W44`` (ISO week), ``2026-10`` (month), ``LAST-4-WEEKS`` / ``LAST-7-DAYS`` (ending on
    ``last_day``, the data's last local day). A bad period is a :class:`ConfigError`."""
    value = text.strip().upper()
    try:
        if match := _WEEK.match(value):
            return week_period(int(match[1]), int(match[2]))
        if match := _MONTH.match(value):
            return month_period(int(match[1]), int(match[2]))
    except ValueError as exc:
        raise ConfigError(f"--period {text!r}: {exc}") from exc
    if match := _LAST.match(value):
        count, unit = int(match[1]), match[2]
        if count < 1:
            raise ConfigError(f"--period {text!r}: the count must be at least 1")
        days = count * (7 if unit == "WEEKS" else 1)
        label = f"last {count} {'weeks' if unit == 'WEEKS' else 'days'} to {last_day.isoformat()}"
        return Period(last_day - timedelta(days=days - 1), last_day, label)
    raise ConfigError(f"--period {text!r}: expected an ISO week (2026-W44), a month (2026-10) or LAST-4-WEEKS")


def preset_period(name: str, last_day: date, launch: date | None) -> Period:
    """A dashboard preset, counted back from ``last_day``; ``since-launch`` starts at ``launch`` (the
    pilot's start from the cost settings, else where the data starts)."""
    if name == "last-7-days":
        return parse_period("LAST-7-DAYS", last_day)
    if name == "last-4-weeks":
        return parse_period("LAST-4-WEEKS", last_day)
    if name == "this-month":
        return Period(last_day.replace(day=1), last_day, f"{last_day:%Y-%m} to {last_day.isoformat()}")
    if name == "last-month":
        before = last_day.replace(day=1) - timedelta(days=1)
        return month_period(before.year, before.month)
    if name == "since-launch":
        start = launch if launch is not None and launch <= last_day else last_day
        return Period(start, last_day, f"since {start.isoformat()}")
    raise ConfigError(f"unknown preset {name!r}; one of {', '.join(PRESETS)}")


COMPARE_MODES: tuple[str, ...] = ("previous", "year", "none")


def selected_period(date_from: date | None, date_to: date | None, first_day: date | None,
                    last_day: date | None) -> Period | None:
    """The filters' dates as a period, open ends closed by where the data starts and ends; None without data."""
    start = date_from or first_day
    end = date_to or last_day
    if start is None or end is None or end < start:
        return None
    return Period(start, end, f"{start.isoformat()} to {end.isoformat()}")


def comparison_period(current: Period, mode: str) -> Period | None:
    """What ``current`` is compared with: ``previous`` (equal length, just before), ``year`` (a year
    earlier) or ``none``."""
    if mode == "previous":
        return current.previous()
    if mode == "year":
        return current.year_before()
    if mode == "none":
        return None
    raise ConfigError(f"unknown comparison {mode!r}; one of {', '.join(COMPARE_MODES)}")
