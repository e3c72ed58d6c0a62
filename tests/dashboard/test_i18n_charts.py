"""The charts and the shared panels in German and English: their words come from the catalog in the locale
given (figures.py, economics_figures.py, components.py), and German figures write numbers the German way."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest
from dash.development.base_component import Component

from carepulse.dashboard import components, figures, i18n, state
from carepulse.dashboard import economics_figures as ef
from carepulse.metrics.economics import Line, Month, Pilot
from carepulse.metrics.itsa import ItsResult

LOCALES = ("de", "en")


def weekly() -> pd.DataFrame:
    weeks = pd.date_range("2026-05-04", periods=6, freq="7D")
    rows = [{"week": w, "kind": "actual", "threads": float(n), "pi_low": None, "pi_high": None}
            for w, n in zip(weeks[:4], (1010, 1200, 1100, 1300), strict=True)]
    rows += [{"week": w, "kind": "forecast", "threads": 1350.5, "pi_low": 900.0, "pi_high": 1800.0} for w in weeks[4:]]
    return pd.DataFrame(rows)


def speed() -> pd.DataFrame:
    return pd.DataFrame({"week": ["2026-05-04", "2026-05-11"], "first_response_median_s": [12600.0, 36000.0],
                         "first_response_km_median_s": [14400.0, None], "sla_met_share": [0.525, 0.75]})


def a_pilot() -> Pilot:
    months = [Month("2026-05", 10, 9.5, 100.0, 1600.5, -1500.5, -1500.5, partial=True),
              Month("2026-06", 30, 9.5, 2800.25, 300.0, 2500.25, 999.75, partial=False)]
    return Pilot(0.5, Line("twitter"), Line("phone"), 9.5, months=months)


def an_its() -> ItsResult:
    launch = date(2026, 5, 4)
    weeks = [launch + timedelta(weeks=k) for k in range(-8, 8)]
    return ItsResult(-0.05, -0.1, 0.0, 0.05, -5.0, -10.0, 0.0, 8, 8, "", launch, weeks=weeks,
                     observed=[1000.5 + k for k in range(16)], fitted=[1000.0 + k for k in range(16)],
                     counterfactual=[1000.0 + k for k in range(16)])


def text_of(node: Any) -> str:
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(text_of(n) for n in node)
    if isinstance(node, Component):
        return text_of(getattr(node, "children", None))
    return ""


def words(node: Any) -> str:
    """The text of a component, spaces between its parts collapsed."""
    return " ".join(text_of(node).split())


def de(message: str) -> str:
    german = i18n._(message, "de")
    assert german != message, f"no German for {message!r}"
    return german


# ---- figures.py ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
def test_a_figure_speaks_the_locale_given(locale: str) -> None:
    fig = figures.weekly_volume(weekly(), locale)  # type: ignore[arg-type]
    go.Figure(fig)
    words = i18n._("threads", locale)
    assert fig["layout"]["yaxis"]["title"]["text"] == words
    assert [t["name"] for t in fig["data"]] == [i18n._(n, locale) for n in
                                                ("threads per week", "95% prediction band", "forecast")]
    assert fig["data"][0]["hovertemplate"].startswith(i18n._("week of {week}: {n} threads", locale)[:5])
    assert fig["data"][0]["hovertemplate"].endswith("<extra></extra>")


def test_german_and_english_figures_differ_in_words_not_numbers() -> None:
    german, english = figures.weekly_volume(weekly(), "de"), figures.weekly_volume(weekly(), "en")
    assert german["layout"]["yaxis"]["title"]["text"] == de("threads") == "Threads"
    assert english["layout"]["yaxis"]["title"]["text"] == "threads"
    assert german["data"][0]["name"] == de("threads per week") != english["data"][0]["name"]
    assert german["data"][0]["hovertemplate"] == "Woche ab %{x|%d.%m.%Y}: %{y:,.0f} Threads<extra></extra>"
    assert english["data"][0]["hovertemplate"] == "week of %{x|%d %b %Y}: %{y:,.0f} threads<extra></extra>"
    assert [t["y"] for t in german["data"]] == [t["y"] for t in english["data"]]
    # plotly writes "%{y:,.0f}" and the axes with layout.separators: decimal comma, thousands dot in German
    assert german["layout"]["separators"] == ",." and english["layout"]["separators"] == ".,"
    times = figures.speed_over_time(speed(), "de", 60)
    assert times["data"][0]["customdata"] == ["3,5 h", "10,0 h"]
    assert times["data"][2]["customdata"] == ["52,5\u202f%", "75,0\u202f%"]
    assert times["data"][0]["name"] == "Erstantwort, Median (Stunden)"
    assert times["layout"]["yaxis2"]["title"]["text"] == de("SLA met")
    cost = figures.cost_per_case(pd.DataFrame({"channel": ["twitter"], "cost_per_case": [1234.5]}), "de", "phone")
    assert cost["data"][0]["text"] == ["1.234,50\u00a0€"]


def test_the_weekday_grids_name_the_days_in_the_locale() -> None:
    frame = pd.DataFrame({"weekday_no": [1, 7], "weekday": ["Mon", "Sun"], "hour": [0, 23], "threads": [4, 2],
                          "first_response_median_s": [600.0, None]})
    german = figures.weekday_hour_heatmap(frame, "de", "first_response_median_s")
    english = figures.weekday_hour_heatmap(frame, "en", "first_response_median_s")
    assert german["data"][0]["y"] == ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"] == figures.weekdays("de")
    assert english["data"][0]["y"] == list(figures.WEEKDAYS)
    assert german["data"][0]["text"][3][3] == de("no answer")
    assert german["layout"]["xaxis"]["title"]["text"] == de("hour of day (local)")
    assert german["data"][0]["colorbar"]["title"]["text"] == "Minuten"


@pytest.mark.parametrize("locale", LOCALES)
def test_an_empty_figure_says_why_in_the_locale(locale: str) -> None:
    fig = figures.sla_by_day(pd.DataFrame(), locale)  # type: ignore[arg-type]
    assert fig["layout"]["annotations"][0]["text"] == i18n._("No threads in this selection", locale)
    coverage = figures.link_coverage(pd.DataFrame(), locale)  # type: ignore[arg-type]
    text = coverage["layout"]["annotations"][0]["text"]
    assert "carepulse ingest crm FILE --mapping MAPPING.toml" in text  # the command reads alike in both
    assert text.startswith("Keine CRM-Daten geladen" if locale == "de" else "No CRM data loaded")


def visible(fig: figures.Figure) -> list[str]:
    """The words a reader sees: names, titles, annotations, tick texts, hover templates (fields left out)."""
    found: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k != "template":
                    walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ("name", "text", "hovertemplate", "ticktext"):
            found.append(re.sub(r"%\{[^}]*\}|<extra></extra>|<br>", " ", node))

    walk(fig["layout"])
    for trace in fig["data"]:
        walk({k: v for k, v in trace.items() if k in ("name", "hovertemplate", "colorbar")})
    return found


@pytest.mark.parametrize("build", [
    lambda loc: figures.weekly_volume(weekly(), loc),
    lambda loc: figures.speed_over_time(speed(), loc, 60),
    lambda loc: figures.sla_by_day(pd.DataFrame({"day": ["2026-05-04"], "met": [1], "breached": [2],
                                                 "undecided": [0]}), loc),
    lambda loc: figures.link_coverage(pd.DataFrame({"channel": ["phone"], "conversation": [1], "handle_window": [2],
                                                    "none": [3]}), loc),
    lambda loc: ef.payback_chart(a_pilot(), None, 5000.0, loc),
    lambda loc: ef.hotline_chart(an_its(), "", loc),
], ids=["weekly_volume", "speed_over_time", "sla_by_day", "link_coverage", "payback_chart", "hotline_chart"])
def test_no_english_word_is_left_in_a_german_figure(build: Any) -> None:
    german, english = visible(build("de")), visible(build("en"))
    assert len(german) == len(english) > 0
    for de_text, en_text in zip(german, english, strict=True):
        if re.search(r"[A-Za-z]{3}", en_text) and en_text.strip() not in ("phone", "EUR"):
            assert de_text != en_text, en_text


# ---- economics_figures.py ------------------------------------------------------------------------------

def test_the_economics_figures_in_german_and_english() -> None:
    german, english = ef.payback_chart(a_pilot(), None, 5000.0, "de"), ef.payback_chart(a_pilot(), None, 5000.0, "en")
    go.Figure(german)
    assert german["data"][0]["name"] == de("net benefit of the month") != english["data"][0]["name"]
    assert english["data"][0]["name"] == "net benefit of the month"
    assert german["data"][1]["name"] == de("running balance, set-up cost included")
    assert german["data"][0]["customdata"][0] == ["05.2026", "-1.500\u00a0€",
                                                  " " + de("(partial month: only the days with data count)")]
    assert german["layout"]["separators"] == ",."
    hotline = ef.hotline_chart(an_its(), "", "de")
    assert hotline["layout"]["yaxis"]["title"]["text"] == de("hotline cases per week") == "Hotline-Fälle pro Woche"
    assert hotline["data"][0]["customdata"][0] == "1.000,5" or hotline["data"][0]["customdata"][0] == "1.000"
    assert hotline["layout"]["annotations"][0]["text"] == "Twitter-Start 04.05.2026"
    assert ef.hotline_chart(an_its(), "", "en")["layout"]["annotations"][0]["text"] == "Twitter launch 4 May 2026"


@pytest.mark.parametrize("locale", LOCALES)
def test_an_economics_empty_state_in_the_locale(locale: str) -> None:
    panel = ef.staffing_heatmap(None, "", locale)  # type: ignore[arg-type]
    assert panel["layout"]["annotations"][0]["text"] == i18n._("No staffing plan for this selection", locale)
    assert (panel["layout"]["annotations"][0]["text"] == "Kein Personalplan für diese Auswahl") == (locale == "de")


# ---- components.py -------------------------------------------------------------------------------------

DETAIL = {"status": "answered", "first_response_seconds": 12600.0, "customer_handle": "kaya", "account": None,
          "started_at": pd.Timestamp("2026-05-04 09:15"), "customer_tweets": 1234, "brand_replies": 2,
          "thread_id": "t-1"}
TWEETS = pd.DataFrame({"role": ["customer", "brand"], "author_handle": ["kaya", "brand"],
                       "created_at": [pd.Timestamp("2026-05-04 09:15"), pd.Timestamp("2026-05-04 09:16")],
                       "wait_seconds": [None, 12600.0], "is_first_response": [False, True], "text": ["hi", "hello"]})
CASES = pd.DataFrame({"case_id": ["c-9"], "link_method": ["conversation"], "channel": ["twitter"], "outcome": [None],
                      "csat": [4.0], "agent": ["Ada"], "team": [None], "category": ["billing"]})


def test_the_thread_panel_in_german_and_english() -> None:
    german = text_of(components.thread_view(DETAIL, TWEETS, CASES, "de", 14400))
    english = text_of(components.thread_view(DETAIL, TWEETS, CASES, "en", 14400))
    assert german != english
    for message in ("answered", "unassigned", "first response", "linked by conversation id", "customer", "brand"):
        assert i18n._(message, "de") in german and message in english
    assert "Erstantwort nach 3,5 h (innerhalb des SLA)" in german  # German number in the German sentence
    assert "first response after 3.5 h (within the SLA)" in english
    assert "1.234 Kunden-Tweets" in german and "1,234 customer tweets" in english
    assert "CRM-Fall c-9 · verknüpft über Konversations-ID · Kanal twitter · Ergebnis keins · CSAT 4 · Agent Ada · " \
           "Kategorie billing" in german
    assert "+3,5 h nach dem vorigen Tweet" in german
    for locale in LOCALES:
        panel = components.thread_panel("team", link=True, locale=locale)  # type: ignore[arg-type]
        assert panel.title == i18n._("Thread", locale)
        assert text_of(panel.children[0]) == i18n._("Open in Explore (a link to this thread)", locale)
    assert text_of(components.thread_panel("team", link=True, locale="de").children[0]).startswith("In der Analyse")


def test_empty_states_and_grids_in_the_locale() -> None:
    german = components.empty_state(i18n._(components.NO_CRM, "de"), components.CRM_COMMAND, locale="de")
    english = components.empty_state(components.NO_CRM, components.CRM_COMMAND, locale="en")
    assert words(german) == f"Keine CRM-Daten geladen : {components.CRM_COMMAND} ausführen"
    assert words(english) == f"No CRM data loaded : run {components.CRM_COMMAND}"
    assert type(german.children[2]).__name__ == "Code" and german.children[2].children == components.CRM_COMMAND
    assert text_of(components.empty_state("Nothing", locale="de")) == "Nothing"  # the caller's text as given
    for locale in LOCALES:
        grid = components.grid("g", [], None, locale)  # type: ignore[arg-type]
        assert grid.dashGridOptions["localeText"]["noRowsToShow"] == i18n._("Nothing to show for this selection",
                                                                             locale)
    assert i18n._(components.NO_WAREHOUSE, "de") == "Noch keine Warehouse-Datei"


def test_words_without_a_locale_follow_the_configuration_and_work_unconfigured(monkeypatch: pytest.MonkeyPatch,
                                                                               tmp_path: Any) -> None:
    """Outside a request ``_()`` falls back to the configured locale; a component built before the dashboard is
    configured (a test, a script) shows the English it is written in rather than failing."""
    from carepulse.core.config import Settings

    monkeypatch.setattr(state, "_state", None)
    assert components.language() == "en" and components.thread_panel("x").title == "Thread"
    assert words(components.empty_state("No", "cmd")) == "No : run cmd"
    state.configure(tmp_path / "none.duckdb", Settings(db=tmp_path / "none.duckdb", locale="de"))
    assert i18n._("Nothing to show for this selection") == "Für diese Auswahl gibt es nichts anzuzeigen"
    assert components.language() == "de" and components.language("en") == "en"
    assert words(components.empty_state("Nein", "cmd")) == "Nein : cmd ausführen"
