"""The metrics layer's sentences in German (issue 16): every verdict, reason and model sentence is built as a
:class:`carepulse.core.text.Text` from a template, every template has its German in the catalog with the same
placeholders, and the sentences the demo's Pilot page shows read German through and through."""

from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from carepulse.core.config import Settings
from carepulse.core.text import Text, say
from carepulse.dashboard import i18n
from carepulse.metrics import engine, stats
from carepulse.metrics.context import Filters
from carepulse.metrics.itsa import segmented_regression
from carepulse.metrics.pilot_view import pilot_view
from carepulse.metrics.registry import default_metrics, list_metrics, resolve
from carepulse.metrics.staffing import staffing_plan, verdict
from carepulse.warehouse import Warehouse

METRICS = Path(stats.__file__).parent
# The templates made when the metrics layer's sentences were converted; the check below may only grow.
AT_LEAST = 140
# English words that a German sentence must not keep (whole words, lower case: German nouns are capitalised,
# and names in the data, "Twitter" or an account, are not among them).
ENGLISH = ("than", "clear", "difference", "threads", "thread", "the", "of", "and", "cases", "case", "week", "weeks",
           "not", "with", "per", "enough", "data", "after", "before", "real", "trend", "points", "shown", "together",
           "interval", "zero", "scored", "resolved", "often", "expected", "needs", "agents", "agent", "hours",
           "judged", "payback", "projected", "cost", "month", "months", "selection", "launch", "hotline", "fewer",
           "more", "less", "about", "from", "history", "useful", "weak", "rank", "test", "agrees", "disagrees",
           "days", "reached", "answered", "period", "partial", "peak", "volume", "today's", "at", "on", "is", "a")


