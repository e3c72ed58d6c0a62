"""Pilot: for management. Does Twitter support pay off, are customers more satisfied, are we fast enough?

The economics part answers "does the pilot pay off, since when, how sure, and under which assumptions"
from one :class:`metrics.pilot_view.PilotView` per selection: the cards, the plain-words answer, the
payback chart, the sensitivity table, the hotline's evidence and the staffing what-if all read the
same object, so no two of them can disagree. The page formats and arranges; every figure is the
model's (``metrics/economics.py``, ``metrics/hotline_evidence.py``).
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any, Literal

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, html

from carepulse.dashboard import components, figures, ids, state
from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.economics_figures import hotline_chart, month_label, payback_chart, staffing_heatmap
from carepulse.dashboard.filters import filter_bar, filters_from_store, follow_filters, query_store
from carepulse.dashboard.yardsticks import YARDSTICKS
from carepulse.metrics import data_views, engine, views
from carepulse.metrics.costs import WEEKS_PER_MONTH
from carepulse.metrics.economics import Pilot
from carepulse.metrics.hotline_evidence import Staffing
from carepulse.metrics.pilot_view import PilotView, pilot_view
from carepulse.metrics.staffing import WEEKDAY_NAMES, Scenario
from carepulse.metrics.stats import GLOSSARY, decimals

dash.register_page(__name__, path="/", name="Pilot", title="carepulse · Pilot", order=0)
follow_filters(ids.PILOT_QUERY)

# The economics have their own cards and sentences (from PilotView), so the headline asks only for
# the service figures: one statement per question on the page.
HEADLINE = ("threads", "answered_threads", "response_rate", "first_response_median_s", "first_response_km_median_s",
            "sla_met_share", "cases", "resolution_rate", "csat_mean", "csat_diff_twitter_hotline",
            "resolution_diff_twitter_hotline", "first_response_trend_s_per_week", "threads_forecast_4w")
HEADLINE_BY_CHANNEL = ("cases", "resolution_rate")
SPEED = ("first_response_median_s", "first_response_km_median_s", "sla_met_share")

NOT_JUDGED = "cannot be judged: "
NO_CRM_REASON = NOT_JUDGED + "no CRM data"
Tone = Literal["neutral", "good", "bad"]


def layout(**query: Any) -> html.Div:
    settings = state.settings()
    locale = state.locale()
    setup = fmt.money(settings.cost.pilot_setup_eur, locale)
    return html.Div([
        components.page_header("Pilot", "Does Twitter support pay off, are customers more satisfied, "
                                        "and are we fast enough?"),
        filter_bar(query),
        query_store(ids.PILOT_QUERY, query),
        components.loading(html.Div(id=ids.PILOT_ECONOMICS_KPIS, className="mb-2", style={"minHeight": "120px"})),
        components.loading(html.Div(id=ids.PILOT_KPIS, className="mb-2", style={"minHeight": "120px"})),
        html.H5("Does the pilot pay off?", className="mt-3"),
        components.card("In plain words: the pilot's economics",
                        [components.loading(html.Div(id=ids.PILOT_ECONOMICS_ANSWER)), glossary(locale)]),
        dbc.Row([
            dbc.Col(components.card(
                "Net benefit per month and the running balance",
                components.loading(components.graph(ids.PILOT_PAYBACK)),
                subtitle=f"bars: each month's net benefit (hatched: a partial month); line: the running balance, "
                         f"starting at minus the set-up cost of {setup}, so set-up cost included"), lg=8),
            dbc.Col(components.card("How sure: other deflection shares",
                                    components.loading(html.Div(id=ids.PILOT_SENSITIVITY)),
                                    subtitle="net benefit over the pilot months, set-up cost not included"), lg=4),
        ]),
        dbc.Row([
            dbc.Col(components.card(
                "Did the hotline get lighter after the launch?",
                [components.loading(html.Div(id=ids.PILOT_HOTLINE_NOTE)),
                 components.loading(components.graph(ids.PILOT_HOTLINE))],
                subtitle="weekly hotline cases against the pre-launch trend carried on (interrupted time series)"),
                lg=7),
            dbc.Col(components.card("Cost per case by channel", components.loading(html.Div(id=ids.PILOT_COST)),
                                    subtitle="Twitter in blue, the hotline in orange; all months of the selection "
                                             "(the cost card above compares the pilot months only)"),
                    lg=5),
        ]),
        components.card(
            "Staffing what-if: a Twitter desk staffed to the SLA",
            dbc.Row([
                dbc.Col(components.loading(html.Div(id=ids.PILOT_STAFFING)), lg=6),
                dbc.Col([html.Div("Agents needed on the desk at today's volume", className="small fw-semibold"),
                         components.loading(components.graph(ids.PILOT_STAFFING_HEATMAP, 260))], lg=6),
            ]),
            subtitle="Erlang C at today's volume and more"),
        html.H5("Are customers satisfied, and are we fast enough?", className="mt-3"),
        dbc.Row([
            dbc.Col(components.card("In plain words: service",
                                    [components.loading(html.Div(id=ids.PILOT_VERDICTS)), glossary(locale)]), lg=7),
            dbc.Col(components.card("Published yardsticks beside our numbers",
                                    components.loading(html.Div(id=ids.PILOT_YARDSTICKS))), lg=5),
        ]),
        dbc.Row([
            dbc.Col(components.card("Threads per week and the next four", components.loading(
                components.graph(ids.PILOT_VOLUME)), subtitle="complete weeks; band: 95 % prediction interval"
                if locale == "de" else "complete weeks; band: 95% prediction interval"), lg=6),
            dbc.Col(components.card("Speed per week", components.loading(components.graph(ids.PILOT_SPEED)),
                                    subtitle="first response medians and the share answered within the SLA"), lg=6),
        ]),
    ])


# ---- words from the model -------------------------------------------------------------------------

def glossary(locale: fmt.Locale) -> html.Details:
    """The statistical words the sentences use, in plain words, one click away (metrics.stats.GLOSSARY)."""
    return html.Details([
        html.Summary("What the words mean", className="small text-muted"),
        html.Dl([part for term, words in GLOSSARY
                 for part in (html.Dt(localized(term, locale), className="small mb-0"),
                              html.Dd(localized(words, locale), className="small text-muted mb-1"))],
                className="mb-0 mt-1"),
    ], className="mt-2")


# One pass over a model sentence: an ISO day, or a number with an optional sign, fraction and unit
# (a percent sign or " EUR"). One pass, so a rewritten number is never read a second time.
_TOKEN = re.compile(r"(?P<day>\b\d{4}-\d{2}-\d{2}\b)"
                    r"|(?<![\d.,])(?P<sign>[+-]?)(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?P<fraction>\.\d+)?"
                    r"(?P<unit>%| EUR\b)?")


def localized(text: str, locale: fmt.Locale) -> str:
    """A sentence written by ``metrics`` (numbers in English format) in the page's one number format.

    The model's sentences (the ITS verdict, the staffing lines, the projection) format their numbers
    the English way and write money as "18,175 EUR"; under ``de`` that would read as eighteen euros,
    and beside a card's "18.175 €" (or "€18,175" in English) it is a second format. Each grouped or
    decimal number, percentage, amount of money and ISO day is re-written through
    :mod:`carepulse.dashboard.formatting`; plain integers (years, weeks, hours) read alike in both and stay.
    """
    def token(match: re.Match[str]) -> str:
        if match.group("day"):
            return fmt.day(date.fromisoformat(match.group("day")), locale)
        sign, whole, fraction, unit = (match.group("sign"), match.group("whole"), match.group("fraction") or "",
                                       match.group("unit") or "")
        digits = max(len(fraction) - 1, 0)
        amount = float(whole.replace(",", "") + fraction)
        if unit == " EUR":
            signed = -amount if sign == "-" else amount
            return ("+" if sign == "+" and amount else "") + fmt.money(signed, locale, digits)
        if locale == "en":
            return match.group(0)
        body = fmt.number(amount, locale, digits) if "," in whole or fraction else whole
        return sign + body + ("\u202f%" if unit == "%" else "")

    return _TOKEN.sub(token, text)


def _words(reason: str) -> str:
    """A model's reason without its "cannot be judged: " lead, to follow a subject of our own."""
    return reason[len(NOT_JUDGED):] if reason.startswith(NOT_JUDGED) else reason


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def no_crm(view: PilotView) -> bool:
    """No CRM export loaded at all (not merely none in the selection): only then is loading it the advice."""
    return (view.pilot.reason or "").startswith(NO_CRM_REASON)


