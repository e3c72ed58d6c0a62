"""The Pilot page's cards and tables: economics (net benefit, payback, cost per case, sensitivity,
staffing) and service (satisfaction, resolution, response, speed, yardsticks). Pure builders: no
warehouse reads, no callbacks (those stay in ``pages/pilot.py``)."""

from __future__ import annotations

import re
from typing import Any, Literal

import dash_bootstrap_components as dbc
from dash import html

from carepulse.core.text import Text
from carepulse.dashboard import components
from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.economics_figures import month_label
from carepulse.dashboard.i18n import N_, _
from carepulse.dashboard.pilot_words import (
    balance_words,
    bare_reason,
    capital,
    economics_sentences,
    filter_note,
    hotline_channel,
    localized,
    no_crm,
    period_words,
    plain_number,
    projection_range,
    setup_cost,
)
from carepulse.dashboard.yardsticks import YARDSTICKS
from carepulse.metrics.costs import WEEKS_PER_MONTH
from carepulse.metrics.hotline_evidence import Staffing
from carepulse.metrics.pilot_view import PilotView
from carepulse.metrics.staffing import WEEKDAY_NAMES, Scenario
from carepulse.metrics.stats import decimals
from carepulse.metrics.views import answered_within

Tone = Literal["neutral", "good", "bad"]


def net_card(view: PilotView, locale: fmt.Locale) -> dbc.Card:
    pilot = view.pilot
    title = _("Net benefit of the pilot", locale)
    if pilot.net_eur is None:
        return components.kpi(title, _("cannot be judged", locale),
                              comparison=localized(bare_reason(pilot.reason or ""), locale), kpi_id="kpi-benefit")
    net = pilot.net_eur
    tone: Tone = "good" if net > 0 else "bad" if net < 0 else "neutral"
    return components.kpi(
        title, fmt.money(net, locale),
        comparison=_("{months}, at {share} deflection", locale).format(
            months=period_words(pilot, locale), share=fmt.percent(pilot.deflection, locale)),
        detail=_("hotline time saved minus Twitter's cost; set-up cost not included", locale), tone=tone,
        kpi_id="kpi-benefit")


def payback_card(view: PilotView, locale: fmt.Locale) -> dbc.Card:
    pilot, projection = view.pilot, view.projection
    title = _("Payback", locale)
    setup = _("set-up cost of {amount} included", locale).format(amount=fmt.money(setup_cost(view), locale))
    if pilot.payback_month:
        paid = month_label(pilot.payback_month, locale)
        return components.kpi(title, paid, comparison=_("paid back in {month}, {setup}", locale).format(
            month=paid, setup=setup), tone="good", kpi_id="kpi-payback")
    if pilot.net_eur is None:
        return components.kpi(title, _("cannot be judged", locale),
                              comparison=localized(bare_reason(pilot.reason or ""), locale), kpi_id="kpi-payback")
    if pilot.payback_reason:
        return components.kpi(title, _("not judged", locale), comparison=localized(pilot.payback_reason, locale),
                              kpi_id="kpi-payback")
    balance = _("{balance}, {setup}", locale).format(balance=balance_words(pilot, locale), setup=setup)
    if projection.month:
        return components.kpi(title, _("{month}, projected", locale).format(
                                  month=month_label(projection.month, locale)),
                              comparison=_("not yet paid back; projected from the volume forecast ({range})",
                                           locale).format(range=projection_range(view, locale)),
                              detail=balance, kpi_id="kpi-payback")
    return components.kpi(title, _("not paid back", locale), comparison=localized(projection.sentence, locale),
                          detail=balance, tone="bad", kpi_id="kpi-payback")


