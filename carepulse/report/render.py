"""The report as one self-contained HTML page (two A4 pages in print) and as a PDF from that HTML.

Why hand-written HTML with :func:`html.escape` instead of a template engine: the page is a dozen small
blocks, and one escape function through which every value passes (:func:`e`) is easy to audit; brand
names, handles and notes in the data are user content. The HTML links to nothing outside itself (no
fonts, scripts or images from a network), so it opens the same offline, in a mail client or a browser.

The PDF is WeasyPrint's rendering of the same HTML, with a URL fetcher that refuses every request
(nothing is downloaded at run time, even if a value looked like a URL) and DejaVu Sans as the font,
which covers the arrows and the euro sign and is installed wherever WeasyPrint's Pango is.

Every word is said in the report's ``language`` through the catalogs (``translate("...", language)``, a
sentence with numbers as one message with ``{placeholders}``, formatted after); ``<html lang>`` and the page
footer follow it. See :mod:`carepulse.report.words` for the numbers and the metrics layer's sentences.
"""

from __future__ import annotations

from html import escape
from typing import Any

from carepulse.metrics.periods import Period
from carepulse.metrics.words import translate
from carepulse.report import charts, words
from carepulse.report.content import HOTLINE_COST, TWITTER_COST, Figure, ReportContent, Section
from carepulse.report.words import Language

CSS = """
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 8pt; color: #212529; margin: 0; line-height: 1.3; }
main { max-width: 190mm; margin: 0 auto; }
h1 { font-size: 14pt; margin: 0 0 1mm 0; }
h2 { font-size: 10pt; margin: 3mm 0 1.2mm 0; color: #0072B2; border-bottom: 0.4pt solid #dee2e6;
     padding-bottom: 0.6mm; }
.sub { color: #495057; margin: 0 0 0.6mm 0; }
.page { page-break-after: always; }
.page:last-child { page-break-after: auto; }
.lead { margin: 2mm 0 0 0; padding: 1.6mm 2.4mm; background: #f1f7fb; border-left: 1mm solid #0072B2; }
.grid { display: flex; flex-wrap: wrap; justify-content: space-between; }
.grid > section { width: 49%; }
table { border-collapse: collapse; width: 100%; }
td, th { padding: 0.7mm 1mm; vertical-align: top; text-align: left; }
tr + tr td { border-top: 0.3pt solid #e9ecef; }
th { font-weight: bold; color: #495057; font-size: 7pt; }
td.num { text-align: right; white-space: nowrap; font-weight: bold; font-size: 9pt; }
.label { width: 38%; }
.small { font-size: 6.6pt; color: #6c757d; }
.change { white-space: nowrap; }
.verdict { font-size: 6.8pt; padding: 0.2mm 1mm; border-radius: 1mm; display: inline-block; }
.good { background: #d7f0e6; color: #00603f; }
.bad { background: #f9dccb; color: #8a3a00; }
.neutral { background: #e9ecef; color: #495057; }
.none { color: #6c757d; }
.charts { display: flex; justify-content: space-between; margin-top: 1mm; }
figure { width: 32.5%; margin: 0; }
figure svg { width: 100%; height: auto; }
figcaption { font-weight: bold; font-size: 7.5pt; margin-bottom: 0.5mm; }
figure p { margin: 0.5mm 0 0 0; }
dl { margin: 0; display: flex; flex-wrap: wrap; }
dt { width: 36%; font-weight: bold; padding: 0.5mm 0; }
dd { width: 64%; margin: 0; padding: 0.5mm 0; }
ul { margin: 0.5mm 0; padding-left: 4mm; }
li { margin: 0.3mm 0; }
"""


def page_css(language: Language) -> str:
    """The A4 page with its footer ("page 1 of 2", the report's name) in the report's language."""
    pages = translate("page {page} of {pages}", language)
    counter = '"' + pages.replace("{page}", '" counter(page) "').replace("{pages}", '" counter(pages) "') + '"'
    name = translate("carepulse management report", language)
    font = 'font-family: "DejaVu Sans", sans-serif; font-size: 7pt; color: #6c757d;'
    return (f"@page {{ size: A4; margin: 11mm 12mm 12mm 12mm;\n"
            f"        @bottom-right {{ content: {counter}; {font} }}\n"
            f"        @bottom-left {{ content: {_css_string(name)}; {font} }} }}\n")


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def e(value: Any) -> str:
    """Every value that goes into the page, escaped (quotes too: values also go into attributes)."""
    return escape(str(value), quote=True)


# ---- page 1 -------------------------------------------------------------------------------------------

