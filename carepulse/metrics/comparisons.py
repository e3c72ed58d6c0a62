"""Statistics for the whole selection, each with a sentence a manager can act on.

* ``csat_diff_twitter_hotline``: CSAT scores of Twitter cases vs hotline cases
  (``settings.hotline_channel``) among survey respondents: mean difference, Welch 95% CI and p;
  the Brunner-Munzel p (ordinal scores) decides "rank test agrees/disagrees". The sentence gives
  each channel's response rate (respondents / cases with a final outcome) and says it is no proof
  of cause.
* ``resolution_diff_twitter_hotline``: resolved / final-outcome cases, Twitter minus hotline,
  Newcombe 95% interval, score-test p.
* ``first_response_trend_s_per_week``: OLS slope of the weekly median first response over
  complete weeks (:func:`metrics.weekly.weekly_counts`), 95% CI and p.

The three tests computed in one call are one family: their verdicts are Holm-adjusted together
(:func:`metrics.stats.adjust`) and each sentence says so.
* ``threads_forecast_4w``: ETS forecast of weekly new threads, summed over 4 weeks, with a 95%
  prediction interval.

Below ``settings.min_sample`` cases per channel (comparisons) or ``settings.min_weeks`` weeks
(trend, forecast) the value is withheld and the sentence says "not enough data".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carepulse.core.text import Text, join
from carepulse.metrics import stats
from carepulse.metrics.cells import Cell, MetricValues
from carepulse.metrics.context import Context
from carepulse.metrics.registry import Metric, computes
from carepulse.metrics.sql import relation
from carepulse.metrics.weekly import weekly_counts


def _csat(ctx: Context) -> stats.Finding:
    """CSAT of survey respondents, with the cases they were drawn from.

    The response rate's denominator is the cases with a final outcome (resolved, unresolved,
    escalated), plus any case with a score despite having none: the survey goes out when a case is
    closed, so an open case has not been asked yet and would only dilute the rate.
    """
    hotline = ctx.settings.hotline_channel
    rel = relation(ctx, "cases")
    # Scores counted per (channel, score) on the engine: exact, and a few rows instead of one per case
    # (on Spark the driver gets the counts, not the cases).
    counted = ctx.con.execute(*rel.statement("""
SELECT channel, csat, count(*) FROM b WHERE csat IS NOT NULL AND channel IN ('twitter', $hotline)
GROUP BY channel, csat ORDER BY channel, csat""", {"hotline": hotline})).fetchall()
    scores: dict[str, list[float]] = {"twitter": [], hotline: []}
    for channel, score, n in counted:
        scores[channel] += [float(score)] * int(n)  # the cases' scores again, built by the list, not per case
    asked = dict(ctx.con.execute(*rel.statement("""
SELECT channel, count(*) FILTER (WHERE final OR csat IS NOT NULL)
FROM b WHERE channel IN ('twitter', $hotline) GROUP BY channel""", {"hotline": hotline})).fetchall())
    twitter, other = scores["twitter"], scores[hotline]
    return stats.compare_means(twitter, other, "Twitter", hotline, min_n=ctx.settings.min_sample,
                               respondents=(int(asked.get("twitter", 0)), int(asked.get(hotline, 0))))


def _resolution(ctx: Context) -> stats.Finding:
    hotline = ctx.settings.hotline_channel
    rel = relation(ctx, "cases")
    rows = dict(
        (ch, (int(r), int(f))) for ch, r, f in ctx.con.execute(*rel.statement("""
