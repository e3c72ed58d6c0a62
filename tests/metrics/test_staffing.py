"""Erlang C staffing: published table values, the textbook formula, and hand-worked plans and arrivals.

Expected numbers are written out with their reasoning, never computed by the code under test.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.metrics.context import Filters, open_context
from carepulse.metrics.staffing import (
    HourlyArrivals,
    agents_needed,
    erlang_c,
    hourly_arrivals,
    service_level,
    staffing_plan,
    verdict,
)
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import AC, TH, ThreadRow, insert_threads

# ---- published values ----------------------------------------------------------------------------
# The widely used worked example (Call Centre Helper, "Erlang C Formula - Made Simple With an Easy
# Worked Example"): 100 calls per 30 minutes = 200 per hour, AHT 180 s -> A = 200 * 180 / 3600 = 10
# Erlangs; target answer time 20 s, service level 80%, maximum occupancy 85%, shrinkage 30%.
# The table below is the one the CRAN package ErlangC 0.1.0 publishes for exactly that example in its
# README (https://stat.ethz.ch/CRAN/web/packages/ErlangC/readme/README.html, "$process" of
# calculate_agents(100, 30 min, 180 s, 20 s, 0.8, 0.85, 0.3)): agents, probability of waiting,
# service level; it answers 14 agents, 20 with shrinkage ("$agents_shrinked").
PUBLISHED = [
    (11, 0.6821182, 0.3896138),
    (12, 0.4493882, 0.640158),
    (13, 0.2852705, 0.7955948),
    (14, 0.1741319, 0.88835),
]


@pytest.mark.parametrize(("agents", "waits", "within_20s"), PUBLISHED)
def test_published_worked_example(agents: int, waits: float, within_20s: float) -> None:
    assert erlang_c(10.0, agents) == pytest.approx(waits, abs=1e-6)
    assert service_level(200.0, 180.0, agents, 20.0) == pytest.approx(within_20s, abs=1e-6)


def test_published_answer_is_14_agents_and_20_with_shrinkage() -> None:
    # 13 agents reach 79.56% < 80%, 14 reach 88.84%; 14 agents are 10 / 14 = 71% busy (<= 85%).
    assert agents_needed(200.0, 180.0, 20.0, 0.8, max_occupancy=0.85) == 14
    plan = staffing_plan([(0, 9, 200.0)], aht_seconds=180.0, target_seconds=20.0, target_share=0.8,
                         scenarios=[1.0], shrinkage=0.3, hours_per_fte=40.0, hourly_cost_eur=30.0)
    assert math.ceil(plan.scenario(1.0).paid_hours) == 20  # 14 / (1 - 0.3) = 20.0


# ---- the textbook closed form ------------------------------------------------------------------

def closed_form(a: float, n: int) -> float:
    """Erlang C as printed in the textbooks: (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A))."""
    top = a ** n / math.factorial(n) * n / (n - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize("a", [0.05, 0.5, 1.0, 2.5, 7.0, 10.0, 19.3, 40.0, 97.5])
def test_matches_closed_form(a: float) -> None:
    for n in range(math.floor(a) + 1, math.floor(a) + 12):
        assert erlang_c(a, n) == pytest.approx(closed_form(a, n), rel=1e-10, abs=1e-15)


def test_large_traffic_is_exact() -> None:
    """A = 500: the float closed form overflows (500^530), exact fractions do not."""
    a, n = 500, 530
    top = Fraction(a ** n, math.factorial(n)) * Fraction(n, n - a)
    exact = top / (sum(Fraction(a ** k, math.factorial(k)) for k in range(n)) + top)
    assert erlang_c(float(a), n) == pytest.approx(float(exact), rel=1e-9)
    big = [erlang_c(5000.0, n) for n in (5001, 5050, 5100, 5200)]
    assert all(0 < v < 1 for v in big) and big == sorted(big, reverse=True)


def test_erlang_c_edges() -> None:
    assert erlang_c(10.0, 10) == 1.0 and erlang_c(10.0, 3) == 1.0  # no more agents than Erlangs
    assert erlang_c(0.0, 1) == 0.0
    assert erlang_c(1.0, 2) == pytest.approx(1 / 3)  # (1/2 * 2) / (1 + 1 + 1) by the closed form
    with pytest.raises(ValueError):
        erlang_c(-1.0, 2)


def test_service_level_edges() -> None:
    assert service_level(0.0, 180.0, 0, 20.0) == 1.0  # nothing arrives, nobody waits
    assert service_level(200.0, 180.0, 10, 20.0) == 0.0  # A = N: the queue never clears
    # target 0: the share answered at once is 1 - C
    assert service_level(200.0, 180.0, 12, 0.0) == pytest.approx(1 - 0.4493882, abs=1e-6)
    with pytest.raises(ValueError):
        service_level(200.0, 0.0, 12, 20.0)


# ---- agents needed -----------------------------------------------------------------------------

def test_zero_volume_needs_no_agents() -> None:
    assert agents_needed(0.0, 180.0, 20.0, 0.8) == 0


def test_tiny_volume_needs_one_agent() -> None:
    assert agents_needed(0.01, 360.0, 3600.0, 0.8) == 1


def test_occupancy_cap_binds() -> None:
    # Twitter-like: 18 threads an hour, 6 min each -> A = 1.8; SLA 60 min for 80%.
    # N = 2: C = 0.8527 (B(1) = 1.8/2.8, B(2) = 1.8 B(1) / (2 + 1.8 B(1)) = 0.3665, C = 2 B / (2 - 1.8 (1 - B))),
    # share within 60 min = 1 - 0.8527 e^(-0.2 * 3600/360) = 1 - 0.8527 * 0.1353 = 0.885 >= 0.8,
    # but 1.8 / 2 = 90% busy > 85% -> 3 agents (60%). Without the cap 2 do.
    assert service_level(18.0, 360.0, 2, 3600.0) == pytest.approx(0.8846, abs=1e-4)
    assert agents_needed(18.0, 360.0, 3600.0, 0.8, max_occupancy=1.0) == 2
    assert agents_needed(18.0, 360.0, 3600.0, 0.8, max_occupancy=0.85) == 3


def test_occupancy_exactly_at_cap_is_allowed() -> None:
    # 170 an hour x 180 s = 8.5 Erlangs; 10 agents are exactly 85% busy; a low target leaves the cap deciding.
    assert agents_needed(170.0, 180.0, 20.0, 0.1, max_occupancy=0.85) == 10


def test_target_just_met_and_just_missed() -> None:
    met = service_level(200.0, 180.0, 14, 20.0)
    assert agents_needed(200.0, 180.0, 20.0, met, max_occupancy=1.0) == 14
    assert agents_needed(200.0, 180.0, 20.0, met + 1e-9, max_occupancy=1.0) == 15
    # 13 agents give 0.7955948 (published): a target of 79.5% is met by 13, 79.6% is not.
    assert agents_needed(200.0, 180.0, 20.0, 0.795, max_occupancy=1.0) == 13
    assert agents_needed(200.0, 180.0, 20.0, 0.796, max_occupancy=1.0) == 14


@pytest.mark.parametrize("rate", [0.3, 5.0, 37.0, 200.0, 1234.0])
def test_fewest_agents_meeting_both_rules(rate: float) -> None:
    n = agents_needed(rate, 240.0, 30.0, 0.8, max_occupancy=0.85)
    a = rate * 240.0 / 3600.0
    assert a / n <= 0.85 and service_level(rate, 240.0, n, 30.0) >= 0.8
    assert n == 1 or a / (n - 1) > 0.85 or service_level(rate, 240.0, n - 1, 30.0) < 0.8


def test_doubling_volume_needs_fewer_than_double_agents() -> None:
    for rate in (50.0, 100.0, 200.0, 800.0, 3000.0):
        one, two = agents_needed(rate, 180.0, 20.0, 0.8), agents_needed(2 * rate, 180.0, 20.0, 0.8)
        assert one < two < 2 * one
    # tiny volumes: one agent either way, never more than double
    for rate in (0.1, 1.0, 5.0, 10.0):
        assert agents_needed(2 * rate, 360.0, 3600.0, 0.8) <= 2 * agents_needed(rate, 360.0, 3600.0, 0.8)


def test_monotone() -> None:
    by_rate = [agents_needed(r, 180.0, 20.0, 0.8) for r in range(0, 1001, 7)]
    assert by_rate == sorted(by_rate)
    by_share = [agents_needed(200.0, 180.0, 20.0, s / 100) for s in range(0, 100, 3)]
    assert by_share == sorted(by_share)
    by_target = [agents_needed(200.0, 180.0, t, 0.9, max_occupancy=1.0) for t in (0, 5, 10, 20, 60, 300, 3600)]
    assert by_target == sorted(by_target, reverse=True)


def test_agents_needed_rejects_bad_input() -> None:
    for args in ((-1.0, 180.0, 20.0, 0.8), (10.0, 180.0, 20.0, 1.0), (10.0, 180.0, -1.0, 0.8)):
        with pytest.raises(ValueError):
            agents_needed(*args)
    with pytest.raises(ValueError):
        agents_needed(10.0, 180.0, 20.0, 0.8, max_occupancy=0.0)


# ---- the plan ----------------------------------------------------------------------------------
# Two hours of the week, AHT 180 s, 80% within 20 s, cap 85%, shrinkage 30%, 40 h per FTE, 30 EUR/h.
#   Mon 09:00: 200 an hour -> A = 10 -> 14 agents (published example above).
#   Wed 14:00: 100 an hour -> A = 5. Cap: 5 / 0.85 = 5.9 -> at least 6. Erlang B recursion
#     B(n) = 5 B(n-1) / (n + 5 B(n-1)): .8333 .6757 .5297 .3983 .2849 .1918 .1205 .0700 (n = 1..8);
#     C = N B / (N - 5 (1 - B)): N=6 .5875, N=7 .3241, N=8 .1673;
#     share within 20 s = 1 - C e^(-(N-5) 20/180): N=6 .4743, N=7 .7404, N=8 .8801 -> 8 agents.
# x2: Mon 09:00 A = 20: cap 20 / 0.85 = 23.5 -> 24; share at 23 is .7021, at 24 .8089 -> 24 agents.
#     Wed 14:00 A = 10 -> 14 (published).
#   x1: desk 14 + 8 = 22 h; paid 22 / 0.7 = 31.43 h; FTE 31.43 / 40 = 0.786; cost 31.43 * 30 = 942.86 EUR.
#   x2: desk 24 + 14 = 38 h; paid 38 / 0.7 = 54.29 h; FTE 1.357; cost 1628.57 EUR. 38 < 2 * 22.

def test_two_hour_plan_golden() -> None:
    plan = staffing_plan([(0, 9, 200.0), (2, 14, 100.0)], aht_seconds=180.0, target_seconds=20.0,
                         target_share=0.8, scenarios=[1.0, 2.0], shrinkage=0.3, hours_per_fte=40.0,
                         hourly_cost_eur=30.0, max_occupancy=0.85)
    today, double = plan.scenario(1.0), plan.scenario(2.0)
    assert len(today.agents) == 7 and all(len(row) == 24 for row in today.agents)
    assert today.agents[0][9] == 14 and today.agents[2][14] == 8
    assert sum(map(sum, today.agents)) == 22 and today.desk_hours == 22
    assert today.paid_hours == pytest.approx(22 / 0.7)
    assert today.fte == pytest.approx(22 / 0.7 / 40)
    assert today.cost_eur == pytest.approx(22 / 0.7 * 30)
    assert today.threads_per_week == pytest.approx(300.0)
    assert (today.peak_agents, today.peak_weekday, today.peak_hour) == (14, 0, 9)
    assert double.agents[0][9] == 24 and double.agents[2][14] == 14 and double.desk_hours == 38
    assert double.paid_hours == pytest.approx(38 / 0.7) and double.cost_eur == pytest.approx(38 / 0.7 * 30)
    assert (double.peak_agents, double.peak_weekday, double.peak_hour) == (24, 0, 9)
    assert double.desk_hours < 2 * today.desk_hours


def test_plan_peak_ties_and_empty_plan() -> None:
    plan = staffing_plan([(3, 8, 200.0), (1, 20, 200.0)], aht_seconds=180.0, target_seconds=20.0,
                         target_share=0.8, scenarios=[1.0], shrinkage=0.0, hours_per_fte=40.0, hourly_cost_eur=1.0)
    s = plan.scenario(1.0)
    assert (s.peak_agents, s.peak_weekday, s.peak_hour) == (14, 1, 20)  # first in the week's order
    assert s.paid_hours == s.desk_hours == 28
    empty = staffing_plan([], aht_seconds=180.0, target_seconds=20.0, target_share=0.8, scenarios=[1.0, 2.0],
                          shrinkage=0.3, hours_per_fte=40.0, hourly_cost_eur=30.0)
    assert all(x.desk_hours == 0 and x.peak_weekday is None for x in empty.scenarios)
    assert verdict(empty).startswith("No threads")


def test_plan_rejects_bad_arrivals() -> None:
    kwargs = {"aht_seconds": 180.0, "target_seconds": 20.0, "target_share": 0.8, "scenarios": [1.0],
              "shrinkage": 0.3, "hours_per_fte": 40.0, "hourly_cost_eur": 30.0}
    for arrivals in ([(7, 0, 1.0)], [(0, 24, 1.0)], [(0, 1, 1.0), (0, 1, 2.0)], [(0, 1, -1.0)]):
        with pytest.raises(ValueError):
            staffing_plan(arrivals, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        staffing_plan([], **{**kwargs, "shrinkage": 1.0})  # type: ignore[arg-type]


def test_verdict_sentence() -> None:
    plan = staffing_plan([(0, 9, 200.0), (2, 14, 100.0)], aht_seconds=180.0, target_seconds=20.0,
                         target_share=0.8, scenarios=[1.0, 1.5, 2.0], shrinkage=0.3, hours_per_fte=40.0,
                         hourly_cost_eur=30.0)
    text = verdict(plan, weeks=8)
    assert text.startswith("At today's volume (about 300 threads a week) the SLA of 20 s for 80% of threads "
                           "needs 22 agent hours a week on the desk (0.8 FTE at 30% shrinkage, 943 EUR a week; "
                           "peak 14 agents on Mon at 09:00); at x1.5 ")
    assert "; at x2 38 agent hours a week (1.4 FTE, 1,629 EUR a week; peak 24 agents on Mon at 09:00)." in text
    assert "Volume x2 takes 1.73 times the agent hours, not 2 times" in text  # 38 / 22
    assert "mean of the last 8 complete weeks" in text
    assert verdict(plan, weeks=0) == "not enough data (complete weeks = 0, minimum 1)"


# ---- arrivals from the warehouse ---------------------------------------------------------------
# Europe/Berlin in January 2018 is UTC+1; Mon 1 Jan 2018 is a Monday. As-of Wed 31 Jan 12:00 Berlin,
# so the last complete week is Mon 22 - Sun 28 Jan. Threads (Berlin local time -> cell):
#   early     TH Wed  3 Jan 10:30  the data's first day: the week of 1 Jan is not covered -> left out
#   a         TH Mon  8 Jan 10:15  (0, 10)
#   b         TH Mon 15 Jan 10:45  (0, 10)
#   other     AC Tue 16 Jan 14:20  (1, 14)
#   midnight  TH Mon 22 Jan 00:30  (0, 0)  -- Sun 21 Jan 23:30 in UTC, so the local day matters
#   c, d      TH Mon 22 Jan 10:05, 10:55  (0, 10)
#   sunday    TH Sun 28 Jan 23:59  (6, 23)  the last minute of the last complete week
#   current   TH Mon 29 Jan 00:00  the week of the as-of time -> left out
#   later     TH Tue 30 Jan 09:00  likewise
#   future    TH Thu  1 Feb 09:00  after the as-of time -> does not exist yet
# weeks=8 asks from Mon 4 Dec, the data covers weeks from Mon 8 Jan: 3 complete weeks
#   (0, 10) = (a, b, c, d) 4 / 3; (0, 0), (1, 14), (6, 23) = 1 / 3 each; 7 threads.

def berlin(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2018, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


AS_OF = berlin(31, 12)
THREADS = [
    ThreadRow("early", TH, berlin(3, 10, 30)),
    ThreadRow("a", TH, berlin(8, 10, 15)),
    ThreadRow("b", TH, berlin(15, 10, 45)),
    ThreadRow("other", AC, berlin(16, 14, 20)),
    ThreadRow("midnight", TH, berlin(22, 0, 30)),
    ThreadRow("c", TH, berlin(22, 10, 5)),
    ThreadRow("d", TH, berlin(22, 10, 55)),
    ThreadRow("sunday", TH, berlin(28, 23, 59)),
    ThreadRow("current", TH, berlin(29, 0, 0)),
    ThreadRow("later", TH, berlin(30, 9)),
    ThreadRow("future", TH, berlin(1, 9, month=2)),
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Settings]:
    path = tmp_path_factory.mktemp("staffing")
    settings = Settings(db=path / "wh.duckdb")
    wh = Warehouse(settings.db)
    insert_threads(wh, THREADS)
    return wh, settings


def arrivals(wh: tuple[Warehouse, Settings], weeks: int = 8, filters: Filters | None = None,
             as_of: datetime = AS_OF) -> HourlyArrivals:
    ctx = open_context(wh[0].reader(), wh[1], filters, None, as_of)
    try:
        return hourly_arrivals(ctx, weeks)
    finally:
        ctx.con.close()


def nonzero(result: HourlyArrivals) -> dict[tuple[int, int], float]:
    assert [(d, h) for d, h, _ in result.cells] == [(d, h) for d in range(7) for h in range(24)]
    return {(d, h): v for d, h, v in result.cells if v}


def test_arrivals_fewer_complete_weeks_than_asked(warehouse: tuple[Warehouse, Settings]) -> None:
    result = arrivals(warehouse, weeks=8)
    assert (result.weeks, result.first_week, result.threads) == (3, date(2018, 1, 8), 7)
    assert nonzero(result) == pytest.approx({(0, 10): 4 / 3, (0, 0): 1 / 3, (1, 14): 1 / 3, (6, 23): 1 / 3})


def test_arrivals_last_two_weeks(warehouse: tuple[Warehouse, Settings]) -> None:
    # Mon 15 - Sun 28 Jan: b, c, d at (0, 10) -> 3 / 2; midnight, other, sunday -> 1 / 2 each.
    result = arrivals(warehouse, weeks=2)
    assert (result.weeks, result.first_week, result.threads) == (2, date(2018, 1, 15), 6)
    assert nonzero(result) == pytest.approx({(0, 10): 3 / 2, (0, 0): 1 / 2, (1, 14): 1 / 2, (6, 23): 1 / 2})


def test_arrivals_respect_filters(warehouse: tuple[Warehouse, Settings]) -> None:
    # account: AC's thread goes, the weeks stay (coverage is the data's, not the account's)
    th = arrivals(warehouse, filters=Filters(account=TH))
    assert th.weeks == 3
    assert nonzero(th) == pytest.approx({(0, 10): 4 / 3, (0, 0): 1 / 3, (6, 23): 1 / 3})
    # to Wed 24 Jan: the week of 22 Jan is cut short -> weeks of 8 and 15 Jan: a, b -> 1; other -> 1 / 2
    until = arrivals(warehouse, filters=Filters(date_to=date(2018, 1, 24)))
    assert (until.weeks, until.first_week) == (2, date(2018, 1, 8))
    assert nonzero(until) == pytest.approx({(0, 10): 1.0, (1, 14): 1 / 2})
    # from Tue 9 Jan: the week of 8 Jan is cut short -> the weeks of 15 and 22 Jan, as with weeks=2
    since = arrivals(warehouse, filters=Filters(date_from=date(2018, 1, 9)))
    assert (since.weeks, since.first_week) == (2, date(2018, 1, 15))
    assert nonzero(since) == pytest.approx({(0, 10): 3 / 2, (0, 0): 1 / 2, (1, 14): 1 / 2, (6, 23): 1 / 2})


def test_arrivals_as_of_on_a_monday_midnight(warehouse: tuple[Warehouse, Settings]) -> None:
    # As-of Mon 29 Jan 00:00 Berlin: the week before is complete; "current" starts at the as-of
    # moment itself, so it exists but belongs to the new week.
    result = arrivals(warehouse, as_of=berlin(29, 0))
    assert (result.weeks, result.threads) == (3, 7)
    # one second earlier the week of 22 Jan is still under way: 8 and 15 Jan only
    earlier = arrivals(warehouse, as_of=berlin(29, 0) - timedelta(seconds=1))
    assert (earlier.weeks, earlier.threads) == (2, 3)
    assert nonzero(earlier) == pytest.approx({(0, 10): 1.0, (1, 14): 1 / 2})


def test_arrivals_without_data(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    wh = Warehouse(settings.db)
    insert_threads(wh, [THREADS[-1]])  # only a thread after the as-of time
    result = arrivals((wh, settings))
    assert (result.weeks, result.first_week, result.threads) == (0, None, 0)
    assert len(result.cells) == 168 and not nonzero(result)


def test_arrivals_feed_the_plan(warehouse: tuple[Warehouse, Settings]) -> None:
    result = arrivals(warehouse)
    plan = staffing_plan(result.cells, aht_seconds=360.0, target_seconds=3600.0, target_share=0.8,
                         scenarios=[1.0, 1.5, 2.0], shrinkage=0.3, hours_per_fte=40.0, hourly_cost_eur=38.0)
    # four hours of the week see a thread now and then: one agent each, at every volume
    assert [s.desk_hours for s in plan.scenarios] == [4, 4, 4]
    text = verdict(plan, result.weeks)
    assert "peak 1 agent on Mon at 00:00" in text and "a quiet hour needs one agent" in text
    assert "mean of the last 3 complete weeks" in text
