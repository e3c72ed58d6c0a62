"""The text proxies: German lexicon on labelled customer-care tweets, VADER for English, the
language guess, and the thanks / DM patterns (shared with the SQL)."""

from __future__ import annotations

import re

import duckdb
import pytest

from carepulse.metrics import sentiment
from carepulse.metrics.sentiment import DM_HANDOFF_RE, THANKS_NOT_RE, THANKS_RE, label, score, score_german, thanks_sql

# German customer-care tweets, labelled by a person before the lexicon was run on them (the first 40 with the
# lexicon, the rest with the thanks exclusions of issue 12).
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
    # Added for issue 12, labelled by a person before the scorer was changed: thanks that are not thanks,
    # neutral questions and statements, and more of both polarities.
    ("Danke für nichts", "negative"),
    ("Nein danke, ich kündige", "negative"),
    ("na danke auch", "negative"),
    ("Vielen Dank für nichts, wieder kein Netz", "negative"),
    ("Danke für gar nichts, ihr habt mir nicht geholfen", "negative"),
    ("Nein danke, euer Angebot könnt ihr behalten", "negative"),
    ("Zahle 40 Euro im Monat für nichts", "negative"),
    ("Danke, klappt jetzt!", "positive"),
    ("Danke auch für die schnelle Rückmeldung", "positive"),
    ("Nein, alles gut, danke für die Hilfe!", "positive"),
    ("Wann kommt der Techniker?", "neutral"),
    ("Welche Kundennummer braucht ihr von mir?", "neutral"),
    ("Ich habe euch eine DM geschickt", "neutral"),
    ("Ist die Hotline am Wochenende besetzt?", "neutral"),
    ("Mein Vertrag läuft im März aus", "neutral"),
    ("Gibt es das Angebot auch für Bestandskunden?", "neutral"),
    ("Ich bin gerade umgezogen und brauche einen neuen Anschluss", "neutral"),
    ("Wo finde ich meine Rechnung im Kundencenter?", "neutral"),
    ("Habe die Daten per PN geschickt", "neutral"),
    ("Der Router steht im Wohnzimmer", "neutral"),
    ("Muss ich dafür in den Shop?", "neutral"),
    ("Die Nummer endet auf 4711", "neutral"),
    ("Bis wann muss ich kündigen, um zum Monatsende rauszukommen?", "neutral"),
    ("Wie lange dauert die Portierung meiner Nummer?", "neutral"),
    ("Ich schreibe morgen nochmal", "neutral"),
    ("Seit heute früh geht gar nichts mehr", "negative"),
    ("Schon die dritte Gutschrift versprochen und nie bekommen", "negative"),
    ("Ihr habt mich eine Stunde in der Warteschleife hängen lassen", "negative"),
    ("Das ist doch ein Witz, wieder falsch abgerechnet", "negative"),
    ("Ich bin stinksauer, niemand ruft zurück", "negative"),
    ("Die App stürzt ständig ab", "negative"),
    ("Schlimmster Anbieter überhaupt", "negative"),
    ("Kein Empfang im ganzen Haus, unzumutbar", "negative"),
    ("Der Techniker war sehr kompetent und freundlich", "positive"),
    ("Endlich schnelles Internet, ich bin begeistert", "positive"),
    ("Top, die Rechnung ist korrigiert", "positive"),
    ("Vielen Dank, das Paket ist angekommen", "positive"),
    ("Ihr habt mir den Tag gerettet, danke!", "positive"),
    ("Läuft stabil seit dem Tausch, super", "positive"),
    ("Schnelle und nette Hilfe, gerne wieder", "positive"),
    ("Das war wirklich hilfreich, merci", "positive"),
    ("Problem gelöst, ihr seid spitze", "positive"),
    ("Alles wieder gut, danke für eure Mühe", "positive"),
    ("Nicht schlecht, das ging ja fix", "positive"),
]


