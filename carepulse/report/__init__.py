"""``carepulse report``: the two-page management report (HTML, or PDF through WeasyPrint).

:func:`render_report` is the one entry point, for the CLI and for the dashboard's download button:
:mod:`carepulse.report.content` gathers the numbers through the metrics engine, :mod:`.words` and
:mod:`.charts` turn them into text and SVG, :mod:`.render` into HTML and PDF, in German or English.
See docs/report.md.
"""

from __future__ import annotations

from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError
from carepulse.metrics.context import Database

FORMATS: tuple[str, ...] = ("pdf", "html")
LANGUAGES: tuple[str, ...] = ("de", "en")

__all__ = ["FORMATS", "LANGUAGES", "render_report"]


def render_report(period_text: str, fmt: str, *, db: Database, settings: Settings,
                  compare: str = "previous", language: str | None = None) -> bytes:
    """The report for ``period_text`` (``2026-W44``, ``2026-10``, ``LAST-4-WEEKS``) as PDF or HTML bytes.

    ``language`` (``de`` or ``en``) is the language of every word and number format; None: the settings'
    ``locale`` (``carepulse.toml``, German by default). A bad period, format, comparison or language is a
    :class:`ConfigError`; a period outside the data or an empty warehouse a :class:`DataError` (one
    ``error:`` line in the CLI, a message on the dashboard)."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    from carepulse.report.content import gather
    from carepulse.report.render import html_document, pdf_bytes
    from carepulse.report.words import language_of

    chosen = language_of(language, settings.locale)  # a bad language fails before the warehouse is read
    document = html_document(gather(period_text, db=db, settings=settings, compare=compare), chosen)
    return pdf_bytes(document) if fmt == "pdf" else document.encode("utf-8")
