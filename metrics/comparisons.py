"""Statistics for the whole selection, each with a sentence a manager can act on.

* ``csat_diff_twitter_hotline``: CSAT scores of Twitter cases vs hotline cases
  (``settings.hotline_channel``): mean difference, Welch 95% CI and p; the Brunner-Munzel p
  (ordinal scores) is reported beside it.
* ``resolution_diff_twitter_hotline``: resolved / final-outcome cases, Twitter minus hotline,
  Newcombe 95% interval.
* ``first_response_trend_s_per_week``: OLS slope of the weekly median first response over
  complete weeks (:func:`metrics.views.weekly_counts`), 95% CI.
* ``threads_forecast_4w``: ETS forecast of weekly new threads, summed over 4 weeks, with a 95%
  prediction interval.

Below ``settings.min_sample`` cases per channel (comparisons) or ``settings.min_weeks`` weeks
(trend, forecast) the value is withheld and the sentence says "not enough data".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from metrics import stats
from metrics.context import Context
from metrics.registry import Metric
from metrics.sql import relation
from metrics.views import weekly_counts


def _csat(ctx: Context) -> stats.Finding:
    hotline = ctx.settings.hotline_channel
    rel = relation(ctx, "cases")
    rows = ctx.con.execute(
        f"{rel.sql}\nSELECT channel, csat FROM b WHERE csat IS NOT NULL AND channel IN ('twitter', ?)", [hotline]
    ).fetchall()
    twitter = [float(c) for ch, c in rows if ch == "twitter"]
    other = [float(c) for ch, c in rows if ch == hotline]
    return stats.compare_means(twitter, other, "Twitter", hotline,
                               min_n=ctx.settings.min_sample)


def _resolution(ctx: Context) -> stats.Finding:
    hotline = ctx.settings.hotline_channel
    rel = relation(ctx, "cases")
    rows = dict(
        (ch, (int(r), int(f))) for ch, r, f in ctx.con.execute(
            f"""{rel.sql}
SELECT channel, count(*) FILTER (WHERE resolved), count(*) FILTER (WHERE final)
FROM b WHERE channel IN ('twitter', ?) GROUP BY channel""", [hotline]).fetchall()
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


def compute(ctx: Context, metrics: list[Metric]) -> dict[str, Any]:
    from metrics.engine import Cell, MetricValues

    out: dict[str, Any] = {}
    weeks: Weeks | None = None

    def weeks_of() -> Weeks:
        """The weekly series, read once for the trend and the forecast."""
        nonlocal weeks
        if weeks is None:
            weeks = weekly_counts(ctx)
        return weeks

    for m in metrics:
        finding = FINDINGS[m.name](ctx, weeks_of) if m.name in WEEKLY else FINDINGS[m.name](ctx)
        out[m.name] = MetricValues(Cell(finding.value, finding.ci_low, finding.ci_high, finding.n, finding.verdict))
    return out
