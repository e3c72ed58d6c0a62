"""The registry's cost, pilot, hotline-evidence and staffing metrics as cells (function ``economics``).

One ledger per request (:func:`metrics.costs.ledger`), grouped the way the request is broken down;
the whole selection is the sum of its groups, so a table's total row is its rows added up.
The statistics on top (ITS of the hotline volume, the Erlang C staffing) are for the whole
selection only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from carepulse.core.config import Settings
from carepulse.core.text import Text
from carepulse.metrics.cells import Cell, MetricValues
from carepulse.metrics.context import Context
from carepulse.metrics.costs import TWITTER, Ledger, Line, channel_lines, cost_per_case_interval, ledger
from carepulse.metrics.economics import Pilot, pilot, project
from carepulse.metrics.registry import Metric, computes
from carepulse.metrics.sources import TOTAL


def _explain() -> str:
    """What ``--explain`` adds: the ledger's and the model's own definitions, from their one home."""
    from carepulse.metrics import costs, economics, hotline_evidence

    return "\n".join(f"\n{m.__name__}:\n{m.__doc__}" for m in (costs, economics, hotline_evidence))


STAFFING = {"staffing_fte_x1": 1.0, "staffing_fte_x1_5": 1.5, "staffing_fte_x2": 2.0}
WHOLE_ONLY = frozenset({"pilot_payback_month", "pilot_payback_projected_month", "deflection_breakeven_share",
                        "hotline_itsa_volume_change", *STAFFING})


def _line_cells(line: Line, reason: str | None, settings: Settings, parts: list[Line] | None = None
                ) -> dict[str, Any]:
    """Cost cells of one line; ``parts`` (its channels) give the cost per resolved case of a mix of
    channels (each channel's cases at its own resolution rate, as one channel's figure is) and the
    interval of the cost per case (each channel's spread of handled minutes)."""

    per_resolved = line.cost_per_resolved_case
    low, high = cost_per_case_interval(parts if parts is not None else [line], settings)
    if parts is not None:
        known = [p for p in parts if p.resolution_rate is not None]
        resolved = sum(p.cases * (p.resolution_rate or 0.0) for p in known)
        per_resolved = sum(p.cost_eur for p in known) / resolved if resolved else None
    note: str | None = reason
    if not reason and line.period:
        first, last = str(line.period[0]), str(line.period[1])
        note = (Text("period {first} to {last}; partial months {months}", first=first, last=last,
                     months=", ".join(line.partial_months)) if line.partial_months else
                Text("period {first} to {last}", first=first, last=last))
    return {
        "cost_per_case": Cell(line.cost_per_case if not reason else None, None if reason else low,
                              None if reason else high, n=line.cases, note=note),
        "cost_per_resolved_case": Cell(per_resolved if not reason else None),
        "costed_cases": Cell(line.cases),
    }


def _pilot_cells(result: Pilot) -> dict[str, Any]:

    net_note = result.reason or (
        Text("{net} EUR over the pilot months {first} to {last} at a deflection share of {share}; the set-up cost "
             "is not in it", net=f"{result.net_eur:+,.0f}", first=result.months[0].month,
             last=result.months[-1].month, share=f"{result.deflection:.0%}")
        if result.months and result.net_eur is not None else None)
    return {
        "twitter_cases": Cell(result.twitter.cases, note=None),
        "hotline_variable_cost_per_case": Cell((result.hotline_cpc), n=result.hotline.cases or None),
        "pilot_net_benefit_eur": Cell(result.net_eur, note=net_note),
        "deflection_breakeven_share": Cell(result.breakeven_share, note=result.reason or _breakeven_note(result)),
        "pilot_payback_month": Cell(result.payback_month, note=None if result.payback_month else (
            result.reason or result.payback_reason or Text("the set-up cost is not yet paid back"))),
    }


def _breakeven_note(result: Pilot) -> str | None:
    share = result.breakeven_share
    if share is None:
        return None
    at = "; ".join(f"{d:.0%}: {v:+,.0f} EUR" for d, v in result.sensitivity)
    if share > 1:
        return Text("{share}: the pilot cannot pay for itself through hotline savings, even if every Twitter case "
                    "replaced a call (net benefit at a deflection share of {at})", share=f"{share:.0%}", at=at)
    if share <= 0:
        return Text("the pilot pays off at any deflection share (net benefit at {at})", at=at)
    return Text("the pilot pays off if more than {share} of Twitter cases replaced a call (net benefit at {at})",
                share=f"{share:.0%}", at=at)


def weekly_cases(ctx: Context, result: Pilot) -> list[tuple[date, int]]:
    """Complete weeks of Twitter cases: answered threads scaled to the Twitter case count."""
    from carepulse.metrics.weekly import weekly_counts

    weeks = weekly_counts(ctx)
    answered = sum(a for _, _, a, _ in weeks)
    scale = result.twitter.cases / answered if answered else 1.0
    return [(w.date(), round(a * scale)) for w, _, a, _ in weeks]


@computes("cost_per_case", "cost_per_resolved_case", "costed_cases", "twitter_cases", "hotline_variable_cost_per_case",
          "pilot_net_benefit_eur", "deflection_breakeven_share", "pilot_payback_month",
          "pilot_payback_projected_month", "hotline_itsa_volume_change", *STAFFING, extra=_explain)
def compute(ctx: Context, metrics: list[Metric]) -> dict[str, Any]:

    names = {m.name for m in metrics}
    out = {m.name: MetricValues() for m in metrics}
    by = ctx.by if ctx.by and any(m.allows(ctx.by) for m in metrics) else None
    book = ledger(ctx, None if by == "channel" else by)
    whole = pilot(ctx, book, None, by if by != "channel" else None)
    reason = None if book.has_crm else whole.reason
    total: dict[str, Any] = {**_line_cells(book.select(), reason, ctx.settings, list(channel_lines(book).values())),
                             **_pilot_cells(whole)}
    if names & {"pilot_payback_projected_month"}:
        projection = project(ctx, whole, book, weekly_cases(ctx, whole) if not whole.reason else [])
        total["pilot_payback_projected_month"] = Cell(projection.month, projection.low, projection.high,
                                                      note=projection.sentence)
    if names & {"hotline_itsa_volume_change"}:
        total["hotline_itsa_volume_change"] = _itsa_cell(ctx, whole)
    if names & set(STAFFING):
        total.update(_staffing_cells(ctx, whole, names))
    groups = _groups(ctx, book, by, reason)
    for m in metrics:
        out[m.name].total = total.get(m.name, Cell())
        if by is not None and m.allows(by) and m.name not in WHOLE_ONLY:
            out[m.name].groups = {g: cells[m.name] for g, cells in groups.items() if m.name in cells}
    return out


def _groups(ctx: Context, book: Ledger, by: str | None, reason: str | None) -> dict[str, dict[str, Any]]:

    groups: dict[str, dict[str, Any]] = {}
    if by == "channel":
        for ch in book.channels():
            groups[ch] = _line_cells(book.select(channel=ch), reason, ctx.settings)
            groups[ch]["twitter_cases"] = Cell(book.select(channel=ch).cases if ch == TWITTER else None)
    elif by is not None:
        for g in book.groups():
            if g == TOTAL:
                continue
            parts = [book.select(channel=ch, group=g) for ch in book.channels()]
            groups[g] = {**_line_cells(book.select(group=g), reason, ctx.settings, parts),
                         **_pilot_cells(pilot(ctx, book, g, by))}
    return groups


def _itsa_cell(ctx: Context, whole: Pilot) -> Any:
    from carepulse.metrics.hotline_evidence import hotline_change

    finding = hotline_change(ctx, whole)
    return Cell(finding.value, finding.ci_low, finding.ci_high, finding.n, finding.verdict)


def _staffing_cells(ctx: Context, whole: Pilot, names: set[str]) -> dict[str, Any]:
    from carepulse.metrics.hotline_evidence import staffing

    plan, sentences = staffing(ctx, whole, [STAFFING[n] for n in STAFFING if n in names])
    out: dict[str, Any] = {}
    for name, factor in STAFFING.items():
        if name in names:
            fte = plan.get(factor) if plan else None
            out[name] = Cell(fte, note=sentences.get(factor))
    return out
