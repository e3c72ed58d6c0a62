"""Time in the simulation (UTC milliseconds, Berlin local dates) and the random draws used everywhere."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

BERLIN: Final = ZoneInfo("Europe/Berlin")
TWITTER_EPOCH_MS: Final = 1288834974657
MINUTE: Final = 60_000
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR


@dataclass(frozen=True)
class _Calendar:
    """The simulated period: local dates in Europe/Berlin, bounds in UTC milliseconds."""

    first_day: date
    end_day: date

    @property
    def start_ms(self) -> int:
        return _local_ms(self.first_day, 0)

    @property
    def end_ms(self) -> int:
        return _local_ms(self.end_day, 0)

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day < self.end_day:
            yield day
            day += timedelta(days=1)

    def at_fraction(self, fraction: float, weekday: int) -> date:
        """The first ``weekday`` on or after ``fraction`` of the period, so planned events keep
        their place in the story whatever the period's length."""
        span = (self.end_day - self.first_day).days
        day = self.first_day + timedelta(days=int(span * fraction))
        return day + timedelta(days=(weekday - day.weekday()) % 7)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")


def _local_ms(day: date, hour: int, minute: int = 0) -> int:
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)
    return int(moment.timestamp()) * 1000


def _local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, BERLIN)


def _iso_utc(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def _german_timestamp(ms: int) -> str:
    return _local(ms).strftime("%d.%m.%Y %H:%M")


def _minutes(rng: random.Random, median: float, sigma: float) -> int:
    return int(rng.lognormvariate(math.log(median), sigma) * MINUTE)


def _poisson(rng: random.Random, mean: float) -> int:
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _weighted(rng: random.Random, weights: dict[str, int] | dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