def cost_card(view: PilotView, locale: fmt.Locale) -> dbc.Card:
    """Twitter's and the hotline's full cost per case with their case counts, and the hotline's variable
    cost per case: the part a deflected call saves (its fixed costs stay)."""
    pilot = view.pilot
    hotline = hotline_channel(view)
    twitter, line = pilot.twitter, pilot.hotline
    months = sorted(line.months)
    when = _(", {first} to {last}", locale).format(first=month_label(months[0], locale),
                                                    last=month_label(months[-1], locale)) if months else ""

    def interval(which: str) -> str:
        low, high = view.cost_intervals.get(which, (None, None))
        if low is None or high is None:
            return _(" (no interval: fewer than two cases with handled minutes)", locale)
        return _(" ({ci} {low} to {high})", locale).format(ci=fmt.ci_label(locale), low=fmt.money(low, locale, 2),
                                                           high=fmt.money(high, locale, 2))

    comparison = _("Twitter: {twitter_cases} cases{twitter_interval}; {hotline} (hotline): {hotline_cases} "
                   "cases{hotline_interval}{when}", locale).format(
        twitter_cases=fmt.number(twitter.cases, locale), twitter_interval=interval("twitter"), hotline=hotline,
        hotline_cases=fmt.number(line.cases, locale), hotline_interval=interval("hotline"), when=when)
    if pilot.hotline_cpc is None:
        reason = pilot.reason or Text("no cases in this selection")
        detail = _("{hotline} (hotline): {reason}", locale).format(
            hotline=hotline, reason=localized(bare_reason(reason), locale))
    else:
        detail = _("a deflected call saves the hotline's variable cost: {amount} per case (handled time; its fixed "
                   "costs stay)", locale).format(amount=fmt.money(pilot.hotline_cpc, locale, 2))
    value = _("{twitter} vs {hotline}", locale).format(twitter=fmt.money(twitter.cost_per_case, locale, 2),
                                                       hotline=fmt.money(line.cost_per_case, locale, 2))
    return components.kpi(_("Cost per case, Twitter vs hotline", locale), value, comparison=comparison, detail=detail,
                          kpi_id="kpi-cost")


def economics_cards(view: PilotView, locale: fmt.Locale) -> dbc.Row:
    cards = [net_card(view, locale), payback_card(view, locale), cost_card(view, locale)]
    return dbc.Row([dbc.Col(c, xs=12, md=4, className="mb-2") for c in cards], className="g-2")


def answer_block(view: PilotView, locale: fmt.Locale) -> html.Div:
    """The plain-words answer: the sentences, then the filter note and the assumptions in small print."""
    *answer, assumptions = economics_sentences(view, locale)
    body: list[Any] = []
    if no_crm(view):
        body.append(components.empty_state(_("No CRM data loaded: the hotline's cost per case comes from the CRM "
                                             "export", locale), components.CRM_COMMAND))
    body += [html.P(s, className="mb-1" + (" fw-semibold" if n == 0 else "")) for n, s in enumerate(answer)]
    note = filter_note(view, locale)
    if note:
        body.append(html.Div(note, className="small text-primary mt-2"))
    body.append(html.Div(assumptions, className="small text-muted mt-2"))
    return html.Div(body)


def sensitivity_table(view: PilotView, locale: fmt.Locale) -> Any:
    """Net benefit at each share of ``deflection_sensitivity``, the configured share highlighted, and the
    break-even share: how much of the answer rests on a share nobody knows exactly."""
    pilot = view.pilot
    if not pilot.sensitivity:
        return components.empty_state(capital(localized(bare_reason(pilot.reason or Text("no pilot figures")),
                                                        locale)))
    rows = dict(pilot.sensitivity)
    if pilot.net_eur is not None and not any(abs(s - pilot.deflection) < 1e-9 for s in rows):
        rows[pilot.deflection] = pilot.net_eur  # the configured share, when the sensitivity list leaves it out
    body = []
    for share, net in sorted(rows.items()):
        assumed = abs(share - pilot.deflection) < 1e-9
        colour = "text-success" if net > 0 else "text-danger" if net < 0 else ""
        body.append(html.Tr([
            html.Td(_("{share} (assumed)", locale).format(share=fmt.percent(share, locale)) if assumed
                    else fmt.percent(share, locale)),
            html.Td(fmt.money(net, locale), className=f"text-end {colour}"),
        ], className="table-primary fw-semibold" if assumed else None))
    breakeven = pilot.breakeven_share
    body.append(html.Tr([html.Td(_("break-even share", locale)),
                         html.Td(fmt.percent(breakeven, locale) if breakeven is not None else fmt.MISSING,
                                 className="text-end")], className="border-top"))
    table = dbc.Table([html.Thead(html.Tr([html.Th(_("deflection share", locale)),
                                           html.Th(_("net benefit", locale), className="text-end")])),
                       html.Tbody(body)], size="sm", className="mb-1 small")
    return html.Div([table, html.Div(_("Deflection share: the share of Twitter cases that would otherwise have "
                                       "called the hotline.", locale), className="small text-muted")])


def _factor(factor: float, locale: fmt.Locale) -> str:
    times = "x" + plain_number(factor, locale)
    return _("{factor} (today)", locale).format(factor=times) if factor == 1 else times


# The weekday abbreviations of metrics.staffing.WEEKDAY_NAMES, marked for the catalog.
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
assert len(WEEKDAYS) == len(WEEKDAY_NAMES)