def _plain_number(value: float, locale: fmt.Locale) -> str:
    """A setting as written: 3 stays "3", 2.5 reads "2,5" / "2.5"."""
    return fmt.number(value, locale, 0 if float(value).is_integer() else 1)


def _setup(view: PilotView) -> float:
    return float(view.assumptions["pilot_setup_eur"])


def _hotline(view: PilotView) -> str:
    return str(view.assumptions["hotline_channel"])


def period_words(pilot: Pilot, locale: fmt.Locale) -> str:
    """The pilot months, with the partial ones named: "May 2026 to Nov 2026 (May 2026 and Nov 2026 partial)"."""
    if not pilot.months:
        return "no pilot month"
    first, last = month_label(pilot.months[0].month, locale), month_label(pilot.months[-1].month, locale)
    span = first if first == last else f"{first} to {last}"
    partial = [month_label(m.month, locale) for m in pilot.months if m.partial]
    if partial:
        named = partial[0] if len(partial) == 1 else ", ".join(partial[:-1]) + " and " + partial[-1]
        span += f" ({named} partial)"
    return span


def _projection_range(view: PilotView, locale: fmt.Locale) -> str:
    projection = view.projection
    until = (month_label(projection.high, locale) if projection.high else
             f"later than {view.assumptions.get('projection_months', '?')} months from now")
    return f"{fmt.percent(0.95, locale)} range {month_label(projection.low, locale)} to {until}"


