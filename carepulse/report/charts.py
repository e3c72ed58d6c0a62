"""The report's charts as inline SVG, written by hand in pure Python.

Why not plotly: its static export needs a browser (kaleido/Chromium), is slow to start and is not
byte-for-byte reproducible; a report that runs from cron on a server must render in milliseconds with
nothing but the standard library. The charts are simple (bars and a line over a dozen weeks, four bars
of cost), so a hundred lines of SVG are the whole job, and the same string goes into the HTML and,
through WeasyPrint, into the PDF.

Every text is escaped; every number on an axis or a label goes through :mod:`carepulse.metrics.units`.
The colours are the Okabe-Ito palette (colour-blind safe), defined here for the report (the dashboard
defines its own; the report does not import the dashboard).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from carepulse.metrics import units

# Okabe-Ito: blue for the current period, sky blue for the comparison, vermillion for the hotline.
BLUE, SKY, VERMILLION, ORANGE, GREY, INK = "#0072B2", "#56B4E9", "#D55E00", "#E69F00", "#adb5bd", "#212529"
MUTED = "#6c757d"
FONT = "DejaVu Sans, sans-serif"
WIDTH, HEIGHT = 320, 190
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 30


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value (None: no bar, a dash instead), colour, and an optional 95 % interval."""

    label: str
    value: float | None
    colour: str
    low: float | None = None
    high: float | None = None
    faint: bool = False


def _f(x: float) -> str:
    """Coordinates with one decimal: deterministic text, small files."""
    return f"{x:.1f}"


def text(x: float, y: float, body: str, *, anchor: str = "start", size: float = 8, fill: str = INK,
         weight: str = "normal") -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{escape(body)}</text>')


