"""Everything fixed before the simulation runs: the rota, the customers, the ids, the planned events."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from carepulse.demo.clock import DAY, HOUR, MINUTE, TWITTER_EPOCH_MS, _Calendar, _local, _local_ms, _poisson, _weighted
from carepulse.demo.entities import _Agent, _Arrival, _Outage, _User
from carepulse.demo.story import (
    BUSINESS,
    BUSINESS_SHARE,
    CRISIS_CREW,
    DAYS_PER_MONTH,
    ENGLISH_SHARE,
    HOURLY_WEIGHT,
    MAIN,
    MAIN_AGENTS,
    MONTHLY_GROWTH,
    REPEAT_CUSTOMER_SHARE,
    THEME_WEIGHTS,
    THREADS_PER_DAY_AT_START,
    WEEKDAY_WEIGHT,
)
from carepulse.demo.vocabulary import (
    ASCII,
    BUSINESS_KINDS,
    CITIES,
    ENGLISH_FIRST,
    ENGLISH_LAST,
    GERMAN_FIRST,
    GERMAN_LAST,
    NICKNAME_EMOJI,
    NICKNAMES,
    SOCIAL_CARE,
)

Window = tuple[tuple[int, int], tuple[int, int]]
WEEKDAY_DESK: Final[tuple[Window, ...]] = (
    ((8, 0), (12, 0)), ((12, 0), (16, 0)), ((16, 0), (20, 0)),
    ((9, 30), (12, 30)), ((17, 0), (20, 0)),
)  # fmt: skip
SATURDAY_DESK: Final[tuple[Window, ...]] = (((9, 0), (16, 0)), ((10, 0), (13, 0)))
BUSINESS_DESK: Final[tuple[Window, ...]] = (((8, 0), (14, 0)), ((14, 0), (20, 0)))
OPEN_HOURS: Final = {5: (9, 16)} | dict.fromkeys(range(5), (8, 20))


def _agents(calendar: _Calendar, outages: Sequence[_Outage]) -> list[_Agent]:
    """The Social Care team and its public-desk rota.

    The team's day is mostly DMs and cases; the public desk is one agent at a time, two at the
    morning and evening peaks, with positions rotating daily through the ten generalists. Two
    business specialists cover ``@nordfunk_b2b`` on weekdays. During an outage a crisis
    crew joins the desk on weekdays, so a Friday-evening outage still swamps the weekend.
    """
    shifts: list[list[tuple[int, int]]] = [[] for _ in SOCIAL_CARE]
    for day_index, day in enumerate(calendar.days()):
        for agent, window in _desk_positions(day, day_index, (day - calendar.first_day).days // 7):
            (start_h, start_m), (end_h, end_m) = window
            shifts[agent].append((_local_ms(day, start_h, start_m), _local_ms(day, end_h, end_m)))
    for number, outage in enumerate(outages):
        for member in range(CRISIS_CREW):
            shifts[(3 * member + number) % MAIN_AGENTS] += _crisis_shifts(outage)
    return [
        _Agent(first, last, (BUSINESS, MAIN) if index >= MAIN_AGENTS else (MAIN,), _merged(shifts[index]))
        for index, (first, last) in enumerate(SOCIAL_CARE)
    ]


def _desk_positions(day: date, day_index: int, week: int) -> list[tuple[int, Window]]:
    weekday = day.weekday()
    if weekday == 6:
        return []
    if weekday == 5:
        return [((5 * slot + week) % MAIN_AGENTS, window) for slot, window in enumerate(SATURDAY_DESK)]
    main = [((2 * slot + 3 * day_index) % MAIN_AGENTS, window) for slot, window in enumerate(WEEKDAY_DESK)]
    business = [(MAIN_AGENTS + (slot + week) % 2, window) for slot, window in enumerate(BUSINESS_DESK)]
    return main + business


def _crisis_shifts(outage: _Outage) -> list[tuple[int, int]]:
    """Weekday opening hours from half an hour after the outage began until two hours after its end."""
    begin, finish = outage.start_ms + 30 * MINUTE, outage.end_ms + 2 * HOUR
    shifts = []
    day = _local(begin).date()
    while _local_ms(day, 0) < finish:
        if day.weekday() < 5:
            opening, closing = OPEN_HOURS[day.weekday()]
            start, end = max(begin, _local_ms(day, opening)), min(finish, _local_ms(day, closing))
            if start < end:
                shifts.append((start, end))
        day += timedelta(days=1)
    return shifts


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class _Population:
    """Customers, created on first contact and sometimes coming back with a new problem."""

    def __init__(self, rng: random.Random, ids: _Snowflakes) -> None:
        self._rng = rng
        self._ids = ids
        self._handles: dict[str, None] = {}
        self._customer_numbers: dict[str, None] = {}
        self._pools: dict[str, list[_User]] = {MAIN: [], BUSINESS: []}

    def customer_for(self, account: str, avoid: _User | None = None) -> _User:
        pool = self._pools[account]
        if pool and self._rng.random() < REPEAT_CUSTOMER_SHARE:
            returning = self._rng.choice(pool)
            if returning is not avoid:
                return returning
        customer = self._business() if account == BUSINESS else self._person()
        pool.append(customer)
        return customer

    def _person(self) -> _User:
        rng = self._rng
        english = rng.random() < ENGLISH_SHARE
        first = rng.choice(ENGLISH_FIRST if english else GERMAN_FIRST)
        last = rng.choice(ENGLISH_LAST if english else GERMAN_LAST)
        city = rng.choice(CITIES)
        handle, nickname = self._person_handle(first, last)
        name, greeting = self._display_name(first, last, city, nickname)
        followers = min(int(rng.lognormvariate(math.log(160), 1.7)), 2_500_000)
        return self._user(handle, name, greeting, "en" if english else "de", followers, city)

    def _person_handle(self, first: str, last: str) -> tuple[str, str]:
        rng = self._rng
        first_ascii, last_ascii = first.translate(ASCII), last.translate(ASCII)
        year = f"{rng.randrange(60, 100) if rng.random() < 0.6 else rng.randrange(0, 10):02d}"
        nickname = rng.choice(NICKNAMES)
        candidates = (
            first_ascii + last_ascii,
            f"{first_ascii.lower()}_{last_ascii.lower()}",
            first_ascii + last_ascii[0] + year,
            first_ascii.lower() + year,
            nickname + year,
            f"{last_ascii.lower()}_{first_ascii[0].lower()}",
        )
        choice = rng.randrange(len(candidates))
        return self._unique_handle(candidates[choice]), nickname if choice == 4 else ""

    def _display_name(self, first: str, last: str, city: str, nickname: str) -> tuple[str, str]:
        roll = self._rng.random()
        if nickname and roll < 0.6:
            return f"{nickname} {self._rng.choice(NICKNAME_EMOJI)}".strip(), ""
        if roll < 0.6:
            return f"{first} {last}", first
        if roll < 0.8:
            return first, first
        if roll < 0.9:
            return f"{first} {last[0]}.", first
        return f"{first} | {city}", first

    def _business(self) -> _User:
        rng = self._rng
        kind, stem = rng.choice(BUSINESS_KINDS)
        last = rng.choice(GERMAN_LAST)
        handle = self._unique_handle(f"{stem}_{last.translate(ASCII).lower()}")
        followers = int(rng.lognormvariate(math.log(350), 1.1))
        return self._user(handle, f"{kind} {last}", "", "de", followers, rng.choice(CITIES))

    def _user(self, handle: str, name: str, greeting: str, lang: str, followers: int, city: str) -> _User:
        rng = self._rng
        return _User(
            id=self._user_id(),
            username=handle,
            name=name,
            first_name=greeting,
            lang=lang,
            followers=followers,
            following=int(rng.lognormvariate(math.log(250), 1.0)),
            tweet_count=int(rng.lognormvariate(math.log(1800), 1.4)),
            listed=followers // rng.randrange(150, 400),
            customer_number=self._customer_number(),
            home_city=city,
        )

    def _unique_handle(self, base: str) -> str:
        handle, suffix = base[:15], 1
        while handle.lower() in self._handles:
            suffix += 1
            handle = base[: 15 - len(str(suffix))] + str(suffix)
        self._handles[handle.lower()] = None
        return handle

    def _user_id(self) -> str:
        """Accounts from before 2013 have short sequential ids, newer ones snowflakes."""
        year = self._rng.randrange(2008, 2026)
        if year < 2013:
            return str(self._rng.randrange(10_000_000, 1_300_000_000))
        joined = _local_ms(date(year, 1, 1), 12) + self._rng.randrange(364 * DAY)
        return self._ids.at(joined)

    def _customer_number(self) -> str:
        number = str(self._rng.randrange(1_000_000_000, 9_999_999_999))
        while number in self._customer_numbers:
            number = str(self._rng.randrange(1_000_000_000, 9_999_999_999))
        self._customer_numbers[number] = None
        return number


class _Snowflakes:
    """Twitter-style ids: ((ms since the Twitter epoch) << 22) | worker | sequence, so ids sort by time."""

    def __init__(self, rng: random.Random) -> None:
        self._worker = rng.randrange(1024)
        self._sequence = 0

    def at(self, ms: int) -> str:
        self._sequence = (self._sequence + 1) % 4096
        return str(((ms - TWITTER_EPOCH_MS) << 22) | (self._worker << 12) | self._sequence)


@dataclass(frozen=True)
class _OutagePlan:
    theme: str
    region: str
    service: str
    cause: str
    device: str
    fraction: float
    weekday: int
    local_start: tuple[int, int]
    hours: float
    threads: int


OUTAGE_PLANS: Final = (
    _OutagePlan("Ausfall DSL", "Hannover-Linden", "DSL und Festnetz",
                "eine defekte Netzkarte in einem Verteilerknoten", "den Router", 0.21, 1, (7, 20), 9.5, 150),
    _OutagePlan("Ausfall Mobilfunk", "Schleswig-Holstein", "Mobilfunk (Sprache und Daten)",
                "ein Softwarefehler im Kernnetz", "dein Handy", 0.53, 4, (17, 40), 15.0, 230),
    _OutagePlan("Ausfall Glasfaser", "Hamburg-Altona", "Glasfaser-Internet",
                "ein bei Tiefbauarbeiten beschädigtes Kabel", "den Router", 0.86, 0, (10, 10), 28.0, 170),
)  # fmt: skip
PRICE_LETTER_AT: Final = 0.66
PRICE_LETTER_DAYS: Final = 10
PRICE_LETTER_THREADS_PER_DAY: Final = 12.0
MAINTENANCE_PLANS: Final = ((0.10, 1, "Bremen-Nord"), (0.36, 2, "Lüneburg"), (0.62, 3, "Kiel"),
                            (0.93, 1, "Oldenburg"))  # fmt: skip


@dataclass(eq=False)
class _World:
    """Everything fixed before the simulation runs: accounts, agents, customers, planned events."""

    brands: dict[str, _User]
    agents: list[_Agent]
    population: _Population
    ids: _Snowflakes
    outages: list[_Outage]
    arrivals: list[_Arrival]

    @classmethod
    def create(cls, rng: random.Random, calendar: _Calendar) -> _World:
        ids = _Snowflakes(rng)
        brands = {
            MAIN: _User("1187345920418394112", MAIN, "Nordfunk hilft", "", "de", 48_210, 1_204, 96_530, 312),
            BUSINESS: _User("1421190345518080001", BUSINESS, "Nordfunk Business", "", "de", 6_480, 388,
                            9_214, 57),
        }  # fmt: skip
        outages = [_outage(plan, calendar) for plan in OUTAGE_PLANS]
        arrivals = _regular_arrivals(rng, calendar) + _price_arrivals(rng, calendar)
        for outage in outages:
            arrivals += _outage_arrivals(rng, outage, calendar)
        return cls(brands, _agents(calendar, outages), _Population(rng, ids), ids, outages, arrivals)


def _outage(plan: _OutagePlan, calendar: _Calendar) -> _Outage:
    day = calendar.at_fraction(plan.fraction, plan.weekday)
    start = _local_ms(day, *plan.local_start)
    end = start + int(plan.hours * HOUR)
    return _Outage(plan.theme, plan.region, plan.service, plan.cause, plan.device, start, end, plan.threads)


def _regular_arrivals(rng: random.Random, calendar: _Calendar) -> list[_Arrival]:
    """Threads opened by ordinary problems: daily and weekly rhythm, monthly growth, daily noise."""
    arrivals = []
    hourly_total = sum(HOURLY_WEIGHT)
    for day_index, day in enumerate(calendar.days()):
        growth = MONTHLY_GROWTH ** (day_index / DAYS_PER_MONTH)
        per_day = THREADS_PER_DAY_AT_START * growth * WEEKDAY_WEIGHT[day.weekday()]
        per_day *= rng.lognormvariate(0, 0.15)
        for hour in range(24):
            hour_start = _local_ms(day, hour)
            for _ in range(_poisson(rng, per_day * HOURLY_WEIGHT[hour] / hourly_total)):
                account = BUSINESS if rng.random() < BUSINESS_SHARE else MAIN
                theme = _weighted(rng, THEME_WEIGHTS[account])
                arrivals.append(_Arrival(hour_start + rng.randrange(HOUR), account, theme))
    return arrivals


def _price_arrivals(rng: random.Random, calendar: _Calendar) -> list[_Arrival]:
    """The price-increase letter: ten days of extra contract questions, a self-made overload week."""
    first = calendar.at_fraction(PRICE_LETTER_AT, 0)
    hourly_total = sum(HOURLY_WEIGHT)
    arrivals = []
    for offset in range(PRICE_LETTER_DAYS):
        day = first + timedelta(days=offset)
        fading = PRICE_LETTER_THREADS_PER_DAY * (1.0 - offset / (PRICE_LETTER_DAYS + 2))
        for hour in range(24):
            for _ in range(_poisson(rng, fading * HOURLY_WEIGHT[hour] / hourly_total)):
                arrivals.append(_Arrival(_local_ms(day, hour) + rng.randrange(HOUR), MAIN, "Preis"))
    return [arrival for arrival in arrivals if arrival.ms < calendar.end_ms]


def _outage_arrivals(rng: random.Random, outage: _Outage, calendar: _Calendar) -> list[_Arrival]:
    """Complaints pile up in the first hours of an outage, fewer at night."""
    duration = outage.end_ms - outage.start_ms
    peak = max(HOURLY_WEIGHT)
    arrivals: list[_Arrival] = []
    while len(arrivals) < outage.threads:
        offset = int(rng.expovariate(1.0 / (duration * 0.3)))
        ms = outage.start_ms + offset
        if offset >= duration or rng.random() > HOURLY_WEIGHT[_local(ms).hour] / peak:
            continue
        account = BUSINESS if rng.random() < 0.06 else MAIN
        arrivals.append(_Arrival(ms, account, outage.theme, outage))
    return [arrival for arrival in arrivals if arrival.ms < calendar.end_ms]