def _balance_words(pilot: Pilot, locale: fmt.Locale) -> str:
    last = pilot.months[-1]
    return f"balance {fmt.money(last.cumulative_eur, locale)} at the end of {month_label(last.month, locale)}"


def _since_when(view: PilotView, locale: fmt.Locale) -> str:
    pilot, projection = view.pilot, view.projection
    setup = fmt.money(_setup(view), locale)
    if pilot.payback_month:
        return f"Counting the set-up cost of {setup}, it paid back in {month_label(pilot.payback_month, locale)}."
    if pilot.payback_reason:  # the net benefit is there, payback is not judged (a slice, or a later start date)
        return _capital(localized(pilot.payback_reason, locale)) + "."
    head = f"Counting the set-up cost of {setup}, it has not paid back yet ({_balance_words(pilot, locale)})"
    if projection.month:
        return (f"{head}; at the forecast volume it is projected to pay back in "
                f"{month_label(projection.month, locale)} ({_projection_range(view, locale)}).")
    sentence = localized(projection.sentence, locale)
    return f"{head} and is {sentence}." if sentence.startswith("not projected") else f"{head}; {sentence}."


def _how_sure(view: PilotView, locale: fmt.Locale) -> str | None:
    pilot = view.pilot
    share = pilot.breakeven_share
    if share is None:
        return None
    assumed = fmt.percent(pilot.deflection, locale)
    if share > 1:
        return (f"It pays off only if more than {fmt.percent(share, locale)} of Twitter cases replaced a call: "
                "it cannot break even on hotline savings alone.")
    if share <= 0:
        return ("It pays off at any deflection share: the hotline fixed costs it cuts cover Twitter's cost "
                f"(assumed share: {assumed}).")
    return (f"It pays off as long as more than {fmt.percent(share, locale)} of Twitter cases would otherwise have "
            f"called the hotline (assumed: {assumed}).")


def assumptions_line(view: PilotView, locale: fmt.Locale) -> str:
    """The cost model's assumptions in one line, from the settings the figures were computed with."""
    a = view.assumptions
    channels = a["channels"]
    hotline = _hotline(view)
    twitter, line = channels["twitter"], channels.get(hotline) or channels["other"]
    return (f"Assumptions ([cost] in carepulse.toml): {fmt.percent(a['deflection_share'], locale)} of Twitter cases "
            f"would otherwise have called the hotline; an agent hour costs "
            f"{fmt.money(twitter['hourly_cost_eur'], locale, 2)} on Twitter and "
            f"{fmt.money(line['hourly_cost_eur'], locale, 2)} on the {hotline} hotline; Twitter's fixed "
            f"costs are {fmt.money(twitter['fixed_monthly_eur'], locale)} a month; hotline fixed costs cut by the "
            f"pilot: {fmt.money(a['hotline_fixed_avoided_monthly_eur'], locale)} a month; set-up "
            f"{fmt.money(a['pilot_setup_eur'], locale)}; a Twitter thread without a CRM case counts "
            f"{_plain_number(a['minutes_per_brand_tweet'], locale)} min per brand reply and "
            f"{_plain_number(a['minutes_per_dm_case'], locale)} min per DM hand-off.")


def economics_sentences(view: PilotView, locale: fmt.Locale) -> list[str]:
    """Does it pay off, since when, how sure, what the hotline's data says, under which assumptions.

    Three to five sentences a manager reads top to bottom. Every number is the model's, formatted by
    the locale; where the model withholds a figure its reason is said instead (never a made-up 0).
    """
    pilot = view.pilot
    out: list[str] = []
    if pilot.net_eur is None:
        out.append(f"Whether the Twitter pilot pays off cannot be judged: "
                   f"{localized(_words(pilot.reason or 'no pilot figures for this selection'), locale)}.")
    else:
        net = pilot.net_eur
        span = period_words(pilot, locale)
        if net > 0:
            lead = (f"It pays off: from {span} the Twitter pilot saved {fmt.money(net, locale)} more hotline time "
                    "than it cost")
        elif net < 0:
            lead = (f"It does not pay off so far: from {span} the Twitter pilot cost {fmt.money(-net, locale)} "
                    "more than the hotline time it saved")
        else:
            lead = f"It breaks even: from {span} the Twitter pilot saved as much hotline time as it cost"
        out.append(f"{lead} (net benefit {fmt.money(net, locale)} at the assumed deflection share of "
                   f"{fmt.percent(pilot.deflection, locale)}; the set-up cost of {fmt.money(_setup(view), locale)} "
                   "is not in this figure).")
        out.append(_since_when(view, locale))
        sure = _how_sure(view, locale)
        if sure:
            out.append(sure)
    verdict = view.hotline_change.verdict
    if not verdict or verdict.startswith(NOT_JUDGED):
        out.append("Whether the hotline got lighter after the Twitter launch cannot be judged: "
                   f"{localized(_words(verdict or 'no estimate'), locale)}.")
    else:
        out.append(f"What the hotline's own numbers say: {localized(verdict, locale)}")
    out.append(assumptions_line(view, locale))
    return out


