"""The Pilot page's economics without a browser: the plain-words answer and the cards on hand-made model
objects (every number checked in both locales), the figure builders trace by trace, and the callbacks
against real warehouses (one without CRM data, built here; the demo)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest
from dash.testing import ignore_register_page

from carepulse.core.config import Settings
from carepulse.dashboard import economics_figures as ef
from carepulse.dashboard import i18n, ids, state
from carepulse.metrics.costs import Line, Tally
from carepulse.metrics.economics import Month, Pilot, Projection, assumptions
from carepulse.metrics.hotline_evidence import Staffing
from carepulse.metrics.itsa import ItsResult
from carepulse.metrics.pilot_view import PilotView
from carepulse.metrics.staffing import HourlyArrivals, staffing_plan
from carepulse.metrics.stats import Finding
from tests.dashboard.test_pages import find, text_of, walk
from tests.metrics.fixtures import FIXTURE_A, load_twcs

with ignore_register_page():
    from carepulse.dashboard.pages import pilot as page

SETTINGS = Settings()  # set-up 15,000 EUR, deflection share 50 %, sensitivity 25/50/75/100 %
SETUP = SETTINGS.cost.pilot_setup_eur
NO_CRM = "cannot be judged: no CRM data (the hotline's cases and costs come from the CRM export)"
ITS_SENTENCE = ("After the launch the hotline had 10% fewer cases per week than its pre-launch trend predicts "
                "(95% CI -26% to +10%; about 1,234 fewer a week, 95% CI -72 to +18; 26 weeks before, 26 after): "
                "no clear change (the interval includes zero).")


# ---- hand-made model objects ------------------------------------------------------------------------

def months(nets: list[float], first: str = "2026-05", partial: tuple[int, ...] = (0, -1)) -> list[Month]:
    """Pilot months with these net benefits; the balance runs from minus the set-up cost, as in metrics."""
    year, month = (int(x) for x in first.split("-"))
    flagged = {i % len(nets) for i in partial}
    out, balance = [], -SETUP
    for i, net in enumerate(nets):
        balance += net
        y, m = year + (month - 1 + i) // 12, (month - 1 + i) % 12 + 1
        out.append(Month(f"{y:04d}-{m:02d}", 500, 6.0, 1500.0, 1500.0 - net, net, balance, i in flagged))
    return out


def line(channel: str, cases: int, minutes: float, hourly: float, fixed: float, months_: list[str]) -> Line:
    return Line(channel, Tally(cases=cases, minutes=minutes), hourly, fixed_eur=fixed, months=months_)


def a_pilot(nets: list[float], *, breakeven: float | None, payback: str | None = None,
            reason: str | None = None) -> Pilot:
    rows = months(nets)
    names = [m.month for m in rows]
    twitter = line("twitter", 4730, 4730 * 6.67, 38.0, 15000.0, names)
    hotline = line("phone", 5547, 5547 * 10.8, 34.0, 24000.0, names)
    result = Pilot(0.5, twitter, hotline, hotline.variable_cost_per_case, rows, sum(nets), breakeven,
                   [(0.25, sum(nets) - 7000), (0.5, sum(nets)), (0.75, sum(nets) + 7000), (1.0, sum(nets) + 14000)],
                   payback, None, reason, names[0])
    return result


def no_crm_pilot() -> Pilot:
    return Pilot(0.5, line("twitter", 40, 120.0, 38.0, 0.0, []), Line("phone"), None, reason=NO_CRM)


def a_view(pilot: Pilot, projection: Projection, *, verdict: str = ITS_SENTENCE, filtered: bool = False) -> PilotView:
    reason = "cannot be judged: no complete week of Twitter threads"
    staffing = Staffing(None, HourlyArrivals([], 0, None, 0), {}, reason)
    return PilotView(pilot, projection, {}, None, Finding(-0.1, verdict=verdict), staffing, assumptions(SETTINGS),
                     filtered)


NOT_PROJECTED = Projection(None, None, None, "not projected to pay back: each Twitter case costs more than the hotline "
                                             "time it saves at these assumptions")
LOSING = [-2909.63, -3209.0, -3209.4, -3320.1, -3665.1, -3785.6, -424.6]  # sums to -20,523.43


# ---- the plain-words answer ---------------------------------------------------------------------------

def test_a_pilot_that_cannot_break_even_in_german() -> None:
    """The same sentences in German (the German demo's language), numbers in the German format."""
    view = a_view(a_pilot(LOSING, breakeven=1.2094), NOT_PROJECTED)
    pays, since, sure, data, assumed = page.economics_sentences(view, "de")
    assert pays.startswith("Er rechnet sich bisher nicht: Im Zeitraum 05.2026 bis 11.2026 (05.2026 und 11.2026 "
                           "unvollständig) hat der Twitter-Pilot 20.523\u00a0€ mehr gekostet")
    assert "(Nettonutzen -20.523\u00a0€ bei der angenommenen Verlagerungsquote von 50\u202f%" in pays
    assert since.startswith("Mit den Einführungskosten von 15.000\u00a0€ gerechnet, hat er sich noch nicht amortisiert "
                            "(Saldo -35.523\u00a0€ am Ende von 11.2026)")
    assert sure.startswith("Er rechnet sich nur, wenn mehr als 121\u202f% der Twitter-Fälle einen Anruf ersetzt hätten")
    assert data.startswith("Was die Zahlen der Hotline selbst sagen: ")
    assert assumed.startswith("Annahmen ([cost] in carepulse.toml): 50\u202f% der Twitter-Fälle")


@pytest.mark.parametrize(("locale", "net", "balance", "setup", "share", "months_"), [
    ("en", "-€20,523", "-€35,523", "€15,000", "121%", "May 2026 to Nov 2026"),
])
def test_a_pilot_that_cannot_break_even(locale: Any, net: str, balance: str, setup: str, share: str,
                                        months_: str) -> None:
    view = a_view(a_pilot(LOSING, breakeven=1.2094), NOT_PROJECTED)
    pays, since, sure, data, assumed = page.economics_sentences(view, locale)
    assert pays.startswith(f"It does not pay off so far: from {months_} (")
    fifty = "50\u202f%" if locale == "de" else "50%"
    assert f"(net benefit {net} at the assumed deflection share of {fifty}" in pays
    assert f"the set-up cost of {setup} is not in this figure" in pays
    assert since == (f"Counting the set-up cost of {setup}, it has not paid back yet (balance {balance} at the "
                     f"end of {months_.split(' to ')[1]}) and is not projected to pay back: each Twitter case costs "
                     "more than the hotline time it saves at these assumptions.")
    assert sure == (f"It pays off only if more than {share} of Twitter cases replaced a call: it cannot break even on "
                    "hotline savings alone.")
    assert data.startswith("What the hotline's own numbers say: After the launch")
    assert assumed.startswith("Assumptions ([cost] in carepulse.toml): ")


def test_partial_months_are_named() -> None:
    view = a_view(a_pilot(LOSING, breakeven=1.2), NOT_PROJECTED)
    assert page.period_words(view.pilot, "en") == "May 2026 to Nov 2026 (May 2026 and Nov 2026 partial)"
    assert page.period_words(view.pilot, "de") == "05.2026 bis 11.2026 (05.2026 und 11.2026 unvollständig)"


def test_a_pilot_that_paid_back_in_german() -> None:
    nets = [6000.0, 5000.0, 4000.0, 5345.6]
    view = a_view(a_pilot(nets, breakeven=0.38, payback="2026-07"),
                  Projection("2026-07", "2026-07", "2026-07", "paid back in 2026-07"))
    sentences = page.economics_sentences(view, "de")
    assert sentences[0].startswith("Er rechnet sich: Im Zeitraum ")
    assert "hat der Twitter-Pilot 20.346\u00a0€ mehr Hotline-Zeit eingespart, als er gekostet hat" in sentences[0]
    assert sentences[1] == "Mit den Einführungskosten von 15.000\u00a0€ gerechnet, hat er sich im 07.2026 amortisiert."
    assert sentences[2].startswith("Er rechnet sich, solange mehr als 38\u202f% der Twitter-Fälle")
    assert "amortisiert im 07.2026, Einführungskosten von 15.000\u00a0€ eingerechnet" in text_of(
        page.payback_card(view, "de"))


@pytest.mark.parametrize(("locale", "net", "share", "paid"), [
    ("en", "€20,346", "38%", "Jul 2026"),
])
def test_a_pilot_that_paid_back(locale: Any, net: str, share: str, paid: str) -> None:
    nets = [6000.0, 5000.0, 4000.0, 5345.6]  # the balance reaches 0 at the end of the third month
    view = a_view(a_pilot(nets, breakeven=0.38, payback="2026-07"),
                  Projection("2026-07", "2026-07", "2026-07", "paid back in 2026-07"))
    assert view.pilot.months[2].cumulative_eur == 0
    sentences = page.economics_sentences(view, locale)
    assert sentences[0].startswith("It pays off: from ")
    assert f"saved {net} more hotline time than it cost" in sentences[0]
    setup = "15.000\u00a0€" if locale == "de" else "€15,000"
    assert sentences[1] == f"Counting the set-up cost of {setup}, it paid back in {paid}."
    assert sentences[2].startswith(f"It pays off as long as more than {share} of Twitter cases would otherwise have "
                                   "called the hotline")
    card = text_of(page.payback_card(view, locale))
    assert f"paid back in {paid}, set-up cost of {setup} included" in card


@pytest.mark.parametrize(("locale", "expected", "words"), [
    ("de", "amortisiert er sich voraussichtlich im 03.2027 (95\u202f%-Bereich 01.2027 bis 08.2027).",
     ("noch nicht amortisiert", "bis später als 24 Monate ab heute", "prognostiziert")),
    ("en", "projected to pay back in Mar 2027 (95% range Jan 2027 to Aug 2027).",
     ("it has not paid back yet", "to later than 24 months from now", "projected")),
])
def test_a_projected_payback_with_its_range(locale: Any, expected: str, words: tuple[str, str, str]) -> None:
    view = a_view(a_pilot([-1000.0, 500.0, 800.0], breakeven=0.45),
                  Projection("2027-03", "2027-01", "2027-08", "projected payback 2027-03 (95% range ...)"))
    since = page.economics_sentences(view, locale)[1]
    assert words[0] in since and since.endswith(expected)
    open_ended = replace(view, projection=Projection("2027-03", "2027-01", None, "..."))
    assert words[1] in page.economics_sentences(open_ended, locale)[1]
    assert words[2] in text_of(page.payback_card(view, locale))


def test_without_crm_data_the_reason_is_said_never_a_zero() -> None:
    view = a_view(no_crm_pilot(), Projection(None, None, None, NO_CRM),
                  verdict="cannot be judged: 0 weeks of hotline cases before the launch (at least 8 needed)")
    for locale, judged in (("de", "nicht beurteilbar"), ("en", "cannot be judged")):
        sentences = page.economics_sentences(view, locale)
        # hand-made reasons are plain English strings (the model's own are translatable Text)
        assert sentences[0] == i18n._("Whether the Twitter pilot pays off cannot be judged: {reason}.", locale).format(
            reason="no CRM data (the hotline's cases and costs come from the CRM export)")
        assert sentences[1] == i18n._("Whether the hotline got lighter after the Twitter launch cannot be judged: "
                                      "{reason}.", locale).format(
            reason="0 weeks of hotline cases before the launch (at least 8 needed)")
        assert len(sentences) == 3 and not any("net benefit" in s or "Nettonutzen" in s for s in sentences)
        cards = page.economics_cards(view, locale)
        net = text_of(find(cards, "kpi-benefit"))
        assert judged in net and "no CRM data" in net and "€" not in net
        assert judged in text_of(find(cards, "kpi-payback"))
    assert page.no_crm(view)
    assert "carepulse ingest crm" in text_of(page.answer_block(view, "en"))


def test_the_hotline_verdict_reads_in_the_locale() -> None:
    view = a_view(a_pilot(LOSING, breakeven=1.2), NOT_PROJECTED)
    german = page.economics_sentences(view, "de")[3]
    assert "10\u202f% fewer cases" in german and "95\u202f% CI -26\u202f% to +10\u202f%" in german
    assert "about 1.234 fewer a week" in german
    assert ITS_SENTENCE in page.economics_sentences(view, "en")[3]


def test_localized_writes_one_number_money_and_date_format() -> None:
    """A model sentence reads like the cards beside it: money as the cards write it, ISO days as the
    page writes days, plain integers (weeks, hours) untouched, a rewritten number never read twice."""
    text = ("x1.5: 2.9 FTE, 18,175 EUR a month at 50%, -20,522 EUR in total; 1 unusual week (2026-10-12), "
            "peak Mon at 08:00, 26 weeks.")
    assert page.localized(text, "de") == ("x1,5: 2,9 FTE, 18.175\u00a0€ a month at 50\u202f%, -20.522\u00a0€ in "
                                          "total; 1 unusual week (12.10.2026), peak Mon at 08:00, 26 weeks.")
    assert page.localized(text, "en") == ("x1.5: 2.9 FTE, €18,175 a month at 50%, -€20,522 in total; 1 unusual "
                                          "week (12 Oct 2026), peak Mon at 08:00, 26 weeks.")


def test_the_glossary_explains_every_statistical_word_the_sentences_use() -> None:
    from carepulse.metrics.stats import GLOSSARY

    terms = {term for term, _ in GLOSSARY}
    assert {"95% CI", "Holm-adjusted", "rank test", "Kaplan-Meier median", "percentage points",
            "deflection share"} <= terms
    shown = text_of(page.glossary("de"))
    assert "Holm" in shown and "Was die Begriffe bedeuten" in shown
    assert "What the words mean" in text_of(page.glossary("en"))


def test_cards_show_the_denominators_and_the_variable_cost() -> None:
    view = a_view(a_pilot(LOSING, breakeven=1.2), NOT_PROJECTED)
    cards = page.economics_cards(view, "de")
    net = text_of(find(cards, "kpi-benefit"))
    assert "-20.523\u00a0€" in net and "bei 50\u202f% Verlagerung" in net and "ohne Einführungskosten" in net
    assert "(05.2026 und 11.2026 unvollständig)" in net
    cost = text_of(find(cards, "kpi-cost"))
    twitter, hotline = view.pilot.twitter, view.pilot.hotline
    assert "Twitter: 4.730 Fälle (" in cost and "; phone (Hotline): 5.547 Fälle (" in cost
    assert "kein Intervall: weniger als zwei Fälle mit Bearbeitungsminuten" in cost  # hand-made lines: no spread
    assert f"{twitter.cost_per_case:.2f}".replace(".", ",") + "\u00a0€ vs. " in cost
    assert f"{hotline.variable_cost_per_case:.2f}".replace(".", ",") + "\u00a0€ pro Fall" in cost
    assert "nicht amortisiert" in text_of(find(cards, "kpi-payback"))


def test_the_filter_note_says_how_a_slice_is_costed() -> None:
    view = a_view(a_pilot(LOSING, breakeven=1.2), NOT_PROJECTED)
    assert page.filter_note(view, "en") is None
    note = page.filter_note(replace(view, filtered=True), "en")
    assert note is not None and "share of handled minutes" in note and "date and category filters" in note
    assert note in text_of(page.answer_block(replace(view, filtered=True), "en"))


def test_the_sensitivity_table_highlights_the_assumed_share() -> None:
    view = a_view(a_pilot(LOSING, breakeven=1.2094), NOT_PROJECTED)
    table = page.sensitivity_table(view, "en")
    rows = [n for n in walk(table) if type(n).__name__ == "Tr"][1:]  # past the header
    texts = [text_of(r) for r in rows]
    assert texts[:4] == ["25% -€27,523", "50% (assumed) -€20,523", "75% -€13,523", "100% -€6,523"]
    assert texts[4] == "break-even share 121%"
    assert [r.className for r in rows[:4]] == [None, "table-primary fw-semibold", None, None]


# ---- the figures --------------------------------------------------------------------------------------

def valid(fig: dict[str, Any]) -> dict[str, Any]:
    assert set(fig) == {"data", "layout"}
    go.Figure(fig)  # plotly's own validator
    return fig


def test_payback_chart_bars_balance_and_partial_months() -> None:
    pilot = a_pilot(LOSING, breakeven=1.2)
    fig = valid(ef.payback_chart(pilot, NOT_PROJECTED, SETUP, "de"))
    bars, balance = fig["data"]
    assert bars["y"] == LOSING
    assert bars["x"][0] == "2026-05-01" and bars["xperiod"] == "M1"
    assert balance["y"] == pytest.approx([-SETUP, *(-SETUP + c for c in accumulate(LOSING))])
    assert balance["x"][0] == "2026-05-01" and balance["x"][-1] == "2026-12-01"  # the balance at month ends
    assert bars["marker"]["pattern"]["shape"] == ["/", "", "", "", "", "", "/"]
    assert "unvollständiger Monat" in bars["customdata"][0][2] and bars["customdata"][1][2] == ""
    assert bars["customdata"][0][1] == "-2.910\u00a0€"
    zero = fig["layout"]["shapes"][0]
    assert (zero["y0"], zero["y1"], zero["xref"]) == (0, 0, "x domain")
    assert len(fig["layout"]["shapes"]) == 1  # neither paid back nor projected: no band
    assert fig["layout"]["separators"] == ",."


def test_payback_chart_marks_the_projected_month_and_its_range() -> None:
    pilot = a_pilot([-1000.0, 500.0, 800.0], breakeven=0.45)
    fig = valid(ef.payback_chart(pilot, Projection("2027-03", "2027-01", "2027-08", "..."), SETUP, "en"))
    band = next(s for s in fig["layout"]["shapes"] if s["type"] == "rect")
    assert (band["x0"], band["x1"]) == ("2027-01-01", "2027-09-01")
    assert fig["layout"]["annotations"][0]["text"] == "projected payback Mar 2027<br>95% range Jan 2027 to Aug 2027"
    assert fig["layout"]["xaxis"]["range"] == ["2026-04-21", "2027-09-11"]  # the band is in view
    paid = valid(ef.payback_chart(a_pilot([9000.0, 9000.0], breakeven=0.3, payback="2026-06"), None, SETUP, "en"))
    band = next(s for s in paid["layout"]["shapes"] if s["type"] == "rect")
    assert (band["x0"], band["x1"]) == ("2026-06-01", "2026-07-01")
    assert paid["layout"]["annotations"][0]["text"] == "paid back<br>in Jun 2026"


def test_payback_chart_without_months_says_why() -> None:
    fig = valid(ef.payback_chart(no_crm_pilot(), None, SETUP, "en"))
    assert not fig["data"] and "no CRM data" in fig["layout"]["annotations"][0]["text"]


def an_its(launch: date = date(2026, 5, 4)) -> ItsResult:
    weeks = [launch + timedelta(weeks=k) for k in range(-8, 8)]
    observed = [100.0 + k for k in range(16)]
    fitted = [100.0 + k for k in range(8)] + [95.0 + k for k in range(8)]
    counterfactual = [100.0 + k for k in range(16)]
    return ItsResult(-0.05, -0.1, 0.0, 0.05, -5.0, -10.0, 0.0, 8, 8, ITS_SENTENCE, launch, weeks=weeks,
                     observed=observed, fitted=fitted, counterfactual=counterfactual)


def test_hotline_chart_counterfactual_only_after_the_launch() -> None:
    its = an_its()
    fig = valid(ef.hotline_chart(its, ITS_SENTENCE, "de"))
    observed, fitted, counterfactual = fig["data"]
    assert observed["y"] == its.observed and len(observed["x"]) == 16
    assert counterfactual["x"] == [w.isoformat() for w in its.weeks if w >= its.launch]
    assert counterfactual["y"] == its.counterfactual[8:]
    assert fitted["y"][8] is None and fitted["x"][8] == its.launch.isoformat()  # the fit breaks at the launch
    assert [y for y in fitted["y"] if y is not None] == its.fitted
    launch = fig["layout"]["shapes"][0]
    assert launch["x0"] == launch["x1"] == "2026-05-04"
    assert fig["layout"]["annotations"][0]["text"] == "Twitter-Start 04.05.2026"


def test_hotline_chart_without_an_estimate_is_an_empty_state() -> None:
    reason = "cannot be judged: 3 weeks of hotline cases before the launch (at least 8 needed)"
    not_judged = replace(an_its(), value=None, weeks=[], observed=[], fitted=[], counterfactual=[])
    for its in (None, not_judged):
        fig = valid(ef.hotline_chart(its, reason, "en"))
        assert not fig["data"] and "3 weeks of hotline cases" in fig["layout"]["annotations"][0]["text"]


def test_staffing_heatmap_is_the_scenario_grid() -> None:
    arrivals = [(d, h, 4.0 if 8 <= h < 20 else 0.5) for d in range(7) for h in range(24)]
    plan = staffing_plan(arrivals, aht_seconds=400, target_seconds=3600, target_share=0.8, scenarios=[1.0, 2.0],
                         shrinkage=0.3, hours_per_fte=38.5, hourly_cost_eur=38.0)
    today = plan.scenario(1.0)
    fig = valid(ef.staffing_heatmap(today, "", "de"))
    heatmap = fig["data"][0]
    assert heatmap["z"] == [list(row) for row in today.agents]
    assert heatmap["y"] == ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"] and heatmap["x"] == list(range(24))
    empty = valid(ef.staffing_heatmap(None, "Cannot be judged: no complete week", "en"))
    assert not empty["data"]
    staffing = Staffing(plan, HourlyArrivals(arrivals, 8, date(2026, 9, 7), 1000), {1.0: "x1: 2.9 FTE, 18,175 EUR.",
                                                                                      2.0: "3.6 FTE, 22,896 EUR."}, "")
    block = text_of(page.staffing_block(staffing, "de"))
    assert "x1 (heute): 2,9 FTE, 18.175\u00a0€." in block and "x2: 3,6 FTE, 22.896\u00a0€." in block
    assert "80\u202f% der Threads innerhalb des SLA von 60 min beantwortet" in block
    assert "30\u202f% Ausfallquote" in block and "höchstens zu 85\u202f% ausgelastet" in block
    assert "x1 (heute)" in block


def test_month_label() -> None:
    assert ef.month_label("2026-09", "de") == "09.2026" and ef.month_label("2026-09", "en") == "Sep 2026"


# ---- the callbacks on real warehouses -------------------------------------------------------------------

def test_without_crm_cases_the_economics_say_so(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb", locale="en", min_sample=3)
    load_twcs(tmp_path, FIXTURE_A, settings)
    state.configure(settings.db, settings)
    cards, answer, payback, sensitivity = page.show_economics({})
    assert "no CRM data" in text_of(find(cards, "kpi-benefit"))
    assert "cannot be judged" in text_of(find(cards, "kpi-benefit"))
    words = text_of(answer)
    assert "Whether the Twitter pilot pays off cannot be judged: no CRM data" in words
    assert "carepulse ingest crm" in words
    assert not payback["data"] and "no CRM data" in payback["layout"]["annotations"][0]["text"]
    assert "No CRM data (the hotline's cases and costs come from the CRM export)" in text_of(sensitivity)
    hotline, note = page.show_hotline({})
    assert not hotline["data"] and "No estimate" in text_of(note)
    staffing, heatmap = page.show_staffing({})
    assert "No complete week of Twitter threads" in text_of(staffing) and not heatmap["data"]
    assert "carepulse ingest crm" in text_of(page.show_cost({}))


def test_the_demo_economics(demo_state: state.DashboardState) -> None:
    cards, answer, payback, sensitivity = page.show_economics({})
    for card in ("kpi-benefit", "kpi-payback", "kpi-cost"):
        assert text_of(find(cards, card))
    assert i18n._("Cost per case, Twitter vs hotline", "de") in text_of(cards)  # the German demo
    assert text_of(find(cards, "kpi-cost")).count("95\u202f% KI") == 2  # Twitter's and the hotline's interval
    paragraphs = [n for n in walk(answer) if type(n).__name__ == "P"]
    assert 3 <= len(paragraphs) <= 4  # plus the assumptions line: 4 to 5 sentences
    assert "carepulse ingest crm" not in text_of(answer)  # the demo has its CRM export
    assert payback["data"] and len(payback["data"][1]["y"]) == len(payback["data"][0]["y"]) + 1
    assert "(angenommen)" in text_of(sensitivity)
    hotline, _ = page.show_hotline({})
    assert hotline["data"][0]["name"] == i18n._("hotline cases per week", "de")
    staffing, heatmap = page.show_staffing({})
    assert "x1 (heute)" in text_of(staffing) and len(heatmap["data"][0]["z"]) == 7
    _, filtered, _, _ = page.show_economics({"account": "nordfunk_hilft"})
    assert "Anteil an den Bearbeitungsminuten" in text_of(filtered)
    assert "load the CRM export" not in text_of(page.show_cost({"account": "nordfunk_hilft"}))


def test_the_layout_has_every_economics_output(demo_state: state.DashboardState) -> None:
    tree = page.layout()
    for component_id in (ids.PILOT_ECONOMICS_KPIS, ids.PILOT_ECONOMICS_ANSWER, ids.PILOT_PAYBACK,
                         ids.PILOT_SENSITIVITY, ids.PILOT_HOTLINE, ids.PILOT_HOTLINE_NOTE, ids.PILOT_STAFFING,
                         ids.PILOT_STAFFING_HEATMAP):
        find(tree, component_id)
    assert "Einrichtungskosten von 15.000\u00a0€" in text_of(tree)  # the German demo: the subtitle in German


def test_the_csat_card_follows_the_verdict_not_the_bare_interval() -> None:
    """An interval clear of zero on its own, but the Holm-adjusted sentence says no clear difference: the
    card must not call it real (the card and the sentence said opposite things before)."""
    label = "CSAT: Twitter minus hotline"
    total = {"csat_diff_twitter_hotline": 0.2, "csat_diff_twitter_hotline_ci_low": 0.01,
             "csat_diff_twitter_hotline_ci_high": 0.39}
    adjusted = {"total": total, "verdicts": [f"{label}: ... no clear difference after allowing for 3 comparisons "
                                             "shown together (Holm)."]}
    clear = {"total": total, "verdicts": [f"{label}: ... a real difference (one of 3 comparisons shown together; "
                                          "Holm-adjusted)."]}
    for head, words in ((adjusted, "no clear difference"), (clear, "a real difference among survey respondents")):
        card = find(page.kpi_cards(head, {"groups": {}}, "en", "phone"), "kpi-csat")
        assert words in text_of(card)


def test_the_service_verdicts_read_in_the_locale() -> None:
    head = {"verdicts": ["CSAT: Twitter minus hotline: Among customers who answered the survey (533 of 1,754 "
                         "Twitter cases, 30.4%; ...) scored 0.25 points higher (95% CI 0.16 to 0.37)."]}
    german = text_of(page.verdict_list(head, "de"))
    assert "533 of 1.754 Twitter cases, 30,4\u202f%" in german and "0,25 points" in german and "0,16 to 0,37" in german
    assert "1,754" in text_of(page.verdict_list(head, "en"))


def test_the_speed_card_glosses_kaplan_meier() -> None:
    head = {"total": {"first_response_median_s": 3660.0, "first_response_km_median_s": 5040.0}, "verdicts": []}
    text = text_of(find(page.kpi_cards(head, {"groups": {}}, "en", "phone"), "kpi-speed"))
    assert "84 min counting the threads still waiting" in text
    assert "the time by which half of all threads are answered" in text


def test_the_csat_card_rounds_as_the_sentence_does() -> None:
    """Issue 12: the card said +0,25 (95 % CI +0,15 to +0,34) beside a sentence saying 0,2 (0,2 to 0,3)."""
    label = "CSAT: Twitter minus hotline"
    total = {"csat_diff_twitter_hotline": 0.2512, "csat_diff_twitter_hotline_ci_low": 0.1561,
             "csat_diff_twitter_hotline_ci_high": 0.3463}
    head = {"total": total, "verdicts": [f"{label}: ... scored 0.3 points higher (95% CI 0.2 to 0.3 ...): a real "
                                         "difference (one of 3 comparisons shown together; Holm-adjusted)."]}
    text = text_of(find(page.kpi_cards(head, {"groups": {}}, "en", "phone"), "kpi-csat"))
    assert "+0.3 points" in text and "95% CI +0.2 to +0.3" in text
