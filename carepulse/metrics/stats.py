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
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from carepulse.core.text import Text, join

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
    """'45 s', '12 min', '3.5 h', '2.1 days' (a :class:`Text` where a word needs translating)."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "n/a"
    if math.isinf(seconds):
        return Text("not reached")
    value, unit, digits = duration_unit(seconds)
    amount = f"{'-' if seconds < 0 else ''}{value:.{digits}f}"
    return Text("{value} days", value=amount) if unit == "days" else f"{amount} {unit}"


def unit_word(unit: str) -> str:
    """A unit of :func:`duration_unit` for a sentence: "s", "min" and "h" read alike in German, "days" does not."""
    return Text("days") if unit == "days" else unit


def not_enough(n: int, minimum: int, what: str = "n") -> Finding:
    """``what`` is what was counted: "n", or a word (a :class:`Text`, "weeks")."""
    return Finding(None, n=n, verdict=Text("not enough data ({what} = {n}, minimum {minimum})",
                                           what=what, n=count_text(n), minimum=minimum))


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

PP_GLOSS = Text("percentage points: the difference between two percentages")

# The words a verdict uses that a manager may not know, in plain words: one home, shown under the
# headline (CLI) and one click away on the Pilot page.
GLOSSARY: tuple[tuple[str, str], ...] = (
    (Text("95% CI"), Text("the range the true value lies in with 95% confidence, given the data; a narrow range "
                          "means a sure number")),
    (Text("a real difference / a clear drop"), Text("the range does not include zero, also after allowing for the "
                                                    "other comparisons shown together")),
    (Text("Holm-adjusted"), Text("several comparisons read together give chance several tries; Holm's method raises "
                                 "the bar so that the chance of any false alarm among them stays at 5%")),
    (Text("rank test"), Text("a second test (Brunner-Munzel) that only asks which channel tends to score higher, "
                             "suited to 1-5 scores")),
    (Text("percentage points"), Text("the difference between two percentages (76% vs 75% is 1 point)")),
    (Text("Kaplan-Meier median"), Text("the time by which half of all threads are answered, counting the ones "
                                       "still waiting")),
    (Text("prediction interval"), Text("where the next weeks' count falls with 95% probability if the pattern "
                                       "holds")),
    (Text("deflection share"), Text("the share of Twitter cases that would otherwise have called the hotline")),
)
NOT_CAUSAL = "This is a comparison, not proof that {label} caused it."


def not_causal(label: str) -> Text:
    """The sentence after a comparison of observational data (:data:`NOT_CAUSAL`)."""
    return Text("This is a comparison, not proof that {label} caused it.", label=label)


def number_text(x: float, digits: int) -> str:
    """``x`` rounded to ``digits`` decimals, never "-0.0": a sign on a printed zero is noise a reader
    takes for a finding."""
    text = f"{x:.{digits}f}"
    return f"{0:.{digits}f}" if float(text) == 0 else text


def decimals(base: int, *values: float, clear: bool, low: float | None = None, high: float | None = None,
             most: int = 4) -> int:
    """The fewest decimals (from ``base``) at which a non-zero value does not print as 0 and, when the
    verdict calls the interval clear of zero, the printed interval is clear of zero too: a sentence
    saying "a real difference" beside "0.0 to 0.4" contradicts itself."""
    digits = base
    while digits < most:
        hides = any(v != 0 and float(number_text(v, digits)) == 0 for v in values)
        if clear and low is not None and high is not None:
            hides = hides or float(number_text(low, digits)) * float(number_text(high, digits)) <= 0
        if not hides:
            break
        digits += 1
    return digits


@dataclass(frozen=True)
class _Sentence:
    """A verdict sentence in parts, so that :func:`adjust` can rewrite its verdict word and add the
    multiplicity note without parsing English.

    The sentence reads ``<lead> (<stats>): <word> (<notes>). <tail>``, each part a :class:`Text` (one
    template per shape, so that a translation sees the whole sentence).
    """

    lead: str
    stats: str
    clear: bool
    kind: str  # "difference" or "trend"
    notes: tuple[str, ...] = ()
    tail: str = ""  # a sentence after the verdict ("This is a comparison, not proof ..."), or none

    def word(self, family: int, adjusted_clear: bool | None) -> Text:
        difference = self.kind == "difference"
        if not self.clear:
            return Text("no clear difference") if difference else Text("no clear trend")
        if adjusted_clear is False:
            return (Text("no clear difference after allowing for {family} comparisons shown together", family=family)
                    if difference else
                    Text("no clear trend after allowing for {family} comparisons shown together", family=family))
        return Text("a real difference") if difference else Text("a real trend")

    def text(self, *, family: int = 1, adjusted_clear: bool | None = None, notes: tuple[str, ...] = ()) -> str:
        all_notes: tuple[str, ...] = (*self.notes, *notes)
        if not self.clear:
            # the reason joins the notes: one parenthesis, not two in a row
            all_notes = (Text("the interval includes zero"), *all_notes)
        elif adjusted_clear is False:
            # The verdict itself names the family, so the "one of N ... Holm-adjusted" note would repeat it.
            all_notes = ("Holm", *self.notes)  # a name
        parts = {"lead": self.lead, "stats": self.stats, "word": self.word(family, adjusted_clear)}
        if all_notes:
            parts["notes"] = join(list(all_notes))
            if self.tail:
                return Text("{lead} ({stats}): {word} ({notes}). {tail}", **parts, tail=self.tail)
            return Text("{lead} ({stats}): {word} ({notes}).", **parts)
        if self.tail:
            return Text("{lead} ({stats}): {word}. {tail}", **parts, tail=self.tail)
        return Text("{lead} ({stats}): {word}.", **parts)


def _rank_note(p_bm: float | None, agrees_direction: bool, clear: bool, threshold_clear: bool | None = None) -> str:
    """'rank test agrees' when Brunner-Munzel reaches the same verdict as Welch: the mean of a 1-5
    score treats the steps as equal, the rank test does not, and a verdict both support is sturdier."""
    if p_bm is None:
        return ""
    bm_clear = p_bm < ALPHA if threshold_clear is None else threshold_clear
    if bm_clear and not agrees_direction:
        return Text("rank test disagrees")  # a clear difference, but the other way round
    return Text("rank test agrees") if bm_clear == clear else Text("rank test disagrees")


def compare_means(a: Sequence[float], b: Sequence[float], label_a: str, label_b: str, *, min_n: int,
                  respondents: tuple[int, int] | None = None) -> Finding:
    """Mean of a minus mean of b: Welch CI and p, plus the Brunner-Munzel p for ordinal scores.

    ``respondents`` = (cases of a, cases of b) the scores were asked of: CSAT is known only for the
    customers who answered the survey, a self-selected minority, so the sentence says whom it
    compares and how many answered ("Among customers who answered the survey (533 of 1,754 Twitter
    cases, 30%; ...)"). The data are observational, so the sentence also says it is no proof of cause.
    The headline carries no p-value: Welch's p is ``Finding.p``, both p-values are in ``detail``, and
    the rank test is said only as "rank test agrees/disagrees".
    """
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if min(len(xa), len(xb)) < min_n:
        return _not_enough_each(len(xa), len(xb), min_n)
    from scipy.stats import brunnermunzel, ttest_ind

    test = ttest_ind(xa, xb, equal_var=False)
    ci = test.confidence_interval(confidence_level=1 - ALPHA)
    diff = float(xa.mean() - xb.mean())
    low, high = float(ci.low), float(ci.high)
    bm = brunnermunzel(xa, xb) if np.ptp(np.concatenate([xa, xb])) > 0 else None
    p_bm = float(bm.pvalue) if bm is not None and not math.isnan(bm.pvalue) else None
    # scipy's Brunner-Munzel statistic is positive when b tends to score higher than a.
    bm_direction = bm is not None and (float(bm.statistic) < 0) == (diff > 0)
    clear = low > 0 or high < 0
    digits = decimals(1, diff, clear=clear, low=low, high=high)
    points = number_text(abs(diff), digits)
    tail = ""
    if respondents is None:
        lead = (Text("{a} cases scored {points} points higher than {b} cases", a=label_a, b=label_b, points=points)
                if diff > 0 else
                Text("{a} cases scored {points} points lower than {b} cases", a=label_a, b=label_b, points=points)
                if diff < 0 else
                Text("{a} cases scored the same on average as {b} cases", a=label_a, b=label_b))
    else:
        answered = {"answered_a": _response_text(len(xa), respondents[0], label_a),
                    "answered_b": _response_text(len(xb), respondents[1], label_b), "a": label_a, "b": label_b}
        lead = (Text("Among customers who answered the survey ({answered_a}; {answered_b}), {a} cases scored "
                     "{points} points higher than {b} cases", **answered, points=points) if diff > 0 else
                Text("Among customers who answered the survey ({answered_a}; {answered_b}), {a} cases scored "
                     "{points} points lower than {b} cases", **answered, points=points) if diff < 0 else
                Text("Among customers who answered the survey ({answered_a}; {answered_b}), {a} cases scored "
                     "the same on average as {b} cases", **answered))
        tail = not_causal(label_a)
    rank = _rank_note(p_bm, bm_direction, clear)
    interval = Text("95% CI {low} to {high}, n = {n_a} vs {n_b}", low=number_text(low, digits),
                    high=number_text(high, digits), n_a=count_text(len(xa)), n_b=count_text(len(xb)))
    sentence = _Sentence(lead, interval, clear, "difference", (rank,) if rank else (), tail)
    detail: dict[str, Any] = {
        "n_a": len(xa), "n_b": len(xb), "mean_a": float(xa.mean()), "mean_b": float(xb.mean()),
        "p_welch": float(test.pvalue), "p_brunner_munzel": p_bm, "brunner_munzel_same_direction": bm_direction,
        "sentence": sentence}
    if respondents is not None:
        detail.update(cases_a=respondents[0], cases_b=respondents[1],
                      response_rate_a=len(xa) / respondents[0] if respondents[0] else None,
                      response_rate_b=len(xb) / respondents[1] if respondents[1] else None)
    return Finding(diff, low, high, float(test.pvalue), len(xa) + len(xb), sentence.text(), detail)


def _response_text(answered: int, cases: int, label: str) -> Text:
    if cases:
        return Text("{answered} of {cases} {label} cases, {rate}", answered=count_text(answered),
                    cases=count_text(cases), label=label, rate=f"{answered / cases:.0%}")
    return Text("{answered} of {cases} {label} cases", answered=count_text(answered), cases=count_text(cases),
                label=label)


def _not_enough_each(n_a: int, n_b: int, min_n: int) -> Finding:
    return Finding(None, n=n_a + n_b, verdict=Text("not enough data (n = {n_a} vs {n_b}, minimum {minimum} each)",
                                                   n_a=count_text(n_a), n_b=count_text(n_b), minimum=min_n))


def compare_proportions(count_a: int, n_a: int, count_b: int, n_b: int, label_a: str, label_b: str, *,
                        min_n: int) -> Finding:
    """Difference of two proportions with the Newcombe (hybrid Wilson) 95% interval and the score-test p.

    The rates are printed with as many decimals as it takes to show they differ ("75.6% vs 76.5%",
    not "76% vs 76%" beside "0.9 percentage points more often"), and "percentage points" is glossed
    once, because a manager easily reads "1 point more" as "1% more".
    """
    if min(n_a, n_b) < min_n:
        return _not_enough_each(n_a, n_b, min_n)
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    low, high = (float(v) for v in confint_proportions_2indep(count_a, n_a, count_b, n_b, method="newcomb",
                                                                compare="diff", alpha=ALPHA))
    # The score test: the test whose inversion Newcombe's interval builds on (Wilson score intervals).
    p = float(test_proportions_2indep(count_a, n_a, count_b, n_b, method="score").pvalue)
    rate_a, rate_b = count_a / n_a, count_b / n_b
    diff = rate_a - rate_b
    clear = low > 0 or high < 0
    digits = decimals(1, diff * 100, clear=clear, low=low * 100, high=high * 100)
    rate_digits = digits  # the rates as precise as their difference, so one can be checked by the other
    while rate_digits < 4 and rate_a != rate_b and \
            number_text(rate_a * 100, rate_digits) == number_text(rate_b * 100, rate_digits):
        rate_digits += 1
    points = number_text(abs(diff) * 100, digits)
    lead = (Text("{a} cases are resolved {points} percentage points more often than {b} cases", a=label_a,
                 b=label_b, points=points) if diff > 0 else
            Text("{a} cases are resolved {points} percentage points less often than {b} cases", a=label_a,
                 b=label_b, points=points) if diff < 0 else
            Text("{a} cases are resolved as often as {b} cases, a difference of 0 percentage points", a=label_a,
                 b=label_b))
    stats_text = Text("{rate_a}% vs {rate_b}%; percentage points: the difference between two percentages; "
                      "95% CI {low} to {high} points, n = {n_a} vs {n_b}",
                      rate_a=number_text(rate_a * 100, rate_digits), rate_b=number_text(rate_b * 100, rate_digits),
                      low=number_text(low * 100, digits), high=number_text(high * 100, digits),
                      n_a=count_text(n_a), n_b=count_text(n_b))
    sentence = _Sentence(lead, stats_text, clear, "difference")
    return Finding(diff, low, high, p, n_a + n_b, sentence.text(),
                   {"n_a": n_a, "n_b": n_b, "rate_a": rate_a, "rate_b": rate_b, "p_score": p,
                    "sentence": sentence})


def adjust(findings: list[Finding], method: str = "holm") -> list[Finding]:
    """Holm's step-down adjustment over the findings shown together, with their verdicts rewritten.

    "A real difference" on its own means a 95% interval excludes zero; a page that shows three such
    verdicts gives chance three tries. Holm controls the family-wise error rate (the chance of any
    false "real difference" among them) at 5% without assuming the tests independent. A finding
    whose own interval excludes zero but whose adjusted p is 0.05 or more becomes "no clear
    difference after allowing for N comparisons shown together (Holm)".

    Only findings with a p-value and a sentence built here take part (a withheld "not enough data"
    shows nothing to be fooled by); with fewer than two nothing changes. ``Finding.p`` stays the raw
    p; ``detail`` gets ``p_adjusted``, ``family`` and ``adjustment``.
    """
    if method != "holm":
        raise ValueError(f"unknown adjustment {method!r}: only 'holm' is implemented")
    members = [i for i, f in enumerate(findings)
               if f.p is not None and not math.isnan(f.p) and f.detail and "sentence" in f.detail]
    family = len(members)
    if family < 2:
        return list(findings)
    from statsmodels.stats.multitest import multipletests

    raw = np.array([findings[i].p for i in members], dtype=float)
    adjusted = multipletests(raw, alpha=ALPHA, method=method)[1]
    out = list(findings)
    note = Text("one of {family} comparisons shown together; Holm-adjusted", family=family)
    for k, i in enumerate(members):
        f = findings[i]
        assert f.detail is not None
        sentence: _Sentence = f.detail["sentence"]
        adjusted_clear = bool(adjusted[k] < ALPHA)
        notes = list(sentence.notes)
        p_bm = f.detail.get("p_brunner_munzel")
        if p_bm is not None:
            # The rank test's verdict under the same family: its p in place of Welch's.
            swapped = raw.copy()
            swapped[k] = p_bm
            bm_clear = bool(multipletests(swapped, alpha=ALPHA, method=method)[1][k] < ALPHA)
            notes = [_rank_note(p_bm, bool(f.detail.get("brunner_munzel_same_direction")),
                                sentence.clear and adjusted_clear, bm_clear)]
        rewritten = _Sentence(sentence.lead, sentence.stats, sentence.clear, sentence.kind, tuple(notes),
                              sentence.tail)
        verdict = rewritten.text(family=family, adjusted_clear=adjusted_clear, notes=(note,))
        detail = {**f.detail, "p_adjusted": float(adjusted[k]), "family": family, "adjustment": method,
                  "sentence": rewritten}
        out[i] = replace(f, verdict=verdict, detail=detail)
    return out


# ---- trend and forecast ------------------------------------------------------------------------

def weekly_trend(values: Sequence[float], *, min_weeks: int, weeks: Sequence[float] | None = None,
                 what: str = Text("First response")) -> Finding:
    """OLS slope per week of a weekly series, 95% CI. ``weeks`` positions the values (weeks since
    the first; default 0, 1, 2, ...), so weeks without data leave a gap rather than shift the line.

    The slope and both bounds are printed in one unit, the one :func:`duration_unit` picks for the
    larger bound ("1.2 to 4.0 min", not "74 s to 4 min"): two units in one interval make the reader
    convert before they can compare.
    """
    y = np.asarray(values, dtype=float)
    if len(y) < max(min_weeks, 3):
        return not_enough(len(y), max(min_weeks, 3), Text("weeks"))
    import statsmodels.api as sm

    position = np.asarray(weeks, dtype=float) if weeks is not None else np.arange(len(y), dtype=float)
    x = sm.add_constant(position, has_constant="add")
    fit = sm.OLS(y, x).fit()
    slope = float(fit.params[1])
    low, high = (float(v) for v in fit.conf_int(alpha=ALPHA)[1])
    p = float(fit.pvalues[1])
    clear = low > 0 or high < 0
    text, unit_name = interval_in_one_unit(slope, low, high, clear=clear)
    unit = unit_word(unit_name)
    if low > 0:
        lead = Text("{what} gets slower by {value} {unit} per week", what=what, value=text[0].lstrip("-"), unit=unit)
    elif high < 0:
        lead = Text("{what} gets faster by {value} {unit} per week", what=what, value=text[0].lstrip("-"), unit=unit)
    else:
        lead = Text("{what} changes by {value} {unit} per week", what=what, value=text[0], unit=unit)
    interval = Text("95% CI {low} to {high} {unit}, {weeks} weeks", low=text[1], high=text[2], unit=unit,
                    weeks=len(y))
    sentence = _Sentence(lead, interval, clear, "trend")
    return Finding(slope, low, high, p, len(y), sentence.text(), {"p_ols": p, "sentence": sentence})


def interval_in_one_unit(value: float, low: float, high: float, *, clear: bool) -> tuple[tuple[str, str, str], str]:
    """(value, low, high) in seconds as texts in the unit of the larger absolute bound, and that unit.

    Minutes and longer get at least one decimal, so that 74 s prints as 1.2 min rather than 1 min;
    more decimals are added while a clear interval would print as touching zero.
    """
    larger = max(abs(low), abs(high), abs(value))
    scaled, unit, digits = duration_unit(larger)
    factor = scaled / larger if larger else 1.0
    base = digits if unit == "s" else max(digits, 1)
    v, lo, hi = value * factor, low * factor, high * factor
    d = decimals(base, v, clear=clear, low=lo, high=hi)
    return (number_text(v, d), number_text(lo, d), number_text(hi, d)), unit


@dataclass(frozen=True)
class Forecast:
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    total: Finding


def forecast_weeks(values: Sequence[float], *, horizon: int = 4, min_weeks: int, seed: int = 20171031,
                   what: str = Text("new threads")) -> Forecast:
    """ETS (additive error, additive damped trend) forecast with 95% prediction intervals.

    The total over the horizon has its own interval, from 2,000 simulated future paths
    (seeded, so the same data always gives the same interval).
    """
    y = np.asarray(values, dtype=float)
    empty = np.array([], dtype=float)
    if len(y) < max(min_weeks, 4):
        return Forecast(empty, empty, empty, not_enough(len(y), max(min_weeks, 4), Text("weeks")))
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
    verdict = Text("About {total} {what} expected in the next {horizon} weeks (95% prediction interval {low} to "
                   "{high}), from {weeks} weeks of history.", total=count_text(round(total)), what=what,
                   horizon=horizon, low=count_text(round(t_low)), high=count_text(round(t_high)), weeks=len(y))
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
        return Finding(None, n=n, verdict=Text("{what}: every case has the same CSAT class, so no AUC (n = {n}).",
                                               what=what, n=n))
    from scipy.stats import mannwhitneyu

    u = mannwhitneyu(x[y], x[~y], alternative="two-sided")
    value = float(u.statistic) / (int(y.sum()) * int((~y).sum()))
    strength = Text("useful") if value >= 0.7 else Text("weak") if value >= 0.6 else Text("not useful")
    verdict = Text("{what} separates CSAT 4-5 from 1-3 with AUC {auc} (n = {n}): {strength}.", what=what,
                   auc=f"{value:.2f}", n=count_text(n), strength=strength)
    return Finding(value, None, None, float(u.pvalue), n, verdict)


def spearman(x: Sequence[float], y: Sequence[float], *, min_n: int, what: str) -> Finding:
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(xs)
    if n < min_n:
        return not_enough(n, min_n)
    if np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return Finding(None, n=n, verdict=Text("{what}: no variation to correlate (n = {n}).", what=what, n=n))
    from scipy.stats import spearmanr

    result = spearmanr(xs, ys)
    rho, p = float(result.statistic), float(result.pvalue)
    # Fisher z interval for a rank correlation (Bonett-Wright standard error).
    se = math.sqrt((1 + rho * rho / 2) / (n - 3)) if n > 3 else float("nan")
    z = math.atanh(max(min(rho, 0.999999), -0.999999))
    low, high = math.tanh(z - 1.959963984540054 * se), math.tanh(z + 1.959963984540054 * se)
    strength = (Text("useful") if abs(rho) >= 0.3 and p < ALPHA else Text("weak") if p < ALPHA
                else Text("not useful (no clear relation)"))
    verdict = Text("{what} correlates with CSAT at rho {rho} (95% CI {low} to {high}, n = {n}): {strength}.",
                   what=what, rho=f"{rho:.2f}", low=f"{low:.2f}", high=f"{high:.2f}", n=n, strength=strength)
    return Finding(rho, low, high, p, n, verdict)
