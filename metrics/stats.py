"""Statistics on arrays, and the plain-words sentences that go with them.

statsmodels and scipy are imported inside the functions: they take over a second to import,
and the plain headline (``carepulse metrics``) must not pay for that when it needs none of them.

Minimum sample: below ``min_n`` (``settings.min_sample``, default 30) a function returns a
:class:`Finding` with ``value = None`` and the verdict "not enough data (n = 12, minimum 30)";
a number from a handful of cases misleads more than it informs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ALPHA = 0.05


@dataclass(frozen=True)
class Finding:
    """One statistic with its uncertainty and a sentence a manager can read."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    p: float | None = None
    n: int | None = None
    verdict: str = ""
    detail: dict[str, Any] | None = None


# ---- formatting --------------------------------------------------------------------------------

def count_text(n: int) -> str:
    return f"{n:,}"


def duration_unit(seconds: float) -> tuple[float, str, int]:
    """The unit a reader grasps a duration in at once: (value in that unit, unit, decimals).

    One rule for the verdict sentences and the dashboard's locale-aware labels, so both always
    agree on where minutes become hours.
    """
    s = abs(seconds)
    if s < 90:
        return s, "s", 0
    if s < 90 * 60:
        return s / 60, "min", 0
    if s < 36 * 3600:
        return s / 3600, "h", 1
    return s / 86400, "days", 1


