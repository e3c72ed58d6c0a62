"""Golden values: every metric in the registry on hand-made data, expected values worked out by hand.

Each scenario's ``EXPECTED_*`` dict is keyed by metric name; ``GOLDEN`` collects them, and
``test_registry.py`` fails when a registered metric is in none of them. Arithmetic is written out
as expressions next to the reasoning, never computed by carepulse code.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from carepulse.core.config import ChannelCost, CostModel, Settings
from carepulse.metrics import engine
from carepulse.metrics.context import Filters
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import (
    AC,
    FIXTURE_A,
    FIXTURE_B,
    TH,
    ThreadRow,
    insert_cases,
    insert_threads,
    load_twcs,
    utc,
)

# ---------------------------------------------------------------------------------------------
# Scenario A: fixture A (see tests/metrics/fixtures.py for the time line), loaded by the loader.
#
# Threads (first response seconds; unanswered ones wait until as-of = d1 08:00 UTC):
#   1-c1  TH  600        4-c2 TH 7200       6-c3 AC 1800      11-c6 AC 900     14-c7 TH 39600
#   10-c4 TH  unanswered, waiting d0 13:00 -> d1 08:00 = 19 h = 68400
#   11-c5 AC  unanswered (t13 answers c6, not c5), waiting 18 h = 64800
# Answered, sorted: 600, 900, 1800, 7200, 39600.
#   median = 1800; p90: rank 0.9 * 4 = 3.6 -> 7200 + 0.6 * (39600 - 7200) = 26640.
# Kaplan-Meier (events at 600, 900, 1800, 7200, 39600; censored at 64800, 68400), n = 7:
#   S(600) = 6/7, S(900) = 5/7, S(1800) = 4/7 (not below 1/2), S(7200) = 3/7 < 1/2 -> median 7200.
# SLA 3600 s: met 600, 900, 1800 (3); late 7200, 39600; both unanswered wait > 3600 -> 3 / 7.
# Business hours (Berlin 08-20 = 07-19 UTC on Tue 31 Oct and Wed 1 Nov):
#   c1 600, c2 7200, c3 1800, c6 900 (all inside hours); c7 21:00 UTC -> next day 07:00 opens, reply
#   08:00 -> 3600. Sorted 600, 900, 1800, 3600, 7200: median 1800; p90 3600 + 0.6 * 3600 = 5760.
#   SLA in business time: met 600, 900, 1800, 3600 (4); c2 late; c4 waits 13:00-19:00 + 07:00-08:00
#   = 7 h, c5 6 h of business time, both > 1 h -> decided, missed -> 4 / 7.
# DM hand-off: t2 (to c1: "eine DM") and t13 (to c6: "DM us") -> 2 of 5 answered threads.
# Thanks: c1's last tweet t3 "Danke, ..." comes after the first response -> 1 of 5 answered.
# Reply times of customer tweets: t1 600, t4 7200, t6 1800, t8 3600, t12 900, t14 39600
#   -> sorted 600, 900, 1800, 3600, 7200, 39600 -> median (1800 + 3600) / 2 = 2700.
# Tweets: 15; customer t1 t3 t4 t6 t8 t10 t11 t12 t14 = 9; brand 6.
# ---------------------------------------------------------------------------------------------
EXPECTED_A: dict[str, Any] = {
    "tweets": 15,
    "customer_tweets": 9,
    "brand_tweets": 6,
    "threads": 7,
    "answered_threads": 5,
    "unanswered_threads": 2,
    "response_rate": 5 / 7,
    "first_response_median_s": 1800.0,
    "first_response_p90_s": 26640.0,
    "first_response_km_median_s": 7200.0,
    "sla_met_share": 3 / 7,
    # breached: answered later than 60 min (7200, 39600) + the two still waiting longer than that = 4 of 7
    "sla_breached_threads": 4,
    "first_response_bh_median_s": 1800.0,
    "first_response_bh_p90_s": 5760.0,
    "sla_met_bh_share": 4 / 7,
    # in business hours 4 of the 7 decided threads met the SLA, so 3 breached it
    "sla_breached_bh_threads": 3,
    "dm_handoff_rate": 2 / 5,
    "thanks_rate": 1 / 5,
    "reply_time_median_s": 2700.0,
}

# By account. TH: threads c1, c2, c4, c7; answered 600, 7200, 39600 -> median 7200;
#   tweets: brand t2 t5 t15 + customer t1 t3 (c1) t4 (c2) t10 (c4) t14 (c7) = 3 + 5.
#   Reply times replied by TH: 600, 7200, 39600 -> 7200.
# AC: threads c3, c5, c6; answered 1800, 900 -> median 1350; brand t7 t9 t13, customer t6 t8 t11 t12.
#   Reply times replied by AC: 1800, 3600, 900 -> 1800.
EXPECTED_A_BY_ACCOUNT: dict[str, dict[str, Any]] = {
    TH: {"threads": 4, "answered_threads": 3, "first_response_median_s": 7200.0, "tweets": 8,
         "brand_tweets": 3, "customer_tweets": 5, "reply_time_median_s": 7200.0},
    AC: {"threads": 3, "answered_threads": 2, "first_response_median_s": 1350.0, "tweets": 7,
         "brand_tweets": 3, "customer_tweets": 4, "reply_time_median_s": 1800.0},
}

# By agent (signature of the first response): ^AB c1 600, -Becky c2 7200, *SR c3 1800,
# /ab c6 900, ^KMG c7 39600; unanswered c4, c5 have no agent. *SR signed two brand tweets.
EXPECTED_A_BY_AGENT: dict[str, dict[str, Any]] = {
    "AB": {"answered_threads": 1, "first_response_median_s": 600.0, "brand_tweets": 1, "sla_met_share": 1.0},
    "Becky": {"answered_threads": 1, "first_response_median_s": 7200.0, "brand_tweets": 1, "sla_met_share": 0.0},
    "SR": {"answered_threads": 1, "first_response_median_s": 1800.0, "brand_tweets": 2, "sla_met_share": 1.0},
    "ab": {"answered_threads": 1, "first_response_median_s": 900.0, "brand_tweets": 1, "sla_met_share": 1.0},
    "KMG": {"answered_threads": 1, "first_response_median_s": 39600.0, "brand_tweets": 1, "sla_met_share": 0.0},
    "(none)": {"answered_threads": 0, "first_response_median_s": None, "brand_tweets": 0},
}

# ---------------------------------------------------------------------------------------------
# Scenario CRM: fixture A plus nine CRM cases (k8 is a duplicate and is left out everywhere).
#   case channel opened        closed        outcome     ref handle min csat nps link
#   k1   twitter 10-12 10:00   10-12 11:00   resolved    R1  x1     10  5    10  conversation -> 1-c1
#   k2   twitter 10-27 10:00   10-28 12:00   resolved    R2  c2     20  4    9
#   k3   twitter 10-27 15:00   10-27 16:00   unresolved  R3  x3     -   2    3   handle_window -> 6-c3
#   k4   phone   10-20 09:00   10-20 09:30   resolved    R4         12  3    6
#   k5   phone   10-23 09:00   10-23 09:20   resolved    R1         9   4    9
#   k6   phone   10-24 09:00   10-24 10:00   escalated   R5         15  1    0
#   k7   phone   10-25 09:00   -             open        R6         5   -    -
#   k8   email   10-25 10:00   -             duplicate   R7         8   5    10
#   k9   phone   10-30 09:00   10-30 09:10   resolved    R4         6   5    9
# cases 8; resolved k1 k2 k4 k5 k9 = 5; final outcome (not open) 7 -> resolution 5 / 7.
# Recontact within 7 days of closing (resolved cases only):
#   k1: R1 is back with k5 on 10-23, 11 days later -> no.  k2: handle c2 starts thread 4-c2 on
#   10-31 10:00, 2.9 days later, and k2 is not linked to it -> yes.  k4: R4 is back 10-30, 9.98 days
#   -> no.  k5, k9: nobody comes back -> no.  recontact 1 / 5; first-contact resolution 4 / 7.
# CSAT 5 4 2 3 4 1 5: mean 24 / 7; 4-5: 4 of 7. NPS: promoters 10 9 9 9 (4), detractors 3 6 0 (3)
#   -> (4 - 3) / 7 * 100.
# Links: threads 1-c1 (conversation) and 6-c3 (handle_window) of 7 threads.
# Cost model (defaults; docs/economics.md): each channel's fixed costs run over its own active days.
#   Twitter cases: the 5 answered threads + k2 (a Twitter CRM case linked to no thread) = 6.
#   Twitter minutes: CRM 10 + 20 + 6 (k3 has none: default 6) = 36; answered threads without a
#   Twitter case 4-c2, 11-c6, 14-c7 with one brand reply each -> 3 x 3 min = 9; 11-c6 was handed to
#   DM (t13 "DM us") -> + 5; 50 min at 38 EUR/h. Active days 10-12 (k1) .. 10-31 (14-c7 starts
#   22:00 Berlin): 20 of October's 31 days -> fixed 2500 x 20 / 31.
#   Phone: 12 + 9 + 15 + 5 + 6 = 47 min at 34 EUR/h; active 10-20 .. 10-30 = 11 days -> 4000 x 11 / 31;
#   5 cases; 3 of 4 final resolved. Twitter 2 of 3 final resolved.
# Net benefit (deflection 50 %): October only: 6 Twitter cases x 0.5 x the phone's variable cost per
#   case (47 min x 34 EUR/h / 5) minus the Twitter cost. Payback: -15,000 + that < 0 -> none.
#   Break-even share: Twitter cost / (6 x phone variable cost per case).
# Twitter vs hotline (min_sample 3): CSAT 5 4 2 (mean 11/3) vs 3 4 1 5 (13/4) -> 11/3 - 13/4 = 5/12;
#   resolution 2/3 - 3/4 = -1/12.
# ---------------------------------------------------------------------------------------------
TWITTER_COST = 50 / 60 * 38 + 2500 * 20 / 31
PHONE_COST = 47 / 60 * 34 + 4000 * 11 / 31
PHONE_VARIABLE = 47 / 60 * 34 / 5
EXPECTED_CRM: dict[str, Any] = {
    "cases": 8,
    "resolved_cases": 5,
    "resolution_rate": 5 / 7,
    "fcr_rate": 4 / 7,
    "recontact_7d_rate": 1 / 5,
    "csat_mean": 24 / 7,
    "csat_top2_share": 4 / 7,
    "nps": (4 - 3) / 7 * 100,
    "crm_link_coverage": 2 / 7,
    "crm_link_conversation_share": 1 / 7,
    "crm_link_handle_window_share": 1 / 7,
    "cost_per_case": (TWITTER_COST + PHONE_COST) / (6 + 5),
    "cost_per_resolved_case": (TWITTER_COST + PHONE_COST) / (6 * 2 / 3 + 5 * 3 / 4),
    "costed_cases": 6 + 5,
    "twitter_cases": 6,
    "hotline_variable_cost_per_case": PHONE_VARIABLE,
    "pilot_net_benefit_eur": 6 * 0.5 * PHONE_VARIABLE - TWITTER_COST,
    "deflection_breakeven_share": TWITTER_COST / (6 * PHONE_VARIABLE),
    "pilot_payback_month": None,
    "csat_diff_twitter_hotline": 11 / 3 - 13 / 4,
    "resolution_diff_twitter_hotline": 2 / 3 - 3 / 4,
}
EXPECTED_CRM_BY_CHANNEL: dict[str, dict[str, Any]] = {
    "twitter": {"cases": 3, "resolution_rate": 2 / 3, "csat_mean": 11 / 3, "cost_per_case": TWITTER_COST / 6,
                "threads": 7},
    "phone": {"cases": 5, "resolution_rate": 3 / 4, "csat_mean": 13 / 4, "cost_per_case": PHONE_COST / 5,
              "threads": 0},
}


def crm_cases() -> list[dict[str, Any]]:
    def case(case_id: str, channel: str, opened: str, closed: str | None, outcome: str, ref: str,
             handle: str | None, minutes: float | None, csat: int | None, nps: int | None, agent: str,
             team: str, category: str, **link: Any) -> dict[str, Any]:
        return {"case_id": case_id, "channel": channel, "opened_at": utc(opened),
                "closed_at": utc(closed) if closed else None, "outcome": outcome, "customer_ref": ref,
                "twitter_handle": handle, "handled_minutes": minutes, "csat": csat, "nps": nps, "agent": agent,
                "team": team, "category": category, **link}

    return [
        case("k1", "twitter", "2017-10-12 10:00", "2017-10-12 11:00", "resolved", "R1", "x1", 10, 5, 10, "AB",
             "Social", "Internet", link_method="conversation", linked_thread_id="1-c1"),
        case("k2", "twitter", "2017-10-27 10:00", "2017-10-28 12:00", "resolved", "R2", "c2", 20, 4, 9, "AB",
             "Social", "Mobile"),
        case("k3", "twitter", "2017-10-27 15:00", "2017-10-27 16:00", "unresolved", "R3", "x3", None, 2, 3, "KMG",
             "Social", "Internet", link_method="handle_window", linked_thread_id="6-c3"),
        case("k4", "phone", "2017-10-20 09:00", "2017-10-20 09:30", "resolved", "R4", None, 12, 3, 6, "PH1",
             "Hotline", "Internet"),
        case("k5", "phone", "2017-10-23 09:00", "2017-10-23 09:20", "resolved", "R1", None, 9, 4, 9, "PH1",
             "Hotline", "Mobile"),
        case("k6", "phone", "2017-10-24 09:00", "2017-10-24 10:00", "escalated", "R5", None, 15, 1, 0, "PH2",
             "Hotline", "Internet"),
        case("k7", "phone", "2017-10-25 09:00", None, "open", "R6", None, 5, None, None, "PH2", "Hotline",
             "Internet"),
        case("k8", "email", "2017-10-25 10:00", None, "duplicate", "R7", None, 8, 5, 10, "EM1", "Backoffice",
             "Billing"),
        case("k9", "phone", "2017-10-30 09:00", "2017-10-30 09:10", "resolved", "R4", None, 6, 5, 9, "PH1",
             "Hotline", "Mobile"),
    ]


# ---------------------------------------------------------------------------------------------
# Scenario B: German texts scored by the lexicon (no negators, boosters or "!"): a word of valence v
# scores v / sqrt(v^2 + 15). Frechheit -3 -> -3/sqrt(24); Danke +2 -> 2/sqrt(19);
# Super +2.5 -> 2.5/sqrt(21.25); Kaputt -2.5 -> -2.5/sqrt(21.25).
#   thread  first      last       customer tweets  answered  linked CSAT  thanked at the end
#   1-c1    Frechheit  Danke      2                yes       5            yes (Danke after reply)
#   4-c2    Danke      Danke      1                no        4            no (not answered)
#   5-c3    Frechheit  Frechheit  1                no        1            no
#   6-c4    Super      Kaputt     2                yes       2            no
# first mean (-F + D - F + S) / 4; last mean (D + D - F - K) / 4; shift over c1 and c4:
#   ((D + F) + (-K - S)) / 2; negative and waiting: c3 only.
# Thanks as CSAT proxy: good (4-5) c1 (thanked), c2 (not); bad c3, c4 (not): pairs good x bad:
#   c1>c3 1, c1>c4 1, c2=c3 1/2, c2=c4 1/2 -> AUC 3/4.
# Spearman, last sentiment vs CSAT: sentiment ranks c3 1, c4 2, c1 and c2 3.5 each;
#   CSAT ranks c3 1, c4 2, c2 3, c1 4. Deviations from 2.5: x = (1, 1, -1.5, -0.5) for c1 c2 c3 c4,
#   y = (1.5, 0.5, -1.5, -0.5): sum xy 4.5, sum x^2 4.5, sum y^2 5 -> rho = 4.5 / sqrt(4.5 * 5).
# ---------------------------------------------------------------------------------------------
F, D = 3 / math.sqrt(24), 2 / math.sqrt(19)
S = K = 2.5 / math.sqrt(21.25)
EXPECTED_B: dict[str, Any] = {
    "sentiment_first_mean": (-F + D - F + S) / 4,
    "sentiment_last_mean": (D + D - F - K) / 4,
    "sentiment_shift_mean": ((D + F) + (-K - S)) / 2,
    "negative_waiting": 1,
    "thanks_csat_auc": 3 / 4,
    "sentiment_csat_spearman": 4.5 / math.sqrt(4.5 * 5),
}

# ---------------------------------------------------------------------------------------------
# Scenario cost: CRM cases only, a cost model without fixed costs, so the months do not matter.
#   twitter 60 EUR/h (1 EUR/min), phone 60 EUR/h; set-up 40 EUR; deflection share 100 %.
#   October:  twitter t1 resolved 10 min, t2 resolved 20 min; phone p1 resolved 20 min, p2 unresolved 40.
#   November: twitter t3 resolved 10 min; phone p3 resolved 30 min.
# Totals: twitter 40 EUR / 3 cases (linked to no thread: each a Twitter case); phone 90 EUR / 3 cases
#   (30 each), 2 of 3 resolved. Cost per case (40 + 90) / 6; per resolved case (40 + 90) / (3 + 2).
#   Hotline variable cost per case 90 / 3 = 30. Net benefit 3 x 1.0 x 30 - 40 = 50.
#   Break-even share: 40 / (3 x 30) = 4/9.
# Months: Oct twitter 30 EUR, phone 60 EUR / 2 = 30 per case -> 2 x 30 - 30 = 30;
#   Nov twitter 10, phone 30 / 1 -> 1 x 30 - 10 = 20. Balance -40 + 30 = -10 (Oct), +20 = 10 (Nov)
#   -> paid back in 2017-11, which is also the projected month.
# ---------------------------------------------------------------------------------------------
EXPECTED_COST: dict[str, Any] = {
    "cost_per_case": 130 / 6,
    "cost_per_resolved_case": 130 / 5,
    "costed_cases": 6,
    "twitter_cases": 3,
    "hotline_variable_cost_per_case": 30.0,
    "pilot_net_benefit_eur": 50.0,
    "deflection_breakeven_share": 4 / 9,
    "pilot_payback_month": "2017-11",
    "pilot_payback_projected_month": "2017-11",
}
EXPECTED_COST_BY_MONTH = {
    "2017-10": {"cost_per_case": 90 / 4, "pilot_net_benefit_eur": 30.0},
    "2017-11": {"cost_per_case": 40 / 2, "pilot_net_benefit_eur": 20.0},
}

# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
# Scenario weeks: ten complete weeks (Mon 4 Sep .. Sun 12 Nov 2017, Berlin), five threads started
# each Monday, all answered in 600 + 60 x week seconds; as-of Mon 13 Nov 00:00 Berlin.
#   Weekly medians lie on a line with slope 60 s/week -> OLS slope 60.
#   Weekly counts are 5, 5, ... -> the ETS forecast is 5 a week -> 20 in the next 4 weeks.
# ---------------------------------------------------------------------------------------------
# Staffing (Erlang C, defaults: SLA 60 min for 80 %, occupancy <= 85 %, shrinkage 30 %, 38.5 h per FTE):
#   the last 8 complete weeks (Mon 18 Sep .. Sun 12 Nov) have one thread each Monday at 08:00 ..
#   12:00 UTC: 10-14 Berlin in the 6 summer-time weeks, 09-13 in the 2 weeks after 29 Oct -> mean
#   arrivals 2/8 at 09:00, 1 at 10-13, 6/8 at 14:00: 6 hours of the week (all inside opening hours).
#   Handling time: no CRM case, one brand reply each -> 3 min. Busiest hour: 1 x 180 / 3600 = 0.05
#   Erlang; one agent: occupancy 0.05, P(wait) = 0.05, service level 1 - 0.05 x exp(-0.95 x 3600 / 180)
#   = 1 - 3e-10 -> 1 agent in each of the 6 hours, at x1.5 and x2 too (at most 0.1 Erlang).
#   6 desk hours a week / (1 - 0.3) paid / 38.5 h per FTE.
EXPECTED_WEEKS: dict[str, Any] = {
    "first_response_trend_s_per_week": 60.0,
    "threads_forecast_4w": 20.0,
    "staffing_fte_x1": 6 / 0.7 / 38.5,
    "staffing_fte_x1_5": 6 / 0.7 / 38.5,
    "staffing_fte_x2": 6 / 0.7 / 38.5,
}

# ---------------------------------------------------------------------------------------------
# Scenario exposure (threads rows with follower counts; as-of 12:00 UTC, SLA 60 min):
#   X unanswered since 10:00, 1,000 followers -> 2 h x 1000 = 2000
#   Y answered after 3 h (late), 500 followers -> 3 h x 500 = 1500
#   Z answered after 10 min (in time), 10,000 followers -> not exposed
#   W unanswered since 11:30, followers unknown -> adds nothing        total 3500
# ---------------------------------------------------------------------------------------------
EXPECTED_EXPOSURE: dict[str, Any] = {"exposure_follower_hours": 3500.0}

# ---------------------------------------------------------------------------------------------
# Scenario hotline (interrupted time series, no noise): pilot start Mon 4 Sep 2017. Ten weeks before
# it (Mon 26 Jun .. Sun 3 Sep) with 100 phone cases each, eleven weeks from it with 80 each, every case
# on the week's Monday 10:00 UTC; as-of Mon 20 Nov 12:00 UTC. The CRM export's last week (13 Nov) is
# not over at its last case and is dropped -> 10 weeks before, 10 after. A flat 100 then a flat 80:
# the segmented Poisson model fits it exactly (no trend, level change ln 0.8, no slope change), so
# the change against the pre-launch trend is 80 / 100 - 1 = -0.2.
# ---------------------------------------------------------------------------------------------
EXPECTED_HOTLINE: dict[str, Any] = {"hotline_itsa_volume_change": -0.2}

GOLDEN: dict[str, dict[str, Any]] = {
    "A": EXPECTED_A, "CRM": EXPECTED_CRM, "B": EXPECTED_B, "cost": EXPECTED_COST, "weeks": EXPECTED_WEEKS,
    "exposure": EXPECTED_EXPOSURE, "hotline": EXPECTED_HOTLINE,
}


def assert_values(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    problems = []
    for name, want in expected.items():
        got = actual[name]
        if want is None or isinstance(want, str):
            ok = got == want
        else:
            ok = got is not None and got == pytest.approx(want, rel=1e-9, abs=1e-9)
        if not ok:
            problems.append(f"{where} {name}: expected {want!r}, got {got!r}")
    assert not problems, "\n".join(problems)


def values(result: engine.Result, group: str | None = None) -> dict[str, Any]:
    cells = result.total if group is None else result.groups[group]
    return {name: cell.value for name, cell in cells.items()}


@pytest.fixture(scope="module")
def scenario_a(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Settings]:
    path: Path = tmp_path_factory.mktemp("golden_a")
    settings = Settings(db=path / "wh.duckdb", min_sample=3)
    return load_twcs(path, FIXTURE_A, settings), settings


@pytest.fixture(scope="module")
def scenario_crm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Settings]:
    path: Path = tmp_path_factory.mktemp("golden_crm")
    settings = Settings(db=path / "wh.duckdb", min_sample=3)
    warehouse = load_twcs(path, FIXTURE_A, settings)
    insert_cases(warehouse, crm_cases())
    return warehouse, settings


def test_golden_scenario_a(scenario_a: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = scenario_a
    result = engine.compute(list(EXPECTED_A), db=warehouse.reader(), settings=settings)
    assert result.as_of == datetime(2017, 11, 1, 8, 0, tzinfo=UTC)
    assert_values(values(result), EXPECTED_A, "total")


def test_golden_scenario_a_by_account(scenario_a: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = scenario_a
    names = sorted({n for g in EXPECTED_A_BY_ACCOUNT.values() for n in g})
    result = engine.compute(names, by="account", db=warehouse.reader(), settings=settings)
    assert list(result.groups) == [AC, TH]
    for account, expected in EXPECTED_A_BY_ACCOUNT.items():
        assert_values(values(result, account), expected, account)


def test_golden_tweet_counts_by_account_agree_when_as_of_cuts_no_thread(
        scenario_a: tuple[Warehouse, Settings]) -> None:
    """The per-thread shortcut for tweet counts is used only when it equals counting tweet by tweet;
    an as-of after the last tweet takes the shortcut's conditions away without changing a number."""
    warehouse, settings = scenario_a
    later = datetime(2017, 11, 2, tzinfo=UTC)
    names = ["tweets", "customer_tweets", "brand_tweets"]
    fast = engine.compute(names, by="account", db=warehouse.reader(), settings=settings)
    slow = engine.compute(names, by="account", db=warehouse.reader(), settings=settings,
                          filters=Filters(date_from=datetime(2017, 10, 1).date()), as_of=later)
    for account in (TH, AC):
        assert values(fast, account) == values(slow, account)


