"""The Pilot page's words: the model's sentences in the page's number format, and the plain-words
answer on the pilot's economics (pure functions of a :class:`metrics.pilot_view.PilotView`)."""

from __future__ import annotations

import re
from datetime import date

from dash import html

from carepulse.core.text import Text, say
from carepulse.dashboard import formatting as fmt
from carepulse.dashboard.economics_figures import month_label
from carepulse.dashboard.i18n import _
from carepulse.metrics.economics import Pilot
from carepulse.metrics.pilot_view import PilotView
from carepulse.metrics.stats import GLOSSARY

NOT_JUDGED = "cannot be judged: "
NO_CRM_REASON = NOT_JUDGED + "no CRM data"


def glossary(locale: fmt.Locale) -> html.Details:
    """The statistical words the sentences use, in plain words, one click away (metrics.stats.GLOSSARY)."""
    return html.Details([
        html.Summary(_("What the words mean", locale), className="small text-muted"),
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
    """A sentence written by ``metrics`` in the page's language and its one number format.

    A :class:`~carepulse.core.text.Text` is first said in the page's language from its template (the German
    catalog); then its numbers, still in English format, are rewritten.

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

    return _TOKEN.sub(token, say(text, lambda message: _(message, locale)) if isinstance(text, Text) else text)


def bare_reason(reason: str) -> str:
    """A model's reason without its "cannot be judged: " lead, to follow a subject of our own.

    A translatable reason ``Text("cannot be judged: {reason}", reason=...)`` gives its inner reason, still
    translatable; a template that glues more words after the lead loses the lead in its template too.
    """
    if isinstance(reason, Text) and reason.template.startswith(NOT_JUDGED):
        rest = reason.template[len(NOT_JUDGED):]
        if rest.startswith("{") and rest.endswith("}") and rest[1:-1] in reason.values:
            inner = reason.values[rest[1:-1]]
            return inner if isinstance(inner, str) else str(inner)
        return Text(rest, **reason.values)
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
        return _("no pilot month", locale)
    first, last = month_label(pilot.months[0].month, locale), month_label(pilot.months[-1].month, locale)
    span = first if first == last else _("{first} to {last}", locale).format(first=first, last=last)
    partial = [month_label(m.month, locale) for m in pilot.months if m.partial]
    if partial:
        named = partial[0] if len(partial) == 1 else _("{some} and {last}", locale).format(
            some=", ".join(partial[:-1]), last=partial[-1])
        span = _("{span} ({months} partial)", locale).format(span=span, months=named)
    return span


def projection_range(view: PilotView, locale: fmt.Locale) -> str:
    projection = view.projection
    until = (month_label(projection.high, locale) if projection.high else
             _("later than {n} months from now", locale).format(n=view.assumptions.get("projection_months", "?")))
    return _("{share} range {low} to {high}", locale).format(
        share=fmt.percent(0.95, locale), low=month_label(projection.low, locale), high=until)


def balance_words(pilot: Pilot, locale: fmt.Locale) -> str:
    last = pilot.months[-1]
    return _("balance {amount} at the end of {month}", locale).format(
        amount=fmt.money(last.cumulative_eur, locale), month=month_label(last.month, locale))


def _since_when(view: PilotView, locale: fmt.Locale) -> str:
    pilot, projection = view.pilot, view.projection
    setup = fmt.money(setup_cost(view), locale)
    if pilot.payback_month:
        return _("Counting the set-up cost of {setup}, it paid back in {month}.", locale).format(
            setup=setup, month=month_label(pilot.payback_month, locale))
    if pilot.payback_reason:  # the net benefit is there, payback is not judged (a slice, or a later start date)
        return capital(localized(pilot.payback_reason, locale)) + "."
    balance = balance_words(pilot, locale)
    if projection.month:
        return _("Counting the set-up cost of {setup}, it has not paid back yet ({balance}); at the forecast volume "
                 "it is projected to pay back in {month} ({range}).", locale).format(
            setup=setup, balance=balance, month=month_label(projection.month, locale),
            range=projection_range(view, locale))
    sentence = localized(projection.sentence, locale)
    if str(projection.sentence).startswith("not projected"):
        return _("Counting the set-up cost of {setup}, it has not paid back yet ({balance}) and is {projection}.",
                 locale).format(setup=setup, balance=balance, projection=sentence)
    return _("Counting the set-up cost of {setup}, it has not paid back yet ({balance}); {projection}.",
             locale).format(setup=setup, balance=balance, projection=sentence)


def _how_sure(view: PilotView, locale: fmt.Locale) -> str | None:
    pilot = view.pilot
    share = pilot.breakeven_share
    if share is None:
        return None
    assumed = fmt.percent(pilot.deflection, locale)
    if share > 1:
        return _("It pays off only if more than {share} of Twitter cases replaced a call: it cannot break even on "
                 "hotline savings alone.", locale).format(share=fmt.percent(share, locale))
    if share <= 0:
        return _("It pays off at any deflection share: the hotline fixed costs it cuts cover Twitter's cost "
                 "(assumed share: {assumed}).", locale).format(assumed=assumed)
    return _("It pays off as long as more than {share} of Twitter cases would otherwise have called the hotline "
             "(assumed: {assumed}).", locale).format(share=fmt.percent(share, locale), assumed=assumed)


def assumptions_line(view: PilotView, locale: fmt.Locale) -> str:
    """The cost model's assumptions in one line, from the settings the figures were computed with."""
    a = view.assumptions
    channels = a["channels"]
    hotline = hotline_channel(view)
    twitter, line = channels["twitter"], channels.get(hotline) or channels["other"]
    return _("Assumptions ([cost] in carepulse.toml): {deflection} of Twitter cases would otherwise have called the "
             "hotline; an agent hour costs {twitter_hour} on Twitter and {hotline_hour} on the {hotline} hotline; "
             "Twitter's fixed costs are {twitter_fixed} a month; hotline fixed costs cut by the pilot: "
             "{hotline_fixed} a month; set-up {setup}; a Twitter thread without a CRM case counts {reply_minutes} min "
             "per brand reply and {dm_minutes} min per DM hand-off.", locale).format(
        deflection=fmt.percent(a["deflection_share"], locale),
        twitter_hour=fmt.money(twitter["hourly_cost_eur"], locale, 2),
        hotline_hour=fmt.money(line["hourly_cost_eur"], locale, 2), hotline=hotline,
        twitter_fixed=fmt.money(twitter["fixed_monthly_eur"], locale),
        hotline_fixed=fmt.money(a["hotline_fixed_avoided_monthly_eur"], locale),
        setup=fmt.money(a["pilot_setup_eur"], locale),
        reply_minutes=plain_number(a["minutes_per_brand_tweet"], locale),
        dm_minutes=plain_number(a["minutes_per_dm_case"], locale))


def _lead(pilot: Pilot, locale: fmt.Locale) -> str:
    net, span = pilot.net_eur or 0.0, period_words(pilot, locale)
    if net > 0:
        lead = _("It pays off: from {span} the Twitter pilot saved {amount} more hotline time than it cost", locale)
    elif net < 0:
        lead = _("It does not pay off so far: from {span} the Twitter pilot cost {amount} more than the hotline time "
                 "it saved", locale)
    else:
        lead = _("It breaks even: from {span} the Twitter pilot saved as much hotline time as it cost", locale)
    return lead.format(span=span, amount=fmt.money(abs(net), locale))


def economics_sentences(view: PilotView, locale: fmt.Locale) -> list[str]:
    """Does it pay off, since when, how sure, what the hotline's data says, under which assumptions.

    Three to five sentences a manager reads top to bottom. Every number is the model's, formatted by
    the locale; where the model withholds a figure its reason is said instead (never a made-up 0).
    """
    pilot = view.pilot
    out: list[str] = []
    if pilot.net_eur is None:
        reason = pilot.reason or Text("no pilot figures for this selection")
        out.append(_("Whether the Twitter pilot pays off cannot be judged: {reason}.", locale).format(
            reason=localized(bare_reason(reason), locale)))
    else:
        out.append(_("{lead} (net benefit {net} at the assumed deflection share of {share}; the set-up cost of "
                     "{setup} is not in this figure).", locale).format(
            lead=_lead(pilot, locale), net=fmt.money(pilot.net_eur, locale),
            share=fmt.percent(pilot.deflection, locale), setup=fmt.money(setup_cost(view), locale)))
        out.append(_since_when(view, locale))
        sure = _how_sure(view, locale)
        if sure:
            out.append(sure)
    verdict = view.hotline_change.verdict
    if not verdict or verdict.startswith(NOT_JUDGED):
        out.append(_("Whether the hotline got lighter after the Twitter launch cannot be judged: {reason}.",
                     locale).format(reason=localized(bare_reason(verdict or Text("no estimate")), locale)))
    else:
        out.append(_("What the hotline's own numbers say: {verdict}", locale).format(
            verdict=localized(verdict, locale)))
    out.append(assumptions_line(view, locale))
    return out


def filter_note(view: PilotView, locale: fmt.Locale) -> str | None:
    """Why a filtered slice's figures are not simply "the pilot, smaller": how costs are split."""
    if not view.filtered:
        return None
    return _("A filter is set: fixed costs are allocated to this slice by its share of handled minutes, and the "
             "hotline is valued over the calls that match the date and category filters (account, team and channel "
             "describe who answered on Twitter, not who would have called).", locale)
