"""Every metric carepulse reports, declared once.

A metric is data, not code: its name, what it means, its unit and kind, where it is computed
(a source relation of :mod:`carepulse.metrics.sources` plus an aggregate expression over that relation's
columns, or a named Python computation for the few that SQL cannot do) and which breakdowns
make sense for it. The engine turns these declarations into SQL; ``explain`` shows that SQL.

Kinds, as in MetricFlow:

* ``count`` / ``sum``: one aggregate expression (``expr``).
* ``ratio``: ``numerator`` / ``denominator``, each an aggregate expression or the name of a
  count metric of the same source; a Wilson interval when ``ci == "wilson"``.
* ``mean``: ``avg(column)``, optionally restricted by ``where``; a t interval when ``ci == "t"``.
* ``percentile``: ``quantile_cont(column, quantile)`` (linear interpolation), optional ``where``; a
  distribution-free order-statistic interval (binomial ranks) when ``ci == "order"``.
* ``survival``: a Kaplan-Meier quantile of ``column`` with ``event`` marking observed events
  (others censored); median CI by the log-log (cloglog) method.
* ``derived`` / ``statistic``: computed in Python (cost model, text scoring, tests, trends,
  forecasts) by the one function marked ``@computes(<names>)``, which lists the metrics it produces;
  statistics are reported for the whole selection only.

Expressions name the source's measures as ``@name`` (:class:`metrics.sources.Measure`: ``@sla_met``,
``@exposure``, ...), declared once there and expanded into their SQL when a statement is built
(:func:`metrics.sql.bound`); the joins a measure needs are added to the metric's. Placeholders
``{{name}}`` in expressions are filled from the settings (see
:func:`metrics.sources.placeholders`). The registry validates itself as a whole at import and
reports every problem at once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

from carepulse.core.errors import ConfigError
from carepulse.metrics.context import BREAKDOWNS

if TYPE_CHECKING:
    from carepulse.metrics.context import Context

Unit = Literal["count", "share", "seconds", "EUR", "score", "points", "follower-hours", "month",
               "rho", "AUC", "seconds/week", "FTE"]
Kind = Literal["count", "sum", "ratio", "mean", "percentile", "survival", "derived", "statistic"]
SourceName = Literal["tweets", "threads", "replies", "cases", "texts", "costs", "statistics"]
CiMethod = Literal["wilson", "t", "km", "order", "normal"]

ALL: frozenset[str] = frozenset(BREAKDOWNS)
NO_BREAKDOWN: frozenset[str] = frozenset()
SQL_SOURCES: frozenset[str] = frozenset({"tweets", "threads", "replies", "cases"})
PY_SOURCES: frozenset[str] = frozenset({"texts", "costs", "statistics"})
SQL_KINDS: frozenset[str] = frozenset({"count", "sum", "ratio", "mean", "percentile", "survival"})

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(ConfigError):
    """The metric declarations contradict each other; the message lists every problem."""


@dataclass(frozen=True)
class Metric:
    """One metric. ``description`` says in words what is counted and how unanswered threads count."""

    name: str
    label: str
    description: str
    unit: Unit
    kind: Kind
    source: SourceName
    expr: str | None = None
    column: str | None = None
    where: str | None = None
    quantile: float | None = None
    numerator: str | None = None
    denominator: str | None = None
    event: str | None = None
    joins: tuple[str, ...] = ()
    breakdowns: frozenset[str] = ALL
    ci: CiMethod | None = None
    higher_is_better: bool | None = None
    default: bool = True
    needs_min_sample: bool = False

    def allows(self, by: str | None) -> bool:
        return by is None or by in self.breakdowns


THREAD_DIMS = ALL
COST_BREAKDOWNS: frozenset[str] = frozenset({"channel", "month", "account", "agent", "team", "category"})
PILOT_BREAKDOWNS: frozenset[str] = frozenset({"month", "account", "agent", "team", "category"})
COUNT_UNANSWERED = "Unanswered threads count in the denominator."

METRICS: tuple[Metric, ...] = (
    # ---- tweets -------------------------------------------------------------------------------
    Metric("tweets", "Tweets", "All tweets in the selection, customer and brand.", "count", "count",
           "tweets", expr="sum(@weight)"),
    Metric("customer_tweets", "Customer tweets", "Tweets whose author is not a brand account.", "count",
           "count", "tweets", expr="sum(@weight) FILTER (WHERE @customer)"),
    Metric("brand_tweets", "Brand tweets",
           "Tweets by brand accounts; by agent, the tweets signed by that agent.", "count", "count",
           "tweets", expr="sum(@weight) FILTER (WHERE @brand)"),
    # ---- threads ------------------------------------------------------------------------------
    Metric("threads", "Threads", "Threads (one customer's part of one conversation) started in the "
           "selection, answered or not.", "count", "count", "threads", expr="count(*)"),
    Metric("answered_threads", "Answered threads", "Threads with a first response by the as-of time.",
           "count", "count", "threads", expr="count(*) FILTER (WHERE @answered)", higher_is_better=True),
    Metric("unanswered_threads", "Unanswered threads", "Threads without a brand reply to the customer "
           "by the as-of time (still waiting).", "count", "count", "threads",
           expr="count(*) FILTER (WHERE @unanswered)", higher_is_better=False),
    Metric("response_rate", "Response rate",
           "Answered threads / threads. " + COUNT_UNANSWERED + " 95% Wilson interval.", "share",
           "ratio", "threads", numerator="answered_threads", denominator="threads", ci="wilson",
           higher_is_better=True),
    Metric("first_response_median_s", "First response, median",
           "Median first-response time of answered threads (mean of the two middle values). "
           "Unanswered threads are left out: see first_response_km_median_s. 95% order-statistic interval.",
           "seconds", "percentile", "threads", column="frs", quantile=0.5, ci="order", higher_is_better=False),
    Metric("first_response_p90_s", "First response, 90th percentile",
           "90th percentile (linear interpolation) of first-response time of answered threads. "
           "95% order-statistic interval.",
           "seconds", "percentile", "threads", column="frs", quantile=0.9, ci="order", higher_is_better=False),
    Metric("first_response_km_median_s", "First response, Kaplan-Meier median",
           "Time by which half of all threads are answered: Kaplan-Meier estimate with unanswered threads "
           "censored at their waiting time (as-of minus start). Null when more than half still wait.",
           "seconds", "survival", "threads", column="@response_or_wait_s", event="@answered",
           quantile=0.5, ci="km", higher_is_better=False),
    Metric("sla_met_share", "SLA met",
           "Threads answered within the SLA / threads decided: answered ones, plus unanswered ones "
           "already waiting longer than the SLA (they count as missed). Threads waiting less than the "
           "SLA are not yet decided and left out. 95% Wilson interval.", "share", "ratio", "threads",
           numerator="count(*) FILTER (WHERE @sla_met)", denominator="count(*) FILTER (WHERE @sla_decided)",
           ci="wilson", higher_is_better=True),
    Metric("first_response_bh_median_s", "First response in business hours, median",
           "Median first-response time counting only time inside business hours, answered threads. "
           "95% order-statistic interval.",
           "seconds", "percentile", "threads", column="frs_bh", quantile=0.5, joins=("bh",), ci="order",
           higher_is_better=False, default=False),
    Metric("first_response_bh_p90_s", "First response in business hours, 90th percentile",
           "90th percentile of business-hours first-response time, answered threads. 95% order-statistic "
           "interval.", "seconds", "percentile", "threads", column="frs_bh", quantile=0.9, joins=("bh",),
           ci="order", higher_is_better=False, default=False),
    Metric("sla_breached_threads", "SLA breached",
           "Threads that missed the SLA: answered later than the SLA, or still waiting longer than it. A count, "
           "so a team lead sees how many, not only which share.", "count", "count", "threads",
           expr="count(*) FILTER (WHERE @sla_breached)", higher_is_better=False, default=False),
    Metric("sla_breached_bh_threads", "SLA breached in business hours",
           "As sla_breached_threads, with response and waiting time counted in business hours.", "count",
           "count", "threads", expr="count(*) FILTER (WHERE @sla_decided_bh AND NOT @sla_met_bh)",
           higher_is_better=False, default=False),
    Metric("sla_met_bh_share", "SLA met in business hours",
           "As sla_met_share, with both the response time and the waiting time counted in business hours.",
           "share", "ratio", "threads",
           numerator="count(*) FILTER (WHERE @sla_met_bh)",
           denominator="count(*) FILTER (WHERE @sla_decided_bh)", higher_is_better=True,
           default=False),
    Metric("dm_handoff_rate", "Handed off to DM",
           "Answered threads where a brand reply to the customer asks to continue by direct message "
           "(German and English wording) / answered threads.", "share", "ratio", "threads",
           numerator="count(*) FILTER (WHERE @dm_handed_off)", denominator="answered_threads",
           default=False),
    Metric("crm_link_coverage", "Threads with a CRM case",
           "Threads linked to at least one CRM case (any link method) / threads. 95% Wilson interval.",
           "share", "ratio", "threads", numerator="count(*) FILTER (WHERE @linked)",
           denominator="threads", ci="wilson"),
    Metric("crm_link_conversation_share", "Threads linked by conversation id",
           "Threads whose (earliest) CRM case names the conversation or one of its tweets / threads.",
           "share", "ratio", "threads", joins=("tc",),
           numerator="count(*) FILTER (WHERE link_method = 'conversation')", denominator="threads"),
    Metric("crm_link_handle_window_share", "Threads linked by handle and time",
           "Threads whose (earliest) CRM case was linked by customer handle within the link window / "
           "threads.", "share", "ratio", "threads", joins=("tc",),
           numerator="count(*) FILTER (WHERE link_method = 'handle_window')", denominator="threads"),
    Metric("thanks_rate", "Customer thanks at the end",
           "Answered threads whose customer's last tweet comes after the first response and thanks "
           "(danke, thanks, thx, ...; not 'thanks for nothing', 'nein danke') / answered threads.", "share",
           "ratio", "threads", numerator="count(*) FILTER (WHERE @thanked)",
           denominator="answered_threads", higher_is_better=True, default=False),
    Metric("exposure_follower_hours", "Exposure of slow public threads",
           "Sum over waiting threads and threads answered later than the SLA of the customer's follower "
           "count x hours waited (to the first response, or to the as-of time). Null where the data has "
           "no follower counts.", "follower-hours", "sum", "threads",
           expr="sum(@exposure) FILTER (WHERE @exposed)", higher_is_better=False),
    # ---- reply times ---------------------------------------------------------------------------
    Metric("reply_time_median_s", "Reply time, median",
           "Median time from a customer tweet to the earliest brand tweet replying to it, over customer "
           "tweets that got such a reply. No interval: a secondary figure over every replied tweet (1.3 M at "
           "TWCS scale), where sorting each group's values for one cost 0.2 s of the headline.", "seconds",
           "percentile", "replies", column="reply_s", quantile=0.5, higher_is_better=False),
    # ---- CRM cases -----------------------------------------------------------------------------
    Metric("cases", "CRM cases", "CRM cases opened in the selection (outcome 'duplicate' left out).",
           "count", "count", "cases", expr="count(*)"),
    Metric("resolved_cases", "Resolved cases", "CRM cases with outcome 'resolved'.", "count", "count",
           "cases", expr="count(*) FILTER (WHERE @resolved)", higher_is_better=True),
    Metric("resolution_rate", "Resolution rate",
           "Resolved cases / cases with a final outcome (resolved, unresolved, escalated); open cases "
           "are left out. 95% Wilson interval.", "share", "ratio", "cases", numerator="resolved_cases",
           denominator="count(*) FILTER (WHERE @final)", ci="wilson", higher_is_better=True,
           needs_min_sample=True),
    Metric("fcr_rate", "First-contact resolution",
           "Cases resolved with no further contact by the same customer (any channel) within the "
           "recontact window / cases with a final outcome. 95% Wilson interval.", "share", "ratio", "cases",
           numerator="count(*) FILTER (WHERE @resolved_first_contact)",
           denominator="count(*) FILTER (WHERE @final)", ci="wilson", higher_is_better=True,
           needs_min_sample=True),
    Metric("recontact_7d_rate", "Recontact within 7 days",
           "Resolved cases whose customer is back on any channel (another CRM case or a new Twitter "
           "thread) within the recontact window (default 7 days) after closing / resolved cases.",
           "share", "ratio", "cases",
           numerator="count(*) FILTER (WHERE @resolved_recontacted)", denominator="resolved_cases",
           ci="wilson", higher_is_better=False, needs_min_sample=True),
    Metric("csat_mean", "CSAT, mean", "Mean satisfaction score (1-5) of cases with a score; 95% t interval.",
           "score", "mean", "cases", column="csat", ci="t", higher_is_better=True, needs_min_sample=True),
    Metric("csat_top2_share", "CSAT 4-5", "Cases scoring 4 or 5 / cases with a score; 95% Wilson interval.",
           "share", "ratio", "cases", numerator="count(*) FILTER (WHERE @csat_top2)",
           denominator="count(csat)", ci="wilson", higher_is_better=True, needs_min_sample=True),
    Metric("nps", "Net promoter score",
           "Share of promoters (9-10) minus share of detractors (0-6), x 100, over cases with a score; "
           "95% t interval of the mean of +100/0/-100 scores.", "points", "mean", "cases",
           column="@nps_points", where="nps IS NOT NULL",
           ci="t", higher_is_better=True, needs_min_sample=True),
    # ---- cost model and pilot economics (docs/economics.md) ----------------------------------------
    Metric("cost_per_case", "Cost per case",
           "(handled minutes x the channel's hourly cost + the channel's fixed costs over the months it has "
           "data) / cases costed. Twitter cases: answered threads (and threads with a Twitter CRM case), "
           "costed at their CRM minutes, else brand tweets x minutes per brand tweet plus minutes per DM "
           "hand-off. A slice carries fixed costs by its share of the channel's handled minutes. 95% interval "
           "from the spread of handled minutes between cases (normal approximation).",
           "EUR", "derived", "costs", breakdowns=COST_BREAKDOWNS, ci="normal",
           higher_is_better=False),
    Metric("cost_per_resolved_case", "Cost per resolved case",
           "Channel cost / (cases costed x the channel's resolution rate among CRM cases with a final outcome).",
           "EUR", "derived", "costs", breakdowns=COST_BREAKDOWNS, higher_is_better=False),
    Metric("costed_cases", "Cases costed",
           "The denominator of cost per case: CRM cases of the channel; for Twitter, Twitter cases.", "count",
           "derived", "costs", breakdowns=COST_BREAKDOWNS),
    Metric("twitter_cases", "Twitter cases",
           "Threads answered or with a Twitter CRM case, plus Twitter CRM cases linked to no thread: the one "
           "count every Twitter cost and benefit figure uses.", "count", "derived", "costs",
           breakdowns=COST_BREAKDOWNS),
    Metric("hotline_variable_cost_per_case", "Hotline variable cost per case",
           "The hotline's handled minutes x its hourly cost / its cases, over the pilot months: what a "
           "deflected case saves. Fixed hotline costs are not in it.", "EUR", "derived", "costs",
           breakdowns=PILOT_BREAKDOWNS),
    Metric("pilot_net_benefit_eur", "Twitter pilot net benefit",
           "Sum over the pilot months of Twitter cases x deflection share x the hotline's variable cost per "
           "case (+ hotline fixed costs actually cut, default none) minus Twitter's cost. Set-up cost not in it.",
           "EUR", "derived", "costs", breakdowns=PILOT_BREAKDOWNS, higher_is_better=True),
    Metric("deflection_breakeven_share", "Break-even deflection share",
           "The deflection share at which the pilot's net benefit is zero; above 100% it cannot break even.",
           "share", "derived", "costs", breakdowns=NO_BREAKDOWN, higher_is_better=False),
    Metric("pilot_payback_month", "Payback month",
           "First month whose cumulative net benefit since the pilot start, set-up cost included, is at least "
           "zero; null while it is not.", "month", "derived", "costs",
           breakdowns=NO_BREAKDOWN),
    Metric("pilot_payback_projected_month", "Projected payback month",
           "The payback month if reached, else the median over 1,000 simulated paths of the weekly volume "
           "forecast at today's margin per case; interval: the paths' 2.5% and 97.5% quantiles (open when "
           "later than the projection horizon).", "month", "statistic", "costs",
           breakdowns=NO_BREAKDOWN),
    Metric("hotline_itsa_volume_change", "Hotline volume since the Twitter launch",
           "Interrupted time series: weekly hotline cases after the launch against the pre-launch trend "
           "continued (segmented quasi-Poisson regression), relative change with 95% CI; observational.",
           "share", "statistic", "costs", breakdowns=NO_BREAKDOWN, default=False),
    Metric("staffing_fte_x1", "Agents needed, today's volume",
           "Full-time agents to answer the staffing target share within the SLA in every hour of the week "
           "(Erlang C per hour, occupancy cap, shrinkage), at the mean arrivals of the last complete weeks.",
           "FTE", "statistic", "costs", breakdowns=NO_BREAKDOWN, default=False),
    Metric("staffing_fte_x1_5", "Agents needed, volume x1.5", "As staffing_fte_x1 at 1.5 times the arrivals.",
           "FTE", "statistic", "costs", breakdowns=NO_BREAKDOWN, default=False),
    Metric("staffing_fte_x2", "Agents needed, volume x2", "As staffing_fte_x1 at twice the arrivals.",
           "FTE", "statistic", "costs", breakdowns=NO_BREAKDOWN, default=False),
    # ---- text proxies --------------------------------------------------------------------------
    Metric("sentiment_first_mean", "Sentiment of first customer tweet",
           "Mean sentiment (-1..1; VADER for English, the carepulse lexicon for German) of each "
           "thread's first customer tweet.", "score", "derived", "texts",
           higher_is_better=True, default=False),
    Metric("sentiment_last_mean", "Sentiment of last customer tweet",
           "Mean sentiment of each thread's last customer tweet.", "score", "derived", "texts",
           higher_is_better=True, default=False),
    Metric("sentiment_shift_mean", "Sentiment shift",
           "Mean of (last - first) customer-tweet sentiment over threads with at least two customer tweets.",
           "score", "derived", "texts",
           higher_is_better=True, default=False),
    Metric("negative_waiting", "Negative and waiting",
           "Unanswered threads whose last customer tweet is negative (sentiment <= -0.05).", "count",
           "derived", "texts", higher_is_better=False, default=False),
    Metric("thanks_csat_auc", "Thanks as CSAT proxy (AUC)",
           "How well 'the customer thanked at the end' separates CSAT 4-5 from 1-3, over threads with a "
           "linked CSAT: AUC (0.5 = no better than chance).", "AUC", "statistic", "texts",
           breakdowns=NO_BREAKDOWN, default=False, needs_min_sample=True),
    Metric("sentiment_csat_spearman", "Sentiment as CSAT proxy (Spearman)",
           "Spearman rank correlation of the last customer tweet's sentiment with the linked CSAT.",
           "rho", "statistic", "texts", breakdowns=NO_BREAKDOWN, default=False,
           needs_min_sample=True),
    # ---- statistics ----------------------------------------------------------------------------
    Metric("csat_diff_twitter_hotline", "CSAT: Twitter minus hotline",
           "Mean CSAT of Twitter cases minus mean CSAT of hotline cases; 95% Welch CI and p, with a "
           "Brunner-Munzel p for the ordinal scores.", "points", "statistic", "statistics",
           breakdowns=NO_BREAKDOWN, default=False, needs_min_sample=True),
    Metric("resolution_diff_twitter_hotline", "Resolution rate: Twitter minus hotline",
           "Resolution rate of Twitter cases minus that of hotline cases; 95% Newcombe interval.", "share",
           "statistic", "statistics", breakdowns=NO_BREAKDOWN, default=False,
           needs_min_sample=True),
    Metric("first_response_trend_s_per_week", "First-response trend",
           "OLS slope of the weekly median first-response time (seconds per week), 95% CI.",
           "seconds/week", "statistic", "statistics", breakdowns=NO_BREAKDOWN,
           higher_is_better=False, default=False, needs_min_sample=True),
    Metric("threads_forecast_4w", "Threads in the next 4 weeks",
           "ETS forecast (additive error and trend) of weekly new threads, summed over the next 4 weeks; "
           "95% prediction interval by simulation.", "count", "statistic", "statistics",
           breakdowns=NO_BREAKDOWN, default=False, needs_min_sample=True),
)


# Text proxies of satisfaction and the statistic that checks each against the linked CSAT: wherever a proxy
# is offered, its check is shown beside it (issue 12), since a "weak" proxy must not read as satisfaction.
PROXY_CHECKS: dict[str, str] = {
    "sentiment_first_mean": "sentiment_csat_spearman",
    "sentiment_last_mean": "sentiment_csat_spearman",
    "sentiment_shift_mean": "sentiment_csat_spearman",
    "negative_waiting": "sentiment_csat_spearman",
    "thanks_rate": "thanks_csat_auc",
}


def validate(metrics: Iterable[Metric], joins_of: dict[str, frozenset[str]]) -> list[str]:
    """Every problem of the declarations at once (empty when they are consistent)."""
    problems: list[str] = []
    by_name: dict[str, Metric] = {}
    for m in metrics:
        where = f"metric {m.name!r}"
        if m.name in by_name:
            problems.append(f"{where}: declared twice")
        by_name[m.name] = m
        if not _NAME.match(m.name):
            problems.append(f"{where}: name must be snake_case")
        if not m.description.strip() or not m.label.strip():
            problems.append(f"{where}: needs a label and a description")
        if m.unit not in get_args(Unit):
            problems.append(f"{where}: unknown unit {m.unit!r}")
        if m.kind not in get_args(Kind):
            problems.append(f"{where}: unknown kind {m.kind!r}")
        if m.source not in get_args(SourceName):
            problems.append(f"{where}: unknown source {m.source!r}")
        if not m.breakdowns <= ALL:
            problems.append(f"{where}: unknown breakdowns {sorted(m.breakdowns - ALL)}")
        unknown_joins = set(m.joins) - joins_of.get(m.source, frozenset())
        if unknown_joins:
            problems.append(f"{where}: source {m.source} has no join(s) {sorted(unknown_joins)}")
        if m.kind in SQL_KINDS and m.source not in SQL_SOURCES:
            problems.append(f"{where}: kind {m.kind} needs an SQL source")
        if m.kind not in SQL_KINDS and m.source not in PY_SOURCES:
            problems.append(f"{where}: kind {m.kind} needs a Python source (and a function marked @computes)")
        required = {
            "count": ("expr",), "sum": ("expr",), "ratio": ("numerator", "denominator"),
            "mean": ("column",), "percentile": ("column", "quantile"),
            "survival": ("column", "event", "quantile"),
        }.get(m.kind, ())
        for attr in required:
            if getattr(m, attr) is None:
                problems.append(f"{where}: kind {m.kind} needs {attr}")
        if m.quantile is not None and not 0 < m.quantile < 1:
            problems.append(f"{where}: quantile must be between 0 and 1")
        if m.ci == "wilson" and m.kind != "ratio":
            problems.append(f"{where}: a Wilson interval needs a ratio")
        if m.ci == "t" and m.kind != "mean":
            problems.append(f"{where}: a t interval needs a mean")
        if m.ci == "km" and m.kind != "survival":
            problems.append(f"{where}: a Kaplan-Meier interval needs a survival metric")
        if m.ci == "order" and m.kind != "percentile":
            problems.append(f"{where}: an order-statistic interval needs a percentile")
        if m.ci == "normal" and m.kind != "derived":
            problems.append(f"{where}: a normal-approximation interval is computed by a derived metric's function")
        if m.kind == "statistic" and m.breakdowns:
            problems.append(f"{where}: statistics are for the whole selection (no breakdowns)")
    for m in by_name.values():
        for part in (m.numerator, m.denominator):
            ref = by_name.get(part or "")
            if ref is not None and (ref.source != m.source or ref.kind != "count"):
                problems.append(f"metric {m.name!r}: {part} must be a count metric of source {m.source}")
    return problems


def _joins_of_sources() -> dict[str, frozenset[str]]:
    from carepulse.metrics.sources import SOURCES

    return {name: frozenset(source.joins) for name, source in SOURCES.items()}


SQL_FIELDS = ("expr", "column", "where", "numerator", "denominator", "event")


def measures_used(m: Metric) -> list[str]:
    """The source measures (``@name``) the metric's expressions name, in order of first use."""
    from carepulse.metrics.sources import measure_names

    return list(dict.fromkeys(n for f in SQL_FIELDS for n in measure_names(getattr(m, f))))


