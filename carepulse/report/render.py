"""The report as one self-contained HTML page (two A4 pages in print) and as a PDF from that HTML.

Why hand-written HTML with :func:`html.escape` instead of a template engine: the page is a dozen small
blocks, and one escape function through which every value passes (:func:`e`) is easy to audit; brand
names, handles and notes in the data are user content. The HTML links to nothing outside itself (no
fonts, scripts or images from a network), so it opens the same offline, in a mail client or a browser.

The PDF is WeasyPrint's rendering of the same HTML, with a URL fetcher that refuses every request
(nothing is downloaded at run time, even if a value looked like a URL) and DejaVu Sans as the font,
which covers the arrows and the euro sign and is installed wherever WeasyPrint's Pango is.
"""

from __future__ import annotations

from html import escape
from typing import Any

from carepulse.report import charts, words
from carepulse.report.content import HOTLINE_COST, TWITTER_COST, Figure, ReportContent, Section

CSS = """
@page { size: A4; margin: 11mm 12mm 12mm 12mm;
        @bottom-right { content: "page " counter(page) " of " counter(pages); font-family: "DejaVu Sans", sans-serif;
                        font-size: 7pt; color: #6c757d; }
        @bottom-left { content: "carepulse management report"; font-family: "DejaVu Sans", sans-serif;
                       font-size: 7pt; color: #6c757d; } }
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
.verdict { font-size: 6.8pt; padding: 0.2mm 1mm; border-radius: 1mm; white-space: nowrap; }
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


def e(value: Any) -> str:
    """Every value that goes into the page, escaped (quotes too: values also go into attributes)."""
    return escape(str(value), quote=True)


# ---- page 1 -------------------------------------------------------------------------------------------

def figure_row(fig: Figure) -> str:
    delta = fig.delta
    interval = words.interval_text(fig.cell, fig.unit)
    previous = words.cell_text(fig.previous, fig.unit)
    change = words.change_text(delta, fig.unit)
    change_cell = (f'{e(words.arrow(delta))} {e(change)}<br><span class="small">was {e(previous)}</span>'
                   if delta.change is not None else f'<span class="small">was {e(previous)}</span>')
    return (f'<tr data-metric="{e(fig.metric)}"><td class="label">{e(fig.label)}'
            + (f'<br><span class="small">{e(interval)}</span>' if interval else "")
            + f'</td><td class="num">{e(words.cell_text(fig.cell, fig.unit))}</td>'
            f'<td class="change">{change_cell}</td>'
            f'<td><span class="verdict {words.tone(delta)}">{e(words.verdict(fig))}</span></td></tr>')


def section_html(section: Section) -> str:
    rows = "".join(figure_row(f) for f in section.figures)
    return (f"<section><h2>{e(section.title)}</h2><table><tr><th>metric</th><th>now</th><th>change</th>"
            f"<th>verdict</th></tr>{rows}</table></section>")


def lead_html(content: ReportContent) -> str:
    """The two-line answer at the top: net benefit and payback, then what moved beyond noise."""
    net = content.figure("pilot_net_benefit_eur")
    headline, detail = words.payback_text(content.payback)
    moved = [f"{f.label.lower()} {words.direction_word(f.delta)}" for s in content.sections for f in s.figures
             if f.delta.beyond_noise]
    moved_text = ("Beyond noise: " + "; ".join(moved) + ".") if moved else \
        "No change since the comparison period is beyond noise."
    threads = content.figure("threads")
    if threads.previous.value == 0 and threads.cell.value:
        moved_text += " The comparison period has no Twitter threads: its Twitter figures compare with nothing."
    return (f'<p class="lead"><b>Net benefit of the pilot in the period: {e(words.cell_text(net.cell, net.unit))}'
            f'</b> (hotline time saved minus Twitter\'s cost, set-up cost not included). '
            f'<b>Payback: {e(headline)}</b> ({e(detail)}). {e(moved_text)}</p>')


def charts_html(content: ReportContent) -> str:
    weeks = content.weeks
    labels = [words.week_label(w.start, w.end) for w in weeks]
    bars = [charts.Bar(f"{w.start} to {w.end}", float(w.threads),
                       charts.BLUE if w.current else charts.SKY, faint=w.days < 7) for w in weeks]
    partial = [w for w in weeks if w.days < 7]
    threads_svg = charts.column_chart("Threads per week", labels, bars, "count",
                                      legend=[("this period", charts.BLUE), ("comparison", charts.SKY)])
    sla_current = [w.sla_met_share if w.current else None for w in weeks]
    sla_previous = [None if w.current else w.sla_met_share for w in weeks]
    sla_minutes = content.assumptions.get("sla_minutes")
    sla_svg = charts.line_chart("SLA met share per week", labels,
                                [("this period", charts.BLUE, sla_current), ("comparison", charts.SKY, sla_previous)],
                                "share", top=1.0)
    twitter, hotline = content.figure(TWITTER_COST), content.figure(HOTLINE_COST)
    variable = content.figure("hotline_variable_cost_per_case")

    def bar(label: str, fig: Figure, previous: bool, colour: str) -> charts.Bar:
        cell = fig.previous if previous else fig.cell
        num = cell.value if isinstance(cell.value, int | float) else None
        low = cell.ci_low if isinstance(cell.ci_low, int | float) else None
        high = cell.ci_high if isinstance(cell.ci_high, int | float) else None
        return charts.Bar(label, num, colour, low, high, faint=previous)

    cost_svg = charts.bar_chart("Cost per case, Twitter and hotline", [
        bar("Twitter, this period", twitter, False, charts.BLUE),
        bar("Twitter, comparison", twitter, True, charts.BLUE),
        bar("Hotline, this period", hotline, False, charts.VERMILLION),
        bar("Hotline, comparison", hotline, True, charts.VERMILLION),
        bar("Hotline, variable only", variable, False, charts.ORANGE),
    ], "EUR")
    note = (f"Weeks are 7 days counted back from each period's end; a lighter bar is a shorter remainder "
            f"({', '.join(f'{w.days} days' for w in partial)})." if partial
            else "Weeks are 7 days counted back from each period's end.")
    sla = f"SLA: first response within {words.minutes(float(sla_minutes))}." if sla_minutes else ""
    return (
        '<div class="charts">'
        f'<figure><figcaption>Threads per week</figcaption>{threads_svg}<p class="small">{e(note)}</p></figure>'
        f'<figure><figcaption>SLA met share per week</figcaption>{sla_svg}<p class="small">{e(sla)} '
        'Unanswered threads count as not met.</p></figure>'
        f'<figure><figcaption>Cost per case: Twitter vs hotline</figcaption>{cost_svg}'
        '<p class="small">Full cost per case (labour and fixed costs) with 95% intervals; a deflected '
        'Twitter case saves the hotline\'s variable cost.</p></figure></div>')


def page_one(content: ReportContent) -> str:
    sections = "".join(section_html(s) for s in content.sections)
    return (
        '<div class="page" id="page-1">'
        f"<h1>Twitter customer service: management report</h1>"
        f'<p class="sub"><b>Period {e(words.period_title(content.period))}</b>, '
        f'{e(words.comparison_title(content.comparison, content.compare_mode))}</p>'
        f'<p class="sub small">Data as of {e(words.as_of_text(content.as_of, content.timezone))}. Each number '
        f'with its change since the comparison period: better or worse, and whether the change is beyond noise '
        f'(tests on page 2).</p>'
        f"{lead_html(content)}"
        f'<div class="grid">{sections}</div>'
        f"<h2>Trends</h2>{charts_html(content)}</div>")


# ---- page 2 -------------------------------------------------------------------------------------------

def assumptions_html(a: dict[str, Any]) -> str:
    hotline = str(a.get("hotline_channel", "phone"))
    rows = []
    for channel, c in a.get("channels", {}).items():
        name = f"{channel} (the hotline)" if channel == hotline else channel
        rows.append(f"<tr><td>{e(name)}</td><td>{e(words.money(c['hourly_cost_eur'], 2))}</td>"
                    f"<td>{e(words.money(c['fixed_monthly_eur']))}</td>"
                    f"<td>{e(words.minutes(c['default_handled_minutes']))}</td></tr>")
    table = ("<table><tr><th>channel</th><th>cost per agent hour</th><th>fixed per month</th>"
             "<th>minutes per case without handled minutes</th></tr>" + "".join(rows) + "</table>")
    sensitivity = ", ".join(words.share(s) for s in a.get("deflection_sensitivity", []))
    start = a.get("pilot_start") or "the first Twitter month"
    items = [
        f"Deflection share: {words.share(a['deflection_share'])} of Twitter cases would otherwise have called "
        f"the hotline (also computed at {sensitivity}).",
        f"Twitter threads without a CRM case: {words.minutes(a['minutes_per_brand_tweet'])} per brand tweet, "
        f"plus {words.minutes(a['minutes_per_dm_case'])} when handed to a direct message.",
        f"Pilot set-up cost {words.money(a['pilot_setup_eur'])}, counted from {start}; payback includes it, "
        f"the net benefit does not.",
        f"Hotline fixed costs actually cut: {words.money(a['hotline_fixed_avoided_monthly_eur'])} a month.",
        f"SLA: first response within {words.minutes(float(a['sla_minutes']))}.",
    ]
    return table + "<ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


def coverage_html(content: ReportContent) -> str:
    c = content.coverage
    left_out = [
        f"{words.count(c.quarantined)} records quarantined at load (unreadable or invalid; see the Data page).",
        "CRM cases marked as duplicates, and tweets after the as-of time.",
    ]
    if c.threads_before_main:
        left_out.append(f"{words.count(c.threads_before_main)} threads before {c.main_first_day}, after which "
                        f"the data runs without a gap of four weeks or more (they only count where a period "
                        f"includes them).")
    if c.period_days_with_data < c.period_days:
        left_out.append(f"Threads were written on {c.period_days_with_data} of the period's {c.period_days} days.")
    link = words.value(c.crm_link_share, "share")
    entries = [
        ("Data", f"{c.first_day} to {c.last_day} (local days); {words.count(c.tweets)} tweets, "
                 f"{words.count(c.threads_total)} threads, {words.count(c.crm_cases_total)} CRM cases in all"),
        ("This period", f"{words.count(c.threads_in_period)} threads, {words.count(c.cases_in_period)} CRM cases; "
                        f"{words.count(c.twitter_cases_in_period)} Twitter cases in the cost model (threads "
                        f"without a CRM case count too); {link} of the threads have a CRM case"),
        ("Comparison", words.period_title(content.comparison)),
        ("Data as of", words.as_of_text(content.as_of, content.timezone)),
    ]
    listing = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in entries)
    notes = "".join(f"<li>{e(n)}</li>" for n in content.notes)
    return (f"<dl>{listing}</dl><p><b>Left out</b></p><ul>"
            + "".join(f"<li>{e(x)}</li>" for x in left_out) + "</ul>"
            + (f"<p><b>Numbers withheld</b></p><ul>{notes}</ul>" if notes else ""))


def method_html() -> str:
    items = [
        "Shares (response rate, SLA met, resolution, FCR): two-proportion z-test on the counts behind them.",
        "Counts (threads, unanswered threads): exact test of two Poisson rates per day, so periods of "
        "unequal length compare fairly.",
        "Medians, means and euros with a 95% interval: approximate z-test from the two intervals.",
        "Without an interval (the net benefit, the hotline's variable cost): no test, \"not tested\".",
        "All p-values of page 1 are Holm-adjusted together; \"beyond noise\" means adjusted p < 0.05. "
        "\"Within noise\" is not \"no change\": it says the data cannot tell.",
    ]
    return "<ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


def page_two(content: ReportContent) -> str:
    return (
        '<div class="page" id="page-2">'
        "<h1>Assumptions, data and definitions</h1>"
        f'<p class="sub">Period {e(words.period_title(content.period))}</p>'
        f"<h2>Cost model</h2>{assumptions_html(content.assumptions)}"
        f"<h2>Data coverage</h2>{coverage_html(content)}"
        f"<h2>How changes are tested</h2>{method_html()}"
        "<h2>Definitions</h2><p>Every metric is defined in docs/metrics.md (or "
        "<code>carepulse metrics --explain NAME</code>); the cost model in docs/economics.md; this report in "
        "docs/report.md.</p>"
        f'<p class="small">carepulse {e(content.version)}; data as of '
        f'{e(words.as_of_text(content.as_of, content.timezone))}.</p></div>')


def html_document(content: ReportContent) -> str:
    """The whole report as one HTML document (UTF-8, no external resources)."""
    title = f"carepulse report {content.period.label}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>"
            f"{page_one(content)}{page_two(content)}</main></body></html>\n")


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's URL fetcher: the report loads nothing, from a network or from disk."""
    raise ValueError(f"the report loads no external resources ({url[:80]})")


def pdf_bytes(document: str) -> bytes:
    """The HTML as a PDF (A4), through WeasyPrint, offline."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # font-subsetting chatter on stderr
    return bytes(HTML(string=document, url_fetcher=_no_fetch).write_pdf())
