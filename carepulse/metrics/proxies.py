"""Text proxies of satisfaction per thread, and how well they predict CSAT.

One query fetches, per thread of the selection, the customer's first and last tweet (text and
language), whether the thread is answered, whether the last tweet comes after the first response
and thanks (the source measure ``thanked``, which ``thanks_rate`` counts), and the CSAT of the thread's earliest linked
CRM case. Texts are scored once each (:mod:`carepulse.metrics.sentiment`); the group means are pandas
aggregations.

* ``sentiment_first_mean`` / ``sentiment_last_mean``: mean score of the first / last customer tweet.
* ``sentiment_shift_mean``: mean of last minus first, threads with at least two customer tweets.
* ``negative_waiting``: unanswered threads whose last customer tweet scores <= -0.05.
* ``thanks_csat_auc``: AUC of the thanks flag for CSAT 4-5 vs 1-3 (threads with a linked CSAT).
* ``sentiment_csat_spearman``: Spearman rho of the last tweet's score with the linked CSAT.
"""

from __future__ import annotations

from typing import Any

from carepulse.core.text import Text
from carepulse.metrics import sentiment, stats
from carepulse.metrics.cells import Cell, MetricValues
from carepulse.metrics.context import Context
from carepulse.metrics.registry import Metric, computes
from carepulse.metrics.sources import TOTAL, expand
from carepulse.metrics.sql import relation


def thread_texts(ctx: Context) -> Any:
    """One row per thread: g, answered, customer_tweets, texts, languages, thanked, case_csat."""
    rel = relation(ctx, "threads", ("ft", "last", "tc"), by=ctx.by)
    sql = rel.statement(expand("threads", f"""
SELECT {rel.key} AS g, thread_id, @answered AS answered, customer_tweets, first_text, first_lang, last_text,
       last_lang, coalesce(@thanked, false) AS thanked, case_csat
FROM b"""))
    return ctx.con.execute(*sql).df()


@computes("sentiment_first_mean", "sentiment_last_mean", "sentiment_shift_mean", "negative_waiting", "thanks_csat_auc",
          "sentiment_csat_spearman")
def compute(ctx: Context, metrics: list[Metric]) -> dict[str, Any]:

    frame = thread_texts(ctx)
    frame["first_score"] = sentiment.score_many(frame["first_text"].tolist(), frame["first_lang"].tolist())
    frame["last_score"] = sentiment.score_many(frame["last_text"].tolist(), frame["last_lang"].tolist())
    frame["first_score"] = frame["first_score"].astype(float)
    frame["last_score"] = frame["last_score"].astype(float)
    frame["shift"] = (frame["last_score"] - frame["first_score"]).where(frame["customer_tweets"] >= 2)
    frame["negative_waiting"] = (~frame["answered"].astype(bool)) & (frame["last_score"] <= sentiment.NEGATIVE)

    def cells(part: Any) -> dict[str, Cell]:
        return {
            "sentiment_first_mean": _mean(part["first_score"]),
            "sentiment_last_mean": _mean(part["last_score"]),
            "sentiment_shift_mean": _mean(part["shift"]),
            "negative_waiting": Cell(int(part["negative_waiting"].sum())),
        }

    total = cells(frame)
    rated = frame[frame["case_csat"].notna()]
    min_n = ctx.settings.min_sample
    auc = stats.auc(rated["thanked"].astype(bool).tolist(), (rated["case_csat"] >= 4).tolist(), min_n=min_n,
                    what=Text("Customer thanks at the end"))
    scored = rated[rated["last_score"].notna()]
    rho = stats.spearman(scored["last_score"].tolist(), scored["case_csat"].astype(float).tolist(), min_n=min_n,
                         what=Text("Sentiment of the last customer tweet"))
    total["thanks_csat_auc"] = Cell(auc.value, auc.ci_low, auc.ci_high, auc.n, auc.verdict)
    total["sentiment_csat_spearman"] = Cell(rho.value, rho.ci_low, rho.ci_high, rho.n, rho.verdict)
    groups: dict[str, dict[str, Cell]] = {}
    if ctx.by is not None:
        for key, part in frame.groupby("g", sort=False):
            if key != TOTAL:
                groups[str(key)] = cells(part)
    out: dict[str, Any] = {}
    for m in metrics:
        values = MetricValues(total=total[m.name])
        if ctx.by is not None and m.allows(ctx.by):
            values.groups = {k: v[m.name] for k, v in groups.items()}
        out[m.name] = values
    return out


def _mean(series: Any) -> Any:

    clean = series.dropna()
    return Cell(float(clean.mean()) if len(clean) else None, n=len(clean))
