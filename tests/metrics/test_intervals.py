"""95% intervals where a decision is made (issue 12, item 4).

Wilson intervals of the response rate and the SLA share are worked by hand on fixture A; the
order-statistic intervals of medians and 90th percentiles are checked against ranks found
independently with ``scipy.stats.binom``, never with carepulse's own rank function.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scipy.stats import binom

from carepulse.core.config import Settings
from carepulse.metrics import engine
from carepulse.metrics.sql import EXACT_RANKS_MAX, exact_ranks
from carepulse.metrics.stats import wilson
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import AC, FIXTURE_A, TH, ThreadRow, insert_threads, load_twcs

Z = 1.959963984540054
AS_OF = datetime(2018, 1, 10, tzinfo=UTC)


def scipy_ranks(n: int, q: float) -> tuple[int, int]:
    """1-based (l, u): l the largest rank with P(B <= l - 1) <= 2.5 %, u the smallest with
    P(B >= u) <= 2.5 %, B ~ Binomial(n, q); 0 and n + 1 stand for "no bound on this side"."""
    low = max(k for k in range(0, n + 1) if k == 0 or binom.cdf(k - 1, n, q) <= 0.025)
    high = min(k for k in range(1, n + 2) if k == n + 1 or binom.sf(k - 1, n, q) <= 0.025)
    return low, high


def pick(values: list[float], ranks: tuple[int, int]) -> tuple[float | None, float | None]:
    ordered = sorted(values)
    low, high = ranks
    return (ordered[low - 1] if low >= 1 else None, ordered[high - 1] if high <= len(ordered) else None)


def threads_with(seconds: list[float], account: str = "Brand") -> list[ThreadRow]:
    start = datetime(2018, 1, 1, tzinfo=UTC)
    return [ThreadRow(f"t{i}", account, start + timedelta(hours=i), start + timedelta(hours=i, seconds=s))
            for i, s in enumerate(seconds)]


@pytest.fixture(scope="module")
def scenario_a(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Settings]:
    path: Path = tmp_path_factory.mktemp("intervals_a")
    settings = Settings(db=path / "wh.duckdb", min_sample=3)
    return load_twcs(path, FIXTURE_A, settings), settings


def test_wilson_golden_response_rate_and_sla_share(scenario_a: tuple[Warehouse, Settings]) -> None:
    """Fixture A (see test_golden): response rate 5 / 7, SLA met 3 / 7.

    Wilson: centre = (c + z^2/2) / (n + z^2), half = z sqrt(n) / (n + z^2) * sqrt(p(1-p) + z^2/(4n)).
    z^2 = 3.841459, z sqrt(7) / (7 + z^2) = 5.185592 / 10.841459 = 0.478312, z^2 / 28 = 0.137195.
    5 / 7: centre = 6.920729 / 10.841459 = 0.638358, half = 0.478312 * sqrt(10/49 + 0.137195) = 0.279424
    -> 0.358934 .. 0.917782.
    3 / 7: centre = 4.920729 / 10.841459 = 0.453880, half = 0.478312 * sqrt(12/49 + 0.137195) = 0.295662
    -> 0.158219 .. 0.749542.
    """
    warehouse, settings = scenario_a
    result = engine.compute(["response_rate", "sla_met_share", "crm_link_coverage"], db=warehouse.reader(),
                            settings=settings, ci=True)
    rate, sla = result.total["response_rate"], result.total["sla_met_share"]
    assert (rate.value, rate.n) == (pytest.approx(5 / 7), 7)
    assert (rate.ci_low, rate.ci_high) == pytest.approx((0.358934451832619, 0.917781075995943), abs=1e-12)
    assert (sla.value, sla.n) == (pytest.approx(3 / 7), 7)
    assert (sla.ci_low, sla.ci_high) == pytest.approx((0.158219855251470, 0.749541635472343), abs=1e-12)
    # the engine's closed form gives statsmodels' numbers (metrics.stats.wilson) without importing it
    assert (rate.ci_low, rate.ci_high) == pytest.approx(wilson(5, 7), abs=1e-12)
    assert (sla.ci_low, sla.ci_high) == pytest.approx(wilson(3, 7), abs=1e-12)
    coverage = result.total["crm_link_coverage"]  # no CRM cases: 0 of 7, Wilson 0 .. z^2 / (n + z^2)
    assert (coverage.value, coverage.ci_low) == (0.0, pytest.approx(0.0, abs=1e-12))
    assert coverage.ci_high == pytest.approx(Z * Z / (7 + Z * Z), abs=1e-12)


def test_wilson_per_group(scenario_a: tuple[Warehouse, Settings]) -> None:
    """By account: TH answered 3 of 4, AC 2 of 3 (test_golden)."""
    warehouse, settings = scenario_a
    result = engine.compute(["response_rate"], by="account", db=warehouse.reader(), settings=settings, ci=True)
    for account, (count, n) in {TH: (3, 4), AC: (2, 3)}.items():
        cell = result.groups[account]["response_rate"]
        assert (cell.ci_low, cell.ci_high) == pytest.approx(wilson(count, n), abs=1e-12), account


def test_order_statistic_golden_fixture_a(scenario_a: tuple[Warehouse, Settings]) -> None:
    """Five answered threads (600, 900, 1800, 7200, 39600): a median of five has no 95% interval
    (P(X(1) <= m <= X(5)) = 1 - 2/32 = 0.94), so both limits are open; the p90's lower limit is X(3) = 1800
    (P(B <= 2) = 0.0086 <= 0.025 < P(B <= 3) = 0.081 for B ~ Bin(5, 0.9)), its upper limit open.
    The reply-time median has no interval (a secondary figure; see its registry entry)."""
    warehouse, settings = scenario_a
    names = ["first_response_median_s", "first_response_p90_s", "reply_time_median_s"]
    cells = engine.compute(names, db=warehouse.reader(), settings=settings, ci=True).total
    assert (cells["first_response_median_s"].ci_low, cells["first_response_median_s"].ci_high) == (None, None)
    assert (cells["first_response_p90_s"].ci_low, cells["first_response_p90_s"].ci_high) == (1800.0, None)
    assert (cells["reply_time_median_s"].ci_low, cells["reply_time_median_s"].ci_high) == (None, None)
    plain = engine.compute(names, db=warehouse.reader(), settings=settings, ci=False).total
    assert all(plain[n].ci_low is None and plain[n].ci_high is None for n in names)


@pytest.mark.parametrize("n", [7, 25, 60])
def test_median_and_p90_interval_match_scipy_binomial(tmp_path: Path, n: int) -> None:
    """Exact ranks (n <= EXACT_RANKS_MAX) against an independent scipy.stats.binom search, per group and total."""
    seconds = [float(37 * k + (k * k) % 101 + 5) for k in range(n)]  # distinct, not evenly spaced
    other = [float(s * 3) for s in seconds[: n // 2]]
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_threads(warehouse, threads_with(seconds, "A") + [
        ThreadRow(f"b{i}", "B", t.started, t.answered) for i, t in enumerate(threads_with(other))])
    result = engine.compute(["first_response_median_s", "first_response_p90_s"], by="account",
                            db=warehouse.reader(), settings=settings, as_of=AS_OF, ci=True)
    for cells, sample in ((result.groups["A"], seconds), (result.groups["B"], other),
                          (result.total, seconds + other)):
        for name, q in (("first_response_median_s", 0.5), ("first_response_p90_s", 0.9)):
            cell = cells[name]
            assert (cell.ci_low, cell.ci_high) == pick(sample, scipy_ranks(len(sample), q)), (name, len(sample))
            if name.endswith("median_s") and len(sample) >= 6:  # from n = 6 a median has both limits
                low, value, high = cell.ci_low, cell.value, cell.ci_high
                assert isinstance(low, float) and isinstance(value, float) and isinstance(high, float)
                assert low <= value <= high  # coverage sanity: the interval holds the sample median


def test_exact_ranks_agree_with_scipy_and_cover() -> None:
    for q in (0.5, 0.9):
        for n in range(1, EXACT_RANKS_MAX + 1):
            low, high = exact_ranks(n, q)
            assert (low, high) == scipy_ranks(n, q), (n, q)
            # each tail at most 2.5 %: together at least 95 %
            assert binom.cdf(high - 1, n, q) - binom.cdf(low - 1, n, q) >= 0.95 - 1e-12 or low == 0 or high == n + 1


def test_large_n_uses_the_normal_approximation_and_still_covers(tmp_path: Path) -> None:
    """Above EXACT_RANKS_MAX: l = floor(nq - z sqrt(nq(1-q))), u = ceil(nq + z sqrt(nq(1-q))) + 1."""
    n = EXACT_RANKS_MAX + 31
    seconds = [float(11 * k + (k * 7) % 13) for k in range(n)]
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_threads(warehouse, threads_with(seconds))
    cells = engine.compute(["first_response_median_s", "first_response_p90_s"], db=warehouse.reader(),
                           settings=settings, as_of=AS_OF, ci=True).total
    for name, q in (("first_response_median_s", 0.5), ("first_response_p90_s", 0.9)):
        spread = Z * math.sqrt(n * q * (1 - q))
        low, high = math.floor(n * q - spread), math.ceil(n * q + spread) + 1
        assert binom.cdf(high - 1, n, q) - binom.cdf(low - 1, n, q) >= 0.95
        assert (cells[name].ci_low, cells[name].ci_high) == pick(seconds, (low, high)), name
        exact_low, exact_high = scipy_ranks(n, q)  # the approximation is never narrower than exact here
        assert low <= exact_low and high >= exact_high


def test_query_reports_the_new_interval_columns(scenario_a: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = scenario_a
    frame = engine.query(["response_rate", "sla_met_share", "first_response_p90_s"], db=warehouse.reader(),
                         settings=settings, ci=True)
    for name in ("response_rate", "sla_met_share", "first_response_p90_s"):
        assert {f"{name}_ci_low", f"{name}_ci_high", f"{name}_n"} <= set(frame.columns)
    assert frame["first_response_p90_s_ci_low"].iloc[0] == 1800.0
