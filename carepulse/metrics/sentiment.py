"""Text proxies for satisfaction, with nothing downloaded at run time.

* English: VADER (``vaderSentiment``), whose lexicon ships inside the package.
* German: the carepulse customer-care lexicon (``metrics/data/lexicon_de.txt``), scored the way
  VADER scores: word valences summed, a negator within the three tokens before a word flips and
  damps it (x -0.74) and a clause that ends in a negator ("funktioniert das WLAN nicht") does
  the same to its positive words; a booster within the two tokens before multiplies it (``sehr``
  x 1.5, ``etwas`` x 0.7); punctuation ends the reach of both; words after ``aber`` weigh 1.5 and
  words before it 0.5, each ``!`` (up to
  three) adds 10 %, and the sum ``s`` is squashed to ``s / sqrt(s^2 + 15)`` in -1..1.
  Two-token phrases (``geht nicht``, ``vielen dank``, ``kein netz``, ``für nichts``) are matched first.
* Both languages: a thanks that is not one (``THANKS_NOT_RE``: "Nein danke", "na danke auch",
  "Thanks for nothing") is cut out and weighs ``NOT_THANKS_VALENCE`` in the sum instead; English
  phrases VADER cannot see (``ENGLISH_PHRASES``: "for nothing") are added to its sum the same way.

Scores at or below ``NEGATIVE`` count as negative, at or above ``POSITIVE`` as positive
(VADER's conventional thresholds). The language comes from the tweet's ``lang`` when it is
``de`` or ``en``, else from a small function-word vote (:func:`guess_language`).

The regular expressions here are used both in Python and inside DuckDB (RE2), so they stick to
the syntax both understand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

NEGATIVE = -0.05
POSITIVE = 0.05
NEGATION_SCALAR = -0.74
NORMALIZE_ALPHA = 15.0

THANKS_RE = (
    r"(?i)\b(danke\w*|vielen dank|besten dank|herzlichen dank|bedanke\w*|merci|thx|thanks|thank you|"
    r"thank u|many thanks|cheers|appreciate it)\b"
)
# Thanks that are not thanks, for a tweet that THANKS_RE matches: a refusal ("Nein danke, ich kündige",
# "no thanks"), sarcasm ("na danke", "na danke auch") and thanks for nothing ("Danke für nichts", "thanks a
# lot for nothing"). A tweet thanks when THANKS_RE matches and this does not. Only whitespace may stand
# between the refusal and the thanks: "Nein, danke für die Hilfe!" answers a question and then thanks.
# Both run in Python and in DuckDB (RE2, no look-around, ``\w`` ASCII only there), so a German thanks
# word is "danke" up to the next space or mark, not ``danke\w*``, or "Dankeschön" would split at the "ö".
_THANKS_WORD = r"(danke[^\s.,;:!?]*|dank|(thanks|thank you|thank u|thx)\b)"
THANKS_NOT_RE = (
    r"(?i)\b(nein|no|na|naja)\s+" + _THANKS_WORD + r"|"
    r"\b" + _THANKS_WORD + r"[\s,]+((a lot|so much|very much|schön|sehr|vielmals|auch)[\s,]+)?"
    r"(für|for)\s+((gar|absolut|absolutely|exactly)\s+)?(nichts|nix|nothing)\b"
)
# What a refused or sarcastic thanks weighs in place of the thanks word's positive valence (VADER scale):
# as much as a plainly negative word ("Mist" -1.5), so "na danke auch" alone is negative, not neutral.
NOT_THANKS_VALENCE = -1.5
# English phrases VADER cannot score, as it scores single words only ("for nothing" has no valence there);
# the German ones are two-token phrases of the lexicon ("für nichts").
ENGLISH_PHRASES: dict[str, float] = {r"(?i)\bfor\s+((absolutely|exactly)\s+)?nothing\b": -1.5}
DM_HANDOFF_RE = (
    r"(?i)\b(dms?|direct ?messages?|private ?messages?|message us|send us a message|pm us|"
    r"direktnachricht\w*|privatnachricht\w*|private[nr]? nachricht\w*|per pn|pn)\b"
)

Language = Literal["de", "en"]

_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"@\w+")
_TOKEN = re.compile(r"[^\W\d_]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]|[,.;:!?]", re.UNICODE)
_PUNCTUATION = frozenset(",.;:!?")
_GERMAN_MARKERS = frozenset({
    "aber", "auch", "auf", "bei", "bitte", "danke", "das", "dass", "der", "die", "euch", "euer",
    "eure", "für", "geht", "gibt", "hab", "habe", "haben", "hallo", "heute", "ich", "ihr", "immer",
    "ist", "jetzt", "kein", "keine", "leider", "mein", "meine", "mich", "mir", "mit", "moin",
    "nicht", "noch", "oder", "schon", "seit", "sie", "und", "wann", "warum", "was", "wie", "wieder",
    "wir",
})
_ENGLISH_MARKERS = frozenset({
    "again", "and", "are", "been", "can", "can't", "cant", "don't", "dont", "for", "have", "i",
    "is", "it", "just", "my", "no", "not", "please", "since", "still", "thank", "thanks", "the",
    "this", "today", "was", "what", "when", "why", "with", "you", "your",
})


def thanks(text: str | None) -> bool:
    """Whether a tweet thanks: THANKS_RE matches and THANKS_NOT_RE does not (``thanks_sql`` in SQL).

    The exclusion is for the whole tweet: a tweet that says "Danke für nichts" does not also thank.
    """
    if not text:
        return False
    return re.search(THANKS_RE, text) is not None and re.search(THANKS_NOT_RE, text) is None


def thanks_sql(column: str) -> str:
    """The SQL test of :func:`thanks` on ``column`` (NULL for a NULL text, as ``regexp_matches`` gives).

    One place builds it, so that ``thanks_rate``, the proxy validation and :func:`thanks` cannot drift
    apart: counting "Thanks for nothing" in SQL but not in Python would make the two disagree silently.
    """
    def quoted(pattern: str) -> str:
        return "'" + pattern.replace("'", "''") + "'"

    return f"(regexp_matches({column}, {quoted(THANKS_RE)}) AND NOT regexp_matches({column}, {quoted(THANKS_NOT_RE)}))"


def _not_thanks(text: str) -> tuple[str, int]:
    """The text without its refused or sarcastic thanks, and how many there were.

    Each is cut out (a comma keeps the clauses apart) and weighs ``NOT_THANKS_VALENCE`` instead: left
    in, "danke" (+2.0) would outweigh "kündige" (-2.0) in "Nein danke, ich kündige" and make it
    neutral, and VADER scores "Thanks for nothing" positive for its "thanks".
    """
    return re.subn(THANKS_NOT_RE, " , ", text)


def clean(text: str) -> str:
    """Text without URLs and @mentions (handles and links carry no sentiment)."""
    return _MENTION.sub(" ", _URL.sub(" ", text))


def guess_language(text: str) -> Language:
    """German when German function words (or umlauts) outnumber English ones, else English."""
    words = re.findall(r"[\w']+", clean(text).lower())
    german = sum(w in _GERMAN_MARKERS for w in words) + (2 if re.search(r"[äöüß]", text.lower()) else 0)
    english = sum(w in _ENGLISH_MARKERS for w in words)
    if german == english:  # no function words either way: German care vocabulary tips the balance
        german += sum(w in german_lexicon().words for w in words)
    return "de" if german > english else "en"


def language_of(text: str, lang: str | None) -> Language:
    if lang in ("de", "en"):
        return lang  # type: ignore[return-value]
    return guess_language(text)


@dataclass(frozen=True)
class GermanLexicon:
    words: dict[str, float]
    negators: dict[str, float]
    boosters: dict[str, float]

    @classmethod
    def load(cls) -> GermanLexicon:
        text = resources.files("carepulse.metrics.data").joinpath("lexicon_de.txt").read_text(encoding="utf-8")
        words: dict[str, float] = {}
        negators: dict[str, float] = {}
        boosters: dict[str, float] = {}
        tables = {"word": words, "negator": negators, "booster": boosters}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.startswith("#") or line.startswith("term\t"):
                continue
            try:
                term, kind, value = line.split("\t")
                tables[kind][term.strip().lower()] = float(value)
            except (ValueError, KeyError) as exc:
                raise ValueError(f"lexicon_de.txt line {number}: {line!r}: {exc}") from exc
        return cls(words, negators, boosters)

    def lookup(self, token: str) -> float | None:
        """A word's valence; unknown compounds fall back to their longest known ending (>= 5 letters)."""
        if token in self.words:
            return self.words[token]
        for start in range(1, len(token) - 4):
            ending = token[start:]
            if ending in self.words and " " not in ending:
                return self.words[ending]
        return None


