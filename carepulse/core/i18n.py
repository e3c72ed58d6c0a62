"""The message catalogs: English written in the code, other languages in gettext ``.po`` files.

One set of catalogs for every part that speaks to people: the dashboard, the management report, the
statistics' sentences (``carepulse/core/locale/<language>/LC_MESSAGES/*.po``, one file per part, read with
Babel and merged). It sits in the kernel so that each layer may read it; what a layer adds (the metrics'
German labels, :mod:`carepulse.metrics.words`) it adds on top. How a message is written and translated:
``docs/dashboard.md``, "German and English".
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

LANGUAGES = ("de", "en")
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
CATALOGS = Path(__file__).parent / "locale"


@lru_cache(maxsize=4)
def read_catalog(language: str) -> dict[str, str]:
    """msgid -> msgstr of every catalog file of ``language`` (empty translations left out; English: none)."""
    from babel.messages.pofile import read_po

    found: dict[str, str] = {}
    folder = CATALOGS / language / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string:
                    found[message.id] = message.string
    return found
