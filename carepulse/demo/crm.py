"""The CRM export: Twitter cases logged by the agents, hotline, e-mail and chat cases, the CSV writer."""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from carepulse.demo.clock import (
    DAY,
    HOUR,
    MINUTE,
    _Calendar,
    _german_timestamp,
    _local,
    _local_ms,
    _minutes,
    _poisson,
    _weighted,
)
from carepulse.demo.entities import _Outage, _Thread
from carepulse.demo.story import (
    CASE_SHARE,
    CHAT_CASES_PER_TWITTER_CASE,
    DAYS_PER_MONTH,
    EMAIL_CASES_PER_TWITTER_CASE,
    HOURLY_WEIGHT,
    NPS_SHARE_OF_SURVEYED,
    PHONE_CASES_PER_TWITTER_CASE,
    RECONTACT_SHARE,
    SURVEY_SHARE,
    THEME_CATEGORY,
)
from carepulse.demo.vocabulary import GERMAN_FIRST, GERMAN_LAST
from carepulse.demo.world import _World

CRM_HEADERS: Final = (
    "Fallnummer",
    "Kanal",
    "Erstellt am",
    "Geschlossen am",
    "Ergebnis",
    "Kundennummer",
    "Twitter-Handle",
    "Tweet-ID",
    "Bearbeiter",
    "Team",
    "Kategorie",
    "Bearbeitungszeit (Min)",
    "Zufriedenheit",
    "Weiterempfehlung",
)


@dataclass
class _Case:
    opened_ms: int
    closed_ms: int | None
    channel: str
    outcome: str
    category: str
    agent: str
    team: str
    minutes: float
    customer_number: str = ""
    handle: str = ""
    tweet_id: str = ""
    csat: int | None = None
    nps: int | None = None


@dataclass(frozen=True)
class _Channel:
    """How a non-Twitter channel behaves: volume relative to Twitter cases, hours, effort, mood."""

    name: str
    per_twitter_case: float
    open_hours: tuple[int, int] | None
    minutes_median: float
    outcomes: dict[str, float]
    csat_mu: dict[str, float]
    closes_in_contact: float
    teams: tuple[str, ...]
    staff: int


OTHER_CHANNELS: Final = (
    _Channel("Telefon", PHONE_CASES_PER_TWITTER_CASE, (8, 20), 10.5,
             {"gelöst": 74, "nicht gelöst": 13, "eskaliert": 11, "Duplikat": 2},
             {"gelöst": 4.0, "nicht gelöst": 2.3, "eskaliert": 2.8}, 0.7, ("Hotline Nord", "Hotline Süd"), 28),
    _Channel("E-Mail", EMAIL_CASES_PER_TWITTER_CASE, None, 12.0,
             {"gelöst": 70, "nicht gelöst": 15, "eskaliert": 11, "Duplikat": 4},
             {"gelöst": 3.8, "nicht gelöst": 2.2, "eskaliert": 2.7}, 0.0, ("E-Mail-Service",), 6),
    _Channel("Chat", CHAT_CASES_PER_TWITTER_CASE, (8, 20), 9.0,
             {"gelöst": 72, "nicht gelöst": 16, "eskaliert": 9, "Duplikat": 3},
             {"gelöst": 4.1, "nicht gelöst": 2.4, "eskaliert": 2.9}, 0.75, ("Chat-Service",), 5),
)  # fmt: skip
TWITTER_CSAT_MU: Final = {"gelöst": 4.5, "nicht gelöst": 2.5, "eskaliert": 3.1}
CATEGORY_WEIGHTS: Final = {"Störung": 28, "Rechnung": 22, "Vertrag": 20, "Technik": 12, "Umzug": 8,
                           "Mobilfunk": 10}  # fmt: skip


@dataclass(frozen=True)
class _CrmDraw:
    """The pilot's CRM cases, and what the history before it is drawn from: each classic channel's
    regular volume per unit of slot weight (outage hours aside) and its staff."""

    cases: list[_Case]
    rate: dict[str, float]
    staff: dict[str, list[tuple[str, str]]]


