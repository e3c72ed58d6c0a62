"""The relations metrics aggregate over, with their dimensions and optional joins.

A source is one row per counted thing (a tweet, a thread, a replied customer tweet, a CRM case)
with a few derived columns the metric expressions use. Joins are added only when a requested
metric, breakdown or filter needs them, so ``--by account`` over the ``threads`` table never
touches the 3 M ``tweets``.

Column contracts (what metric expressions may name):

* ``tweets``: ``is_brand``, ``w`` (how many tweets the row stands for: 1, or a thread's
  customer tweets in the equivalent relation ``TWEETS_BY_THREAD``).
* ``threads``: the ``threads`` table's columns, plus ``answered`` (first response at or before
  as-of), ``frs`` (first-response seconds, NULL when unanswered), ``waiting_s`` (as-of minus
  start, NULL when answered); join ``tc``: ``linked``, ``link_method``, ``case_csat``;
  ``bh``: ``frs_bh``, ``waiting_bh`` (business seconds); ``dm``: ``dm_handoff``;
  ``last``: ``last_text``, ``last_lang``, ``last_at``; ``ft``: ``first_text``, ``first_lang``;
  ``twc``: ``twitter_case`` (a CRM case of channel twitter is linked to the thread).
* ``replies``: one row per customer tweet with a brand reply: ``reply_s`` (to the earliest).
* ``cases``: ``crm_cases`` columns, plus ``final``, ``resolved``; join ``rc``: ``recontacted``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from carepulse.core.config import WEEKDAYS
from carepulse.core.errors import ConfigError
from carepulse.metrics.context import Context, zone
from carepulse.metrics.sentiment import DM_HANDOFF_RE, thanks_sql
from carepulse.metrics.sqltree import SIGNATURE_PATTERNS, statement

TOTAL = "__total__"
NO_VALUE = {"account": "(unassigned)"}  # missing dimension values; the rest become "(none)"


@dataclass(frozen=True)
class Join:
    """A FROM-clause fragment, the columns it adds, the CTEs and other joins it needs."""

    sql: str
    columns: str = ""
    ctes: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measure:
    """A named row-level expression over a source's columns: a test (``sla_met``) or a value (``exposure``).

    Declared once here; metric expressions name it as ``@name`` and the drill-down views select it by
    name (:func:`expand`), so "SLA met" means the same in the headline and in the list of threads behind
    it. ``joins`` are the source joins its columns come from (added wherever it is used).
    """

    sql: str
    description: str
    joins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    name: str
    from_: str
    columns: str
    where: str
    time_column: str
    dims: Mapping[str, tuple[str, tuple[str, ...]]]
    joins: Mapping[str, Join] = field(default_factory=dict)
    measures: Mapping[str, Measure] = field(default_factory=dict)


def _time_dims(column: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Local-time buckets; they become text only after grouping (see ``KEY_FORMATS``)."""
    local = f"timezone($tz, {column})"
    return {
        "day": (f"date_trunc('day', {local})", ()),
        "week": (f"date_trunc('week', {local})", ()),
        "month": (f"date_trunc('month', {local})", ()),
        "hour": (f"hour({local})", ()),
        "weekday": (f"isodow({local})", ()),
    }


# How a grouped key becomes the group's name: formatting once per group, not once per row.
KEY_FORMATS: dict[str, str] = {
    "day": "strftime({g}, '%Y-%m-%d')",
    "week": "strftime({g}, '%Y-%m-%d')",
    "month": "strftime({g}, '%Y-%m')",
    "hour": "lpad(CAST({g} AS VARCHAR), 2, '0')",
    "weekday": "['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][{g}]",
}


_FIRST_REPLY = """first_reply AS (
    SELECT p.tweet_id, p.created_at, p.first_reply_at AS reply_at, p.conversation_id, p.author_id{reply}
    FROM tweets p
    WHERE NOT p.is_brand AND p.first_reply_at <= $as_of AND p.created_at <= $as_of)"""
# The reply itself (who replied, which tweet), only when a breakdown or filter by account or agent
# needs it: the loader stores each customer tweet's first brand reply beside ``first_reply_at``
# (the earliest by time, then tweet id), so it is a scan, not a join.
FIRST_REPLY_BY = _FIRST_REPLY.format(
    reply=",\n           {'replier': p.first_reply_by, 'tweet_id': p.first_reply_id} AS reply")