def filter_note(view: PilotView) -> str | None:
    """Why a filtered slice's figures are not simply "the pilot, smaller": how costs are split."""
    if not view.filtered:
        return None
    return ("A filter is set: fixed costs are allocated to this slice by its share of handled minutes, and the "
            "hotline is valued over the calls that match the date and category filters (account, team and channel "
            "describe who answered on Twitter, not who would have called).")


# ---- economics: cards, answer, sensitivity, staffing ------------------------------------------------

def net_card(view: PilotView, locale: fmt.Locale) -> dbc.Card:
    pilot = view.pilot
    title = "Net benefit of the pilot"
    if pilot.net_eur is None:
        return components.kpi(title, "cannot be judged", comparison=localized(_words(pilot.reason or ""), locale),
                              kpi_id="kpi-benefit")
    net = pilot.net_eur
    tone: Tone = "good" if net > 0 else "bad" if net < 0 else "neutral"
    return components.kpi(
        title, fmt.money(net, locale),
        comparison=f"{period_words(pilot, locale)}, at {fmt.percent(pilot.deflection, locale)} deflection",
        detail="hotline time saved minus Twitter's cost; set-up cost not included", tone=tone, kpi_id="kpi-benefit")


def payback_card(view: PilotView, locale: fmt.Locale) -> dbc.Card:
    pilot, projection = view.pilot, view.projection
    title = "Payback"
    setup = f"set-up cost of {fmt.money(_setup(view), locale)} included"
    if pilot.payback_month:
        paid = month_label(pilot.payback_month, locale)
        return components.kpi(title, paid, comparison=f"paid back in {paid}, {setup}", tone="good",
                              kpi_id="kpi-payback")
    if pilot.net_eur is None:
        return components.kpi(title, "cannot be judged", comparison=localized(_words(pilot.reason or ""), locale),
                              kpi_id="kpi-payback")
    if pilot.payback_reason:
        return components.kpi(title, "not judged", comparison=localized(pilot.payback_reason, locale),
                              kpi_id="kpi-payback")
    balance = f"{_balance_words(pilot, locale)}, {setup}"
    if projection.month:
        return components.kpi(title, f"{month_label(projection.month, locale)}, projected",
                              comparison=f"not yet paid back; projected from the volume forecast "
                                         f"({_projection_range(view, locale)})", detail=balance,
                              kpi_id="kpi-payback")
    return components.kpi(title, "not paid back", comparison=localized(projection.sentence, locale), detail=balance,
                          tone="bad", kpi_id="kpi-payback")


def cost_card(view: PilotView, locale: fmt.Locale) -> dbc.Card:
    """Twitter's and the hotline's full cost per case with their case counts, and the hotline's variable
    cost per case: the part a deflected call saves (its fixed costs stay)."""
    pilot = view.pilot
    hotline = _hotline(view)
    twitter, line = pilot.twitter, pilot.hotline
    months = sorted(line.months)
    when = f", {month_label(months[0], locale)} to {month_label(months[-1], locale)}" if months else ""

    def interval(which: str) -> str:
        low, high = view.cost_intervals.get(which, (None, None))
        if low is None or high is None:
            return " (no interval: fewer than two cases with handled minutes)"
        return f" ({fmt.ci_label(locale)} {fmt.money(low, locale, 2)} to {fmt.money(high, locale, 2)})"

    comparison = (f"Twitter: {fmt.number(twitter.cases, locale)} cases{interval('twitter')}; {hotline} (hotline): "
                  f"{fmt.number(line.cases, locale)} cases{interval('hotline')}{when}")
    if pilot.hotline_cpc is None:
        detail = f"{hotline} (hotline): {localized(_words(pilot.reason or 'no cases in this selection'), locale)}"
    else:
        detail = (f"a deflected call saves the hotline's variable cost: {fmt.money(pilot.hotline_cpc, locale, 2)} "
                  "per case (handled time; its fixed costs stay)")
    value = f"{fmt.money(twitter.cost_per_case, locale, 2)} vs {fmt.money(line.cost_per_case, locale, 2)}"
    return components.kpi("Cost per case, Twitter vs hotline", value, comparison=comparison, detail=detail,
                          kpi_id="kpi-cost")


