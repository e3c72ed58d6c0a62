"""Words the warehouse stores as values, named once.

``threads.status`` holds one of two words. The loader writes them (``etl.transform.threads.THREAD_ROW``, which the
lake's Spark-portable rebuild reads too), a load's report counts the answered ones (``delta.ANSWERED``), the metrics
give a thread's status as of an earlier time in the same words (``metrics.views``), and the dashboard reads them
back. Spelled in each of those places, a word changed in one would make another count nothing, without an error.
"""

from __future__ import annotations

ANSWERED = "answered"
UNANSWERED = "unanswered"


def quoted(word: str) -> str:
    """``word`` as a SQL string literal, for statements kept as text (the loader's and the lake's, which Spark
    also runs). Only this module's words and other code constants go in: checked, so one with a quote cannot."""
    assert word.isidentifier(), word
    return f"'{word}'"
