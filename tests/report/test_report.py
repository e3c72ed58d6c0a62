"""The management report: two pages, the engine's numbers, the deltas' verdicts, escaped HTML, one-line errors."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.metrics import deltas, engine, registry, units
from carepulse.metrics.cells import Cell
from carepulse.metrics.context import Filters
from carepulse.metrics.data_views import filter_options
from carepulse.metrics.periods import Period, parse_period
from carepulse.report import charts, content, render, render_report, words
from carepulse.warehouse import Warehouse

HEADINGS_1 = ("Twitter customer service: management report", "Does the pilot pay off?", "Satisfaction", "Speed",
              "Queue", "Trends", "Threads per week", "SLA met share per week", "Cost per case, Twitter vs hotline")
HEADINGS_2 = ("Assumptions, data and definitions", "Cost model", "Data coverage", "How changes are tested",
              "Definitions", "docs/metrics.md")


def _pages(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _period(db: Path, text: str) -> Period:
    options = filter_options(db=Warehouse(db).reader(), settings=Settings(db=db))
    assert options.last_day is not None
    return parse_period(text, options.last_day)


def test_demo_pdf_has_two_pages_with_headings_period_and_the_engines_numbers(demo_db: Path, demo_pdf: bytes) -> None:
    assert demo_pdf.startswith(b"%PDF")
    pages = _pages(demo_pdf)
    assert len(pages) == 2
    for heading in HEADINGS_1:
        assert heading in pages[0], heading
    for heading in HEADINGS_2:
        assert heading in pages[1], heading
    period = _period(demo_db, "LAST-4-WEEKS")
    assert period.label in pages[0]
    assert f"{period.start.isoformat()} to {period.end.isoformat()}" in pages[0]
    result = engine.compute(["threads", "response_rate", "csat_mean"], None,
                            Filters(date_from=period.start, date_to=period.end),
                            db=Warehouse(demo_db).reader(), settings=Settings(db=demo_db), ci=True)
    for name, unit in (("threads", "count"), ("response_rate", "share"), ("csat_mean", "score")):
        text = units.format_value(result.total[name].value, unit, "en")
        assert text in pages[0], (name, text)
    assert units.format_value(result.total["threads"].value, "count", "en") in pages[1]  # coverage: this period


def test_twcs_sample_reports_a_month_and_a_week_on_two_pages(twcs_db: Path) -> None:
    reader, settings = Warehouse(twcs_db).reader(), Settings(db=twcs_db)
    for text in ("2017-10", "2017-W44"):
        pdf = render_report(text, "pdf", db=reader, settings=settings, compare="previous", language="en")
        pages = _pages(pdf)
        assert len(pages) == 2, text
        assert text in pages[0]
        assert "no CRM" in pages[0] or "cannot be judged" in pages[0]  # the payback says why it has no value


def test_delta_words_match_deltas_compare(demo_db: Path) -> None:
    reader, settings = Warehouse(demo_db).reader(), Settings(db=demo_db)
    gathered = content.gather("LAST-4-WEEKS", db=reader, settings=settings)
    period, previous = gathered.period, gathered.comparison
    assert previous == period.previous()
    names = ["threads", "unanswered_threads", "response_rate", "sla_met_share", "first_response_median_s",
             "csat_mean", "resolution_rate", "fcr_rate"]
    now = engine.compute(names, None, Filters(date_from=period.start, date_to=period.end), db=reader,
                         settings=settings, ci=True)
    before = engine.compute(names, None, Filters(date_from=previous.start, date_to=previous.end), db=reader,
                            settings=settings, ci=True)
    own = deltas.compare(now.metrics, now.total, before.total, (period.days, previous.days))
    page = render.html_document(gathered, "en")
    for name in names:
        fig = gathered.figure(name)
        assert fig.delta.change == pytest.approx(own[name].change)
        assert fig.delta.better == own[name].better, name
        expected = {True: "better", False: "worse", None: None}[own[name].better]
        row = page.split(f'data-metric="{name}"')[1].split("</tr>")[0]
        if expected:
            assert f">{expected}, " in row, (name, row)
        noise = {True: "beyond noise", False: "within noise", None: "not tested"}[fig.delta.beyond_noise]
        assert noise in row
    # the report's verdicts are one Holm family over page 1: the same as deltas.compare over those cells
    family = deltas.compare(list(content.report_metrics().values()),
                            {f.metric: f.cell for s in gathered.sections for f in s.figures},
                            {f.metric: f.previous for s in gathered.sections for f in s.figures},
                            (period.days, previous.days))
    for section in gathered.sections:
        for fig in section.figures:
            assert fig.delta == family[fig.metric]


def test_direction_and_noise_words() -> None:
    base = deltas.Delta("x", 2.0, 1.0, 1.0, 1.0, True, 0.01, True, "m")
    assert (words.direction_word(base, "en"), words.noise_word(base, "en"), words.tone(base)) == (
        "better", "beyond noise", "good")
    worse = replace(base, better=False, beyond_noise=False)
    assert (words.direction_word(worse, "en"), words.noise_word(worse, "en"), words.tone(worse)) == (
        "worse", "within noise", "neutral")
    untested = replace(base, better=None, p=None, beyond_noise=None, change=-1.0)
    assert (words.direction_word(untested, "en"), words.noise_word(untested, "en")) == ("down", "not tested")
    none = replace(base, current=None, change=None, better=None)
    assert words.direction_word(none, "en") == "no comparison" and words.change_text(none, "count", "en") == ""
    # the same verdicts in German, from the catalogs (the dashboard's words for better and noise)
    assert (words.direction_word(base, "de"), words.noise_word(base, "de")) == ("besser", "über dem Rauschen")
    assert (words.direction_word(untested, "de"), words.noise_word(untested, "de")) == ("gesunken", "nicht getestet")


def test_html_escapes_hostile_values_and_loads_nothing(demo_db: Path) -> None:
    hostile = '<script>alert("x")</script>'
    gathered = content.gather("LAST-4-WEEKS", db=Warehouse(demo_db).reader(), settings=Settings(db=demo_db))
    channels = dict(gathered.assumptions["channels"])
    channels[hostile] = channels["twitter"]
    evil = replace(gathered, period=replace(gathered.period, label=hostile),
                   assumptions={**gathered.assumptions, "channels": channels, "pilot_start": hostile},
                   notes=(hostile,))
    for language in ("en", "de"):
        page = render.html_document(evil, language)
        assert "<script" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
        for outside in ("href=", "src=", "@import", "url(", "https://"):
            assert outside not in page
        assert page.count("http://") == page.count('xmlns="http://www.w3.org/2000/svg"')  # only the SVG namespace


def test_weekly_blocks_count_back_from_the_end_and_add_exactly() -> None:
    period = Period(date(2026, 10, 1), date(2026, 10, 31), "2026-10")
    daily = {(date(2026, 10, 1).replace(day=d)).isoformat(): {"threads": Cell(2), "sla_met_share": Cell(0.5, n=2)}
             for d in range(1, 32)}
    daily["2026-10-31"]["sla_met_share"] = Cell(1.0, n=4)
    blocks = content.weekly_blocks(daily, period, True)
    assert [b.days for b in blocks] == [3, 7, 7, 7, 7]
    assert blocks[-1].end == period.end and blocks[0].start == period.start
    assert sum(b.threads for b in blocks) == 62
    assert blocks[-1].sla_met_share == pytest.approx((6 * 1 + 4) / 16)


def test_charts_are_deterministic_and_escaped() -> None:
    bars = [charts.Bar("<b>", 3.0, charts.BLUE), charts.Bar("b", None, charts.SKY)]
    one = charts.column_chart("t<", ["a", "b"], bars, "count")
    assert one == charts.column_chart("t<", ["a", "b"], bars, "count")
    assert "<b>" not in one and "&lt;b&gt;" in one and one.startswith("<svg")
    line = charts.line_chart("s", ["a", "b", "c"], [("now", charts.BLUE, [0.5, None, 0.7])], "share", top=1.0)
    assert "50.0%" in line or "50%" in line
    cost = charts.bar_chart("c", [charts.Bar("Twitter", 6.5, charts.BLUE, 6.0, 7.0)], "EUR")
    assert units.format_value(6.5, "EUR", "en") in cost


def test_report_metrics_are_the_registrys_with_two_channel_costs() -> None:
    metrics = content.report_metrics()
    assert metrics[content.TWITTER_COST].higher_is_better is False
    assert metrics[content.HOTLINE_COST].higher_is_better is None
    for name in ("pilot_net_benefit_eur", "csat_mean", "first_response_p90_s", "unanswered_threads"):
        assert metrics[name] is registry.REGISTRY[name]


# ---- the command -------------------------------------------------------------------------------------

def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from carepulse.cli import main

    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("period", ["2026-W99", "2026-13", "last week", "LAST-0-WEEKS", "2019-W01"])
def test_bad_periods_are_one_error_line(demo_db: Path, tmp_path: Path, period: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "r.html"
    code, out, err = _cli(["report", "--period", period, "--format", "html", "--db", str(demo_db),
                           "--out", str(out_file)], capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "--period" in err
    assert not out_file.exists() and out == ""


def test_html_without_out_goes_to_the_current_directory(demo_db: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _cli(["report", "--period", "LAST-4-WEEKS", "--format", "html", "--db", str(demo_db),
                           "--compare", "year", "--lang", "en"], capsys)
    assert code == 0, err
    written = tmp_path / "carepulse-report-LAST-4-WEEKS.html"
    assert out.strip() == str(written)
    page = written.read_text(encoding="utf-8")
    assert "the same period a year earlier" in page and page.startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob("*.part"))


def test_missing_warehouse_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(["report", "--period", "LAST-4-WEEKS", "--db", str(tmp_path / "none.duckdb"),
                         "--out", str(tmp_path / "x.pdf")], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "x.pdf").exists()


REPORT = Path(__file__).resolve().parents[2] / "carepulse" / "report"


@pytest.mark.parametrize("path", sorted(REPORT.rglob("*.py")), ids=lambda p: p.name)
def test_the_report_writes_no_sql_and_imports_no_dashboard(path: Path) -> None:
    import re

    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\bSELECT\b|\.execute\(|\bimport duckdb\b", text), "SQL belongs in metrics/"
    assert "carepulse.dashboard" not in text
    assert len(text.splitlines()) < 600