_LAST_CUSTOMER = """last_customer AS (
    SELECT conversation_id, author_id AS customer_id, max(created_at) AS last_at,
           arg_max_null(text, (created_at, tweet_id)) AS last_text,
           arg_max_null(lang, (created_at, tweet_id)) AS last_lang
    FROM tweets WHERE {scope}NOT is_brand AND created_at <= $as_of
    GROUP BY conversation_id, author_id)"""
# The same, for the conversations of the threads a statement picked (CTE ``picked``) only: the Team queue's
# last customer tweets for the 50 threads shown, not for every conversation of the warehouse.
LAST_CUSTOMER_OF_PICKED = _LAST_CUSTOMER.format(scope="conversation_id IN (SELECT conversation_id FROM picked) AND ")

CTES: dict[str, str] = {
    "thread_case": """thread_case AS (
    SELECT linked_thread_id AS thread_id,
           arg_min_null(agent, (opened_at, case_id)) AS agent,
           arg_min_null(team, (opened_at, case_id)) AS team,
           arg_min_null(category, (opened_at, case_id)) AS category,
           arg_min_null(link_method, (opened_at, case_id)) AS link_method,
           arg_min_null(csat, (opened_at, case_id)) AS csat
    FROM crm_cases
    WHERE linked_thread_id IS NOT NULL AND opened_at <= $as_of AND outcome IS DISTINCT FROM 'duplicate'
    GROUP BY linked_thread_id)""",
    "twitter_case": """twitter_case AS (
    SELECT DISTINCT linked_thread_id AS thread_id FROM crm_cases
    WHERE channel = 'twitter' AND linked_thread_id IS NOT NULL AND opened_at <= $as_of
      AND outcome IS DISTINCT FROM 'duplicate')""",
    "dm_threads": """dm_threads AS (
    SELECT DISTINCT p.conversation_id, p.author_id AS customer_id
    FROM (SELECT parent_id FROM tweets
          WHERE is_brand AND created_at <= $as_of AND regexp_matches(text, $dm_re)) r
    JOIN tweets p ON p.tweet_id = r.parent_id
    WHERE NOT p.is_brand)""",
    "last_customer": _LAST_CUSTOMER.format(scope=""),
    "first_reply": _FIRST_REPLY.format(reply=""),
    "recontacted": """contacts AS (
    SELECT case_id AS contact_id, customer_ref AS cref, lower(ltrim(twitter_handle, '@')) AS handle,
           opened_at AS at, linked_thread_id AS thread_id
    FROM crm_cases WHERE opened_at <= $as_of AND outcome IS DISTINCT FROM 'duplicate'
    UNION ALL
    SELECT thread_id, NULL, lower(customer_handle), started_at, thread_id
    FROM threads WHERE started_at <= $as_of),
resolved_once AS (
    SELECT case_id, customer_ref AS cref, lower(ltrim(twitter_handle, '@')) AS handle,
           coalesce(closed_at, opened_at) AS t0, linked_thread_id AS thread_id
    FROM crm_cases WHERE outcome = 'resolved' AND opened_at <= $as_of),
recontacted AS (
    SELECT r.case_id FROM resolved_once r JOIN contacts k ON k.cref = r.cref
    WHERE k.at > r.t0 AND epoch(k.at) - epoch(r.t0) <= $recontact_s
      AND k.contact_id <> r.case_id AND (r.thread_id IS NULL OR k.thread_id IS DISTINCT FROM r.thread_id)
    UNION
    SELECT r.case_id FROM resolved_once r JOIN contacts k ON k.handle = r.handle
    WHERE k.at > r.t0 AND epoch(k.at) - epoch(r.t0) <= $recontact_s
      AND k.contact_id <> r.case_id AND (r.thread_id IS NULL OR k.thread_id IS DISTINCT FROM r.thread_id))""",
    "business_hours": """bh_hours(isodow, opens, closes) AS (
    SELECT unnest(CAST($bh_isodow AS INTEGER[])), unnest(CAST($bh_opens AS TIME[])),
           unnest(CAST($bh_closes AS TIME[]))),
bh_holidays(day) AS (SELECT unnest(CAST($bh_holidays AS DATE[]))),
bh_days AS (
    SELECT CAST(s.generate_series AS DATE) AS day
    FROM generate_series($bh_first_day, $bh_last_day, INTERVAL 1 DAY) s
    WHERE CAST(s.generate_series AS DATE) NOT IN (SELECT day FROM bh_holidays WHERE day IS NOT NULL)),
bh_cum AS (
    SELECT istart, epoch(istart) AS s0, epoch(iend) AS s1,
           coalesce(sum(epoch(iend) - epoch(istart)) OVER (
               ORDER BY istart ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM (SELECT timezone($bh_tz, d.day + h.opens) AS istart, timezone($bh_tz, d.day + h.closes) AS iend
          FROM bh_days d JOIN bh_hours h ON isodow(d.day) = h.isodow))""",
}