def templates() -> dict[str, str]:
    """Every ``Text("...")`` with a constant template in ``carepulse/metrics``: template -> where."""
    found: dict[str, str] = {}
    for path in sorted(METRICS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Text" \
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return found


def glue(template: str) -> bool:
    """A template of placeholders and punctuation only ("{lead} ({stats}): {word}."): no words to translate."""
    return not re.search(r"[A-Za-z]", re.sub(r"\{\w*\}", "", template))


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{\w*\}", text))


def german(text: Any) -> str:
    return say(text, lambda message: i18n._(message, "de"))


def english_left(sentence: str) -> list[str]:
    return sorted({w for w in re.findall(r"[A-Za-z']+", sentence) if w in ENGLISH})


def check_sentence(text: Any, where: str) -> None:
    """A sentence a user reads: a Text, different in German, and no English word left in the German."""
    assert isinstance(text, Text), f"{where}: not a Text: {text!r}"
    said = german(text)
    assert said != str(text), f"{where}: the same in German: {text!r}"
    assert english_left(said) == [], f"{where}: English left in {said!r}"


# ---- the catalog has every template ------------------------------------------------------------------

def test_every_template_of_the_metrics_has_its_german_with_the_same_placeholders() -> None:
    found = templates()
    assert len(found) >= AT_LEAST, f"only {len(found)} templates found in {METRICS}"
    catalog = i18n.catalog("de")
    words = {t: where for t, where in found.items() if not glue(t)}
    missing = sorted(f"{where} {t!r}" for t, where in words.items() if t not in catalog)
    assert missing == [], "no German for:\n" + "\n".join(missing)
    for template, where in words.items():
        assert placeholders(template) == placeholders(catalog[template]), f"{where}: {template!r}"


def test_every_metric_label_has_its_german() -> None:
    """A verdict reads "<label>: <note>", the label a Text of its own (metrics/engine.py)."""
    catalog = i18n.catalog("de")
    assert sorted(m.label for m in list_metrics() if m.label not in catalog) == []


def test_a_template_is_said_with_its_values_and_nested_words() -> None:
    finding = stats.not_enough(12, 30, Text("weeks"))
    assert finding.verdict == "not enough data (weeks = 12, minimum 30)"
    assert german(finding.verdict) == "zu wenige Daten (Wochen = 12, Minimum 30)"
    assert german(stats.not_enough(1234, 30).verdict) == "zu wenige Daten (n = 1,234, Minimum 30)"  # numbers stay


# ---- the statistics in German -------------------------------------------------------------------------

SCORES = [1, 2, 3, 4, 5] * 100
WOBBLE = np.array([30, -20, 10, -40, 25, -5, 15, -30, 20, -10], dtype=float)


def test_the_statistics_sentences_read_german() -> None:
    csat = stats.compare_means(SCORES + [5] * 50, SCORES, "Twitter", "phone", min_n=30, respondents=(1800, 2000))
    assert german(csat.verdict) == (
        "Unter den Kunden, die an der Umfrage teilgenommen haben (550 von 1,800 Twitter-Fällen, 31%; 500 von 2,000 "
        "phone-Fällen, 25%), wurden Twitter-Fälle im Mittel um 0.18 Punkte höher bewertet als phone-Fälle (95-%-KI "
        "0.01 bis 0.36, n = 550 vs. 500): ein echter Unterschied (Rangtest stimmt überein). Dies ist ein Vergleich, "
        "kein Beleg dafür, dass Twitter die Ursache ist.")
    family = [stats.compare_proportions(568, 1000, 520, 1000, "Twitter", "phone", min_n=30),
              stats.compare_means(SCORES[:100], SCORES[1:101], "Twitter", "phone", min_n=30),
              stats.weekly_trend((600 + 0.5 * np.arange(10) + WOBBLE).tolist(), min_weeks=8)]
    adjusted = stats.adjust(family)
    assert german(adjusted[0].verdict).endswith(
        "kein klarer Unterschied unter Berücksichtigung der 3 gemeinsam gezeigten Vergleiche (Holm).")
    sentences = [
        csat.verdict, *[f.verdict for f in family], *[f.verdict for f in adjusted],
        stats.compare_proportions(300, 400, 600, 800, "Twitter", "phone", min_n=30).verdict,
        stats.compare_proportions(520, 1000, 568, 1000, "Twitter", "phone", min_n=30).verdict,
        stats.compare_means([4] * 12, [3] * 40, "Twitter", "phone", min_n=30).verdict,
        stats.weekly_trend((3000 + 150 * np.arange(10) + 10 * WOBBLE).tolist(), min_weeks=8).verdict,
        stats.weekly_trend((3000 - 150 * np.arange(10) + 10 * WOBBLE).tolist(), min_weeks=8).verdict,
        stats.weekly_trend([1.0, 2.0], min_weeks=8).verdict,
        stats.forecast_weeks([100.0 + (i % 3) * 5 for i in range(12)], min_weeks=8).total.verdict,
        stats.auc([True, False] * 20, [True, True, False, False] * 10, min_n=30, what=Text("Customer thanks at the end")
                  ).verdict,
        stats.spearman(list(range(40)), [v % 7 for v in range(40)], min_n=30,
                       what=Text("Sentiment of the last customer tweet")).verdict,
        stats.duration_text(3 * 86400), stats.duration_text(float("inf")),
    ]
    for i, sentence in enumerate(sentences):
        check_sentence(sentence, f"sentence {i}")
    for term, words in stats.GLOSSARY:
        assert isinstance(term, Text) and isinstance(words, Text)
        assert english_left(german(words)) == [], words


def test_the_hotline_and_staffing_sentences_read_german() -> None:
    launch = date(2026, 5, 4)
    weeks = [launch + timedelta(weeks=k) for k in range(-30, 26)]
    rng = np.random.default_rng(7)
    counts = [float(rng.poisson(400 if w < launch else 330)) for w in weeks]
    counts[40] = 1600.0  # an outage week
    result = segmented_regression(weeks, counts, launch, min_weeks=8)
    check_sentence(result.verdict, "ITS")
    assert "ungewöhnliche Woche" in german(result.verdict)
    check_sentence(segmented_regression(weeks[:5], counts[:5], launch, min_weeks=8).verdict, "ITS withheld")
    cells = [(d, h, 3.0 if 8 <= h < 20 else 0.2) for d in range(7) for h in range(24)]
    plan = staffing_plan(cells, aht_seconds=400, target_seconds=3600, target_share=0.8, scenarios=[1.0, 1.5, 2.0],
                         shrinkage=0.3, hours_per_fte=39, hourly_cost_eur=38)
    for weeks_used in (None, 1, 8, 0):
        check_sentence(verdict(plan, weeks_used), f"staffing, {weeks_used} weeks")
    assert german(verdict(plan, 8)).startswith("Beim heutigen Volumen (etwa")


# ---- the demo's headline and Pilot page -----------------------------------------------------------------

# The metrics whose cell carries a sentence on the demo, beside the default set's (the Pilot page's statistics,
# the hotline's change, the staffing what-if, the text proxies' checks).
SENTENCES = ("csat_diff_twitter_hotline", "resolution_diff_twitter_hotline", "first_response_trend_s_per_week",
             "threads_forecast_4w", "hotline_itsa_volume_change", "staffing_fte_x1", "staffing_fte_x2",
             "thanks_csat_auc", "sentiment_csat_spearman")


@pytest.fixture(scope="module")
def demo(demo_db: Path) -> tuple[Any, Settings]:
    return Warehouse(demo_db).reader(), Settings(db=demo_db)


def test_the_headline_verdicts_of_the_demo_read_german(demo: tuple[Any, Settings]) -> None:
    db, settings = demo
    head = engine.headline(list(dict.fromkeys([*default_metrics(), *SENTENCES])), db=db, settings=settings)
    verdicts = head["verdicts"]
    labels = {m.label for m in resolve(SENTENCES)}
    assert labels <= {v.values["label"] for v in verdicts}  # each statistic says its verdict
    for sentence in verdicts:
        check_sentence(sentence, "headline")
    sliced = engine.headline(["csat_diff_twitter_hotline", "resolution_diff_twitter_hotline"],
                             filters=Filters(category=_a_category(db)), db=db, settings=settings)
    for sentence in sliced["verdicts"]:
        check_sentence(sentence, "headline on a slice")


def _a_category(db: Any) -> str:
    from carepulse.metrics.context import cursor

    con = cursor(db)
    try:
        row = con.execute("SELECT category, count(*) FROM crm_cases WHERE category IS NOT NULL "
                          "GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
    finally:
        con.close()
    assert row is not None
    return str(row[0])


def test_the_pilot_pages_sentences_of_the_demo_read_german(demo: tuple[Any, Settings]) -> None:
    db, settings = demo
    view = pilot_view(None, db=db, settings=settings)
    check_sentence(view.projection.sentence, "projection")
    check_sentence(view.hotline_change.verdict, "hotline change")
    check_sentence(view.staffing.summary, "staffing summary")
    assert view.staffing.sentences
    for factor, sentence in view.staffing.sentences.items():
        check_sentence(sentence, f"staffing x{factor}")
    if view.pilot.reason is not None:
        check_sentence(view.pilot.reason, "pilot reason")
    sliced = pilot_view(Filters(category=_a_category(db)), db=db, settings=settings)
    assert sliced.pilot.payback_reason is not None
    check_sentence(sliced.pilot.payback_reason, "payback reason")
    check_sentence(sliced.projection.sentence, "projection on a slice")