@lru_cache(maxsize=1)
def german_lexicon() -> GermanLexicon:
    return GermanLexicon.load()


def _normalize(total: float) -> float:
    return total / math.sqrt(total * total + NORMALIZE_ALPHA)


def _modifier(tokens: list[str], start: int, table: dict[str, float], window: int, blocked: set[int]) -> float:
    """The factor of the nearest negator or booster before ``start``; another sentiment word or a
    clause boundary (punctuation) stops the look."""
    for back in range(1, window + 1):
        j = start - back
        if j < 0 or j in blocked or tokens[j] in _PUNCTUATION:
            break
        if tokens[j] in table:
            return table[tokens[j]]
    return 1.0


def _clauses(tokens: list[str]) -> list[tuple[int, int]]:
    """(first, end) token ranges between punctuation marks."""
    spans, first = [], 0
    for i, token in enumerate([*tokens, "."]):
        if token in _PUNCTUATION:
            if i > first:
                spans.append((first, i))
            first = i + 1
    return spans


def score_german(text: str, lexicon: GermanLexicon | None = None) -> float:
    """Compound sentiment of a German text in -1..1 (see the module docstring for the rules)."""
    lex = lexicon or german_lexicon()
    cleaned, declined = _not_thanks(clean(text))
    tokens = [t.lower() for t in _TOKEN.findall(cleaned)]
    valences: dict[int, float] = {}  # token position -> valence
    consumed: set[int] = set()
    negated: set[int] = set()
    for i, token in enumerate(tokens):
        if i in consumed or token in _PUNCTUATION:
            continue
        phrase = f"{token} {tokens[i + 1]}" if i + 1 < len(tokens) else None
        if phrase is not None and phrase in lex.words:
            valence = lex.words[phrase]
            consumed.add(i + 1)
        elif token in lex.negators or token in lex.boosters:
            continue
        else:
            found = lex.lookup(token)
            if found is None:
                continue
            valence = found
        blocked = set(valences) | consumed
        valence *= _modifier(tokens, i, lex.boosters, 2, blocked)
        factor = _modifier(tokens, i, lex.negators, 3, blocked)
        if factor != 1.0:
            negated.add(i)
        valences[i] = valence * factor
    # A clause ending in a negator ("funktioniert das WLAN nicht") negates its positive words.
    for first, end in _clauses(tokens):
        if tokens[end - 1] in lex.negators and (end - 1) not in consumed:
            for pos in range(first, end):
                if pos in valences and pos not in negated and valences[pos] > 0:
                    valences[pos] *= lex.negators[tokens[end - 1]]
    if "aber" in tokens:
        pivot = tokens.index("aber")
        valences = {pos: v * (0.5 if pos < pivot else 1.5) for pos, v in valences.items()}
    total = sum(valences.values()) + NOT_THANKS_VALENCE * declined
    if total:
        total *= 1 + 0.1 * min(cleaned.count("!"), 3)
    return _normalize(total)