# Business seconds from the calendar's start to the as-of time.
_BH_AS_OF = "(SELECT coalesce(max(before + least(epoch($as_of), s1) - s0), 0) FROM bh_cum WHERE istart <= $as_of)"
# Business seconds from the calendar's start to a moment, via the last interval starting before it.
_B = "coalesce({c}.before + least(epoch({t}), {c}.s1) - {c}.s0, 0)"

THREADS = Source(
    name="threads",
    from_="threads th",
    columns="""th.thread_id, th.conversation_id, th.customer_id, th.customer_handle, th.account,
        th.started_at, th.first_response_at, th.first_response_tweet_id, th.first_customer_tweet_id,
        th.customer_tweets, th.brand_replies, th.customer_followers, th.lang, th.last_customer_tweet_at,
        (th.first_response_at IS NOT NULL AND th.first_response_at <= $as_of) AS answered,
        CASE WHEN answered THEN th.first_response_seconds END AS frs,
        CASE WHEN NOT answered THEN epoch($as_of) - epoch(th.started_at) END AS waiting_s""",
    where="th.started_at <= $as_of",
    time_column="th.started_at",
    dims={
        "account": ("th.account", ()),
        "agent": ("coalesce(tc.agent, carepulse_signature(fr.text))", ("tc", "fr")),
        "team": ("tc.team", ("tc",)),
        "category": ("tc.category", ("tc",)),
        "channel": ("'twitter'", ()),
        **_time_dims("th.started_at"),
    },
    joins={
        "tc": Join("LEFT JOIN thread_case tc ON tc.thread_id = th.thread_id",
                   "tc.thread_id IS NOT NULL AS linked, tc.link_method, tc.csat AS case_csat",
                   ctes=("thread_case",)),
        "fr": Join("LEFT JOIN tweets fr ON fr.tweet_id = th.first_response_tweet_id"),
        "ft": Join("LEFT JOIN tweets ft ON ft.tweet_id = th.first_customer_tweet_id",
                   "ft.text AS first_text, ft.lang AS first_lang"),
        "bh": Join(
            "ASOF LEFT JOIN bh_cum b0 ON th.started_at >= b0.istart "
            "ASOF LEFT JOIN bh_cum b1 ON th.first_response_at >= b1.istart",
            f"""CASE WHEN answered THEN {_B.format(c="b1", t="th.first_response_at")}
                                  - {_B.format(c="b0", t="th.started_at")} END AS frs_bh,
        CASE WHEN NOT answered THEN {_BH_AS_OF} - {_B.format(c="b0", t="th.started_at")} END AS waiting_bh""",
            ctes=("business_hours",)),
        "dm": Join("LEFT JOIN dm_threads dm ON dm.conversation_id = th.conversation_id "
                   "AND dm.customer_id = th.customer_id",
                   "dm.conversation_id IS NOT NULL AS dm_handoff", ctes=("dm_threads",)),
        "twc": Join("LEFT JOIN twitter_case twc ON twc.thread_id = th.thread_id",
                    "twc.thread_id IS NOT NULL AS twitter_case", ctes=("twitter_case",)),
        "last": Join("LEFT JOIN last_customer lc ON lc.conversation_id = th.conversation_id "
                     "AND lc.customer_id = th.customer_id",
                     "lc.last_text, lc.last_lang, lc.last_at", ctes=("last_customer",)),
    },
    measures={
        "answered": Measure("answered", "a brand reply to the customer (the first response) by the as-of time"),
        "unanswered": Measure("NOT answered", "no first response by the as-of time: still waiting"),
        "response_or_wait_s": Measure(
            "coalesce(frs, waiting_s)", "seconds to the first response, or waited so far when unanswered "
                                        "(the Kaplan-Meier time; unanswered threads are censored there)"),
        "sla_met": Measure("answered AND frs <= $sla_s", "answered within the SLA"),
        "sla_breached": Measure("(answered AND frs > $sla_s) OR waiting_s > $sla_s",
                                "answered later than the SLA, or unanswered and waiting longer than it"),
        "sla_decided": Measure("answered OR waiting_s > $sla_s",
                               "SLA met or breached: answered, or waiting longer than the SLA"),
        "sla_undecided": Measure("NOT answered AND waiting_s <= $sla_s",
                                 "unanswered and still inside the SLA: neither met nor breached yet"),
        "sla_met_bh": Measure("answered AND frs_bh <= $sla_s", "answered within the SLA in business hours",
                              ("bh",)),
        "sla_decided_bh": Measure("answered OR waiting_bh > $sla_s",
                                  "answered, or waiting longer than the SLA in business hours", ("bh",)),
        "exposed": Measure("NOT answered OR frs > $sla_s",
                           "a slow public thread: waiting, or answered later than the SLA"),
        "exposure": Measure("customer_followers * coalesce(frs, waiting_s) / 3600.0",
                            "follower-hours: the customer's followers x hours waited (to the first response, "
                            "or to the as-of time)"),
        "thanked": Measure(f"answered AND last_at > first_response_at AND {thanks_sql('last_text')}",
                           "answered, and the customer's last tweet comes after the first response and thanks "
                           "(sentiment.thanks_sql)", ("last",)),
        "dm_handed_off": Measure("answered AND dm_handoff",
                                 "answered, and a brand reply asks the customer to continue by DM", ("dm",)),
        "linked": Measure("linked", "linked to at least one CRM case", ("tc",)),
        "costed": Measure("answered OR twitter_case",
                          "a Twitter case: answered by the as-of time, or with a Twitter CRM case", ("twc",)),
        "costed_by_tweets": Measure("answered AND NOT twitter_case",
                                    "a Twitter case without a Twitter CRM case: its work is estimated from its "
                                    "brand replies", ("twc",)),
    },
)

