"""The text proxies: German lexicon on labelled customer-care tweets, VADER for English, the
language guess, and the thanks / DM patterns (shared with the SQL)."""

from __future__ import annotations

import re

import duckdb
import pytest

from metrics import sentiment
from metrics.sentiment import DM_HANDOFF_RE, THANKS_RE, label, score, score_german

# Forty German customer-care tweets, labelled by a person before the lexicon was run on them.
LABELLED_DE: list[tuple[str, str]] = [
    ("@telekom_hilft Seit drei Tagen kein Internet. Echt eine Frechheit!", "negative"),
    ("Mein Router ist schon wieder kaputt, ich bin total genervt", "negative"),
    ("Danke für die schnelle Hilfe, läuft wieder!", "positive"),
    ("Super Service, das Problem wurde sofort gelöst 👍", "positive"),
    ("Die Hotline ist nicht erreichbar, unverschämt", "negative"),
    ("Vielen Dank, ihr seid klasse!", "positive"),
    ("Warum dauert das so lange? Ich warte seit einer Woche auf den Techniker", "negative"),
    ("Netzstörung in Hamburg, nichts geht mehr", "negative"),
    ("Alles bestens, danke euch", "positive"),
    ("Eine Katastrophe, dieser Kundenservice", "negative"),
    ("Hat funktioniert, vielen Dank für die Geduld", "positive"),
    ("Das ist nicht gut, die Rechnung ist falsch", "negative"),
    ("Kein Problem, danke für die Info", "positive"),
    ("Ich bin sehr zufrieden mit der Lösung", "positive"),
    ("Bin echt enttäuscht von euch", "negative"),
    ("Toll, endlich wieder Internet!", "positive"),
    ("Nach dem Update funktioniert das WLAN nicht", "negative"),
    ("Mega schnell geantwortet, top!", "positive"),
    ("Ich überlege zu kündigen, so ein Mist", "negative"),
    ("Perfekt, das hat mir sehr geholfen", "positive"),
    ("Schon wieder Funkloch auf der A7", "negative"),
    ("Ihr seid wirklich hilfreich, danke", "positive"),
    ("Die Verbindung bricht ständig ab, nervt extrem", "negative"),
    ("Sehr freundliche Mitarbeiterin am Telefon, danke", "positive"),
    ("Keine Antwort seit Tagen. Lächerlich.", "negative"),
    ("Hervorragend, alles erledigt", "positive"),
    ("Das Internet ist unfassbar langsam", "negative"),
    ("Läuft wieder, ihr seid die Besten", "positive"),
    ("Wieder abgezockt worden, doppelte Abbuchung", "negative"),
    ("Großartig, die Gutschrift ist angekommen", "positive"),
    ("Der Techniker kam nicht, sehr ärgerlich", "negative"),
    ("Ich bin nicht unzufrieden, passt schon", "positive"),
    ("Ewige Warteschleife, furchtbar", "negative"),
    ("Danke, das war unkompliziert", "positive"),
    ("Mein Vertrag wurde falsch umgestellt, ein Skandal", "negative"),
    ("Wunderbar, vielen Dank für die Kulanz", "positive"),
    ("Störung behoben? Bei mir leider immer noch nicht", "negative"),
    ("Klasse Support, immer wieder gerne", "positive"),
    ("Schlechter Service, nie wieder", "negative"),
    ("Freue mich, dass es so schnell ging", "positive"),
]


def test_forty_labelled_examples() -> None:
    assert len(LABELLED_DE) == 40
    assert {lbl for _, lbl in LABELLED_DE} == {"positive", "negative"}


def test_german_lexicon_classifies_labelled_tweets() -> None:
    wrong = [(text, want, round(score(text, "de") or 0, 3)) for text, want in LABELLED_DE
             if label(score(text, "de")) != want]
    accuracy = 1 - len(wrong) / len(LABELLED_DE)
    assert accuracy >= 0.8, f"accuracy {accuracy:.2f}; misclassified: {wrong}"


def test_language_guess_routes_unlabelled_tweets() -> None:
    de = [t for t, _ in LABELLED_DE if sentiment.guess_language(t) == "de"]
    assert len(de) >= 36
    assert sentiment.guess_language("my internet is down again, this is terrible") == "en"
    assert sentiment.language_of("Danke!", "en") == "en"  # the tweet's own language tag wins


def test_negation_and_boosters() -> None:
    assert score_german("gut") > 0 > score_german("nicht gut")
    assert score_german("Problem") < 0 < score_german("kein Problem")
    assert score_german("sehr gut") > score_german("gut") > score_german("etwas gut")
    assert score_german("nicht gut, schlecht") < 0  # the negator stops at the first sentiment word
    assert score_german("geht nicht") < 0 < score_german("geht wieder")
    assert score_german("Netzstörung") == score_german("Störung")  # compound falls back to its ending
    assert score_german("Frechheit!!") < score_german("Frechheit") < 0
    assert score_german("Wann kommt der Techniker?") == 0


def test_english_uses_vader() -> None:
    assert (score("Thanks, that fixed it!", "en") or 0) > 0.05
    assert (score("@AppleSupport my phone is broken again, terrible service", "en") or 0) < -0.05
    assert score("", "en") is None


def test_lexicon_file_loads_and_has_hundreds_of_terms() -> None:
    lex = sentiment.german_lexicon()
    assert len(lex.words) >= 250
    assert lex.negators["nicht"] == pytest.approx(-0.74)
    assert lex.boosters["sehr"] == pytest.approx(1.5)


@pytest.mark.parametrize(("text", "thanks"), [
    ("Danke!", True), ("Dankeschön, hat geklappt", True), ("Vielen Dank euch", True), ("thanks a lot", True),
    ("thank you so much", True), ("thx", True), ("Ich bedanke mich", True),
    ("Undankbar", False), ("still broken", False), ("Thanksgiving sale", False),
])
def test_thanks_pattern_is_the_same_in_python_and_duckdb(text: str, thanks: bool) -> None:
    assert sentiment.thanks(text) is thanks
    sql = duckdb.connect().execute("SELECT regexp_matches(?, ?)", [text, THANKS_RE]).fetchone()
    assert sql is not None and sql[0] is thanks


@pytest.mark.parametrize(("text", "dm"), [
    ("Please send us a DM with your account number", True), ("Schreib uns bitte eine Direktnachricht", True),
    ("Bitte per PN", True), ("Send us a private message", True), ("DM us your zip", True),
    ("Have you restarted the router?", False), ("Wir prüfen das", False), ("admin panel", False),
])
def test_dm_pattern_is_the_same_in_python_and_duckdb(text: str, dm: bool) -> None:
    assert (re.search(DM_HANDOFF_RE, text) is not None) is dm
    sql = duckdb.connect().execute("SELECT regexp_matches(?, ?)", [text, DM_HANDOFF_RE]).fetchone()
    assert sql is not None and sql[0] is dm
