"""Every page in German and in English, in the browser at 1366 px: a screenshot of each for people to look
at (``artifacts/screenshots/<language>-<page>.png``), and a check of the words actually drawn.

The check reads what a reader sees (the visible text, the figures' SVG text, tooltips' ``title``), leaves
out what is data or code (tweet texts, SQL in ``<pre>``, ``<code>`` commands, file names, raw quarantined
records and their reasons, which the run log records in English as the ETL wrote them, and the audit
log's details: filter queries as sent), and fails on:

- German pages: any piece of an English message of the catalog whose German differs (so an English
  sentence that slipped past ``_()`` shows up), and English filler words that no German sentence has;
- English pages: any piece of a German translation (a German word where English belongs).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from carepulse.dashboard import i18n
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_dashboard import PAGES, open_page

pytestmark = pytest.mark.e2e

# The words a reader sees: text nodes outside code and tweet texts, the SVG text of figures, titles.
SEEN = """() => {
  const data = ['first_text', 'raw', 'file', 'reason', 'reason_kind', 'detail'].map((c) => `.ag-cell[col-id="${c}"]`);
  const skip = (el) => el.closest(['pre', 'code', '.tweet-text', 'script', 'style', ...data].join(', '));
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || skip(el)) continue;
    if (!(el instanceof SVGElement) && el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
    parts.push(node.textContent);
  }
  document.querySelectorAll('[title]').forEach((el) => { if (!skip(el)) parts.push(el.getAttribute('title')); });
  return parts.join('\\n');
}"""
FILLER = re.compile(r"\b(the|and|of|with|than|per|not|threads|cases|answered|waiting|within|between|days|selected)\b")
PLACEHOLDER = re.compile(r"\{\w*\}")


def pieces(message: str) -> list[str]:
    """The literal stretches of a message long enough to be unmistakable (three words or more)."""
    return [p.strip() for p in PLACEHOLDER.split(message) if len(p.strip().split()) >= 3 and len(p.strip()) >= 14]


def untranslated(text: str, language: str) -> list[str]:
    german = i18n.catalog("de")
    found = []
    for english, deutsch in german.items():
        if english == deutsch:
            continue
        source, target = (english, deutsch) if language == "de" else (deutsch, english)
        found += [p for p in pieces(source) if p in text and p not in target]
    if language == "de":
        found += [text[max(0, m.start() - 40):m.end() + 40].replace("\n", " | ") for m in FILLER.finditer(text)]
    return sorted(set(found))


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_page_in_each_language_shows_only_its_words(page: Any, base_url: str, language: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{base_url}/lang/{language}?next=/data")
    problems: dict[str, list[str]] = {}
    for name, (path, selectors) in PAGES.items():
        open_page(page, base_url + path, selectors)
        assert page.evaluate("() => document.documentElement.lang") == language
        page.screenshot(path=str(SCREENSHOTS / f"{language}-{name}.png"), full_page=True)
        wrong = untranslated(page.evaluate(SEEN), language)
        if wrong:
            problems[name] = wrong
    for name, words in problems.items():  # all of them in the log, the assertion shows the first
        print(f"{language} {name}:", *words, sep="\n  ")
    assert problems == {}, f"{language}: words of the other language on " + "; ".join(
        f"{name}: {words[:12]}" for name, words in problems.items())


def test_the_check_sees_an_english_sentence_on_a_german_page() -> None:
    """The check above would catch a message shown untranslated (it must see this to be worth anything)."""
    assert untranslated("Net benefit of the pilot 20.346 €", "de")
    assert untranslated("Nettonutzen des Pilots 20.346 €", "de") == []
    assert untranslated("Er rechnet sich bisher nicht: Im Zeitraum", "en")
