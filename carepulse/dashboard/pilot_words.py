"""The Pilot page's words: the model's sentences in the page's number format, and the plain-words
answer on the pilot's economics (pure functions of a :class:`metrics.pilot_view.PilotView`)."""

from __future__ import annotations

import re
from datetime import date

from dash import html

from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.economics_figures import month_label
from carepulse.metrics.economics import Pilot
from carepulse.metrics.pilot_view import PilotView
from carepulse.metrics.stats import GLOSSARY

NOT_JUDGED = "cannot be judged: "
NO_CRM_REASON = NOT_JUDGED + "no CRM data"


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


def bare_reason(reason: str) -> str:
    """A model's reason without its "cannot be judged: " lead, to follow a subject of our own."""
    return reason[len(NOT_JUDGED):] if reason.startswith(NOT_JUDGED) else reason


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def no_crm(view: PilotView) -> bool:
    """No CRM export loaded at all (not merely none in the selection): only then is loading it the advice."""
    return (view.pilot.reason or "").startswith(NO_CRM_REASON)


def plain_number(value: float, locale: fmt.Locale) -> str:
    """A setting as written: 3 stays "3", 2.5 reads "2,5" / "2.5"."""
    return fmt.number(value, locale, 0 if float(value).is_integer() else 1)


def setup_cost(view: PilotView) -> float:
    return float(view.assumptions["pilot_setup_eur"])


def hotline_channel(view: PilotView) -> str:
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


def projection_range(view: PilotView, locale: fmt.Locale) -> str:
    projection = view.projection
    until = (month_label(projection.high, locale) if projection.high else
             f"later than {view.assumptions.get('projection_months', '?')} months from now")
    return f"{fmt.percent(0.95, locale)} range {month_label(projection.low, locale)} to {until}"


def balance_words(pilot: Pilot, locale: fmt.Locale) -> str:
    last = pilot.months[-1]
    return f"balance {fmt.money(last.cumulative_eur, locale)} at the end of {month_label(last.month, locale)}"


def _since_when(view: PilotView, locale: fmt.Locale) -> str:
    pilot, projection = view.pilot, view.projection
    setup = fmt.money(setup_cost(view), locale)
    if pilot.payback_month:
        return f"Counting the set-up cost of {setup}, it paid back in {month_label(pilot.payback_month, locale)}."
    if pilot.payback_reason:  # the net benefit is there, payback is not judged (a slice, or a later start date)
        return capital(localized(pilot.payback_reason, locale)) + "."
    head = f"Counting the set-up cost of {setup}, it has not paid back yet ({balance_words(pilot, locale)})"
    if projection.month:
        return (f"{head}; at the forecast volume it is projected to pay back in "
                f"{month_label(projection.month, locale)} ({projection_range(view, locale)}).")
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
    hotline = hotline_channel(view)
    twitter, line = channels["twitter"], channels.get(hotline) or channels["other"]
    return (f"Assumptions ([cost] in carepulse.toml): {fmt.percent(a['deflection_share'], locale)} of Twitter cases "
            f"would otherwise have called the hotline; an agent hour costs "
            f"{fmt.money(twitter['hourly_cost_eur'], locale, 2)} on Twitter and "
            f"{fmt.money(line['hourly_cost_eur'], locale, 2)} on the {hotline} hotline; Twitter's fixed "
            f"costs are {fmt.money(twitter['fixed_monthly_eur'], locale)} a month; hotline fixed costs cut by the "
            f"pilot: {fmt.money(a['hotline_fixed_avoided_monthly_eur'], locale)} a month; set-up "
            f"{fmt.money(a['pilot_setup_eur'], locale)}; a Twitter thread without a CRM case counts "
            f"{plain_number(a['minutes_per_brand_tweet'], locale)} min per brand reply and "
            f"{plain_number(a['minutes_per_dm_case'], locale)} min per DM hand-off.")


def economics_sentences(view: PilotView, locale: fmt.Locale) -> list[str]:
    """Does it pay off, since when, how sure, what the hotline's data says, under which assumptions.

    Three to five sentences a manager reads top to bottom. Every number is the model's, formatted by
    the locale; where the model withholds a figure its reason is said instead (never a made-up 0).
    """
    pilot = view.pilot
    out: list[str] = []
    if pilot.net_eur is None:
        out.append(f"Whether the Twitter pilot pays off cannot be judged: "
                   f"{localized(bare_reason(pilot.reason or 'no pilot figures for this selection'), locale)}.")
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
                   f"{fmt.percent(pilot.deflection, locale)}; the set-up cost of {fmt.money(setup_cost(view), locale)} "
                   "is not in this figure).")
        out.append(_since_when(view, locale))
        sure = _how_sure(view, locale)
        if sure:
            out.append(sure)
    verdict = view.hotline_change.verdict
    if not verdict or verdict.startswith(NOT_JUDGED):
        out.append("Whether the hotline got lighter after the Twitter launch cannot be judged: "
                   f"{localized(bare_reason(verdict or 'no estimate'), locale)}.")
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
