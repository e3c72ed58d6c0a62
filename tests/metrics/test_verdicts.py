"""Golden sentences for the verdicts management reads (issue 12): who was compared, one threshold for
the findings shown together, and printed numbers that agree with the words beside them.

Each dataset is built so that the old wording went wrong on it; the exact strings pin the new one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.proportion import test_proportions_2indep as score_test

from carepulse.core.config import Settings
from carepulse.metrics import engine, stats
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import insert_cases

# A 1-5 score, 100 of each; adding 50 fives to one side gives a difference whose 95% interval starts
# at 0.007: clear of zero, but "0.0 to 0.4" at one decimal (the old sentence called that real).
SCORES = [1, 2, 3, 4, 5] * 100
MORE_FIVES = SCORES + [5] * 50
# Residuals with no trend of their own, for weekly series with a known slope.
WOBBLE = np.array([30, -20, 10, -40, 25, -5, 15, -30, 20, -10], dtype=float)


# ---- CSAT: respondents, rank test, not a cause ---------------------------------------------------

def test_csat_sentence_says_who_answered_and_that_it_is_no_proof_of_cause() -> None:
    finding = stats.compare_means(MORE_FIVES, SCORES, "Twitter", "phone", min_n=30, respondents=(1800, 2000))
    assert finding.verdict == (
        "Among customers who answered the survey (550 of 1,800 Twitter cases, 31%; 500 of 2,000 phone cases, "
        "25%), Twitter cases scored 0.18 points higher than phone cases (95% CI 0.01 to 0.36, n = 550 vs 500): "
        "a real difference (rank test agrees). This is a comparison, not proof that Twitter caused it.")
    assert finding.detail is not None
    assert finding.detail["response_rate_a"] == pytest.approx(550 / 1800)
    assert finding.detail["response_rate_b"] == pytest.approx(500 / 2000)


def test_csat_reports_brunner_munzel_in_detail_and_welch_as_p() -> None:
    finding = stats.compare_means(MORE_FIVES, SCORES, "Twitter", "phone", min_n=30)
    welch = sps.ttest_ind(MORE_FIVES, SCORES, equal_var=False)
    assert finding.p == pytest.approx(welch.pvalue)
    assert finding.detail is not None
    assert finding.detail["p_welch"] == pytest.approx(welch.pvalue)
    assert finding.detail["p_brunner_munzel"] == pytest.approx(sps.brunnermunzel(MORE_FIVES, SCORES).pvalue)
    assert "p =" not in finding.verdict and "p<" not in finding.verdict


def test_rank_test_note_agrees_or_disagrees() -> None:
    assert stats._rank_note(0.01, True, clear=True) == "rank test agrees"
    assert stats._rank_note(0.40, True, clear=False) == "rank test agrees"
    assert stats._rank_note(0.40, True, clear=True) == "rank test disagrees"
    assert stats._rank_note(0.01, True, clear=False) == "rank test disagrees"
    # significant, but the ranks point the other way: never "agrees"
    assert stats._rank_note(0.01, False, clear=False) == "rank test disagrees"
    assert stats._rank_note(None, True, clear=True) == ""


# ---- printed numbers agree with the words --------------------------------------------------------

def test_a_clear_interval_is_printed_clear_of_zero() -> None:
    finding = stats.compare_means(MORE_FIVES, SCORES, "Twitter", "phone", min_n=30)
    welch = sps.ttest_ind(MORE_FIVES, SCORES, equal_var=False).confidence_interval()
    assert 0 < welch.low < 0.05  # at one decimal this would print as 0.0
    assert finding.verdict == ("Twitter cases scored 0.18 points higher than phone cases (95% CI 0.01 to 0.36, "
                               "n = 550 vs 500): a real difference (rank test agrees).")


def test_rates_show_the_difference_the_sentence_states() -> None:
    finding = stats.compare_proportions(756, 1000, 765, 1000, "Twitter", "phone", min_n=30)
    assert finding.verdict == (
        "Twitter cases are resolved 0.9 percentage points less often than phone cases (75.6% vs 76.5%; "
        "percentage points: the difference between two percentages; 95% CI -4.6 to 2.8 points, "
        "n = 1,000 vs 1,000): no clear difference (the interval includes zero).")
    close = stats.compare_proportions(7664, 10000, 7661, 10000, "Twitter", "phone", min_n=30)
    assert close.verdict.startswith("Twitter cases are resolved 0.03 percentage points more often than phone "
                                    "cases (76.64% vs 76.61%;")
    assert close.verdict.count("percentage points: the difference between two percentages") == 1


def test_proportion_interval_clear_of_zero_gets_the_decimals_to_show_it() -> None:
    finding = stats.compare_proportions(5005, 10000, 4862, 10000, "Twitter", "phone", min_n=30)
    low, high = confint_proportions_2indep(5005, 10000, 4862, 10000, method="newcomb", compare="diff")
    assert 0 < low < 0.0005
    assert (finding.ci_low, finding.ci_high) == pytest.approx((low, high))
    assert finding.p == pytest.approx(score_test(5005, 10000, 4862, 10000, method="score").pvalue)
    assert finding.verdict == (
        "Twitter cases are resolved 1.43 percentage points more often than phone cases (50.05% vs 48.62%; "
        "percentage points: the difference between two percentages; 95% CI 0.04 to 2.81 points, "
        "n = 10,000 vs 10,000): a real difference.")


def test_no_negative_zero() -> None:
    assert stats.number_text(-0.04, 1) == "0.0"
    assert stats.number_text(-0.4, 0) == "0"
    assert stats.number_text(-0.06, 1) == "-0.1"


def test_trend_interval_in_one_unit() -> None:
    values = (3000 + 150 * np.arange(10) + 10 * WOBBLE).tolist()
    finding = stats.weekly_trend(values, min_weeks=8)
    assert finding.ci_low is not None and finding.ci_low < 90  # in seconds: "76 s to 3 min" before
    assert finding.verdict == "First response gets slower by 2.4 min per week (95% CI 1.3 to 3.4 min, 10 weeks): " \
                              "a real trend."
    faster = stats.weekly_trend((3000 - 150 * np.arange(10) + 10 * WOBBLE).tolist(), min_weeks=8)
    assert faster.verdict == "First response gets faster by 2.6 min per week (95% CI -3.7 to -1.6 min, " \
                             "10 weeks): a real trend."
    flat = stats.weekly_trend((600 + 0.5 * np.arange(10) + WOBBLE).tolist(), min_weeks=8)
    assert flat.verdict == "First response changes by -0.4 s per week (95% CI -6.9 to 6.1 s, 10 weeks): " \
                           "no clear trend (the interval includes zero)."


# ---- many looks, one threshold ---------------------------------------------------------------------

def _family(count_a: int, count_b: int) -> list[stats.Finding]:
    """Three findings shown together: resolution (the one under test), CSAT (p about 0.5), trend
    (p about 0.9)."""
    resolution = stats.compare_proportions(count_a, 1000, count_b, 1000, "Twitter", "phone", min_n=30)
    calmer = list(SCORES[:100])
    for i in range(13):
        calmer[i * 5] = 2
    csat = stats.compare_means(SCORES[:100], calmer, "Twitter", "phone", min_n=30)
    trend = stats.weekly_trend((600 + 0.5 * np.arange(10) + WOBBLE).tolist(), min_weeks=8)
    return [resolution, csat, trend]


def test_holm_withdraws_a_borderline_difference_among_three() -> None:
    family = _family(568, 520)
    resolution, csat, trend = family
    assert resolution.p == pytest.approx(0.031, abs=0.001)
    assert csat.p == pytest.approx(0.50, abs=0.01) and trend.p == pytest.approx(0.90, abs=0.01)
    assert resolution.verdict.endswith("n = 1,000 vs 1,000): a real difference.")  # alone
    adjusted = stats.adjust(family)
    expected = multipletests([f.p for f in family], method="holm")[1]
    assert [f.detail["p_adjusted"] for f in adjusted if f.detail] == pytest.approx(list(expected))
    assert [f.p for f in adjusted] == [f.p for f in family]  # the raw p stays
    assert adjusted[0].verdict == (
        "Twitter cases are resolved 4.8 percentage points more often than phone cases (56.8% vs 52.0%; "
        "percentage points: the difference between two percentages; 95% CI 0.4 to 9.1 points, n = 1,000 vs 1,000): "
        "no clear difference after allowing for 3 comparisons shown together (Holm).")
    assert adjusted[1].verdict == (
        "Twitter cases scored 0.1 points lower than phone cases (95% CI -0.5 to 0.2, n = 100 vs 100): "
        "no clear difference (the interval includes zero; rank test agrees; one of 3 comparisons shown together; "
        "Holm-adjusted).")
    assert adjusted[2].verdict == (
        "First response changes by -0.4 s per week (95% CI -6.9 to 6.1 s, 10 weeks): no clear trend "
        "(the interval includes zero; one of 3 comparisons shown together; Holm-adjusted).")


def test_holm_keeps_a_strong_difference() -> None:
    family = _family(575, 500)
    assert family[0].p is not None and family[0].p < 0.001
    adjusted = stats.adjust(family)
    assert adjusted[0].verdict == (
        "Twitter cases are resolved 7.5 percentage points more often than phone cases (57.5% vs 50.0%; "
        "percentage points: the difference between two percentages; 95% CI 3.1 to 11.8 points, n = 1,000 vs 1,000): "
        "a real difference (one of 3 comparisons shown together; Holm-adjusted).")


def test_holm_leaves_alone_what_is_not_a_family() -> None:
    withheld = stats.compare_means([4] * 12, [3] * 40, "Twitter", "phone", min_n=30)
    single = _family(568, 520)[0]
    assert stats.adjust([single, withheld]) == [single, withheld]
    assert stats.adjust([]) == []
    with pytest.raises(ValueError):
        stats.adjust([single], method="bonferroni")


def test_holm_checks_the_rank_test_under_the_same_family() -> None:
    # CSAT clear on its own (Welch p about 0.05, Brunner-Munzel about 0.045) but not among three.
    csat = stats.compare_means(MORE_FIVES, SCORES, "Twitter", "phone", min_n=30)
    others = _family(568, 520)[1:]
    adjusted = stats.adjust([csat, *others])[0]
    assert adjusted.verdict == (
        "Twitter cases scored 0.18 points higher than phone cases (95% CI 0.01 to 0.36, n = 550 vs 500): "
        "no clear difference after allowing for 3 comparisons shown together (Holm; rank test agrees).")


def test_no_difference_is_not_given_a_direction() -> None:
    same = stats.compare_proportions(300, 400, 600, 800, "Twitter", "phone", min_n=30)
    assert same.verdict.startswith("Twitter cases are resolved as often as phone cases, a difference of 0 percentage "
                                   "points (75.0% vs 75.0%;")


def test_compute_shows_response_rates_and_one_family(tmp_path: Path) -> None:
    """Through the engine: the response rate's denominator is the cases with a final outcome (open
    cases are not surveyed yet), and the two comparisons computed together are one Holm family (the
    trend has no weeks here, so it is withheld and not counted)."""
    settings = Settings(db=tmp_path / "wh.duckdb", min_sample=30)
    warehouse = Warehouse(settings.db)
    opened = datetime(2017, 10, 2, 9, tzinfo=UTC)
    cases = []
    for channel, scores, extra_final, still_open in (("twitter", [5, 4, 5, 3] * 10, 20, 5),
                                                     ("phone", [3, 4, 2, 4] * 10, 60, 0)):
        rows = [(score, "resolved") for score in scores] + [(None, "unresolved")] * extra_final
        rows += [(None, "open")] * still_open
        for i, (score, outcome) in enumerate(rows):
            cases.append({"case_id": f"{channel}-{i}", "channel": channel, "opened_at": opened + timedelta(minutes=i),
                          "closed_at": None if outcome == "open" else opened + timedelta(hours=2),
                          "outcome": outcome, "csat": score})
    insert_cases(warehouse, cases)
    result = engine.compute(["csat_diff_twitter_hotline", "resolution_diff_twitter_hotline",
                             "first_response_trend_s_per_week"], db=warehouse.reader(), settings=settings,
                            as_of=datetime(2017, 10, 9, tzinfo=UTC))
    csat = result.total["csat_diff_twitter_hotline"].note
    assert csat is not None and csat.startswith(
        "Among customers who answered the survey (40 of 60 Twitter cases, 67%; 40 of 100 phone cases, 40%), "
        "Twitter cases scored 1.0 points higher than phone cases (95% CI ")
    assert csat.endswith("n = 40 vs 40): a real difference (rank test agrees; one of 2 comparisons shown "
                         "together; Holm-adjusted). This is a comparison, not proof that Twitter caused it.")
    resolution = result.total["resolution_diff_twitter_hotline"].note
    assert resolution is not None and resolution.endswith("(one of 2 comparisons shown together; Holm-adjusted).")
    trend = result.total["first_response_trend_s_per_week"].note
    assert trend is not None and trend.startswith("not enough data")
    # the p-values a verdict rests on: in the JSON and the detail view (--explain), never in the sentence
    cell = result.total["csat_diff_twitter_hotline"]
    assert cell.p is not None and cell.detail is not None and "p_brunner_munzel" in cell.detail
    assert "p =" not in (cell.note or "")
    head = engine.headline(["csat_diff_twitter_hotline"], db=warehouse.reader(), settings=settings,
                           as_of=datetime(2017, 10, 9, tzinfo=UTC))
    assert head["total"]["csat_diff_twitter_hotline_p"] == pytest.approx(cell.detail["p_welch"], rel=1e-3)
    explained = engine.explain("csat_diff_twitter_hotline", db=warehouse.reader(), settings=settings,
                               as_of=datetime(2017, 10, 9, tzinfo=UTC))
    assert "p_brunner_munzel = " in explained and "p_adjusted = " in explained and "family = 2" in explained


def test_a_verdict_on_a_filtered_slice_says_so() -> None:
    """The same comparison, unfiltered and on one category: only the slice's sentence carries the caveat."""
    from carepulse.metrics.comparisons import slice_caveat
    from carepulse.metrics.context import Context, Filters

    whole = Context(con=None, settings=Settings(), as_of=datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert slice_caveat(whole) == ""
    sliced = Context(con=None, settings=Settings(), as_of=datetime(2026, 1, 1, tzinfo=UTC),  # type: ignore[arg-type]
                     filters=Filters(category="Umzug"))
    assert slice_caveat(sliced) == (" Looked at on a filtered slice (category Umzug): a slice picked after looking at "
                                    "the data can show a difference by chance.")