def figure_row(fig: Figure, language: Language) -> str:
    delta = fig.delta
    interval = words.interval_text(fig.cell, fig.unit, language)
    was = translate("was {value}", language).format(value=words.cell_text(fig.previous, fig.unit, language))
    change = words.change_text(delta, fig.unit, language)
    change_cell = (f'{e(words.arrow(delta))} {e(change)}<br><span class="small">{e(was)}</span>'
                   if delta.change is not None else f'<span class="small">{e(was)}</span>')
    return (f'<tr data-metric="{e(fig.metric)}"><td class="label">{e(words.label(fig, language))}'
            + (f'<br><span class="small">{e(interval)}</span>' if interval else "")
            + f'</td><td class="num">{e(words.cell_text(fig.cell, fig.unit, language))}</td>'
            f'<td class="change">{change_cell}</td>'
            f'<td><span class="verdict {words.tone(delta)}">{e(words.verdict(fig, language))}</span></td></tr>')


def section_html(section: Section, language: Language) -> str:
    rows = "".join(figure_row(f, language) for f in section.figures)
    heads = "".join(f"<th>{e(h)}</th>" for h in (translate("metric", language), translate("now", language),
                                                 translate("change", language), translate("verdict", language)))
    return f"<section><h2>{e(translate(section.title, language))}</h2><table><tr>{heads}</tr>{rows}</table></section>"


def _subject(fig: Figure, language: Language) -> str:
    """A metric's label inside a sentence: English lower-cased ("response rate"), German nouns as they are."""
    name = words.label(fig, language)
    return name.lower() if language == "en" else name


def lead_html(content: ReportContent, language: Language) -> str:
    """The two-line answer at the top: net benefit and payback, then what moved beyond noise."""
    net = content.figure("pilot_net_benefit_eur")
    headline, detail = words.payback_text(content.payback, language)
    moved = [f"{_subject(f, language)} {words.direction_word(f.delta, language)}"
             for s in content.sections for f in s.figures if f.delta.beyond_noise]
    moved_text = (translate("Beyond noise: {changes}.", language).format(changes="; ".join(moved)) if moved
                  else translate("No change since the comparison period is beyond noise.", language))
    threads = content.figure("threads")
    if threads.previous.value == 0 and threads.cell.value:
        moved_text += " " + translate("The comparison period has no Twitter threads: its Twitter figures compare "
                                      "with nothing.", language)
    net_text = translate("Net benefit of the pilot in the period: {amount}", language).format(
        amount=words.cell_text(net.cell, net.unit, language))
    payback = translate("Payback: {when}", language).format(when=headline)
    why = translate("hotline time saved minus Twitter's cost; set-up cost not included", language)
    return (f'<p class="lead"><b>{e(net_text)}</b> ({e(why)}). <b>{e(payback)}</b> ({e(detail)}). '
            f'{e(moved_text)}</p>')


def charts_html(content: ReportContent, language: Language) -> str:
    weeks = content.weeks
    labels = [words.week_label(w.start, w.end, language) for w in weeks]
    this_period, comparison = translate("this period", language), translate("comparison", language)
    bars = [charts.Bar(words.period_range(Period(w.start, w.end, ""), language), float(w.threads),
                       charts.BLUE if w.current else charts.SKY, faint=w.days < 7) for w in weeks]
    partial = [w for w in weeks if w.days < 7]
    threads_title = translate("Threads per week", language)
    threads_svg = charts.column_chart(threads_title, labels, bars, "count",
                                      legend=[(this_period, charts.BLUE), (comparison, charts.SKY)], locale=language)
    sla_current = [w.sla_met_share if w.current else None for w in weeks]
    sla_previous = [None if w.current else w.sla_met_share for w in weeks]
    sla_minutes = content.assumptions.get("sla_minutes")
    sla_title = translate("SLA met share per week", language)
    sla_svg = charts.line_chart(sla_title, labels,
                                [(this_period, charts.BLUE, sla_current), (comparison, charts.SKY, sla_previous)],
                                "share", top=1.0, locale=language)
    twitter, hotline = content.figure(TWITTER_COST), content.figure(HOTLINE_COST)
    variable = content.figure("hotline_variable_cost_per_case")

    def bar(label: str, fig: Figure, previous: bool, colour: str) -> charts.Bar:
        cell = fig.previous if previous else fig.cell
        num = cell.value if isinstance(cell.value, int | float) else None
        low = cell.ci_low if isinstance(cell.ci_low, int | float) else None
        high = cell.ci_high if isinstance(cell.ci_high, int | float) else None
        return charts.Bar(label, num, colour, low, high, faint=previous)

    cost_title = translate("Cost per case, Twitter vs hotline", language)
    cost_svg = charts.bar_chart(cost_title, [
        bar(translate("Twitter, this period", language), twitter, False, charts.BLUE),
        bar(translate("Twitter, comparison", language), twitter, True, charts.BLUE),
        bar(translate("Hotline, this period", language), hotline, False, charts.VERMILLION),
        bar(translate("Hotline, comparison", language), hotline, True, charts.VERMILLION),
        bar(translate("Hotline, variable only", language), variable, False, charts.ORANGE),
    ], "EUR", missing_text=translate("no value", language), locale=language)
    if partial:
        days = ", ".join(translate("{n} days", language).format(n=w.days) for w in partial)
        note = translate("Weeks are 7 days counted back from each period's end; a lighter bar is a shorter "
                         "remainder ({days}).", language).format(days=days)
    else:
        note = translate("Weeks are 7 days counted back from each period's end.", language)
    sla = sla_sentence(float(sla_minutes), language) if sla_minutes else ""
    unanswered = translate("Unanswered threads count as not met.", language)
    full_cost = translate("Full cost per case (labour and fixed costs) with 95% intervals; a deflected Twitter case "
                          "saves the hotline's variable cost.", language)
    return (
        '<div class="charts">'
        f'<figure><figcaption>{e(threads_title)}</figcaption>{threads_svg}<p class="small">{e(note)}</p></figure>'
        f'<figure><figcaption>{e(sla_title)}</figcaption>{sla_svg}<p class="small">{e(sla)} {e(unanswered)}</p>'
        '</figure>'
        f'<figure><figcaption>{e(cost_title)}</figcaption>{cost_svg}<p class="small">{e(full_cost)}</p></figure>'
        '</div>')