def duration_text(seconds: float | None) -> str:
    """'45 s', '12 min', '3.5 h', '2.1 days'."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "n/a"
    if math.isinf(seconds):
        return "not reached"
    value, unit, digits = duration_unit(seconds)
    return f"{'-' if seconds < 0 else ''}{value:.{digits}f} {unit}"


def not_enough(n: int, minimum: int, what: str = "n") -> Finding:
    return Finding(None, n=n, verdict=f"not enough data ({what} = {count_text(n)}, minimum {minimum})")


# ---- intervals ---------------------------------------------------------------------------------

def wilson(count: int, nobs: int, alpha: float = ALPHA) -> tuple[float | None, float | None]:
    """95% Wilson score interval of a proportion (statsmodels; its default method is not Wilson)."""
    if nobs <= 0:
        return None, None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(count, nobs, alpha=alpha, method="wilson")
    return float(low), float(high)


def t_interval(mean: float | None, sd: float | None, n: int, alpha: float = ALPHA) -> tuple[float | None, float | None]:
    """Student-t interval of a mean from its summary (mean, sample SD, n)."""
    if mean is None or sd is None or n < 2 or math.isnan(sd):
        return None, None
    from scipy.stats import t

    half = float(t.ppf(1 - alpha / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


# ---- survival ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class KaplanMeier:
    """'Share answered within t' = 1 - S(t), with pointwise 95% log-log bands, and the median."""

    times: np.ndarray
    share_answered: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    median: float | None
    median_ci: tuple[float | None, float | None]
    n: int
    events: int


def kaplan_meier(durations: Sequence[float], answered: Sequence[bool]) -> KaplanMeier:
    """Kaplan-Meier of time to first response; unanswered threads are censored at their waiting time."""
    from statsmodels.duration.survfunc import SurvfuncRight

    time = np.asarray(durations, dtype=float)
    status = np.asarray(answered, dtype=float)
    n, events = len(time), int(status.sum())
    empty = np.array([], dtype=float)
    if events == 0:
        return KaplanMeier(empty, empty, empty, empty, None, (None, None), n, events)
    sf = SurvfuncRight(time, status)
    surv = np.asarray(sf.surv_prob, dtype=float)
    se = np.asarray(sf.surv_prob_se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(surv)
        g = np.log(-log_s)
        se_g = se / (surv * np.abs(log_s))
        s_low = np.exp(-np.exp(g + 1.959963984540054 * se_g))
        s_high = np.exp(-np.exp(g - 1.959963984540054 * se_g))
    s_low = np.where(np.isfinite(s_low), s_low, surv)
    s_high = np.where(np.isfinite(s_high), s_high, surv)
    median = float(sf.quantile(0.5))
    low, high = sf.quantile_ci(0.5)
    return KaplanMeier(
        times=np.asarray(sf.surv_times, dtype=float), share_answered=1 - surv, ci_low=1 - s_high,
        ci_high=1 - s_low, median=None if math.isnan(median) else median,
        median_ci=(None if math.isnan(low) else float(low), None if math.isnan(high) else float(high)),
        n=n, events=events,
    )


# ---- comparisons -------------------------------------------------------------------------------

def compare_means(a: Sequence[float], b: Sequence[float], label_a: str, label_b: str, *, min_n: int,
                  subject: str = "customers", verb: str = "rate their service") -> Finding:
    """Mean of a minus mean of b: Welch CI and p, plus the Brunner-Munzel p for ordinal scores.

    The sentence reads "<label_a> <subject> <verb> 0.4 points higher than <label_b> <subject> ...".
    """
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if min(len(xa), len(xb)) < min_n:
        return Finding(None, n=len(xa) + len(xb),
                       verdict=f"not enough data (n = {count_text(len(xa))} vs {count_text(len(xb))}, "
                               f"minimum {min_n} each)")
    from scipy.stats import brunnermunzel, ttest_ind

    test = ttest_ind(xa, xb, equal_var=False)
    ci = test.confidence_interval(confidence_level=1 - ALPHA)
    diff = float(xa.mean() - xb.mean())
    low, high = float(ci.low), float(ci.high)
    bm = brunnermunzel(xa, xb) if np.ptp(np.concatenate([xa, xb])) > 0 else None
    p_bm = float(bm.pvalue) if bm is not None and not math.isnan(bm.pvalue) else None
    direction = "higher" if diff > 0 else "lower"
    verdict = (f"{label_a} {subject} {verb} {abs(diff):.1f} points {direction} than {label_b} {subject} "
               f"(95% CI {low:.1f} to {high:.1f}, n = {count_text(len(xa))} vs {count_text(len(xb))}): "
               + _difference_word(low, high))
    return Finding(diff, low, high, float(test.pvalue), len(xa) + len(xb), verdict,
                   {"n_a": len(xa), "n_b": len(xb), "mean_a": float(xa.mean()), "mean_b": float(xb.mean()),
                    "p_welch": float(test.pvalue), "p_brunner_munzel": p_bm})


def compare_proportions(count_a: int, n_a: int, count_b: int, n_b: int, label_a: str, label_b: str, *,
                        min_n: int, subject: str = "cases", verb: str = "are resolved") -> Finding:
    """Difference of two proportions with the Newcombe (hybrid Wilson) 95% interval."""
    if min(n_a, n_b) < min_n:
        return Finding(None, n=n_a + n_b, verdict=f"not enough data (n = {count_text(n_a)} vs "
                                                   f"{count_text(n_b)}, minimum {min_n} each)")
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    low, high = confint_proportions_2indep(count_a, n_a, count_b, n_b, method="newcomb", compare="diff",
                                           alpha=ALPHA)
    p = float(test_proportions_2indep(count_a, n_a, count_b, n_b, method="wald").pvalue)
    diff = count_a / n_a - count_b / n_b
    direction = "more" if diff > 0 else "less"
    verdict = (f"{label_a} {subject} {verb} {abs(diff) * 100:.1f} percentage points {direction} often than "
               f"{label_b} {subject} ({count_a / n_a:.0%} vs {count_b / n_b:.0%}; 95% CI {low * 100:.1f} to "
               f"{high * 100:.1f} points, n = {count_text(n_a)} vs {count_text(n_b)}): "
               + _difference_word(float(low), float(high)))
    return Finding(float(diff), float(low), float(high), p, n_a + n_b, verdict,
                   {"n_a": n_a, "n_b": n_b, "rate_a": count_a / n_a, "rate_b": count_b / n_b})


def _difference_word(low: float, high: float) -> str:
    if low > 0 or high < 0:
        return "a real difference."
    return "no clear difference (the interval includes zero)."


# ---- trend and forecast ------------------------------------------------------------------------

def weekly_trend(values: Sequence[float], *, min_weeks: int, weeks: Sequence[float] | None = None,
                 what: str = "First response") -> Finding:
    """OLS slope per week of a weekly series, 95% CI. ``weeks`` positions the values (weeks since
    the first; default 0, 1, 2, ...), so weeks without data leave a gap rather than shift the line."""
    y = np.asarray(values, dtype=float)
    if len(y) < max(min_weeks, 3):
        return not_enough(len(y), max(min_weeks, 3), "weeks")
    import statsmodels.api as sm

    position = np.asarray(weeks, dtype=float) if weeks is not None else np.arange(len(y), dtype=float)
    x = sm.add_constant(position, has_constant="add")
    fit = sm.OLS(y, x).fit()
    slope = float(fit.params[1])
    low, high = (float(v) for v in fit.conf_int(alpha=ALPHA)[1])
    p = float(fit.pvalues[1])
    if low > 0:
        word = f"gets slower by {duration_text(slope)} per week"
        end = "a real trend."
    elif high < 0:
        word = f"gets faster by {duration_text(-slope)} per week"
        end = "a real trend."
    else:
        word = f"changes by {duration_text(slope)} per week"
        end = "no clear trend (the interval includes zero)."
    verdict = (f"{what} {word} (95% CI {duration_text(low)} to {duration_text(high)}, "
               f"{len(y)} weeks): {end}")
    return Finding(slope, low, high, p, len(y), verdict)


@dataclass(frozen=True)
class Forecast:
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    total: Finding


def forecast_weeks(values: Sequence[float], *, horizon: int = 4, min_weeks: int, seed: int = 20171031,
                   what: str = "new threads") -> Forecast:
    """ETS (additive error, additive damped trend) forecast with 95% prediction intervals.

    The total over the horizon has its own interval, from 2,000 simulated future paths
    (seeded, so the same data always gives the same interval).
    """
    y = np.asarray(values, dtype=float)
    empty = np.array([], dtype=float)
    if len(y) < max(min_weeks, 4):
        return Forecast(empty, empty, empty, not_enough(len(y), max(min_weeks, 4), "weeks"))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = _ets(y)
        pred = fit.get_prediction(start=len(y), end=len(y) + horizon - 1)
        frame = pred.summary_frame(alpha=ALPHA)
        paths = fit.simulate(nsimulations=horizon, repetitions=2000, anchor="end",
                             rng=np.random.default_rng(seed))
    mean = np.clip(np.asarray(frame["mean"], dtype=float), 0, None)
    low = np.clip(np.asarray(frame["pi_lower"], dtype=float), 0, None)
    high = np.clip(np.asarray(frame["pi_upper"], dtype=float), 0, None)
    sums = np.clip(np.asarray(paths, dtype=float), 0, None).sum(axis=0)
    total, t_low, t_high = float(mean.sum()), float(np.quantile(sums, 0.025)), float(np.quantile(sums, 0.975))
    verdict = (f"About {count_text(round(total))} {what} expected in the next {horizon} weeks "
               f"(95% prediction interval {count_text(round(t_low))} to {count_text(round(t_high))}), "
               f"from {len(y)} weeks of history.")
    return Forecast(mean, low, high, Finding(total, t_low, t_high, None, len(y), verdict))


def _ets(y: np.ndarray) -> Any:
    """The weekly volume model: ETS, additive error, additive damped trend from 6 weeks on."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    trend = "add" if len(y) >= 6 else None
    # A Series, not an array: statsmodels' prediction summary needs an index.
    return ETSModel(pd.Series(y), error="add", trend=trend, damped_trend=trend is not None).fit(disp=False)