def _peak(s: Scenario, locale: fmt.Locale) -> str:
    if s.peak_weekday is None or s.peak_hour is None:
        return str(s.peak_agents)
    return f"{s.peak_agents} ({_(WEEKDAYS[s.peak_weekday], locale)} {s.peak_hour:02d}:00)"


def staffing_table(staffing: Staffing, locale: fmt.Locale) -> Any:
    """One row per volume factor: FTE, desk hours a week, cost a month (the plan's weekly cost over the
    same weeks per month as the staffing sentences), peak agents."""
    plan = staffing.plan
    if plan is None:
        return components.empty_state(capital(localized(bare_reason(staffing.summary), locale)))
    head = html.Thead(html.Tr([html.Th(_("volume", locale)), html.Th(_("FTE", locale), className="text-end"),
                               html.Th(_("desk hours a week", locale), className="text-end"),
                               html.Th(_("cost a month", locale), className="text-end"),
                               html.Th(_("peak agents", locale), className="ps-3")]))
    rows = [html.Tr([html.Td(_factor(s.factor, locale)), html.Td(fmt.number(s.fte, locale, 1), className="text-end"),
                     html.Td(fmt.number(s.desk_hours, locale), className="text-end"),
                     html.Td(fmt.money(s.cost_eur * WEEKS_PER_MONTH, locale), className="text-end"),
                     html.Td(_peak(s, locale), className="ps-3")]) for s in plan.scenarios]
    return dbc.Table([head, html.Tbody(rows)], size="sm", className="mb-1 small")


def staffing_assumptions(staffing: Staffing, locale: fmt.Locale) -> str | None:
    plan = staffing.plan
    if plan is None:
        return None
    weeks = staffing.arrivals.weeks
    return _("Assumptions ([staffing] in carepulse.toml): {target} of threads answered within the SLA of {sla}; "
             "agents at most {occupancy} busy; {shrinkage} shrinkage (breaks, training, absence); {hours} paid hours "
             "a week per FTE; {aht} of handling per Twitter case; an agent hour {hourly}; volumes: mean of the "
             "complete weeks counted ({weeks}).", locale).format(
        target=fmt.percent(plan.target_share, locale), sla=fmt.duration(plan.target_seconds, locale),
        occupancy=fmt.percent(plan.max_occupancy, locale), shrinkage=fmt.percent(plan.shrinkage, locale),
        hours=plain_number(plan.hours_per_fte, locale), aht=fmt.duration(plan.aht_seconds, locale),
        hourly=fmt.money(plan.hourly_cost_eur, locale, 2), weeks=fmt.number(weeks, locale))


_LEADING_FACTOR = re.compile(r"^x[\d.]+:\s*")  # the row names the factor already


def _without_factor(sentence: str) -> str:
    """The sentence without a leading "x1.5: " (a sentence without one stays the translatable Text it is)."""
    return _LEADING_FACTOR.sub("", sentence) if _LEADING_FACTOR.match(sentence) else sentence