def sla_sentence(sla_minutes: float, language: Language) -> str:
    return translate("SLA: first response within {time}.", language).format(
        time=words.minutes(sla_minutes, language))


def page_one(content: ReportContent, language: Language) -> str:
    sections = "".join(section_html(s, language) for s in content.sections)
    period = translate("Period {period}", language).format(period=words.period_title(content.period, language))
    compared = words.comparison_title(content.comparison, content.compare_mode, language)
    as_of = translate("Data as of {moment}. Each number with its change since the comparison period: better or "
                      "worse, and whether the change is beyond noise (tests on page 2).", language).format(
        moment=words.as_of_text(content.as_of, content.timezone, language))
    return (
        '<div class="page" id="page-1">'
        f"<h1>{e(translate('Twitter customer service: management report', language))}</h1>"
        f'<p class="sub"><b>{e(period)}</b>, {e(compared)}</p>'
        f'<p class="sub small">{e(as_of)}</p>'
        f"{lead_html(content, language)}"
        f'<div class="grid">{sections}</div>'
        f"<h2>{e(translate('Trends', language))}</h2>{charts_html(content, language)}</div>")


# ---- page 2 -------------------------------------------------------------------------------------------

def assumptions_html(a: dict[str, Any], language: Language) -> str:
    hotline = str(a.get("hotline_channel", "phone"))
    rows = []
    for channel, c in a.get("channels", {}).items():
        name = translate("{channel} (the hotline)", language).format(channel=channel) if channel == hotline \
            else channel
        rows.append(f"<tr><td>{e(name)}</td><td>{e(words.money(c['hourly_cost_eur'], language, 2))}</td>"
                    f"<td>{e(words.money(c['fixed_monthly_eur'], language))}</td>"
                    f"<td>{e(words.minutes(c['default_handled_minutes'], language))}</td></tr>")
    heads = (translate("channel", language), translate("cost per agent hour", language),
             translate("fixed per month", language), translate("minutes per case without handled minutes", language))
    table = ("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in heads) + "</tr>" + "".join(rows) + "</table>")
    sensitivity = ", ".join(words.share(s, language) for s in a.get("deflection_sensitivity", []))
    start = words.renumber(str(a["pilot_start"]), language) if a.get("pilot_start") else \
        translate("the first Twitter month", language)
    items = [
        translate("Deflection share: {share} of Twitter cases would otherwise have called the hotline (also "
                  "computed at {others}).", language).format(share=words.share(a["deflection_share"], language),
                                                             others=sensitivity),
        translate("Twitter threads without a CRM case: {reply} per brand tweet, plus {dm} when handed to a direct "
                  "message.", language).format(reply=words.minutes(a["minutes_per_brand_tweet"], language),
                                               dm=words.minutes(a["minutes_per_dm_case"], language)),
        translate("Pilot set-up cost {setup}, counted from {start}; payback includes it, the net benefit does "
                  "not.", language).format(setup=words.money(a["pilot_setup_eur"], language), start=start),
        translate("Hotline fixed costs actually cut: {amount} a month.", language).format(
            amount=words.money(a["hotline_fixed_avoided_monthly_eur"], language)),
        sla_sentence(float(a["sla_minutes"]), language),
    ]
    return table + "<ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


def coverage_html(content: ReportContent, language: Language) -> str:
    c, lang = content.coverage, language
    left_out = [
        translate("{n} records quarantined at load (unreadable or invalid; see the Data page).", lang).format(
            n=words.count(c.quarantined, lang)),
        translate("CRM cases marked as duplicates, and tweets after the as-of time.", lang),
    ]
    if c.threads_before_main:
        left_out.append(translate("{n} threads before {day}, after which the data runs without a gap of four weeks "
                                  "or more (they only count where a period includes them).", lang).format(
            n=words.count(c.threads_before_main, lang), day=words.day(c.main_first_day, lang)))
    if c.period_days_with_data < c.period_days:
        left_out.append(translate("Threads were written on {n} of the period's {days} days.", lang).format(
            n=c.period_days_with_data, days=c.period_days))
    entries = [
        (translate("Data", lang),
         translate("{first} to {last} (local days); {tweets} tweets, {threads} threads, {cases} CRM cases in all",
                   lang).format(first=words.day(c.first_day, lang), last=words.day(c.last_day, lang),
                                tweets=words.count(c.tweets, lang), threads=words.count(c.threads_total, lang),
                                cases=words.count(c.crm_cases_total, lang))),
        (translate("This period", lang),
         translate("{threads} threads, {cases} CRM cases; {twitter_cases} Twitter cases in the cost model (threads "
                   "without a CRM case count too); {share} of the threads have a CRM case", lang).format(
             threads=words.count(c.threads_in_period, lang), cases=words.count(c.cases_in_period, lang),
             twitter_cases=words.count(c.twitter_cases_in_period, lang),
             share=words.value(c.crm_link_share, "share", lang))),
        (translate("Comparison", lang), words.period_title(content.comparison, lang)),
        (translate("Data as of", lang), words.as_of_text(content.as_of, content.timezone, lang)),
    ]
    listing = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in entries)
    notes = "".join(f"<li>{e(words.localized(n, lang))}</li>" for n in content.notes)
    return (f"<dl>{listing}</dl><p><b>{e(translate('Left out', lang))}</b></p><ul>"
            + "".join(f"<li>{e(x)}</li>" for x in left_out) + "</ul>"
            + (f"<p><b>{e(translate('Numbers withheld', lang))}</b></p><ul>{notes}</ul>" if notes else ""))