def _crm_cases(threads: list[_Thread], world: _World, calendar: _Calendar, rng: random.Random) -> _CrmDraw:
    """Twitter cases logged by the answering agent, plus hotline, e-mail and chat cases, plus the
    phone calls of Twitter customers whose problem came back."""
    as_of = calendar.end_ms
    twitter = [case for thread in threads for case in _twitter_cases(thread, as_of, rng)]
    staff = {channel.name: _staff(rng, channel) for channel in OTHER_CHANNELS}
    cases = list(twitter)
    rate: dict[str, float] = {}
    for channel in OTHER_CHANNELS:
        total = int(len(twitter) * channel.per_twitter_case)
        slots = _contact_slots(channel, calendar, world.outages)
        rate[channel.name] = total / sum(weight for _, weight, _ in slots)
        cases += _channel_cases(rng, channel, slots, rate[channel.name], calendar, staff[channel.name])
    cases += _recontacts(rng, twitter, OTHER_CHANNELS[0], staff["Telefon"], as_of)
    return _CrmDraw(cases, rate, staff)


def _twitter_cases(thread: _Thread, as_of: int, rng: random.Random) -> list[_Case]:
    """The agent logs a case when colleagues will need it, mostly when the case moved to DM."""
    first, agent = thread.first_response, thread.first_agent
    if first is None or agent is None:
        return []
    share = CASE_SHARE["joined" if thread.joined else "dm" if thread.used_dm else "public"]
    if rng.random() >= share:
        return []
    opened = first.ms + rng.randrange(MINUTE, 20 * MINUTE)
    if opened >= as_of:
        return []
    outcome = _twitter_outcome(thread, rng)
    closed = _twitter_closing(thread, outcome, opened, rng)
    case = _Case(
        opened_ms=opened,
        closed_ms=closed if closed < as_of else None,
        channel="Twitter",
        outcome=outcome if closed < as_of else "offen",
        category=thread.category,
        agent=agent.crm_name,
        team="Social Care",
        minutes=round(rng.lognormvariate(math.log(9.0 if thread.used_dm else 6.0), 0.35), 1),
        customer_number=thread.customer.customer_number if thread.used_dm or rng.random() < 0.35 else "",
    )
    _link_to_tweets(case, thread, rng)
    wait_hours = (first.ms - thread.started_ms) / HOUR
    _survey(case, TWITTER_CSAT_MU, rng, penalty=0.15 * math.log1p(wait_hours))
    cases = [case]
    if rng.random() < 0.025:
        cases.append(_duplicate_of(case, rng))
    return cases


def _twitter_outcome(thread: _Thread, rng: random.Random) -> str:
    if thread.thanked:
        return "gelöst"
    if thread.outage is not None:
        return rng.choices(("gelöst", "nicht gelöst", "eskaliert"), weights=(90, 5, 5))[0]
    if thread.last_brand_kind == "escalate":
        return rng.choices(("eskaliert", "gelöst"), weights=(80, 20))[0]
    return rng.choices(("gelöst", "nicht gelöst", "eskaliert"), weights=(74, 15, 11))[0]


def _twitter_closing(thread: _Thread, outcome: str, opened: int, rng: random.Random) -> int:
    if thread.outage is not None and outcome == "gelöst":
        return max(opened, thread.outage.end_ms) + _minutes(rng, 90, 0.8)
    if thread.thanked:
        return max(opened, thread.tweets[-1].ms) + _minutes(rng, 30, 0.8)
    median_hours = {"gelöst": 6.0, "nicht gelöst": 24.0, "eskaliert": 72.0}[outcome]
    return opened + _minutes(rng, median_hours * 60, 1.0)


def _link_to_tweets(case: _Case, thread: _Thread, rng: random.Random) -> None:
    """Most agents paste a tweet id; some note only the handle, typed however they like."""
    username = thread.customer.username
    handle = "@" + rng.choices((username, username.lower(), username.upper()), weights=(60, 32, 8))[0]
    by_handle_only = not thread.joined and case.opened_ms - thread.started_ms < 24 * HOUR and rng.random() < 0.3
    if by_handle_only:
        case.handle = handle
        return
    case.tweet_id = rng.choice(thread.tweets).id if rng.random() < 0.5 else thread.tweets[0].id
    if rng.random() < 0.6:
        case.handle = handle