@lru_cache(maxsize=1)
def _vader():  # type: ignore[no-untyped-def]
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _denormalize(compound: float) -> float:
    """The valence sum behind a compound score (the inverse of :func:`_normalize`, VADER's alpha 15)."""
    c = max(-0.9999, min(0.9999, compound))
    return c * math.sqrt(NORMALIZE_ALPHA / (1 - c * c))


def score_english(text: str) -> float:
    """VADER's compound, with refused or sarcastic thanks and ``ENGLISH_PHRASES`` added to its valence sum.

    VADER sees single words, so "Thanks for nothing" is positive to it; the phrases are cut out before
    VADER scores the rest and their valences are added to the sum VADER's compound comes from.
    """
    rest, declined = _not_thanks(clean(text))
    extra = NOT_THANKS_VALENCE * declined
    for pattern, valence in ENGLISH_PHRASES.items():
        rest, found = re.subn(pattern, " , ", rest)
        extra += valence * found
    compound = float(_vader().polarity_scores(rest)["compound"])
    if not extra:
        return compound
    return _normalize(_denormalize(compound) + extra)


@lru_cache(maxsize=200_000)
def score(text: str | None, lang: str | None = None) -> float | None:
    """Sentiment of one tweet in -1..1; None for an empty text."""
    if not text or not text.strip():
        return None
    language = language_of(text, lang)
    return score_german(text) if language == "de" else score_english(text)


def score_many(texts: Sequence[str | None], langs: Iterable[str | None] | None = None) -> list[float | None]:
    """Scores for many texts (repeated texts are scored once)."""
    langs_list = list(langs) if langs is not None else [None] * len(texts)
    return [score(t, lang) for t, lang in zip(texts, langs_list, strict=True)]


def label(value: float | None) -> str:
    """'negative', 'neutral' or 'positive' by the VADER thresholds."""
    if value is None:
        return "neutral"
    if value <= NEGATIVE:
        return "negative"
    if value >= POSITIVE:
        return "positive"
    return "neutral"
