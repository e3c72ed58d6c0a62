"""The management report in German and English (issue 16): the language travels from the settings, ``--lang``
or the dashboard's reader; every word comes from the catalogs, every number in the language's format."""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError
from carepulse.core.text import Text
from carepulse.metrics import engine, units
from carepulse.metrics.context import Filters
from carepulse.metrics.data_views import filter_options
from carepulse.metrics.periods import Period, parse_period
from carepulse.metrics.words import catalog
from carepulse.report import content, render, render_report, words
from carepulse.warehouse import Warehouse

REPORT = Path(content.__file__).parent
HEADINGS_DE_1 = ("Twitter-Kundenservice: Managementbericht", "Lohnt sich der Pilot?", "Zufriedenheit", "Tempo",
                 "Warteschlange", "Verlauf", "Threads pro Woche", "SLA eingehalten, Anteil pro Woche",
                 "Kosten pro Fall, Twitter vs. Hotline", "Nettonutzen des Pilots im Zeitraum", "Amortisation",
                 "Kennzahl", "Bewertung", "Seite 1 von 2")
HEADINGS_DE_2 = ("Annahmen, Daten und Definitionen", "Kostenmodell", "Datenabdeckung",
                 "Wie Veränderungen getestet werden", "Definitionen", "Verlagerungsquote", "Datenstand",
                 "Nicht berücksichtigt", "Seite 2 von 2")
# The English report's phrases (headings, table heads, verdicts, sentences); none may be left in the German one.
ENGLISH_PHRASES = (
    "Twitter customer service", "management report", "Does the pilot pay off", "Satisfaction", "Speed", "Queue",
    "Trends", "Threads per week", "SLA met share", "Cost per case", "Assumptions, data", "Cost model",
    "Data coverage", "How changes are tested", "Definitions", "Net benefit", "Payback", "beyond noise",
    "within noise", "not tested", "no comparison", "compared with", "the previous period", "this period",
    "Left out", "Data as of", "This period", "cost per agent hour", "fixed per month", "per brand tweet",
    "records quarantined", "duplicates", "the hotline", "first Twitter month", "Deflection share",
    "two-proportion", "Poisson rates", "Holm-adjusted", "95% interval", "not paid back", "last 4 weeks",
    "previous 28 days", "page 1 of", "Weeks are", "Full cost per case", "Unanswered threads count",
)
# Single English words, matched whole and case-sensitive (German nouns are capitalised; "Threads" is German too).
ENGLISH_WORDS = ("the", "of", "and", "with", "per", "to", "was", "now", "better", "worse", "up", "down", "noise",
                 "week", "weeks", "days", "cases", "interval", "period", "since", "cost", "not", "paid",
                 "projected", "judged", "data", "threads", "metric", "change", "verdict", "comparison")