def _measure_problems(metrics: Iterable[Metric]) -> list[str]:
    from carepulse.metrics.sources import SOURCES

    return [f"metric {m.name!r}: source {m.source} has no measure {n!r}" for m in metrics
            for n in measures_used(m) if m.source not in SOURCES or n not in SOURCES[m.source].measures]


def _with_measure_joins(m: Metric) -> Metric:
    """The metric with the joins its measures need added to the ones it declares."""
    from carepulse.metrics.sources import measure_joins

    if m.source not in SQL_SOURCES:
        return m
    joins = tuple(dict.fromkeys((*m.joins, *measure_joins(m.source, *(getattr(m, f) for f in SQL_FIELDS)))))
    return m if joins == m.joins else replace(m, joins=joins)


def _check(metrics: tuple[Metric, ...]) -> dict[str, Metric]:
    problems = _measure_problems(metrics)
    metrics = tuple(_with_measure_joins(m) for m in metrics) if not problems else metrics
    problems += validate(metrics, _joins_of_sources())
    if problems:
        raise RegistryError("metric registry is inconsistent:\n  " + "\n  ".join(problems))
    return {m.name: m for m in metrics}


REGISTRY: dict[str, Metric] = _check(METRICS)


def list_metrics() -> list[Metric]:
    """All metrics in declaration order (the order reports use)."""
    return list(REGISTRY.values())


