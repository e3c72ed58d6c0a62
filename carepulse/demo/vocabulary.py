"""The demo's vocabulary: names, places and every text the simulated customers and agents write.

The words live in ``vocabulary.json`` next to this module, so they can be read and edited without
touching the simulation. Templates hold ``{slots}`` that ``texts.py`` fills once per thread. A bank
maps a register (``de``, ``en``, and for first tweets ``de_angry`` and ``business``) to its lines.
Lists are read into tuples, in file order: the seeded draws depend on that order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Final

from carepulse.demo.story import ACCOUNTS

Bank = dict[str, tuple[str, ...]]


def _frozen(value: Any) -> Any:
    """JSON lists as tuples, all the way down (dicts keep their order)."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


_WORDS: Final[dict[str, Any]] = _frozen(
    json.loads((files("carepulse.demo") / "vocabulary.json").read_text(encoding="utf-8"))
)


@dataclass(frozen=True)
class _Issue:
    """One kind of customer problem with everything both sides say about it, so threads stay on topic.

    ``opener`` holds first tweets by register: ``de``, ``de_angry``, ``en`` and ``business``.
    Only issues with an ``en`` opener are raised by English-speaking customers.
    """

    theme: str
    opener: Bank
    ask: Bank
    details: Bank
    help: Bank
    follow_help: Bank
    still: Bank
    question: bool = False
    audience: tuple[str, ...] = ACCOUNTS


GERMAN_FIRST: Final[tuple[str, ...]] = _WORDS["german_first"]
GERMAN_LAST: Final[tuple[str, ...]] = _WORDS["german_last"]
ENGLISH_FIRST: Final[tuple[str, ...]] = _WORDS["english_first"]
ENGLISH_LAST: Final[tuple[str, ...]] = _WORDS["english_last"]
NICKNAMES: Final[tuple[str, ...]] = _WORDS["nicknames"]
NICKNAME_EMOJI: Final[tuple[str, ...]] = _WORDS["nickname_emoji"]
BUSINESS_KINDS: Final[tuple[tuple[str, str], ...]] = _WORDS["business_kinds"]
"""A business's kind as its name says it, and as its handle spells it."""
CITIES: Final[tuple[str, ...]] = _WORDS["cities"]
ROUTERS: Final[tuple[str, ...]] = _WORDS["routers"]
COUNTRIES: Final[tuple[tuple[str, str], ...]] = _WORDS["countries"]
"""Holiday countries in German and in English."""
MONTHS_DE: Final[tuple[str, ...]] = _WORDS["months_de"]
MONTHS_EN: Final[tuple[str, ...]] = _WORDS["months_en"]
ASCII: Final = str.maketrans(_WORDS["ascii"])
"""How names are spelled in handles: umlauts written out, spaces and punctuation dropped."""
SOCIAL_CARE: Final[tuple[tuple[str, str], ...]] = _WORDS["social_care"]
"""The Social Care team (first and last names); the last two are the business specialists."""
ISSUES: Final[tuple[_Issue, ...]] = tuple(_Issue(**issue) for issue in _WORDS["issues"])
OUTAGE_OPENERS: Final[dict[str, Bank]] = _WORDS["outage_openers"]
CUSTOMER_LINES: Final[dict[str, Bank]] = _WORDS["customer_lines"]
BRAND_LINES: Final[dict[str, Bank]] = _WORDS["brand_lines"]
BROADCASTS: Final[dict[str, str]] = _WORDS["broadcasts"]
ANGRY_EMOJI: Final[tuple[str, ...]] = _WORDS["angry_emoji"]
POLITE_EMOJI: Final[tuple[str, ...]] = _WORDS["polite_emoji"]