TWEET_MEASURES: dict[str, Measure] = {
    "weight": Measure("w", "how many tweets the row stands for (1; a thread's customer tweets in TWEETS_BY_THREAD)"),
    "brand": Measure("is_brand", "written by a brand account"),
    "customer": Measure("NOT is_brand", "written by a customer"),
}

TWEETS = Source(
    name="tweets",
    from_="tweets t",
    columns="t.tweet_id, t.is_brand, t.text, t.created_at, 1 AS w",
    where="t.created_at <= $as_of",
    time_column="t.created_at",
    dims={
        "account": ("CASE WHEN t.is_brand THEN t.author_handle ELSE th.account END", ("th",)),
        "agent": ("CASE WHEN t.is_brand THEN carepulse_signature(t.text) END", ()),
        "team": ("tc.team", ("th", "tc")),
        "category": ("tc.category", ("th", "tc")),
        "channel": ("'twitter'", ()),
        **_time_dims("t.created_at"),
    },
    joins={
        "th": Join("LEFT JOIN threads th ON NOT t.is_brand AND th.conversation_id = t.conversation_id "
                   "AND th.customer_id = t.author_id"),
        "tc": Join("LEFT JOIN thread_case tc ON tc.thread_id = th.thread_id", ctes=("thread_case",),
                   requires=("th",)),
    },
    measures=TWEET_MEASURES,
)

# The same counts without joining every customer tweet to its thread: brand tweets one by one,
# customer tweets as one row per thread weighted by its ``customer_tweets``. Every customer tweet
# belongs to exactly one thread, so this equals TWEETS whenever nothing cuts through a thread:
# no date filter, and as-of at or after the latest tweet (the engine checks both).
TWEETS_BY_THREAD = Source(
    name="tweets",
    from_="""(SELECT t.is_brand, 1 AS w, t.author_handle AS brand_handle, t.text, NULL AS thread_id,
                 NULL AS account
          FROM tweets t WHERE t.is_brand
          UNION ALL
          SELECT false, th.customer_tweets, NULL, NULL, th.thread_id, th.account FROM threads th) t""",
    columns="t.is_brand, t.w",
    where="true",
    time_column="NULL",
    dims={
        "account": ("CASE WHEN t.is_brand THEN t.brand_handle ELSE t.account END", ()),
        "agent": ("CASE WHEN t.is_brand THEN carepulse_signature(t.text) END", ()),
        "team": ("tc.team", ("tc",)),
        "category": ("tc.category", ("tc",)),
        "channel": ("'twitter'", ()),
    },
    joins={
        "tc": Join("LEFT JOIN thread_case tc ON tc.thread_id = t.thread_id", ctes=("thread_case",)),
    },
    measures=TWEET_MEASURES,
)