def economics_cards(view: PilotView, locale: fmt.Locale) -> dbc.Row:
    cards = [net_card(view, locale), payback_card(view, locale), cost_card(view, locale)]
    return dbc.Row([dbc.Col(c, xs=12, md=4, className="mb-2") for c in cards], className="g-2")


def answer_block(view: PilotView, locale: fmt.Locale) -> html.Div:
    """The plain-words answer: the sentences, then the filter note and the assumptions in small print."""
    *answer, assumptions = economics_sentences(view, locale)
    body: list[Any] = []
    if no_crm(view):
        body.append(components.empty_state(components.NO_CRM + ": the hotline's cost per case comes from the CRM "
                                           "export", components.CRM_COMMAND))
    body += [html.P(s, className="mb-1" + (" fw-semibold" if n == 0 else "")) for n, s in enumerate(answer)]
    note = filter_note(view)
    if note:
        body.append(html.Div(note, className="small text-primary mt-2"))
    body.append(html.Div(assumptions, className="small text-muted mt-2"))
    return html.Div(body)


def sensitivity_table(view: PilotView, locale: fmt.Locale) -> Any:
    """Net benefit at each share of ``deflection_sensitivity``, the configured share highlighted, and the
    break-even share: how much of the answer rests on a share nobody knows exactly."""
    pilot = view.pilot
    if not pilot.sensitivity:
        return components.empty_state(_capital(localized(_words(pilot.reason or "no pilot figures"), locale)))
    rows = dict(pilot.sensitivity)
    if pilot.net_eur is not None and not any(abs(s - pilot.deflection) < 1e-9 for s in rows):
        rows[pilot.deflection] = pilot.net_eur  # the configured share, when the sensitivity list leaves it out
    body = []
    for share, net in sorted(rows.items()):
        assumed = abs(share - pilot.deflection) < 1e-9
        colour = "text-success" if net > 0 else "text-danger" if net < 0 else ""
        body.append(html.Tr([
            html.Td(fmt.percent(share, locale) + (" (assumed)" if assumed else "")),
            html.Td(fmt.money(net, locale), className=f"text-end {colour}"),
        ], className="table-primary fw-semibold" if assumed else None))
    breakeven = pilot.breakeven_share
    body.append(html.Tr([html.Td("break-even share"),
                         html.Td(fmt.percent(breakeven, locale) if breakeven is not None else fmt.MISSING,
                                 className="text-end")], className="border-top"))
    table = dbc.Table([html.Thead(html.Tr([html.Th("deflection share"), html.Th("net benefit", className="text-end")])),
                       html.Tbody(body)], size="sm", className="mb-1 small")
    return html.Div([table, html.Div("Deflection share: the share of Twitter cases that would otherwise have "
                                     "called the hotline.", className="small text-muted")])


def _factor(factor: float, locale: fmt.Locale) -> str:
    return "x" + _plain_number(factor, locale) + (" (today)" if factor == 1 else "")


def _peak(s: Scenario) -> str:
    if s.peak_weekday is None or s.peak_hour is None:
        return str(s.peak_agents)
    return f"{s.peak_agents} ({WEEKDAY_NAMES[s.peak_weekday]} {s.peak_hour:02d}:00)"


def staffing_table(staffing: Staffing, locale: fmt.Locale) -> Any:
    """One row per volume factor: FTE, desk hours a week, cost a month (the plan's weekly cost over the
    same weeks per month as the staffing sentences), peak agents."""
    plan = staffing.plan
    if plan is None:
        return components.empty_state(_capital(localized(_words(staffing.summary), locale)))
    head = html.Thead(html.Tr([html.Th("volume"), html.Th("FTE", className="text-end"),
                               html.Th("desk hours a week", className="text-end"),
                               html.Th("cost a month", className="text-end"),
                               html.Th("peak agents", className="ps-3")]))
    rows = [html.Tr([html.Td(_factor(s.factor, locale)), html.Td(fmt.number(s.fte, locale, 1), className="text-end"),
                     html.Td(fmt.number(s.desk_hours, locale), className="text-end"),
                     html.Td(fmt.money(s.cost_eur * WEEKS_PER_MONTH, locale), className="text-end"),
                     html.Td(_peak(s), className="ps-3")]) for s in plan.scenarios]
    return dbc.Table([head, html.Tbody(rows)], size="sm", className="mb-1 small")