def method_html(language: Language) -> str:
    items = [
        translate("Shares (response rate, SLA met, resolution, FCR): two-proportion z-test on the counts behind "
                  "them.", language),
        translate("Counts (threads, unanswered threads): exact test of two Poisson rates per day, so periods of "
                  "unequal length compare fairly.", language),
        translate("Medians, means and euros with a 95% interval: approximate z-test from the two intervals.",
                  language),
        translate("Without an interval (the net benefit, the hotline's variable cost): no test, \"not tested\".",
                  language),
        translate("All p-values of page 1 are Holm-adjusted together; \"beyond noise\" means adjusted p < 0.05. "
                  "\"Within noise\" is not \"no change\": it says the data cannot tell.", language),
    ]
    return "<ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


def page_two(content: ReportContent, language: Language) -> str:
    period = translate("Period {period}", language).format(period=words.period_title(content.period, language))
    definitions = e(translate("Every metric is defined in docs/metrics.md (or {command}); the cost model in "
                              "docs/economics.md; this report in docs/report.md.", language)).format(
        command="<code>carepulse metrics --explain NAME</code>")
    footer = translate("carepulse {version}; data as of {moment}.", language).format(
        version=content.version, moment=words.as_of_text(content.as_of, content.timezone, language))
    return (
        '<div class="page" id="page-2">'
        f"<h1>{e(translate('Assumptions, data and definitions', language))}</h1>"
        f'<p class="sub">{e(period)}</p>'
        f"<h2>{e(translate('Cost model', language))}</h2>{assumptions_html(content.assumptions, language)}"
        f"<h2>{e(translate('Data coverage', language))}</h2>{coverage_html(content, language)}"
        f"<h2>{e(translate('How changes are tested', language))}</h2>{method_html(language)}"
        f"<h2>{e(translate('Definitions', language))}</h2><p>{definitions}</p>"
        f'<p class="small">{e(footer)}</p></div>')


def html_document(content: ReportContent, language: Language) -> str:
    """The whole report as one HTML document (UTF-8, no external resources) in ``language``."""
    title = translate("carepulse report {period}", language).format(
        period=words.period_label(content.period, language))
    return (f"<!DOCTYPE html>\n<html lang=\"{e(language)}\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>{page_css(language)}{CSS}</style></head><body><main>"
            f"{page_one(content, language)}{page_two(content, language)}</main></body></html>\n")


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's URL fetcher: the report loads nothing, from a network or from disk."""
    raise ValueError(f"the report loads no external resources ({url[:80]})")


def pdf_bytes(document: str) -> bytes:
    """The HTML as a PDF (A4), through WeasyPrint, offline."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # font-subsetting chatter on stderr
    return bytes(HTML(string=document, url_fetcher=_no_fetch).write_pdf())
