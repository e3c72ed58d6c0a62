"""The report's words: what a change means, the period's name, each number as text, in German or English.

Plain functions of the gathered dataclasses, no HTML: the HTML escapes what these return. Every function
takes the report's ``language`` (``de`` or ``en``; no module-level default, so one process can write both).
Words come from the message catalogs (:func:`carepulse.metrics.words.translate`; the German is in
``carepulse/core/locale/de/LC_MESSAGES/report.po`` and, for messages the dashboard says too, its catalog
files); a sentence with numbers is translated whole, with ``{placeholders}``, and formatted after.
Numbers are written only through :mod:`carepulse.metrics.units` (the formatters of the CLI and the
dashboard), so a share, a duration or an amount in euros reads the same in the report as on the screen.
The metrics layer's own sentences (:class:`~carepulse.core.text.Text`: reasons, notes) are re-said in the
language and their English-format numbers rewritten (:func:`localized`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from carepulse.core.errors import ConfigError
from carepulse.core.text import Text
from carepulse.metrics import deltas, units
from carepulse.metrics.cells import Cell, Value
from carepulse.metrics.deltas import Delta
from carepulse.metrics.periods import Period
from carepulse.metrics.words import say, translate
from carepulse.report import LANGUAGES
from carepulse.report.content import Figure, Payback

Language = units.Locale
Tone = Literal["good", "bad", "neutral", "none"]


def language_of(chosen: str | None, setting: str | None) -> Language:
    """The report's language: ``chosen`` (``--lang``, the dashboard reader's) when given, else the settings'
    ``locale`` (``de``, ``de_DE`` ... are German, everything else English). A chosen language other than
    ``de`` or ``en`` is a :class:`ConfigError`."""
    if chosen is None:
        return units.locale_of(setting)
    if chosen not in LANGUAGES:
        raise ConfigError(f"--lang {chosen!r}: expected one of {', '.join(LANGUAGES)}")
    return "de" if chosen == "de" else "en"


# ---- numbers, days and the metrics layer's sentences ---------------------------------------------------

def value(v: Value, unit: str, language: Language) -> str:
    return units.format_value(v, unit, language)


def minutes(m: float, language: Language) -> str:
    return units.duration(m * 60, language)


def money(eur: float, language: Language, digits: int = 0) -> str:
    return units.money(eur, language, digits)


def share(x: float, language: Language) -> str:
    return units.percent(x, language)


def count(n: int | float, language: Language) -> str:
    return units.number(n, language)


def day(d: date | None, language: Language) -> str:
    """A local day: ``03.11.2026`` (de) or ``2026-11-03`` (en, as the periods are typed)."""
    if d is None:
        return units.MISSING
    return f"{d.day:02d}.{d.month:02d}.{d.year}" if language == "de" else d.isoformat()


# One pass over a sentence of the metrics layer: an ISO day, or a number with an optional sign, fraction and
# unit (a percent sign or " EUR"). One pass, so a rewritten number is never read a second time.
_TOKEN = re.compile(r"(?P<day>\b\d{4}-\d{2}-\d{2}\b)"
                    r"|(?<![\d.,])(?P<sign>[+-]?)(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?P<fraction>\.\d+)?"
                    r"(?P<unit>%| EUR\b)?")


def renumber(sentence: str, language: Language) -> str:
    """A sentence whose numbers are in English format (``-3,488 EUR``, ``12.5%``, ``2026-10-07``) in the
    language's one number format, as the report writes its own numbers (``-3.488 €``, ``12,5 %``,
    ``07.10.2026``). Plain integers (years, weeks, months such as ``2026-10``) read alike and stay."""
    def token(match: re.Match[str]) -> str:
        if match.group("day"):
            return day(date.fromisoformat(match.group("day")), language)
        sign, whole, fraction, unit = (match.group("sign"), match.group("whole"), match.group("fraction") or "",
                                       match.group("unit") or "")
        digits = max(len(fraction) - 1, 0)
        amount = float(whole.replace(",", "") + fraction)
        if unit == " EUR":
            signed = -amount if sign == "-" else amount
            return ("+" if sign == "+" and amount else "") + units.money(signed, language, digits)
        if language == "en":
            return match.group(0)
        body = units.number(amount, language, digits) if "," in whole or fraction else whole
        return sign + body + ("\u202f%" if unit == "%" else "")

    return _TOKEN.sub(token, sentence)


def localized(text: object, language: Language) -> str:
    """A sentence of the metrics layer (a :class:`Text`: a reason, a note) said in ``language`` from the
    catalogs, its numbers rewritten in the language's format; a plain string (data) keeps its words."""
    said = say(text, language)
    return renumber(said, language) if isinstance(text, Text) else said


# ---- a figure on page 1 ------------------------------------------------------------------------------

def label(fig: Figure, language: Language) -> str:
    """The metric's label (German: :mod:`carepulse.metrics.labels_de`, or the report's catalog)."""
    return translate(fig.label, language)


def cell_text(cell: Cell, unit: str, language: Language) -> str:
    """A cell's value, or the engine's reason it has none ("not enough data ...") shortened to its gist."""
    if cell.value is None and (cell.note or "").startswith("not enough data"):
        return translate("not enough data", language)
    return value(cell.value, unit, language)