SELECT channel, count(*) FILTER (WHERE resolved), count(*) FILTER (WHERE final)
FROM b WHERE channel IN ('twitter', $hotline) GROUP BY channel""", {"hotline": hotline})).fetchall()
    )
    tw, ho = rows.get("twitter", (0, 0)), rows.get(hotline, (0, 0))
    return stats.compare_proportions(tw[0], tw[1], ho[0], ho[1], "Twitter", hotline,
                                     min_n=ctx.settings.min_sample)


Weeks = list[tuple[Any, int, int, float | None]]


def _trend(ctx: Context, weeks_of: Callable[[], Weeks]) -> stats.Finding:
    weeks = [(w, m) for w, _, _, m in weeks_of() if m is not None]
    return stats.weekly_trend([m for _, m in weeks], min_weeks=ctx.settings.min_weeks,
                              weeks=[(w - weeks[0][0]).days / 7 for w, _ in weeks] if weeks else [])


def _forecast(ctx: Context, weeks_of: Callable[[], Weeks]) -> stats.Finding:
    counts = [n for _, n, _, _ in weeks_of()]
    return stats.forecast_weeks(counts, horizon=4, min_weeks=ctx.settings.min_weeks).total


FINDINGS: dict[str, Callable[..., stats.Finding]] = {
    "csat_diff_twitter_hotline": _csat,
    "resolution_diff_twitter_hotline": _resolution,
    "first_response_trend_s_per_week": _trend,
    "threads_forecast_4w": _forecast,
}
WEEKLY = frozenset({"first_response_trend_s_per_week", "threads_forecast_4w"})
TESTED = frozenset({"csat_diff_twitter_hotline", "resolution_diff_twitter_hotline", "first_response_trend_s_per_week"})


@computes("csat_diff_twitter_hotline", "resolution_diff_twitter_hotline", "first_response_trend_s_per_week",
          "threads_forecast_4w", family=TESTED)
def compute(ctx: Context, metrics: list[Metric]) -> dict[str, Any]:

    out: dict[str, Any] = {}
    weeks: Weeks | None = None

    def weeks_of() -> Weeks:
        """The weekly series, read once for the trend and the forecast."""
        nonlocal weeks
        if weeks is None:
            weeks = weekly_counts(ctx)
        return weeks

    findings = {m.name: FINDINGS[m.name](ctx, weeks_of) if m.name in WEEKLY else FINDINGS[m.name](ctx)
                for m in metrics}
    # The tests computed together are shown together: one Holm family over those with a p-value
    # (the forecast has none, withheld ones show nothing), so three looks share one 5% threshold.
    tested = [name for name in findings if name in TESTED]
    for name, finding in zip(tested, stats.adjust([findings[name] for name in tested]), strict=True):
        findings[name] = finding
    caveat = caveat_sentence(ctx)
    for name, finding in findings.items():
        verdict = finding.verdict
        if caveat is not None and name in TESTED and finding.value is not None:
            verdict = Text("{verdict} {caveat}", verdict=verdict, caveat=caveat)
        out[name] = MetricValues(Cell(finding.value, finding.ci_low, finding.ci_high, finding.n, verdict,
                                      p=finding.p, detail=finding.detail))
    return out


def _filter_words(key: str, value: Any) -> str:
    """One set filter in words ("category Umzug"); the value is data."""
    words = {
        "date_from": Text("date from {value}", value=str(value)), "date_to": Text("date to {value}", value=str(value)),
        "account": Text("account {value}", value=str(value)), "channel": Text("channel {value}", value=str(value)),
        "team": Text("team {value}", value=str(value)), "category": Text("category {value}", value=str(value)),
        "agent": Text("agent {value}", value=str(value)),
    }
    return words.get(key) or f"{key.replace('_', ' ')} {value}"


def caveat_sentence(ctx: Context) -> Text | None:
    """What a verdict on a filtered slice must say: a slice chosen after looking at the data (one category,
    one month) can show a difference by chance, whatever its interval says. None without a filter."""
    described = ctx.filters.describe()
    if not described:
        return None
    parts = join([_filter_words(key, value) for key, value in described.items()], ", ")
    return Text("Looked at on a filtered slice ({filters}): a slice picked after looking at the data can show a "
                "difference by chance.", filters=parts)


def slice_caveat(ctx: Context) -> str:
    """:func:`caveat_sentence` as the verdict's continuation (a leading space), or "" without a filter."""
    caveat = caveat_sentence(ctx)
    return Text(" {caveat}", caveat=caveat) if caveat is not None else ""