REPLIES = Source(
    name="replies",
    from_="first_reply c",
    columns="c.tweet_id, c.created_at, c.reply_at, epoch(c.reply_at) - epoch(c.created_at) AS reply_s",
    where="true",
    time_column="c.created_at",
    dims={
        "account": ("c.reply.replier", ()),
        "agent": ("carepulse_signature(rt.text)", ("rt",)),
        "team": ("tc.team", ("th", "tc")),
        "category": ("tc.category", ("th", "tc")),
        "channel": ("'twitter'", ()),
        **_time_dims("c.created_at"),
    },
    joins={
        "rt": Join("LEFT JOIN tweets rt ON rt.tweet_id = c.reply.tweet_id"),
        "th": Join("LEFT JOIN threads th ON th.conversation_id = c.conversation_id "
                   "AND th.customer_id = c.author_id"),
        "tc": Join("LEFT JOIN thread_case tc ON tc.thread_id = th.thread_id", ctes=("thread_case",),
                   requires=("th",)),
    },
)
REPLIES_CTES = ("first_reply",)

CASES = Source(
    name="cases",
    from_="crm_cases c",
    columns="""c.case_id, c.channel, c.opened_at, c.closed_at, c.outcome, c.csat, c.nps, c.handled_minutes,
        c.linked_thread_id, c.customer_ref, c.twitter_handle,
        c.outcome IN ('resolved', 'unresolved', 'escalated') AS final,
        c.outcome IS NOT DISTINCT FROM 'resolved' AS resolved""",
    where="c.opened_at <= $as_of AND c.outcome IS DISTINCT FROM 'duplicate'",
    time_column="c.opened_at",
    dims={
        "account": ("th.account", ("th",)),
        "agent": ("c.agent", ()),
        "team": ("c.team", ()),
        "category": ("c.category", ()),
        "channel": ("c.channel", ()),
        **_time_dims("c.opened_at"),
    },
    joins={
        "th": Join("LEFT JOIN threads th ON th.thread_id = c.linked_thread_id"),
        "rc": Join("LEFT JOIN (SELECT DISTINCT case_id FROM recontacted) rc ON rc.case_id = c.case_id",
                   "rc.case_id IS NOT NULL AS recontacted", ctes=("recontacted",)),
    },
    measures={
        "final": Measure("final", "a final outcome: resolved, unresolved or escalated (open cases have none)"),
        "resolved": Measure("resolved", "outcome 'resolved'"),
        "resolved_first_contact": Measure("resolved AND NOT recontacted",
                                          "resolved, and the customer is not back on any channel within the "
                                          "recontact window", ("rc",)),
        "resolved_recontacted": Measure("resolved AND recontacted",
                                        "resolved, and the customer is back on any channel within the "
                                        "recontact window", ("rc",)),
        "csat_top2": Measure("csat >= 4", "a CSAT score of 4 or 5"),
        "nps_points": Measure("CASE WHEN nps >= 9 THEN 100 WHEN nps <= 6 THEN -100 ELSE 0 END",
                              "+100 for a promoter (9-10), -100 for a detractor (0-6), 0 else; NULL without a score"),
    },
)

SOURCES: dict[str, Source] = {s.name: s for s in (TWEETS, THREADS, REPLIES, CASES)}

FIRST_RESPONSE_AGENTS = "carepulse_first_response_agents"
"""(tweet_id, agent): each first response that signs with an agent, as ``carepulse_signature`` reads it; a
table :mod:`carepulse.metrics.signoffs` keeps per snapshot and registers on the cursor that asks."""
THREADS_SIGNED = replace(
    THREADS,
    dims={**THREADS.dims, "agent": ("coalesce(tc.agent, fr.agent)", ("tc", "fr"))},
    joins={**THREADS.joins,
           "fr": Join(f"LEFT JOIN {FIRST_RESPONSE_AGENTS} fr ON fr.tweet_id = th.first_response_tweet_id")},
)
"""``threads`` reading the agents' sign-offs from :data:`FIRST_RESPONSE_AGENTS` instead of each first
response's text in ``tweets``: the same rows and groups (``tests/metrics/test_signoffs.py``)."""