def staffing_assumptions(staffing: Staffing, locale: fmt.Locale) -> str | None:
    plan = staffing.plan
    if plan is None:
        return None
    weeks = staffing.arrivals.weeks
    return (f"Assumptions ([staffing] in carepulse.toml): {fmt.percent(plan.target_share, locale)} of threads answered "
            f"within the SLA of {fmt.duration(plan.target_seconds, locale)}; agents at most "
            f"{fmt.percent(plan.max_occupancy, locale)} busy; {fmt.percent(plan.shrinkage, locale)} shrinkage (breaks, "
            f"training, absence); {_plain_number(plan.hours_per_fte, locale)} paid hours a week per FTE; "
            f"{fmt.duration(plan.aht_seconds, locale)} of handling per Twitter case; an agent hour "
            f"{fmt.money(plan.hourly_cost_eur, locale, 2)}; volumes: mean of the last {fmt.number(weeks, locale)} "
            f"complete week{'s' if weeks != 1 else ''}.")


_LEADING_FACTOR = re.compile(r"^x[\d.]+:\s*")  # the row names the factor already


def staffing_block(staffing: Staffing, locale: fmt.Locale) -> html.Div:
    body: list[Any] = [staffing_table(staffing, locale)]
    if staffing.plan is not None:
        body.append(html.Ul([html.Li(f"{_factor(s.factor, locale)}: "
                                     + localized(_LEADING_FACTOR.sub("", staffing.sentences[s.factor]), locale))
                             for s in staffing.plan.scenarios if s.factor in staffing.sentences],
                            className="small mb-1 ps-3"))
        body.append(html.Div(staffing_assumptions(staffing, locale), className="small text-muted"))
    return html.Div(body)


def today_scenario(staffing: Staffing) -> Scenario | None:
    """The scenario at today's volume (x1), else the first one asked for."""
    if staffing.plan is None:
        return None
    try:
        return staffing.plan.scenario(1.0)
    except KeyError:
        return staffing.plan.scenarios[0]


# ---- service: cards, verdicts, yardsticks ----------------------------------------------------------

def _total(head: dict[str, Any], name: str) -> Any:
    return head["total"].get(name)


def _ci(head: dict[str, Any], name: str) -> tuple[Any, Any]:
    return head["total"].get(f"{name}_ci_low"), head["total"].get(f"{name}_ci_high")


def _verdict(head: dict[str, Any], label: str) -> str | None:
    for sentence in head.get("verdicts", []):
        if sentence.startswith(label + ":"):
            return sentence[len(label) + 1:].strip()
    return None


def kpi_cards(head: dict[str, Any], by_channel: dict[str, Any], locale: fmt.Locale, hotline: str) -> dbc.Row:
    """Four cards: satisfaction, resolution, response, speed (the economics have their own row)."""
    diff = _total(head, "csat_diff_twitter_hotline")
    low, high = _ci(head, "csat_diff_twitter_hotline")
    csat_sentence = _verdict(head, "CSAT: Twitter minus hotline") or ""
    # The verdict sentence is the one authority on "clear": it allows for the other comparisons shown
    # together (Holm), which the interval alone does not.
    clear = "a real difference" in csat_sentence
    # The card rounds as the sentence does (metrics.stats.decimals), so both print the same numbers.
    digits = (decimals(1, diff, clear=clear, low=low, high=high)
              if diff is not None and low is not None and high is not None else 2)
    csat = components.kpi(
        "CSAT, Twitter minus hotline",
        fmt.points(diff, locale, digits) + " points" if diff is not None else fmt.MISSING,
        comparison=(f"{fmt.ci_label(locale)} {fmt.points(low, locale, digits)} to {fmt.points(high, locale, digits)}"
                    if low is not None else csat_sentence),
        detail=("a real difference among survey respondents" if clear else "no clear difference")
        if low is not None else None,
        tone="neutral" if not clear or diff is None else "good" if diff > 0 else "bad", kpi_id="kpi-csat")

    def rate(channel: str) -> tuple[str, str]:
        group = by_channel["groups"].get(channel, {})
        lo, hi = group.get("resolution_rate_ci_low"), group.get("resolution_rate_ci_high")
        interval = (f"{fmt.ci_label(locale)} {fmt.percent(lo, locale, 1)} to {fmt.percent(hi, locale, 1)}"
                    if lo is not None else "")
        return fmt.percent(group.get("resolution_rate"), locale, 1), interval

    tw_rate, tw_interval = rate("twitter")
    ho_rate, ho_interval = rate(hotline)
    resolution = components.kpi("Resolution rate, Twitter", tw_rate, comparison=tw_interval,
                                detail=f"{hotline}: {ho_rate}" + (f" ({ho_interval})" if ho_interval else ""),
                                kpi_id="kpi-resolution")

    answered, threads = _total(head, "answered_threads"), _total(head, "threads")
    sla_met = fmt.percent(_total(head, "sla_met_share"), locale, 1)
    response = components.kpi("Response rate", fmt.percent(_total(head, "response_rate"), locale, 1),
                              comparison=f"{fmt.number(answered, locale)} of {fmt.number(threads, locale)} threads "
                                         "answered", detail=f"within the SLA: {sla_met}", kpi_id="kpi-response")

    km = _total(head, "first_response_km_median_s")
    waiting = (f"{fmt.duration(km, locale)} counting the threads still waiting" if km
               else "not reached counting the threads still waiting (more than half wait)")
    speed = components.kpi("First response, median", fmt.duration(_total(head, "first_response_median_s"), locale),
                           comparison=waiting,
                           detail="the median over answered threads; with the waiting ones: the Kaplan-Meier "
                                  "median, the time by which half of all threads are answered",
                           kpi_id="kpi-speed")
    cards = [csat, resolution, response, speed]
    return dbc.Row([dbc.Col(c, xs=12, sm=6, xl=3, className="mb-2") for c in cards], className="g-2")


