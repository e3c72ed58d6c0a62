"""Statistics helpers: the intervals are the named methods, the sentences read right, small samples
say so."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from carepulse.metrics import stats


def test_wilson_is_statsmodels_wilson_not_the_default_method() -> None:
    assert stats.wilson(7, 10) == pytest.approx(proportion_confint(7, 10, method="wilson"))
    assert stats.wilson(7, 10) != pytest.approx(proportion_confint(7, 10))
    # worked by hand: p = 0.7, z = 1.96, n = 10 -> centre (0.7 + 0.19208) / 1.38416, half 0.28226
    low, high = stats.wilson(7, 10)
    assert low == pytest.approx(0.3968, abs=1e-4) and high == pytest.approx(0.8922, abs=1e-4)
    assert stats.wilson(0, 0) == (None, None)


def test_t_interval_matches_scipy() -> None:
    data = np.array([5, 4, 2, 3, 4, 1, 5], dtype=float)
    low, high = stats.t_interval(float(data.mean()), float(data.std(ddof=1)), len(data))
    ref = sps.t.interval(0.95, len(data) - 1, loc=data.mean(), scale=sps.sem(data))
    assert (low, high) == pytest.approx(ref)
    assert stats.t_interval(3.0, None, 1) == (None, None)


def test_compare_means_sentence_and_numbers() -> None:
    rng = np.random.default_rng(3)
    twitter = np.clip(np.round(rng.normal(4.3, 0.8, 310)), 1, 5)
    hotline = np.clip(np.round(rng.normal(3.9, 0.9, 1020)), 1, 5)
    finding = stats.compare_means(twitter.tolist(), hotline.tolist(), "Twitter", "hotline", min_n=30)
    welch = sps.ttest_ind(twitter, hotline, equal_var=False)
    assert finding.value == pytest.approx(twitter.mean() - hotline.mean())
    assert finding.p == pytest.approx(welch.pvalue)
    assert (finding.ci_low, finding.ci_high) == pytest.approx(tuple(welch.confidence_interval()))
    assert finding.detail is not None
    assert finding.detail["p_brunner_munzel"] == pytest.approx(sps.brunnermunzel(twitter, hotline).pvalue)
    assert finding.verdict.startswith("Twitter cases scored 0.")
    assert "higher than hotline cases (95% CI" in finding.verdict
    assert "n = 310 vs 1,020): a real difference (rank test agrees)." in finding.verdict


def test_compare_means_without_a_clear_difference() -> None:
    a = [4, 5, 3, 4] * 10
    b = [5, 4, 3, 4] * 10
    finding = stats.compare_means(a, b, "Twitter", "phone", min_n=30)
    assert finding.value == 0
    assert finding.verdict == ("Twitter cases scored the same on average as phone cases (95% CI -0.3 to 0.3, "
                               "n = 40 vs 40): no clear difference (the interval includes zero; rank test agrees).")


def test_not_enough_data_instead_of_a_number() -> None:
    finding = stats.compare_means([4] * 12, [3] * 40, "Twitter", "phone", min_n=30)
    assert finding.value is None and finding.ci_low is None
    assert finding.verdict == "not enough data (n = 12 vs 40, minimum 30 each)"
    assert stats.weekly_trend([1, 2, 3], min_weeks=8).verdict == "not enough data (weeks = 3, minimum 8)"


def test_newcombe_difference() -> None:
    finding = stats.compare_proportions(300, 400, 800, 1200, "Twitter", "phone", min_n=30)
    low, high = confint_proportions_2indep(300, 400, 800, 1200, method="newcomb", compare="diff")
    assert finding.value == pytest.approx(0.75 - 2 / 3)
    assert (finding.ci_low, finding.ci_high) == pytest.approx((low, high))
    assert finding.verdict.startswith("Twitter cases are resolved 8.3 percentage points more often than phone")


def test_trend_with_noise_has_an_interval_around_the_slope() -> None:
    rng = np.random.default_rng(1)
    weeks = np.arange(20)
    values = 900 + 30 * weeks + rng.normal(0, 40, 20)
    finding = stats.weekly_trend(values.tolist(), min_weeks=8)
    assert finding.ci_low is not None and finding.ci_high is not None and finding.value is not None
    assert finding.ci_low < 30 < finding.ci_high
    assert finding.verdict.startswith("First response gets slower by")
    flat = stats.weekly_trend((900 + rng.normal(0, 40, 20)).tolist(), min_weeks=8)
    assert "no clear trend" in flat.verdict


def test_forecast_intervals_widen_and_hold_the_mean() -> None:
    rng = np.random.default_rng(2)
    counts = (200 + 5 * np.arange(26) + rng.normal(0, 10, 26)).tolist()
    forecast = stats.forecast_weeks(counts, min_weeks=8)
    assert len(forecast.mean) == 4
    assert all(lo <= m <= hi for lo, m, hi in zip(forecast.low, forecast.mean, forecast.high, strict=True))
    widths = forecast.high - forecast.low
    assert all(widths[i] <= widths[i + 1] + 1e-9 for i in range(3))
    total = forecast.total
    assert total.ci_low is not None and total.ci_high is not None and total.value is not None
    assert total.ci_low < total.value < total.ci_high
    assert total.verdict.startswith("About ") and "from 26 weeks of history" in total.verdict


def test_auc_and_spearman() -> None:
    flags = [True, True, False, False, True, False] * 6
    good = [True, True, True, False, False, False] * 6
    finding = stats.auc(flags, good, min_n=30, what="Thanks")
    # good: flags T T F -> 2 of 3 flagged; bad: F T F -> 1 of 3. AUC = P(g > b) + P(tie) / 2
    # = (2/3 * 2/3) + ((2/3 * 1/3) + (1/3 * 2/3)) / 2 = 4/9 + 2/9 = 2/3
    assert finding.value == pytest.approx(2 / 3)
    assert "weak" in finding.verdict
    x = list(range(40))
    rho = stats.spearman(x, [v * 2 + (v % 3) for v in x], min_n=30, what="Sentiment")
    assert rho.value == pytest.approx(sps.spearmanr(x, [v * 2 + (v % 3) for v in x]).statistic)
    assert "useful" in rho.verdict


def test_duration_text() -> None:
    assert stats.duration_text(45) == "45 s"
    assert stats.duration_text(740) == "12 min"
    assert stats.duration_text(3 * 3600) == "3.0 h"
    assert stats.duration_text(3 * 86400) == "3.0 days"
    assert stats.duration_text(math.inf) == "not reached"