def default_metrics() -> list[str]:
    """The metrics a plain ``carepulse metrics`` reports: SQL-fast ones, no text scoring or models."""
    return [m.name for m in REGISTRY.values() if m.default]


def get(name: str) -> Metric:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown metric {name!r} (see 'carepulse metrics --list')") from None


def resolve(names: Iterable[str]) -> list[Metric]:
    """Metrics by name, reporting every unknown name at once."""
    names = list(names)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ConfigError(f"unknown metric(s): {', '.join(unknown)} (see 'carepulse metrics --list')")
    return [REGISTRY[n] for n in dict.fromkeys(names)]


# ---- Python computations -----------------------------------------------------------------------

Compute = Callable[["Context", list[Metric]], dict[str, Any]]


@dataclass(frozen=True)
class Computation:
    """A Python function computing registered metrics: the names it produces (in one call, so the
    engine asks it once per request), ``family`` (the statistics judged together, see
    :mod:`carepulse.metrics.comparisons`) and ``extra`` (more words for ``--explain``)."""

    function: Compute
    produces: tuple[str, ...]
    family: frozenset[str] = frozenset()
    extra: Callable[[], str] | None = None

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"

    def explain(self) -> str:
        """The module's own account of its definitions, which ``--explain`` prints."""
        module = sys.modules[self.function.__module__]
        return (module.__doc__ or "") + (self.extra() if self.extra else "")