def svg(body: Sequence[str], title: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    """A complete inline ``<svg>`` with an accessible title; scales to its box's width."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" font-family="{FONT}"><title>{escape(title)}</title>'
            + "".join(body) + "</svg>")


def nice_top(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (an axis' top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover


def _grid(top: float, fmt: Callable[[float], str], plot_h: float, plot_w: float, ticks: int = 4) -> list[str]:
    out = []
    for i in range(ticks + 1):
        value = top * i / ticks
        y = TOP + plot_h - plot_h * i / ticks
        out.append(f'<line x1="{LEFT}" y1="{_f(y)}" x2="{_f(LEFT + plot_w)}" y2="{_f(y)}" stroke="#e9ecef" '
                   f'stroke-width="0.6"/>')
        out.append(text(LEFT - 3, y + 2.5, fmt(value), anchor="end", size=7, fill=MUTED))
    return out


def _x_labels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    """Every label when they fit, else every second (or third ...) one, always the last."""
    step = max(1, math.ceil(len(labels) * 30 / (WIDTH - LEFT - RIGHT)))
    last = len(labels) - 1
    return [text(x, HEIGHT - BOTTOM + 10, label, anchor="middle", size=7, fill=MUTED)
            for i, (label, x) in enumerate(zip(labels, xs, strict=True)) if (last - i) % step == 0]


def _legend(items: Sequence[tuple[str, str]], y: float) -> list[str]:
    out, x = [], float(LEFT)
    for label, colour in items:
        out.append(f'<rect x="{_f(x)}" y="{_f(y - 6)}" width="8" height="8" fill="{colour}"/>')
        out.append(text(x + 11, y + 1, label, size=7))
        x += 14 + 4.6 * len(label)
    return out


def column_chart(title: str, labels: Sequence[str], bars: Sequence[Bar], unit: str,
                 legend: Sequence[tuple[str, str]] = (), locale: units.Locale = "en") -> str:
    """Vertical bars over time (threads per week): one bar per label, value axis from zero; numbers in
    ``locale``'s format (every word is the caller's, already in the report's language)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [b.value for b in bars if b.value is not None]
    top = nice_top(max(values, default=0.0))
    body = _grid(top, lambda v: units.format_value(v, unit, locale), plot_h, plot_w)
    slot = plot_w / max(1, len(bars))
    xs = []
    for i, bar in enumerate(bars):
        x = LEFT + slot * i + slot * 0.15
        xs.append(LEFT + slot * (i + 0.5))
        if bar.value is None:
            continue
        h = plot_h * bar.value / top
        opacity = ' fill-opacity="0.45"' if bar.faint else ""
        body.append(f'<rect x="{_f(x)}" y="{_f(TOP + plot_h - h)}" width="{_f(slot * 0.7)}" height="{_f(h)}" '
                    f'fill="{bar.colour}"{opacity}><title>{escape(bar.label)}: '
                    f'{escape(units.format_value(bar.value, unit, locale))}</title></rect>')
    body += _x_labels(labels, xs)
    body += _legend(legend, HEIGHT - 5)
    return svg(body, title)


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]],
               unit: str, top: float | None = None, target: tuple[float, str] | None = None,
               locale: units.Locale = "en") -> str:
    """Lines over the same time slots (a share per week); each series is (name, colour, values), a value
    of None leaves a gap. ``target`` draws a dashed reference line with its label."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = top if top is not None else nice_top(max(values, default=0.0))
    body = _grid(top, lambda v: units.format_value(v, unit, locale), plot_h, plot_w)
    slot = plot_w / max(1, len(labels))
    xs = [LEFT + slot * (i + 0.5) for i in range(len(labels))]

    def y_of(v: float) -> float:
        return TOP + plot_h - plot_h * min(v, top) / top

    if target is not None:
        y = y_of(target[0])
        body.append(f'<line x1="{LEFT}" y1="{_f(y)}" x2="{_f(LEFT + plot_w)}" y2="{_f(y)}" stroke="{MUTED}" '
                    f'stroke-dasharray="3 2" stroke-width="0.8"/>')
        body.append(text(LEFT + plot_w - 2, y - 2, target[1], anchor="end", size=6.5, fill=MUTED))
    for name, colour, vs in series:
        run: list[str] = []
        for x, v in zip(xs, vs, strict=True):
            if v is None:
                body.extend(_polyline(run, colour))
                run = []
                continue
            run.append(f"{_f(x)},{_f(y_of(v))}")
            body.append(f'<circle cx="{_f(x)}" cy="{_f(y_of(v))}" r="2" fill="{colour}"><title>{escape(name)}: '
                        f'{escape(units.format_value(v, unit, locale))}</title></circle>')
        body.extend(_polyline(run, colour))
    body += _x_labels(labels, xs)
    body += _legend([(name, colour) for name, colour, _ in series], HEIGHT - 5)
    return svg(body, title)


def _polyline(points: list[str], colour: str) -> list[str]:
    if len(points) < 2:
        return []
    return [f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="1.5"/>']


def bar_chart(title: str, bars: Sequence[Bar], unit: str, missing_text: str = "no value",
              locale: units.Locale = "en") -> str:
    """Horizontal bars with their value written beside them and 95 % intervals as whiskers."""
    row, label_w = 30.0, 112.0
    height = int(TOP + row * len(bars) + 8)
    values = [v for b in bars for v in (b.value, b.high) if v is not None]
    top = nice_top(max(values, default=0.0) * 1.25)
    plot_w = WIDTH - label_w - RIGHT
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = TOP + row * i
        body.append(text(label_w - 4, y + 11, bar.label, anchor="end", size=7.5))
        if bar.value is None:
            body.append(text(label_w + 2, y + 11, missing_text, size=7.5, fill=MUTED))
            continue
        w = plot_w * bar.value / top
        opacity = ' fill-opacity="0.45"' if bar.faint else ""
        body.append(f'<rect x="{_f(label_w)}" y="{_f(y + 3)}" width="{_f(w)}" height="{_f(row - 8)}" '
                    f'fill="{bar.colour}"{opacity}/>')
        end = w
        if bar.low is not None and bar.high is not None:
            x1, x2 = label_w + plot_w * bar.low / top, label_w + plot_w * bar.high / top
            mid = y + 3 + (row - 8) / 2
            body.append(f'<path d="M{_f(x1)} {_f(mid)}H{_f(x2)}M{_f(x1)} {_f(mid - 3)}V{_f(mid + 3)}'
                        f'M{_f(x2)} {_f(mid - 3)}V{_f(mid + 3)}" stroke="{INK}" stroke-width="0.8" fill="none"/>')
            end = max(end, x2 - label_w)
        body.append(text(label_w + end + 4, y + 11, units.format_value(bar.value, unit, locale), size=7.5))
    return svg(body, title, height=height)
