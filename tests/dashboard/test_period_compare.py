"""The Pilot cards' period comparison: the period picked from the filters, the line's words, and the numbers
(the engine's, for both periods)."""

from __future__ import annotations

from datetime import date

from dash.testing import ignore_register_page

from carepulse.dashboard import period_compare, state
from carepulse.metrics import data_views, deltas, engine, periods

with ignore_register_page():
    from carepulse.dashboard.pages import pilot

OPTS = data_views.FilterOptions((), (), (), (), date(2026, 5, 4), date(2026, 11, 3), None, 0)


def test_comparison_picks_the_previous_period_of_equal_length() -> None:
    cmp = period_compare.comparison(engine.Filters(date_from=date(2026, 10, 7)), OPTS, "previous")
    assert cmp is not None and cmp.has_data
    assert (cmp.current.start, cmp.current.end) == (date(2026, 10, 7), date(2026, 11, 3))
    assert (cmp.previous.start, cmp.previous.end) == (date(2026, 9, 9), date(2026, 10, 6))
    assert cmp.previous_filters.date_to == date(2026, 10, 6)
    whole = period_compare.comparison(engine.Filters(), OPTS, "previous")
    assert whole is not None and not whole.has_data  # nothing before the data starts
    assert period_compare.comparison(engine.Filters(), OPTS, "none") is None
    assert period_compare.comparison(engine.Filters(), None, "previous") is None


def _delta(change: float, better: bool | None, beyond: bool | None) -> deltas.Delta:
    return deltas.Delta("response_rate", 0.9, 0.9 - change, change, None, better, 0.01, beyond, "two-proportion z-test")


def test_delta_line_words_and_colour() -> None:
    prev = periods.Period(date(2026, 9, 1), date(2026, 9, 30), "2026-09")
    line = period_compare.delta_line(_delta(0.031, True, True), "share", prev, "en")
    assert line.children == "▲ +3.1 pp vs 1 Sep 2026 – 30 Sep 2026 · better · beyond noise"
    assert "text-success" in line.className
    quiet = period_compare.delta_line(_delta(-0.031, False, False), "share", prev, "de")
    assert quiet.children.startswith("▼ -3,1 Pp. ggü.") and quiet.children.endswith("schlechter · im Rauschen")
    assert "text-muted" in quiet.className  # within noise: no colour, the words carry it
    none = period_compare.delta_line(None, "share", prev, "en")
    assert "no comparison" in none.children


def test_change_text_per_unit() -> None:
    def text(change: float, unit: str, relative: float | None = None) -> str:
        return deltas.change_text(deltas.Delta("x", 1, 1, change, relative, None, None, None, None), unit, "en")

    assert text(0.0312, "share") == "+3.1 pp"
    assert text(-840.0, "seconds") == "-14 min"
    assert text(0.5, "points") == "+0.50"
    assert text(140, "count", 0.12) == "+140 (+12%)"
    assert text(-1.2, "EUR") == "-€1.20"


def test_pilot_cards_show_the_engines_change(demo_state: state.DashboardState) -> None:
    opts = state.load(data_views.filter_options)
    assert opts.last_day is not None
    month = periods.preset_period("last-month", opts.last_day, None)
    filters = engine.Filters(date_from=month.start, date_to=month.end)
    cmp, found = pilot.card_deltas(filters, "previous")
    assert cmp is not None and cmp.previous.label == month.previous().label
    before = month.previous()
    now = engine.compute(["response_rate"], None, filters, db=demo_state.reader, settings=demo_state.settings)
    then = engine.compute(["response_rate"], None, engine.Filters(date_from=before.start, date_to=before.end),
                          db=demo_state.reader, settings=demo_state.settings)
    assert found["response_rate"].change == now.total["response_rate"].value - then.total["response_rate"].value
    assert set(found) == set(period_compare.CARD_METRICS.values())