# ``@name``: a measure of the source (:class:`Measure`), in metric expressions and view templates only
# (code only: values are ``$name`` placeholders, put in by ``sqltree.render`` after this expansion).
MEASURE_REF = re.compile(r"@([a-z][a-z0-9_]*)")


def measure_names(text: str | None) -> list[str]:
    """The measures ``text`` names, in order of first use."""
    return list(dict.fromkeys(MEASURE_REF.findall(text or "")))


def expand(source_name: str, text: str) -> str:
    """``text`` with each ``@name`` replaced by the source's measure SQL, in parentheses."""
    measures = SOURCES[source_name].measures
    unknown = [n for n in measure_names(text) if n not in measures]
    if unknown:
        raise ConfigError(f"source {source_name} has no measure(s) {', '.join(unknown)}")
    return MEASURE_REF.sub(lambda m: f"({measures[m.group(1)].sql})", text)


def measure_joins(source_name: str, *texts: str | None) -> tuple[str, ...]:
    """The joins the measures named in ``texts`` need."""
    measures = SOURCES[source_name].measures
    return tuple(dict.fromkeys(j for text in texts for n in measure_names(text) if n in measures
                               for j in measures[n].joins))
SOURCE_CTES: dict[str, tuple[str, ...]] = {"replies": REPLIES_CTES}


def placeholders(ctx: Context, *, business_hours: bool = False) -> dict[str, Any]:
    """The values of the ``$name`` placeholders of sources and metric expressions, as Python values;
    :func:`carepulse.metrics.sqltree.render` puts each in as a literal."""
    s = ctx.settings
    check_signature_patterns(tuple(s.agent_signature_patterns))
    values: dict[str, Any] = {
        "as_of": ctx.as_of,
        "tz": ctx.tz,
        "sla_s": float(s.sla_minutes) * 60.0,
        "recontact_s": float(s.recontact_days) * 86400.0,
        "dm_re": DM_HANDOFF_RE,
        "total": TOTAL,
        SIGNATURE_PATTERNS: tuple(s.agent_signature_patterns),
    }
    if business_hours:
        values.update(_business_hours_values(ctx))
    return values


def check_signature_patterns(patterns: tuple[str, ...]) -> None:
    """Each pattern must be a regular expression with a capture group (the initials)."""
    for pattern in patterns:
        try:
            groups = re.compile(pattern).groups
        except re.error as exc:
            raise ConfigError(f"agents.signature_patterns: {pattern!r} is not a regular expression: {exc}") from exc
        if groups < 1:
            raise ConfigError(f"agents.signature_patterns: {pattern!r} needs a capture group for the initials")


def _business_hours_values(ctx: Context) -> dict[str, Any]:
    """The calendar spans the data: from two days before the first thread's local day to the day after as-of.

    The first moment is read as ``min(started_at)``, converted after (one scan of a plain column, where
    converting every row first cost 0.13 s at 10 M tweets, twice per Team page callback). Its local day can
    be one day later than the earliest local day where a zone turns its clocks back across midnight, so the
    calendar starts two days before it: an earlier start changes no result (a response's business seconds
    are the difference of two cumulative sums)."""
    bh = ctx.settings.business_hours
    zone(bh.timezone)  # an unknown zone is a ConfigError here, not an error of the statement below
    row = ctx.con.execute(*statement("SELECT CAST(timezone($tz, min(started_at)) AS DATE) FROM threads "
                                     "WHERE started_at <= $as_of", {"tz": bh.timezone, "as_of": ctx.as_of})).fetchone()
    last = ctx.as_of.astimezone(zone(bh.timezone)).date() + timedelta(days=1)
    first = (row[0] if row and row[0] else last) - timedelta(days=2)
    assert isinstance(first, date)
    open_days = [(WEEKDAYS.index(day) + 1, span) for day, span in bh.hours.items() if span is not None]
    return {
        "bh_isodow": [number for number, _ in open_days],
        "bh_opens": [span[0] for _, span in open_days],
        "bh_closes": [span[1] for _, span in open_days],
        "bh_holidays": list(bh.holidays),
        "bh_first_day": first,
        "bh_last_day": last,
        "bh_tz": bh.timezone,
    }