def verdict_list(head: dict[str, Any], locale: fmt.Locale = "en") -> html.Ul | dbc.Alert:
    """The statistics' sentences, their numbers in the locale's format (one number format per page)."""
    sentences = [localized(s, locale) for s in head.get("verdicts", []) if s]
    if not sentences:
        return components.empty_state("No statements for this selection")
    return html.Ul([html.Li(s) for s in sentences], className="mb-0 small")


def answered_within(histogram: Any, seconds: float) -> float | None:
    """Share of all threads (waiting ones included) answered within ``seconds``, from the histogram bins."""
    if histogram.empty or not histogram["threads"].sum():
        return None
    inside = histogram[(histogram["upper_s"].notna()) & (histogram["upper_s"] <= seconds)]["threads"].sum()
    return float(inside) / float(histogram["threads"].sum())


def yardstick_rows(histogram: Any, locale: fmt.Locale) -> html.Div:
    items = []
    for y in YARDSTICKS:
        ours = answered_within(histogram, y.within_seconds)
        items.append(html.Div([
            html.Div(y.claim, className="small"),
            html.Div(y.source, className="small text-muted fst-italic"),
            html.Div(f"Ours: {fmt.percent(ours, locale, 1)} of threads answered within "
                     f"{fmt.duration(y.within_seconds, locale)} (waiting threads count as not answered).",
                     className="small fw-semibold"),
        ], className="mb-2 border-start border-3 ps-2"))
    return html.Div(items)


# ---- callbacks --------------------------------------------------------------------------------------

def _view(data: dict[str, Any] | None) -> PilotView:
    """The selection's economics, read once per warehouse snapshot and shared by every economics callback."""
    return state.load(pilot_view, filters_from_store(data))