def _survey(case: _Case, mu: dict[str, float], rng: random.Random, penalty: float = 0.0) -> None:
    """Roughly a third of closed cases answer the CSAT survey, two thirds of those also the NPS
    question; satisfaction follows the outcome and suffers from waiting."""
    if case.closed_ms is None or case.outcome not in mu or rng.random() >= SURVEY_SHARE:
        return
    case.csat = min(max(round(rng.gauss(mu[case.outcome] - penalty, 0.9)), 1), 5)
    if rng.random() < NPS_SHARE_OF_SURVEYED:
        case.nps = min(max(round(2.2 * case.csat - 1.5 + rng.gauss(0, 1.2)), 0), 10)


def _duplicate_of(case: _Case, rng: random.Random) -> _Case:
    opened = case.opened_ms + rng.randrange(5 * MINUTE, 60 * MINUTE)
    return _Case(
        opened_ms=opened,
        closed_ms=opened + rng.randrange(MINUTE, 30 * MINUTE),
        channel=case.channel,
        outcome="Duplikat",
        category=case.category,
        agent=case.agent,
        team=case.team,
        minutes=round(rng.uniform(0.5, 3.0), 1),
        customer_number=case.customer_number,
        handle=case.handle,
        tweet_id=case.tweet_id,
    )


def _staff(rng: random.Random, channel: _Channel) -> list[tuple[str, str]]:
    names: dict[str, str] = {}
    while len(names) < channel.staff:
        first, last = rng.choice(GERMAN_FIRST), rng.choice(GERMAN_LAST)
        names.setdefault(f"{first[0]}. {last}", channel.teams[len(names) % len(channel.teams)])
    return list(names.items())


def _channel_cases(
    rng: random.Random,
    channel: _Channel,
    slots: list[tuple[int, float, _Outage | None]],
    scale: float,
    calendar: _Calendar,
    staff: list[tuple[str, str]],
) -> list[_Case]:
    """Cases of a classic channel: nearly flat volume (+3 %/month) inside its opening hours,
    with many extra outage contacts while an outage lasts (``slots``, each weight x ``scale`` cases)."""
    cases = []
    for hour_start, weight, outage in slots:
        for _ in range(_poisson(rng, weight * scale)):
            category = _weighted(rng, CATEGORY_WEIGHTS)
            if outage is not None and rng.random() < 0.75:
                category = THEME_CATEGORY[outage.theme]
            opened = hour_start + rng.randrange(HOUR)
            cases.append(_classic_case(rng, channel, opened, category, staff, calendar.end_ms))
    return cases


def _contact_slots(
    channel: _Channel, calendar: _Calendar, outages: list[_Outage], growth_from: date | None = None
) -> list[tuple[int, float, _Outage | None]]:
    """Each opening hour of the channel with its relative volume and the outage it falls into.

    Growth counts from ``growth_from`` (default: the calendar's first day), so the weeks before the
    pilot continue the pilot's growth curve backwards instead of starting one of their own.
    """
    origin = growth_from or calendar.first_day
    slots: list[tuple[int, float, _Outage | None]] = []
    for day in calendar.days():
        if channel.open_hours is not None and day.weekday() == 6:
            continue
        growth = 1.03 ** ((day - origin).days / DAYS_PER_MONTH)
        for hour in range(24):
            if channel.open_hours is not None and not channel.open_hours[0] <= hour < channel.open_hours[1]:
                continue
            hour_start = _local_ms(day, hour)
            weight = growth * HOURLY_WEIGHT[hour] * (0.6 if day.weekday() == 5 else 1.0)
            outage = next((o for o in outages if o.start_ms <= hour_start < o.end_ms), None)
            slots.append((hour_start, weight * (4.0 if outage else 1.0), outage))
    return slots