def staffing_block(staffing: Staffing, locale: fmt.Locale) -> html.Div:
    body: list[Any] = [staffing_table(staffing, locale)]
    if staffing.plan is not None:
        body.append(html.Ul([html.Li(f"{_factor(s.factor, locale)}: "
                                     + localized(_without_factor(staffing.sentences[s.factor]), locale))
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

def head_total(head: dict[str, Any], name: str) -> Any:
    return head["total"].get(name)


def _ci(head: dict[str, Any], name: str) -> tuple[Any, Any]:
    return head["total"].get(f"{name}_ci_low"), head["total"].get(f"{name}_ci_high")


def _verdict(head: dict[str, Any], label: str) -> str | None:
    """The verdict on ``label`` (the sentence after "label: "; translatable when the engine made it so)."""
    for sentence in head.get("verdicts", []):
        if sentence.startswith(label + ":"):
            if isinstance(sentence, Text) and sentence.template.startswith("{label}: "):
                inner = sentence.values.get(sentence.template[len("{label}: "):].strip("{}"))
                if isinstance(inner, str):
                    return inner
            return sentence[len(label) + 1:].strip()
    return None


def kpi_cards(head: dict[str, Any], by_channel: dict[str, Any], locale: fmt.Locale, hotline: str) -> dbc.Row:
    """Four cards: satisfaction, resolution, response, speed (the economics have their own row)."""
    diff = head_total(head, "csat_diff_twitter_hotline")
    low, high = _ci(head, "csat_diff_twitter_hotline")
    csat_sentence = _verdict(head, "CSAT: Twitter minus hotline") or ""
    # The verdict sentence is the one authority on "clear": it allows for the other comparisons shown
    # together (Holm), which the interval alone does not.
    clear = "a real difference" in csat_sentence
    # The card rounds as the sentence does (metrics.stats.decimals), so both print the same numbers.
    digits = (decimals(1, diff, clear=clear, low=low, high=high)
              if diff is not None and low is not None and high is not None else 2)
    csat = components.kpi(
        _("CSAT, Twitter minus hotline", locale),
        _("{value} points", locale).format(value=fmt.points(diff, locale, digits)) if diff is not None else fmt.MISSING,
        comparison=(_("{ci} {low} to {high}", locale).format(
                        ci=fmt.ci_label(locale), low=fmt.points(low, locale, digits),
                        high=fmt.points(high, locale, digits))
                    if low is not None else localized(csat_sentence, locale)),
        detail=(_("a real difference among survey respondents", locale) if clear else _("no clear difference", locale))
        if low is not None else None,
        tone="neutral" if not clear or diff is None else "good" if diff > 0 else "bad", kpi_id="kpi-csat")

    def rate(channel: str) -> tuple[str, str]:
        group = by_channel["groups"].get(channel, {})
        lo, hi = group.get("resolution_rate_ci_low"), group.get("resolution_rate_ci_high")
        interval = (_("{ci} {low} to {high}", locale).format(ci=fmt.ci_label(locale), low=fmt.percent(lo, locale, 1),
                                                              high=fmt.percent(hi, locale, 1))
                    if lo is not None else "")
        return fmt.percent(group.get("resolution_rate"), locale, 1), interval

    tw_rate, tw_interval = rate("twitter")
    ho_rate, ho_interval = rate(hotline)
    resolution = components.kpi(_("Resolution rate, Twitter", locale), tw_rate, comparison=tw_interval,
                                detail=f"{hotline}: {ho_rate}" + (f" ({ho_interval})" if ho_interval else ""),
                                kpi_id="kpi-resolution")

    answered, threads = head_total(head, "answered_threads"), head_total(head, "threads")
    sla_met = fmt.percent(head_total(head, "sla_met_share"), locale, 1)
    response = components.kpi(_("Response rate", locale), fmt.percent(head_total(head, "response_rate"), locale, 1),
                              comparison=_("{answered} of {threads} threads answered", locale).format(
                                  answered=fmt.number(answered, locale), threads=fmt.number(threads, locale)),
                              detail=_("within the SLA: {share}", locale).format(share=sla_met), kpi_id="kpi-response")

    km = head_total(head, "first_response_km_median_s")
    waiting = (_("{time} counting the threads still waiting", locale).format(time=fmt.duration(km, locale)) if km
               else _("not reached counting the threads still waiting (more than half wait)", locale))
    speed = components.kpi(_("First response, median", locale),
                           fmt.duration(head_total(head, "first_response_median_s"), locale), comparison=waiting,
                           detail=_("the median over answered threads; with the waiting ones: the Kaplan-Meier "
                                    "median, the time by which half of all threads are answered", locale),
                           kpi_id="kpi-speed")
    cards = [csat, resolution, response, speed]
    return dbc.Row([dbc.Col(c, xs=12, sm=6, xl=3, className="mb-2") for c in cards], className="g-2")


def verdict_list(head: dict[str, Any], locale: fmt.Locale = "en") -> html.Ul | dbc.Alert:
    """The statistics' sentences, their numbers in the locale's format (one number format per page)."""
    sentences = [localized(s, locale) for s in head.get("verdicts", []) if s]
    if not sentences:
        return components.empty_state(_("No statements for this selection", locale))
    return html.Ul([html.Li(s) for s in sentences], className="mb-0 small")


def yardstick_rows(histogram: Any, locale: fmt.Locale) -> html.Div:
    items = []
    for y in YARDSTICKS:
        ours = answered_within(histogram, y.within_seconds)
        items.append(html.Div([
            html.Div(_(y.claim, locale), className="small"),
            html.Div(_(y.source, locale), className="small text-muted fst-italic"),
            html.Div(_("Ours: {share} of threads answered within {time} (waiting threads count as not answered).",
                       locale).format(share=fmt.percent(ours, locale, 1), time=fmt.duration(y.within_seconds, locale)),
                     className="small fw-semibold"),
        ], className="mb-2 border-start border-3 ps-2"))
    return html.Div(items)
