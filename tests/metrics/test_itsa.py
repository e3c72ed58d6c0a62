"""The interrupted-time-series estimate of the hotline's volume: known answers, then the warehouse series.

Synthetic series have a true effect written into them; the noise-free checks are worked out by
hand (expressions next to the reasoning, never computed by carepulse code). The warehouse tests use
a tiny hand-made CRM (Europe/Berlin, UTC+1 in December) whose weekly counts are listed below.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from carepulse.core.config import Settings
from carepulse.metrics.context import Filters, open_context
from carepulse.metrics.itsa import (
    ItsResult,
    hotline_weekly,
    implied_deflection,
    newey_west_lags,
    segmented_regression,
)
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import insert_cases, utc

LAUNCH = date(2026, 5, 4)  # a Monday


def _weeks(pre: int, post: int, launch: date = LAUNCH) -> list[date]:
    return [launch + timedelta(weeks=k) for k in range(-pre, post)]


def _series(rng_seed: int, *, level: float, pre: int = 30, post: int = 26, base: float = 200.0,
            trend: float = 0.005) -> tuple[list[date], list[int]]:
    """Poisson draws around base x exp(trend x t) x (1 + level after the launch); t = weeks since launch."""
    rng = np.random.default_rng(rng_seed)
    t = np.arange(-pre, post, dtype=float)
    mean = base * np.exp(trend * t) * np.where(t >= 0, 1 + level, 1.0)
    return _weeks(pre, post), [int(v) for v in rng.poisson(mean)]


# ---- known effects -----------------------------------------------------------------------------

def test_a_known_drop_of_a_fifth_is_recovered() -> None:
    weeks, counts = _series(20260504, level=-0.20)
    result = segmented_regression(weeks, counts, LAUNCH, min_weeks=8)
    assert result.value is not None and result.ci_low is not None and result.ci_high is not None
    assert result.ci_low <= -0.20 <= result.ci_high
    assert result.ci_high < 0 and result.p is not None and result.p < 0.05
    assert (result.pre_weeks, result.post_weeks) == (30, 26)
    assert "a clear drop" in result.verdict and "not proof" in result.verdict
    # the absolute change has the relative change's sign and significance
    assert result.abs_change is not None and result.abs_ci_low is not None and result.abs_ci_high is not None
    assert result.abs_ci_low <= result.abs_change <= result.abs_ci_high < 0
    assert result.observed_mean == pytest.approx(sum(counts[30:]) / 26)
    assert len(result.fitted) == len(result.counterfactual) == len(result.weeks) == 56
    assert result.fitted[:30] == pytest.approx(result.counterfactual[:30])  # one line before the launch


def test_no_effect_gives_an_interval_around_zero() -> None:
    weeks, counts = _series(7, level=0.0)
    result = segmented_regression(weeks, counts, LAUNCH, min_weeks=8)
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low < 0 < result.ci_high
    assert "no clear change (the interval includes zero)" in result.verdict


def test_one_outage_week_neither_decides_the_answer_nor_hides() -> None:
    """An outage week with four times the calls, late in the pilot: the Poisson MLE would move the
    estimate by several points; the robust fit gives it little weight and names it."""
    weeks, counts = _series(11, level=-0.20)
    outage = 50  # the 21st week after the launch
    counts[outage] *= 4
    result = segmented_regression(weeks, counts, LAUNCH, min_weeks=8)
    assert result.ci_low is not None and result.ci_high is not None and result.value is not None
    assert result.ci_low <= -0.20 <= result.ci_high < 0
    assert result.extreme_weeks == [weeks[outage]]
    assert result.weights[outage] < 0.1
    assert weeks[outage].isoformat() in result.verdict


def test_noise_free_exponential_counts_give_the_truth_exactly() -> None:
    """y = 100 exp(0.01 t) before, 100 exp(0.01 t) x 0.8 exp(-0.005 s) after (s = t = weeks since launch).

    10 post weeks: s = 0..9, mean 4.5, so the effect is 0.8 exp(-0.005 x 4.5) - 1.
    """
    pre, post = 12, 10
    t = [float(k) for k in range(-pre, post)]
    counts = [100 * math.exp(0.01 * k) * (0.8 * math.exp(-0.005 * k) if k >= 0 else 1.0) for k in t]
    result = segmented_regression(_weeks(pre, post), counts, LAUNCH, min_weeks=8)
    assert result.value == pytest.approx(0.8 * math.exp(-0.005 * 4.5) - 1, abs=1e-6)
    assert result.counterfactual == pytest.approx([100 * math.exp(0.01 * k) for k in t], rel=1e-6)
    assert result.fitted == pytest.approx(counts, rel=1e-6)


def test_noise_free_level_change_gives_the_absolute_change_too() -> None:
    """Without a slope change the counterfactual is the observed / 0.8 in every post week:
    post weeks t = 0..7 observe 80 exp(0.02 t), so the change is -20 exp(0.02 t) a week on average."""
    pre, post = 10, 8
    counts = [100 * math.exp(0.02 * k) * (0.8 if k >= 0 else 1.0) for k in range(-pre, post)]
    result = segmented_regression(_weeks(pre, post), counts, LAUNCH, min_weeks=8)
    assert result.value == pytest.approx(-0.2, abs=1e-6)
    assert result.abs_change == pytest.approx(-20 * sum(math.exp(0.02 * k) for k in range(8)) / 8, rel=1e-6)
    assert result.counterfactual_mean == pytest.approx(100 * sum(math.exp(0.02 * k) for k in range(8)) / 8,
                                                       rel=1e-6)


# ---- too little data, and the launch week --------------------------------------------------------

def test_too_few_weeks_before_or_after_cannot_be_judged() -> None:
    before = segmented_regression(_weeks(5, 20), [100] * 25, LAUNCH, min_weeks=8)
    assert before.value is None and before.ci_low is None and before.p is None
    assert before.verdict == "cannot be judged: 5 weeks of hotline cases before the launch (at least 8 needed)"
    after = segmented_regression(_weeks(20, 3), [100] * 23, LAUNCH, min_weeks=8)
    assert after.verdict == "cannot be judged: 3 weeks of hotline cases after the launch (at least 8 needed)"
    assert (after.pre_weeks, after.post_weeks) == (20, 3)


def test_no_case_on_one_side_cannot_be_judged() -> None:
    result = segmented_regression(_weeks(10, 10), [0] * 10 + [50] * 10, LAUNCH, min_weeks=8)
    assert result.value is None and result.verdict == "cannot be judged: no hotline cases before the launch"


def test_a_mid_week_launch_leaves_its_week_out() -> None:
    """Launch on Wednesday 6 May: the week of 4 May is neither before nor after."""
    weeks, counts = _series(3, level=-0.2, pre=20, post=21)
    result = segmented_regression(weeks, counts, date(2026, 5, 6), min_weeks=8)
    assert result.transition_week == date(2026, 5, 4)
    assert (result.pre_weeks, result.post_weeks) == (20, 20)
    assert date(2026, 5, 4) not in result.weeks and result.weeks[20] == date(2026, 5, 11)


def test_weeks_and_counts_must_pair_up() -> None:
    with pytest.raises(ValueError, match="3 weeks but 2 counts"):
        segmented_regression(_weeks(2, 1), [1, 2], LAUNCH, min_weeks=1)


def test_newey_west_bandwidth() -> None:
    assert newey_west_lags(56) == math.floor(4 * 0.56 ** (2 / 9))  # 3
    assert newey_west_lags(100) == 4


# ---- implied deflection ------------------------------------------------------------------------------

def _result(abs_change: float | None, low: float | None, high: float | None) -> ItsResult:
    return ItsResult(None, None, None, None, abs_change, low, high, 30, 26, "", LAUNCH)


def test_implied_deflection_is_calls_avoided_per_twitter_case() -> None:
    # 30 calls a week fewer (CI 15 to 45 fewer), 60 Twitter cases a week: 0.5 (0.25 to 0.75)
    assert implied_deflection(_result(-30.0, -45.0, -15.0), 60.0) == pytest.approx((0.5, 0.25, 0.75))
    assert implied_deflection(_result(None, None, None), 60.0) == (None, None, None)
    assert implied_deflection(_result(-30.0, -45.0, -15.0), 0.0) == (None, None, None)


# ---- the weekly series from the warehouse -----------------------------------------------------------
# Weeks (Monday, Europe/Berlin = UTC+1): W0 1 Dec, W1 8 Dec, W2 15 Dec, W3 22 Dec, W4 29 Dec 2025.
#   W0: e-mail Mon 09:00 (the export starts on a Monday, so W0 counts); phone Tue 10:00 and
#       Sun 7 Dec 23:30 local (22:30 UTC, still W0)                                      -> 2
#   W1: phone Mon 8 Dec 00:30 local (Sun 23:30 UTC); a duplicate phone case (not counted) -> 1
#   W2: e-mail only                                                                        -> 0
#   W3: phone x 3 (one "Rechnung", team Hotline Süd)                                       -> 3
#   W4: phone Tue 30 Dec; the export's latest case is chat Mon 5 Jan 09:00, so W4 is over -> 1
#   a phone case on 10 Jan after the as-of time (6 Jan 12:00 UTC): not counted, not coverage.

AS_OF = utc("2026-01-06 12:00")


def _case(case_id: str, channel: str, opened_utc: str, **extra: Any) -> dict[str, Any]:
    return {"case_id": case_id, "channel": channel, "opened_at": utc(opened_utc), "outcome": "resolved",
            "team": "Hotline Nord" if channel == "phone" else "Service", "category": "Störung", **extra}


CASES = [
    _case("e1", "email", "2025-12-01 08:00"),
    _case("p1", "phone", "2025-12-02 09:00"),
    _case("p2", "phone", "2025-12-07 22:30"),
    _case("p3", "phone", "2025-12-07 23:30"),
    _case("p3d", "phone", "2025-12-09 10:00", outcome="duplicate"),
    _case("e2", "email", "2025-12-16 10:00"),
    _case("p4", "phone", "2025-12-22 09:00"),
    _case("p5", "phone", "2025-12-23 09:00", category="Rechnung", team="Hotline Süd"),
    _case("p6", "phone", "2025-12-27 12:00"),
    _case("p7", "phone", "2025-12-30 09:00"),
    _case("c1", "chat", "2026-01-05 08:00"),
    _case("p8", "phone", "2026-01-10 09:00"),
]
WEEKS = [date(2025, 12, 1), date(2025, 12, 8), date(2025, 12, 15), date(2025, 12, 22), date(2025, 12, 29)]


@pytest.fixture
def crm(tmp_path: Path) -> tuple[Warehouse, Settings]:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_cases(warehouse, CASES)
    return warehouse, settings


def _weekly(crm: tuple[Warehouse, Settings], filters: Filters | None = None, as_of: datetime = AS_OF,
            launch: date = date(2025, 12, 22), **kwargs: Any) -> tuple[list[date], list[int]]:
    warehouse, settings = crm
    ctx = open_context(warehouse.reader(), settings, filters, as_of=as_of)
    try:
        return hotline_weekly(ctx, launch, **kwargs)
    finally:
        ctx.con.close()


def test_hotline_weeks_are_local_complete_and_zero_filled(crm: tuple[Warehouse, Settings]) -> None:
    assert _weekly(crm) == (WEEKS, [2, 1, 0, 3, 1])


def test_the_date_channel_and_account_filters_do_not_cut_the_history(crm: tuple[Warehouse, Settings]) -> None:
    pilot_only = Filters(date_from=date(2025, 12, 22), date_to=date(2026, 1, 4), channel="twitter", account="x")
    assert _weekly(crm, pilot_only) == (WEEKS, [2, 1, 0, 3, 1])


def test_team_and_category_filters_apply(crm: tuple[Warehouse, Settings]) -> None:
    assert _weekly(crm, Filters(category="Rechnung")) == (WEEKS, [0, 0, 0, 1, 0])
    assert _weekly(crm, Filters(team="Hotline Nord")) == (WEEKS, [2, 1, 0, 2, 1])


def test_no_empty_weeks_are_invented_after_the_export_ends(crm: tuple[Warehouse, Settings]) -> None:
    """The tweets may be pulled weeks after the CRM export: weeks past its latest case are unknown, not zero."""
    assert _weekly(crm, as_of=utc("2026-01-09 12:00")) == (WEEKS, [2, 1, 0, 3, 1])


def test_an_earlier_as_of_time_ends_the_series_earlier(crm: tuple[Warehouse, Settings]) -> None:
    """As of Wed 24 Dec the latest case is p5 (Tue 23 Dec): the last week over by then is W2."""
    assert _weekly(crm, as_of=utc("2025-12-24 12:00")) == (WEEKS[:3], [2, 1, 0])


def test_history_is_capped_before_the_launch(crm: tuple[Warehouse, Settings]) -> None:
    assert _weekly(crm, launch=date(2025, 12, 24), max_pre_weeks=2) == (WEEKS[1:], [1, 0, 3, 1])


def test_an_export_starting_mid_week_drops_that_week(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_cases(warehouse, [c for c in CASES if c["case_id"] != "e1"])  # now the export starts on Tue 2 Dec
    ctx = open_context(warehouse.reader(), settings, as_of=AS_OF)
    try:
        weeks, counts = hotline_weekly(ctx, date(2025, 12, 22))
    finally:
        ctx.con.close()
    assert weeks == WEEKS[1:] and counts == [1, 0, 3, 1]


def test_an_empty_warehouse_has_no_weeks(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    with warehouse.writer():
        pass
    ctx = open_context(warehouse.reader(), settings, as_of=datetime(2026, 1, 1, tzinfo=UTC))
    try:
        assert hotline_weekly(ctx, date(2025, 12, 22)) == ([], [])
    finally:
        ctx.con.close()