@dash.callback(
    Output(ids.PILOT_KPIS, "children"),
    Output(ids.PILOT_VERDICTS, "children"),
    Output(ids.PILOT_YARDSTICKS, "children"),
    Input(ids.PILOT_QUERY, "data"),
)
def show_headline(data: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    if not state.warehouse_exists():
        message = components.empty_state(components.NO_WAREHOUSE, "carepulse demo (or carepulse ingest ...)")
        return message, None, None
    filters = filters_from_store(data)
    locale = state.locale()
    head = state.load(engine.headline, HEADLINE, None, filters, ci=True)
    by_channel = state.load(engine.headline, HEADLINE_BY_CHANNEL, "channel", filters, ci=True)
    histogram = state.load(views.first_response_histogram, filters)
    kpis: list[Any] = [kpi_cards(head, by_channel, locale, state.settings().hotline_channel)]
    if not _total(head, "cases"):
        if state.load(data_views.warehouse_summary)["crm_cases"]:
            kpis.append(components.empty_state("No CRM cases in this selection: satisfaction and resolution need "
                                               "CRM cases"))
        else:
            kpis.append(components.empty_state(components.NO_CRM + ": satisfaction and resolution need CRM cases",
                                               components.CRM_COMMAND))
    return html.Div(kpis), verdict_list(head, locale), yardstick_rows(histogram, locale)


@dash.callback(
    Output(ids.PILOT_ECONOMICS_KPIS, "children"),
    Output(ids.PILOT_ECONOMICS_ANSWER, "children"),
    Output(ids.PILOT_PAYBACK, "figure"),
    Output(ids.PILOT_SENSITIVITY, "children"),
    Input(ids.PILOT_QUERY, "data"),
)
def show_economics(data: dict[str, Any] | None) -> tuple[Any, Any, figures.Figure, Any]:
    if not state.warehouse_exists():
        nothing = components.NO_WAREHOUSE
        return None, components.empty_state(nothing), figures.empty_figure(nothing), None
    view = _view(data)
    locale = state.locale()
    return (economics_cards(view, locale), answer_block(view, locale),
            payback_chart(view.pilot, view.projection, _setup(view), locale), sensitivity_table(view, locale))


@dash.callback(
    Output(ids.PILOT_HOTLINE, "figure"),
    Output(ids.PILOT_HOTLINE_NOTE, "children"),
    Input(ids.PILOT_QUERY, "data"),
)
def show_hotline(data: dict[str, Any] | None) -> tuple[figures.Figure, Any]:
    if not state.warehouse_exists():
        return figures.empty_figure(components.NO_WAREHOUSE), None
    view = _view(data)
    locale = state.locale()
    verdict = localized(view.hotline_change.verdict, locale)
    if view.its is None or view.its.value is None:
        note = components.empty_state("No estimate: " + _words(verdict))
        return hotline_chart(view.its, "No estimate for this selection (see above)", locale), note
    return hotline_chart(view.its, verdict, locale), html.Div(verdict, className="small mb-1")


@dash.callback(
    Output(ids.PILOT_STAFFING, "children"),
    Output(ids.PILOT_STAFFING_HEATMAP, "figure"),
    Input(ids.PILOT_QUERY, "data"),
)
def show_staffing(data: dict[str, Any] | None) -> tuple[Any, figures.Figure]:
    if not state.warehouse_exists():
        return None, figures.empty_figure(components.NO_WAREHOUSE)
    view = _view(data)
    locale = state.locale()
    reason = _capital(localized(_words(view.staffing.summary), locale))
    return staffing_block(view.staffing, locale), staffing_heatmap(today_scenario(view.staffing), reason, locale)


@dash.callback(Output(ids.PILOT_VOLUME, "figure"), Input(ids.PILOT_QUERY, "data"))
def show_volume(data: dict[str, Any] | None) -> figures.Figure:
    frame = state.load(views.weekly_series, filters_from_store(data))
    return figures.weekly_volume(frame, state.locale(), frame.attrs.get("forecast_verdict"))


@dash.callback(Output(ids.PILOT_SPEED, "figure"), Input(ids.PILOT_QUERY, "data"))
def show_speed(data: dict[str, Any] | None) -> figures.Figure:
    frame = state.load(engine.query, SPEED, "week", filters_from_store(data))
    return figures.speed_over_time(frame, state.locale(), state.settings().sla_minutes)


@dash.callback(Output(ids.PILOT_COST, "children"), Input(ids.PILOT_QUERY, "data"))
def show_cost(data: dict[str, Any] | None) -> Any:
    """Cost per case by channel from the same ledger as the economics (no second read of the warehouse)."""
    view = _view(data)
    locale = state.locale()
    settings = state.settings()
    if no_crm(view):
        return components.empty_state(components.NO_CRM + ": cost per case needs CRM cases", components.CRM_COMMAND)
    frame = channel_frame(view)
    if frame.empty or frame["cost_per_case"].isna().all():
        return components.empty_state("No cost per case in this selection")
    cost = settings.cost
    channels = frame["channel"].tolist()
    assumptions = [
        f"{channel}: {fmt.money(c.hourly_cost_eur, locale)} per agent hour, {fmt.money(c.fixed_monthly_eur, locale)} "
        f"fixed per month, {fmt.number(c.default_handled_minutes, locale)} min per case without handled minutes"
        for channel, c in cost.channels.items() if channel in set(channels)
    ]
    assumptions.append(f"Twitter threads without a CRM case: {fmt.number(cost.minutes_per_brand_tweet, locale)} min "
                       f"per brand tweet, {fmt.number(cost.minutes_per_dm_case, locale)} min more when handed to "
                       f"DM; pilot set-up {fmt.money(cost.pilot_setup_eur, locale)}.")
    missing = []
    if settings.hotline_channel not in set(frame.dropna(subset=["cost_per_case"])["channel"]):
        missing.append(components.empty_state(
            f"No {settings.hotline_channel} (hotline) cases in this selection to compare with"))
    return html.Div([
        *missing, components.graph_figure(figures.cost_per_case(frame, locale, settings.hotline_channel), 220),
        html.Div("Assumptions (carepulse.toml, [cost])", className="small fw-semibold"),
        html.Ul([html.Li(a) for a in assumptions], className="small mb-0"),
    ])


def channel_frame(view: PilotView) -> Any:
    """One row per channel of the ledger: cases costed and cost per case (what the bar chart draws)."""
    import pandas as pd

    rows = [{"channel": ch, "cases": line.cases, "cost_per_case": line.cost_per_case}
            for ch, line in view.channels.items()]
    return pd.DataFrame(rows, columns=["channel", "cases", "cost_per_case"])


def warm_up() -> None:
    """The unfiltered page's data, loaded at start before the server listens (see dashboard.app.serve):
    the layout (its filter options) and every callback of the page at once, as the browser asks for them."""
    shows = (show_headline, show_economics, show_hotline, show_staffing, show_volume, show_speed, show_cost)
    state.run_at_once([layout, *(functools.partial(show, {}) for show in shows)])