def _classic_case(
    rng: random.Random, channel: _Channel, opened: int, category: str, staff: list[tuple[str, str]], as_of: int
) -> _Case:
    agent, team = rng.choice(staff)
    outcome = _weighted(rng, channel.outcomes)
    minutes = round(rng.lognormvariate(math.log(channel.minutes_median), 0.25), 1)
    if outcome == "Duplikat":
        closed = opened + rng.randrange(MINUTE, 2 * HOUR)
        minutes = round(rng.uniform(0.5, 3.0), 1)
    elif outcome != "eskaliert" and rng.random() < channel.closes_in_contact:
        closed = opened + int(minutes * MINUTE)
    else:
        closed = opened + _minutes(rng, 26 * 60 if outcome != "eskaliert" else 72 * 60, 0.9)
    case = _Case(
        opened_ms=opened,
        closed_ms=closed if closed < as_of else None,
        channel=channel.name,
        outcome=outcome if closed < as_of else "offen",
        category=category,
        agent=agent,
        team=team,
        minutes=minutes,
        customer_number=str(rng.randrange(1_000_000_000, 9_999_999_999)),
    )
    _survey(case, channel.csat_mu, rng)
    return case


def _recontacts(
    rng: random.Random, twitter: list[_Case], phone: _Channel, staff: list[tuple[str, str]], as_of: int
) -> list[_Case]:
    """About 8 % of resolved Twitter cases come back by phone within a week: the problem was not
    really solved. Their satisfaction is lower."""
    calls = []
    for case in twitter:
        if case.outcome != "gelöst" or case.closed_ms is None or rng.random() >= RECONTACT_SHARE:
            continue
        latest = case.opened_ms + 7 * DAY - 2 * HOUR
        call = _next_hotline_time(case.closed_ms + rng.randrange(2 * HOUR, 5 * DAY), phone)
        if call >= latest or call >= as_of:
            continue
        case.customer_number = case.customer_number or str(rng.randrange(1_000_000_000, 9_999_999_999))
        recontact = _classic_case(rng, phone, call, case.category, staff, as_of)
        recontact.customer_number = case.customer_number
        if recontact.csat is not None:
            recontact.csat = max(recontact.csat - 1, 1)
        calls.append(recontact)
    return calls


def _next_hotline_time(ms: int, phone: _Channel) -> int:
    """The same moment if the hotline is open then, else the same minute of its next opening hour."""
    assert phone.open_hours is not None
    opening, closing = phone.open_hours
    local = _local(ms)
    if local.weekday() != 6 and opening <= local.hour < closing:
        return ms
    day = local.date() if local.hour < opening else local.date() + timedelta(days=1)
    while day.weekday() == 6:
        day += timedelta(days=1)
    return _local_ms(day, opening) + ms % HOUR


def _numbered_cases(cases: list[_Case], rng: random.Random) -> list[tuple[int, _Case]]:
    """The cases in export order with their case numbers, which grow with gaps (other queues use some)."""
    channel_order = {"Twitter": 0, "Telefon": 1, "E-Mail": 2, "Chat": 3}
    cases.sort(key=lambda case: (case.opened_ms, channel_order[case.channel], case.agent))
    number = 2_604_000 + rng.randrange(1000)
    numbered = []
    for case in cases:
        number += rng.randint(1, 3)
        numbered.append((number, case))
    return numbered


def _write_crm(path: Path, rows: list[list[str]]) -> None:
    """Semicolon-separated, decimal commas, local German timestamps: what the CRM exports."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(CRM_HEADERS)
        writer.writerows(rows)


def _crm_row(case_id: str, case: _Case) -> list[str]:
    return [
        case_id,
        case.channel,
        _german_timestamp(case.opened_ms),
        _german_timestamp(case.closed_ms) if case.closed_ms is not None else "",
        case.outcome,
        case.customer_number,
        case.handle,
        case.tweet_id,
        case.agent,
        case.team,
        case.category,
        f"{case.minutes:.1f}".replace(".", ","),
        "" if case.csat is None else str(case.csat),
        "" if case.nps is None else str(case.nps),
    ]