def interval_text(cell: Cell, unit: str, language: Language) -> str:
    """``95% interval a to b`` when the cell has one, else empty."""
    if not isinstance(cell.ci_low, int | float) or not isinstance(cell.ci_high, int | float):
        return ""
    return translate("95% interval {low} to {high}", language).format(
        low=value(cell.ci_low, unit, language), high=value(cell.ci_high, unit, language))


def change_text(delta: Delta, unit: str, language: Language) -> str:
    """The change in the metric's own unit (a share's in percentage points), as the Pilot cards write it:
    :func:`carepulse.metrics.deltas.change_text`. Empty without a comparison value."""
    if delta.change is None:
        return ""
    return deltas.change_text(delta, unit, language)


def direction_word(delta: Delta, language: Language) -> str:
    """``better`` / ``worse`` where the metric has a good direction, else ``up`` / ``down`` (or ``unchanged``)."""
    if delta.change is None:
        return translate("no comparison", language)
    if delta.change == 0:
        return translate("unchanged", language)
    if delta.better is True:
        return translate("better", language)
    if delta.better is False:
        return translate("worse", language)
    return translate("up", language) if delta.change > 0 else translate("down", language)


def noise_word(delta: Delta, language: Language) -> str:
    """Holm-adjusted verdict of :mod:`carepulse.metrics.deltas`: beyond noise, within noise, or not tested."""
    if delta.change is None:
        return ""
    if delta.beyond_noise is True:
        return translate("beyond noise", language)
    if delta.beyond_noise is False:
        return translate("within noise", language)
    return translate("not tested", language)


def tone(delta: Delta) -> Tone:
    """Colour of the verdict: only a change beyond noise with a good direction is green or red."""
    if delta.beyond_noise and delta.better is not None:
        return "good" if delta.better else "bad"
    if delta.change is None:
        return "none"
    return "neutral"


def arrow(delta: Delta) -> str:
    if not delta.change:
        return "="
    return "▲" if delta.change > 0 else "▼"


def verdict(figure: Figure, language: Language) -> str:
    """``better, beyond noise`` / ``up, within noise`` / ``no comparison``."""
    noise = noise_word(figure.delta, language)
    return direction_word(figure.delta, language) + (f", {noise}" if noise else "")


# ---- periods and times -------------------------------------------------------------------------------

_LAST = re.compile(r"^last (\d+) (weeks|days) to (\d{4}-\d{2}-\d{2})$")
_PREVIOUS = re.compile(r"^previous (\d+) days$")
_YEAR_EARLIER = ", a year earlier"


def period_label(period: Period, language: Language) -> str:
    """The period's name (:mod:`carepulse.metrics.periods` writes it in English) in ``language``:
    ``last 4 weeks to 2026-11-03`` / ``letzte 4 Wochen bis 03.11.2026``; a week or a month (``2026-W44``,
    ``2026-10``) reads the same in both, anything else stays as it is."""
    name = period.label
    if name.endswith(_YEAR_EARLIER):
        inner = period_label(Period(period.start, period.end, name[:-len(_YEAR_EARLIER)]), language)
        return translate("{period}, a year earlier", language).format(period=inner)
    if match := _LAST.match(name):
        template = (translate("last {n} weeks to {day}", language) if match[2] == "weeks"
                    else translate("last {n} days to {day}", language))
        return template.format(n=match[1], day=day(date.fromisoformat(match[3]), language))
    if match := _PREVIOUS.match(name):
        return translate("previous {n} days", language).format(n=match[1])
    return name


def period_range(period: Period, language: Language) -> str:
    if period.start == period.end:
        return day(period.start, language)
    return translate("{first} to {last}", language).format(first=day(period.start, language),
                                                           last=day(period.end, language))


def period_title(period: Period, language: Language) -> str:
    """``2026-W44 (2026-10-26 to 2026-11-01)``: the period's name and its days."""
    return f"{period_label(period, language)} ({period_range(period, language)})"


def comparison_title(period: Period, mode: str, language: Language) -> str:
    kind = (translate("the previous period", language) if mode == "previous"
            else translate("the same period a year earlier", language))
    return translate("compared with {kind}: {days}", language).format(kind=kind, days=period_range(period, language))


def week_label(start: date, end: date, language: Language) -> str:
    """A week on a chart's axis: its last day, month and day (``10-27``; German ``27.10.``)."""
    return f"{end.day:02d}.{end.month:02d}." if language == "de" else end.isoformat()[5:]


def as_of_text(moment: datetime, tz: str, language: Language) -> str:
    from carepulse.metrics.context import zone

    local = moment.astimezone(zone(tz))
    return f"{day(local.date(), language)} {local:%H:%M} ({tz})"


# ---- payback -----------------------------------------------------------------------------------------

def payback_text(payback: Payback, language: Language) -> tuple[str, str]:
    """(headline, detail) for the payback: the month it paid back, or the projection with its range."""
    if isinstance(payback.month, str):
        return payback.month, translate("the month the cumulative net benefit covered the set-up cost", language)
    if isinstance(payback.projected, str):
        low = payback.projected_low if isinstance(payback.projected_low, str) else "?"
        high = payback.projected_high if isinstance(payback.projected_high, str) else translate("open", language)
        return (translate("{month}, projected", language).format(month=payback.projected),
                translate("not yet paid back; 95% range {low} to {high}", language).format(low=low, high=high))
    reason = payback.projected_note or payback.month_note or Text("cannot be judged with this data")
    return translate("not paid back", language), localized(reason, language)