def test_golden_scenario_a_by_agent(scenario_a: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = scenario_a
    names = ["answered_threads", "first_response_median_s", "brand_tweets", "sla_met_share"]
    result = engine.compute(names, by="agent", db=warehouse.reader(), settings=settings)
    assert set(result.groups) == set(EXPECTED_A_BY_AGENT)
    for agent, expected in EXPECTED_A_BY_AGENT.items():
        assert_values(values(result, agent), expected, agent)


def test_golden_scenario_a_as_of_earlier(scenario_a: tuple[Warehouse, Settings]) -> None:
    """As of d0 12:00 UTC, later tweets do not exist yet: c2's reply (12:00) has just come in,
    c4 .. c7 have not started; c1 (600), c2 (7200), c3 (1800) answered -> 3 threads, median 1800;
    tweets t1..t7 and t8 (11:40), t9 (12:40) not yet -> 8 tweets."""
    warehouse, settings = scenario_a
    as_of = datetime(2017, 10, 31, 12, 0, tzinfo=UTC)
    result = engine.compute(["tweets", "threads", "answered_threads", "first_response_median_s"],
                            db=warehouse.reader(), settings=settings, as_of=as_of)
    assert values(result) == {"tweets": 8, "threads": 3, "answered_threads": 3, "first_response_median_s": 1800.0}


def test_golden_scenario_crm(scenario_crm: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = scenario_crm
    result = engine.compute(list(EXPECTED_CRM), db=warehouse.reader(), settings=settings)
    assert_values(values(result), EXPECTED_CRM, "total")
    assert result.total["pilot_payback_month"].note == "the set-up cost is not yet paid back"


def test_golden_scenario_crm_by_channel(scenario_crm: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = scenario_crm
    names = ["cases", "resolution_rate", "csat_mean", "cost_per_case", "threads"]
    result = engine.compute(names, by="channel", db=warehouse.reader(), settings=settings)
    assert list(result.groups) == ["phone", "twitter"]
    for channel, expected in EXPECTED_CRM_BY_CHANNEL.items():
        assert_values(values(result, channel), expected, channel)


def test_golden_scenario_crm_thread_dimensions_come_from_the_linked_case(
        scenario_crm: tuple[Warehouse, Settings]) -> None:
    """Threads take team, category and agent from their earliest linked case: 1-c1 <- k1 (AB, Social,
    Internet), 6-c3 <- k3 (KMG, Social, Internet). By agent, KMG now has c3 (1800) and c7 (39600)."""
    warehouse, settings = scenario_crm
    by_team = engine.compute(["threads"], by="team", db=warehouse.reader(), settings=settings)
    assert {k: v["threads"].value for k, v in by_team.groups.items()} == {"Social": 2, "(none)": 5}
    by_agent = engine.compute(["answered_threads", "first_response_median_s"], by="agent",
                              db=warehouse.reader(), settings=settings)
    assert values(by_agent, "KMG") == {"answered_threads": 2, "first_response_median_s": (1800 + 39600) / 2}
    assert "SR" not in by_agent.groups


def test_small_samples_are_withheld(scenario_crm: tuple[Warehouse, Settings]) -> None:
    """With the default minimum of 30, seven CSAT scores give no mean, but a sentence with n."""
    warehouse, settings = scenario_crm
    result = engine.compute(["csat_mean", "resolution_rate", "csat_diff_twitter_hotline"],
                            db=warehouse.reader(), settings=replace(settings, min_sample=30), ci=True)
    assert result.total["csat_mean"].value is None
    assert result.total["csat_mean"].note == "not enough data (n = 7, minimum 30)"
    assert result.total["resolution_rate"].ci_low is None
    assert result.total["csat_diff_twitter_hotline"].note == "not enough data (n = 3 vs 4, minimum 30 each)"


def test_golden_scenario_b(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb", min_sample=4)
    warehouse = load_twcs(tmp_path, FIXTURE_B, settings)
    csat = {"1-c1": 5, "4-c2": 4, "5-c3": 1, "6-c4": 2}
    insert_cases(warehouse, [
        {"case_id": f"k-{thread}", "channel": "twitter", "opened_at": utc("2017-10-31 12:00"),
         "outcome": "resolved", "csat": score, "link_method": "conversation", "linked_thread_id": thread}
        for thread, score in csat.items()
    ])
    result = engine.compute(list(EXPECTED_B), db=warehouse.reader(), settings=settings)
    assert_values(values(result), EXPECTED_B, "total")


def test_golden_scenario_cost(tmp_path: Path) -> None:
    flat = ChannelCost(hourly_cost_eur=60.0, fixed_monthly_eur=0.0, default_handled_minutes=10.0)
    settings = Settings(db=tmp_path / "wh.duckdb", min_sample=1,
                        cost=CostModel(channels={**CostModel().channels, "twitter": flat, "phone": flat},
                                       pilot_setup_eur=40.0, deflection_share=1.0))
    warehouse = Warehouse(settings.db)

    def case(case_id: str, channel: str, day: str, outcome: str, minutes: float) -> dict[str, Any]:
        return {"case_id": case_id, "channel": channel, "opened_at": utc(f"{day} 10:00"),
                "closed_at": utc(f"{day} 11:00"), "outcome": outcome, "customer_ref": case_id,
                "handled_minutes": minutes}

    insert_cases(warehouse, [
        case("t1", "twitter", "2017-10-10", "resolved", 10), case("t2", "twitter", "2017-10-10", "resolved", 20),
        case("p1", "phone", "2017-10-10", "resolved", 20), case("p2", "phone", "2017-10-10", "unresolved", 40),
        case("t3", "twitter", "2017-11-10", "resolved", 10), case("p3", "phone", "2017-11-10", "resolved", 30),
    ])
    result = engine.compute(list(EXPECTED_COST), db=warehouse.reader(), settings=settings)
    assert_values(values(result), EXPECTED_COST, "total")
    by_month = engine.compute(["cost_per_case", "pilot_net_benefit_eur"], by="month", db=warehouse.reader(),
                              settings=settings)
    for month, expected in EXPECTED_COST_BY_MONTH.items():
        assert_values(values(by_month, month), expected, month)


def test_golden_scenario_weeks(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    first_monday = datetime(2017, 9, 4, 8, 0, tzinfo=UTC)  # 10:00 Berlin (summer time)
    rows = []
    for week in range(10):
        for k in range(5):
            started = first_monday + timedelta(weeks=week, hours=k)
            rows.append(ThreadRow(f"w{week}-{k}", TH, started, started + timedelta(seconds=600 + 60 * week)))
    insert_threads(warehouse, rows)
    as_of = datetime(2017, 11, 12, 23, 0, tzinfo=UTC)  # Mon 13 Nov 00:00 Berlin (winter time)
    result = engine.compute(list(EXPECTED_WEEKS), db=warehouse.reader(), settings=settings, as_of=as_of)
    assert_values(values(result), EXPECTED_WEEKS, "total")
    note = result.total["first_response_trend_s_per_week"].note
    assert note is not None and note.startswith("First response gets slower by 60 s per week")


def test_golden_scenario_exposure(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    day = datetime(2017, 10, 31, tzinfo=UTC)
    insert_threads(warehouse, [
        ThreadRow("X", TH, day + timedelta(hours=10), None, 1000),
        ThreadRow("Y", TH, day + timedelta(hours=8), day + timedelta(hours=11), 500),
        ThreadRow("Z", TH, day + timedelta(hours=11), day + timedelta(hours=11, minutes=10), 10000),
        ThreadRow("W", TH, day + timedelta(hours=11, minutes=30), None, None),
    ])
    result = engine.compute(list(EXPECTED_EXPOSURE), db=warehouse.reader(), settings=settings,
                            as_of=day + timedelta(hours=12))
    assert_values(values(result), EXPECTED_EXPOSURE, "total")


def test_golden_scenario_hotline(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb", cost=replace(CostModel(), pilot_start=datetime(2017, 9, 4).date()))
    warehouse = Warehouse(settings.db)
    first = datetime(2017, 6, 26, 10, 0, tzinfo=UTC)
    insert_cases(warehouse, [
        {"case_id": f"h{week}-{k}", "channel": "phone", "opened_at": first + timedelta(weeks=week),
         "outcome": "resolved", "handled_minutes": 10.0}
        for week in range(21) for k in range(100 if week < 10 else 80)
    ])
    result = engine.compute(list(EXPECTED_HOTLINE), db=warehouse.reader(), settings=settings, ci=True,
                            as_of=datetime(2017, 11, 20, 12, 0, tzinfo=UTC))
    assert_values(values(result), EXPECTED_HOTLINE, "total")
    cell = result.total["hotline_itsa_volume_change"]
    assert cell.n == 20 and cell.note is not None and "10 weeks before, 10 after" in cell.note