def test_labelled_set_is_large_and_has_all_three_labels() -> None:
    assert len(LABELLED_DE) >= 80
    assert len({text for text, _ in LABELLED_DE}) == len(LABELLED_DE)
    counts = {lbl: sum(1 for _, want in LABELLED_DE if want == lbl) for lbl in ("positive", "negative", "neutral")}
    assert min(counts.values()) >= 15, counts


def test_german_lexicon_classifies_labelled_tweets() -> None:
    wrong = [(text, want, round(score(text, "de") or 0, 3)) for text, want in LABELLED_DE
             if label(score(text, "de")) != want]
    accuracy = 1 - len(wrong) / len(LABELLED_DE)
    assert accuracy >= 0.8, f"accuracy {accuracy:.2f}; misclassified: {wrong}"


def test_language_guess_routes_unlabelled_tweets() -> None:
    de = [t for t, _ in LABELLED_DE if sentiment.guess_language(t) == "de"]
    assert len(de) >= 0.9 * len(LABELLED_DE)
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
    # issue 12: refusals, sarcasm and thanks for nothing are not thanks; the sincere ones still are
    ("Danke für nichts", False), ("Nein danke, ich kündige", False), ("Thanks for nothing", False),
    ("thanks a lot for nothing", False), ("na danke auch", False), ("Dankeschön für nichts!", False),
    ("Vielen Dank für gar nichts", False), ("No thanks, I'm cancelling", False),
    ("Danke, klappt jetzt!", True), ("Thanks, that fixed it", True), ("Nein, danke für die Hilfe!", True),
    ("Danke auch für die schnelle Antwort", True),
])
def test_thanks_pattern_is_the_same_in_python_and_duckdb(text: str, thanks: bool) -> None:
    assert sentiment.thanks(text) is thanks
    sql = duckdb.connect().execute(f"SELECT {thanks_sql('t')} FROM (SELECT ? AS t)", [text]).fetchone()
    assert sql is not None and sql[0] is thanks
    pair = duckdb.connect().execute("SELECT regexp_matches(?, ?) AND NOT regexp_matches(?, ?)",
                                    [text, THANKS_RE, text, THANKS_NOT_RE]).fetchone()
    assert pair is not None and pair[0] is thanks


@pytest.mark.parametrize(("text", "lang"), [
    ("Danke für nichts", "de"), ("Nein danke, ich kündige", "de"), ("na danke auch", "de"),
    ("Vielen Dank für nichts", "de"), ("Thanks for nothing", "en"), ("thanks a lot for nothing", "en"),
    ("No thanks, this service is a joke", "en"),
])
def test_thanks_that_are_not_thanks_score_negative(text: str, lang: str) -> None:
    assert label(score(text, lang)) == "negative", score(text, lang)


def test_for_nothing_is_negative_and_sincere_thanks_stay_positive() -> None:
    assert (score("Zahle 40 Euro im Monat für nichts", "de") or 0) <= sentiment.NEGATIVE
    assert (score("paying 40 bucks a month for nothing", "en") or 0) <= sentiment.NEGATIVE
    assert (score("Danke, klappt jetzt!", "de") or 0) >= sentiment.POSITIVE
    assert (score("Thanks, that fixed it", "en") or 0) >= sentiment.POSITIVE
    assert (score("Nein, danke für die Hilfe!", "de") or 0) >= sentiment.POSITIVE


@pytest.mark.parametrize(("text", "dm"), [
    ("Please send us a DM with your account number", True), ("Schreib uns bitte eine Direktnachricht", True),
    ("Bitte per PN", True), ("Send us a private message", True), ("DM us your zip", True),
    ("Have you restarted the router?", False), ("Wir prüfen das", False), ("admin panel", False),
])
def test_dm_pattern_is_the_same_in_python_and_duckdb(text: str, dm: bool) -> None:
    assert (re.search(DM_HANDOFF_RE, text) is not None) is dm
    sql = duckdb.connect().execute("SELECT regexp_matches(?, ?)", [text, DM_HANDOFF_RE]).fetchone()
    assert sql is not None and sql[0] is dm