def _pages(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _plain(text: str) -> str:
    """Spaces as the PDF's text has them (narrow and non-breaking spaces read as one space)."""
    return " ".join(text.split())


def _period(db: Path, text: str) -> Period:
    options = filter_options(db=Warehouse(db).reader(), settings=Settings(db=db))
    assert options.last_day is not None
    return parse_period(text, options.last_day)


# ---- (a) the demo's report in German ------------------------------------------------------------------

def test_demo_report_reads_german_with_german_numbers(demo_db: Path, demo_pdf_de: bytes) -> None:
    pages = _pages(demo_pdf_de)
    assert len(pages) == 2
    for heading in HEADINGS_DE_1:
        assert heading in pages[0], heading
    for heading in HEADINGS_DE_2:
        assert heading in pages[1], heading
    period = _period(demo_db, "LAST-4-WEEKS")
    days = f"{words.day(period.start, 'de')} bis {words.day(period.end, 'de')}"
    assert f"letzte 4 Wochen bis {words.day(period.end, 'de')} ({days})" in pages[0]
    result = engine.compute(["threads", "response_rate", "csat_mean", "pilot_net_benefit_eur"], None,
                            Filters(date_from=period.start, date_to=period.end),
                            db=Warehouse(demo_db).reader(), settings=Settings(db=demo_db), ci=True)
    for name, unit in (("threads", "count"), ("response_rate", "share"), ("csat_mean", "score"),
                       ("pilot_net_benefit_eur", "EUR")):
        german, english = (units.format_value(result.total[name].value, unit, lang) for lang in ("de", "en"))
        assert _plain(german) in pages[0], (name, german)
        if german != english:
            assert _plain(english) not in pages[0] + pages[1], (name, english)
    assert "," in units.format_value(result.total["response_rate"].value, "share", "de")  # a decimal comma
    threads = units.format_value(result.total["threads"].value, "count", "de")
    assert threads in pages[1]  # coverage: this period
    for page in pages:
        assert not re.search(r"€\d", page), "English money (€1,234) in the German report"
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", page), "ISO days in the German report"


def test_german_report_has_no_english_left(demo_pdf_de: bytes) -> None:
    text = " ".join(_pages(demo_pdf_de))
    left = [p for p in ENGLISH_PHRASES if p in text]
    left += [w for w in ENGLISH_WORDS if re.search(rf"(?<![\w/-]){re.escape(w)}(?![\w/-])", text)]
    assert left == [], left


def test_html_lang_follows_the_language(demo_db: Path) -> None:
    gathered = content.gather("2026-10", db=Warehouse(demo_db).reader(), settings=Settings(db=demo_db),
                              compare="year")
    german, english = render.html_document(gathered, "de"), render.html_document(gathered, "en")
    assert '<html lang="de">' in german and '<html lang="en">' in english
    assert "dem Vorjahreszeitraum" in german and "the same period a year earlier" in english
    assert 'content: "Seite " counter(page) " von " counter(pages)' in german
    assert 'content: "page " counter(page) " of " counter(pages)' in english


def test_the_language_comes_from_the_settings_unless_chosen(demo_db: Path) -> None:
    reader = Warehouse(demo_db).reader()
    en_settings = Settings(db=demo_db, locale="en_GB")
    page = render_report("LAST-7-DAYS", "html", db=reader, settings=en_settings).decode("utf-8")
    assert '<html lang="en">' in page and "management report" in page
    page = render_report("LAST-7-DAYS", "html", db=reader, settings=en_settings, language="de").decode("utf-8")
    assert '<html lang="de">' in page and "Managementbericht" in page
    with pytest.raises(ConfigError, match="--lang"):
        render_report("LAST-7-DAYS", "html", db=reader, settings=en_settings, language="fr")
    assert words.language_of(None, "de_DE") == "de" and words.language_of(None, None) == "en"


def test_the_metrics_sentences_are_said_and_renumbered() -> None:
    note = Text("{net} EUR over the pilot months {first} to {last} at a deflection share of {share}; the set-up "
                "cost is not in it", net="-3,488", first="2026-10", last="2026-11", share="50%")
    german = words.localized(note, "de")
    assert german.startswith("-3.488\u00a0€") and "50\u202f%" in german and "2026-10" in german
    assert "over" not in german
    assert words.localized(note, "en").startswith("-€3,488 over the pilot months 2026-10 to 2026-11")
    assert words.renumber("from 2026-10-07, 12.5% and 1,234", "de") == "from 07.10.2026, 12,5\u202f% and 1.234"
    assert words.localized("plain data 1,234", "de") == "plain data 1,234"  # data is not a metrics sentence
    labelled = Text("{label}: {note}", label=Text("Cost per Twitter case"), note=Text("not enough data"))
    assert words.localized(labelled, "de") == "Kosten pro Twitter-Fall: zu wenige Daten"


def test_period_names_in_german() -> None:
    last = Period(date(2026, 10, 7), date(2026, 11, 3), "last 4 weeks to 2026-11-03")
    assert words.period_title(last, "de") == "letzte 4 Wochen bis 03.11.2026 (07.10.2026 bis 03.11.2026)"
    assert words.period_title(last, "en") == "last 4 weeks to 2026-11-03 (2026-10-07 to 2026-11-03)"
    before = Period(date(2026, 9, 9), date(2026, 10, 6), "previous 28 days")
    assert words.period_label(before, "de") == "vorherige 28 Tage"
    year = Period(date(2025, 10, 7), date(2025, 11, 3), "last 4 weeks to 2026-11-03, a year earlier")
    assert words.period_label(year, "de") == "letzte 4 Wochen bis 03.11.2026, ein Jahr früher"
    assert words.period_label(Period(date(2026, 10, 26), date(2026, 11, 1), "2026-W44"), "de") == "2026-W44"
    assert words.week_label(date(2026, 10, 21), date(2026, 10, 27), "de") == "27.10."


# ---- (b) every message of the report has its German --------------------------------------------------

def report_messages() -> dict[str, str]:
    """Every ``translate("...")``, ``N_("...")`` and ``Text("...")`` literal in the report: message -> where."""
    found: dict[str, str] = {}
    for path in sorted(REPORT.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("translate", "N_", "Text") and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return found


def _glue(message: str) -> bool:
    """Placeholders and punctuation only ("{label}: {note}"): nothing to translate."""
    return not re.search(r"[A-Za-z]", re.sub(r"\{\w*\}", "", message))


def test_every_report_message_has_its_german_with_the_same_placeholders() -> None:
    messages = {m: where for m, where in report_messages().items() if not _glue(m)}
    assert len(messages) > 80
    german = catalog("de")
    missing = sorted(f"{where} {m!r}" for m, where in messages.items() if m not in german)
    assert missing == [], f"no German for: {missing}"
    for message in messages:
        assert set(re.findall(r"\{\w*\}", message)) == set(re.findall(r"\{\w*\}", german[message])), message


def test_every_label_on_page_one_is_german() -> None:
    german = catalog("de")
    for metric in content.report_metrics().values():
        assert metric.label in german, metric.label


# ---- (c) the command ---------------------------------------------------------------------------------

def test_cli_lang_en_gives_the_english_report_and_the_default_is_german(demo_db: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from carepulse.cli import main

    english, german = tmp_path / "en.html", tmp_path / "de.html"
    base = ["report", "--period", "LAST-4-WEEKS", "--format", "html", "--db", str(demo_db)]
    assert main([*base, "--lang", "en", "--out", str(english)]) == 0
    assert main([*base, "--out", str(german)]) == 0
    capsys.readouterr()
    page = english.read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    for phrase in ("Twitter customer service: management report", "Does the pilot pay off?", "compared with",
                   "Assumptions, data and definitions"):
        assert phrase in page
    assert "Managementbericht" not in page and "Rauschen" not in page
    page = german.read_text(encoding="utf-8")
    assert '<html lang="de">' in page and "Managementbericht" in page


def test_cli_refuses_another_language(demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from carepulse.cli import main

    with pytest.raises(SystemExit):
        main(["report", "--period", "LAST-4-WEEKS", "--db", str(demo_db), "--lang", "fr",
              "--out", str(tmp_path / "x.pdf")])
    assert "--lang" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


# ---- the dashboard's download -------------------------------------------------------------------------

SCRIPT = r"""
import json, re, sys
from pathlib import Path
from carepulse.core.config import Settings
from carepulse.dashboard.app import create_app
db = Path(sys.argv[1])
client = create_app(db, Settings(db=db)).server.test_client()
out = {}
def lang():
    page = client.get("/report.html?period=LAST-7-DAYS")
    return [page.status_code, re.findall(r'<html lang="(\w+)">', page.get_data(as_text=True))]
out["default"] = lang()
client.get("/lang/en?next=/")
out["switched"] = lang()
print(json.dumps(out))
"""


def test_dashboard_report_follows_the_readers_language(demo_db: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(demo_db)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"default": [200, ["de"]], "switched": [200, ["en"]]}