def forecast_paths(values: Sequence[float], *, horizon: int, repetitions: int = 1000,
                   seed: int = 20171031) -> np.ndarray:
    """Simulated future weekly volumes (``horizon`` x ``repetitions``, clipped at zero) from the same
    ETS model as :func:`forecast_weeks`: a projection that needs a range (payback) sums along paths,
    so that a path's good and bad weeks stay together."""
    import warnings

    y = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = _ets(y).simulate(nsimulations=horizon, repetitions=repetitions, anchor="end",
                                 rng=np.random.default_rng(seed))
    return np.clip(np.asarray(paths, dtype=float).reshape(horizon, repetitions), 0, None)


# ---- proxy validation --------------------------------------------------------------------------

def auc(flags: Sequence[bool], good: Sequence[bool], *, min_n: int, what: str) -> Finding:
    """AUC of a binary proxy for a binary outcome: P(proxy ranks a good case above a bad one)."""
    x = np.asarray(flags, dtype=float)
    y = np.asarray(good, dtype=bool)
    n = len(x)
    if n < min_n:
        return not_enough(n, min_n)
    if y.all() or not y.any():
        return Finding(None, n=n, verdict=f"{what}: every case has the same CSAT class, so no AUC (n = {n}).")
    from scipy.stats import mannwhitneyu

    u = mannwhitneyu(x[y], x[~y], alternative="two-sided")
    value = float(u.statistic) / (int(y.sum()) * int((~y).sum()))
    strength = "useful" if value >= 0.7 else "weak" if value >= 0.6 else "not useful"
    verdict = f"{what} separates CSAT 4-5 from 1-3 with AUC {value:.2f} (n = {count_text(n)}): {strength}."
    return Finding(value, None, None, float(u.pvalue), n, verdict)


def spearman(x: Sequence[float], y: Sequence[float], *, min_n: int, what: str) -> Finding:
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(xs)
    if n < min_n:
        return not_enough(n, min_n)
    if np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return Finding(None, n=n, verdict=f"{what}: no variation to correlate (n = {n}).")
    from scipy.stats import spearmanr

    result = spearmanr(xs, ys)
    rho, p = float(result.statistic), float(result.pvalue)
    # Fisher z interval for a rank correlation (Bonett-Wright standard error).
    se = math.sqrt((1 + rho * rho / 2) / (n - 3)) if n > 3 else float("nan")
    z = math.atanh(max(min(rho, 0.999999), -0.999999))
    low, high = math.tanh(z - 1.959963984540054 * se), math.tanh(z + 1.959963984540054 * se)
    strength = ("useful" if abs(rho) >= 0.3 and p < ALPHA else "weak" if p < ALPHA
                else "not useful (no clear relation)")
    verdict = f"{what} correlates with CSAT at rho {rho:.2f} (95% CI {low:.2f} to {high:.2f}, n = {n}): {strength}."
    return Finding(rho, low, high, p, n, verdict)