_COMPUTED_BY: dict[str, Computation] = {}  # filled by @computes only, when the computing modules are imported


def computes(*names: str, family: Iterable[str] = (), extra: Callable[[], str] | None = None
             ) -> Callable[[Compute], Compute]:
    """Mark ``compute(ctx, metrics) -> {name: MetricValues}`` as the one home of the Python metrics ``names``.

    A name that is not a registered Python metric (kind ``derived`` or ``statistic``), or that another
    function already computes, is a :class:`RegistryError` at import; :func:`check_computations` reports
    the registered ones nothing computes.
    """
    def register(function: Compute) -> Compute:
        computation = Computation(function, tuple(names), frozenset(family), extra)
        problems = [f"{n!r} is not a registered Python metric" for n in names
                    if n not in REGISTRY or REGISTRY[n].kind in SQL_KINDS]
        problems += [f"{n!r} is already computed by {_COMPUTED_BY[n].name}" for n in names
                     if n in _COMPUTED_BY and _COMPUTED_BY[n].function is not function]
        problems += [f"family member {n!r} is not produced here" for n in computation.family - set(names)]
        if problems:
            raise RegistryError(f"@computes on {computation.name}: " + "; ".join(problems))
        for n in names:
            _COMPUTED_BY[n] = computation
        return function

    return register


def computation(name: str) -> Computation:
    """The function computing the Python metric ``name`` (its module must have been imported)."""
    try:
        return _COMPUTED_BY[name]
    except KeyError:
        raise RegistryError(f"metric {name!r}: no function is marked @computes({name!r})") from None


def check_computations() -> None:
    """Every Python metric has exactly one computing function (the engine checks this once it has
    imported the computing modules)."""
    missing = [m.name for m in REGISTRY.values() if m.kind not in SQL_KINDS and m.name not in _COMPUTED_BY]
    if missing:
        raise RegistryError("metric registry is inconsistent: no function marked @computes for "
                            + ", ".join(missing))
