"""The words of the metrics in a language: the catalogs plus each metric's label, for every layer above.

A metric's German label has one home, :mod:`carepulse.metrics.labels_de`; the catalog files repeat none of
them. :func:`catalog` merges the two, so a verdict naming a metric, the dashboard's tables, the report and
the exports' headers say the same words. :func:`say` re-says a :class:`~carepulse.core.text.Text` (a verdict,
a reason) in a language; its numbers stay in English format for the caller to rewrite.
"""

from __future__ import annotations

from functools import lru_cache

from carepulse.core.i18n import read_catalog
from carepulse.core.text import say as say_text


def metric_labels(language: str) -> dict[str, str]:
    """English metric label -> its label in ``language`` (German: ``labels_de``)."""
    if language != "de":
        return {}
    from carepulse.metrics import labels_de
    from carepulse.metrics.registry import METRICS

    return {m.label: labels_de.LABELS[m.name] for m in METRICS if m.name in labels_de.LABELS}


@lru_cache(maxsize=4)
def catalog(language: str) -> dict[str, str]:
    """Every message of ``language``: the metric labels, then the catalog files."""
    return {**metric_labels(language), **read_catalog(language)}


def translate(message: str, language: str) -> str:
    """``message`` (English, as written in the code) in ``language``; unknown messages stay English."""
    if language == "en":
        return message
    return catalog(language).get(message, message)


def say(text: object, language: str) -> str:
    """A sentence made as :class:`~carepulse.core.text.Text` in ``language`` (plain strings as they are)."""
    return say_text(text, lambda message: translate(message, language))
