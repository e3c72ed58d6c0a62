"""The words of the interface in German and English: ``_("English text")`` gives the request's language.

English is written in the code; the German comes from gettext message catalogs
(``carepulse/core/locale/de/LC_MESSAGES/*.po``, read with Babel, :mod:`carepulse.core.i18n`; one file per part of the
interface, merged). A message with placeholders is translated whole and formatted after:
``_("{n} threads").format(n=...)``, so a translator sees the sentence, not its pieces. The language is the
navbar switch's cookie, else the configured ``locale`` (German for the German demo); numbers and dates
follow it (:func:`carepulse.dashboard.state.locale`).

Catalog work: ``pybabel extract -k _ -k N_ -o messages.pot carepulse/dashboard`` lists every message;
``tests/dashboard/test_i18n.py`` fails when a message has no German, or when a converted module shows a
string that does not go through ``_``.
"""

from __future__ import annotations

from typing import Any

from carepulse.core.i18n import CATALOGS, LANGUAGE_NAMES, LANGUAGES
from carepulse.dashboard import state
from carepulse.metrics import words
from carepulse.metrics.words import metric_labels

__all__ = ["CATALOGS", "LANGUAGES", "LANGUAGE_NAMES", "N_", "_", "catalog", "metric_labels"]


def catalog(language: str) -> dict[str, str]:
    """msgid -> msgstr of ``language``: the catalog files and the metrics' labels (:mod:`carepulse.metrics.words`)."""
    return words.catalog(language)


def N_(message: str) -> str:
    """Marks a message for the catalog where it is defined (a constant); it is translated where shown."""
    return message


def _(message: str, locale: str | None = None) -> str:
    """``message`` (English, as written in the code) in ``locale``, else in the request's language."""
    language = locale or state.locale()
    if language == "en":
        return message
    return catalog(language).get(message, message)


def install(server: Any) -> None:
    """``/lang/de`` and ``/lang/en``: set the language cookie (a year) and go back where the user was."""
    import flask

    from carepulse.dashboard.addresses import safe_next

    def switch(code: str) -> Any:
        if code not in LANGUAGES:
            flask.abort(404)
        response = flask.redirect(safe_next(flask.request.args.get("next")))
        response.set_cookie(state.LANGUAGE_COOKIE, code, max_age=365 * 86400, httponly=True, samesite="Lax")
        return response

    server.add_url_rule("/lang/<code>", "carepulse_language", switch)


def metric_label(metric: Any, locale: str | None = None) -> str:
    """A metric's label in the request's language: the registry's English, the German of
    :mod:`carepulse.metrics.labels_de` (the one place a metric's German name is written)."""
    from carepulse.metrics import labels_de

    language = locale or state.locale()
    return labels_de.LABELS.get(metric.name, metric.label) if language == "de" else str(metric.label)


def metric_description(metric: Any, locale: str | None = None) -> str:
    """A metric's definition in the request's language (``labels_de.DESCRIPTIONS`` for German)."""
    from carepulse.metrics import labels_de

    language = locale or state.locale()
    german: dict[str, str] = getattr(labels_de, "DESCRIPTIONS", {})
    return german.get(metric.name, metric.description) if language == "de" else str(metric.description)


def breakdown_label(name: str, locale: str | None = None) -> str:
    """A breakdown's name as a reader says it ("Konto" / "account")."""
    from carepulse.metrics import labels_de

    language = locale or state.locale()
    return labels_de.BREAKDOWNS.get(name, name) if language == "de" else name
