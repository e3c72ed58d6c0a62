"""Everything the Pilot page's economics panels draw, from one read of the warehouse.

The page needs more than cells: the month-by-month payback table, the sensitivity, the hotline's
weekly series with its counterfactual, the staffing grid. They all come from the same ledger as the
registry's metrics (:mod:`carepulse.metrics.pilot_figures`), so a chart and a number never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepulse.core.config import Settings
from carepulse.metrics.context import Database, Filters, open_context
from carepulse.metrics.costs import Line, channel_lines, cost_per_case_interval, ledger
from carepulse.metrics.economics import Pilot, Projection, assumptions, pilot, project
from carepulse.metrics.hotline_evidence import Staffing, hotline_change, its, staffing_for
from carepulse.metrics.itsa import ItsResult
from carepulse.metrics.pilot_figures import weekly_cases
from carepulse.metrics.stats import Finding


@dataclass
class PilotView:
    """The pilot's economics for one selection (see :mod:`carepulse.metrics.economics` for each figure)."""

    pilot: Pilot
    projection: Projection
    channels: dict[str, Line]
    its: ItsResult | None
    hotline_change: Finding
    staffing: Staffing
    assumptions: dict[str, Any]
    filtered: bool
    # 95% interval of the cost per case of Twitter ("twitter") and the hotline ("hotline"), see
    # metrics.costs.cost_per_case_interval; missing or (None, None) where there is none
    cost_intervals: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


def pilot_view(filters: Filters | None = None, *, db: Database, settings: Settings,
               as_of: datetime | None = None) -> PilotView:
    ctx = open_context(db, settings, filters, None, as_of)
    try:
        book = ledger(ctx)
        whole = pilot(ctx, book)
        projection = project(ctx, whole, book, weekly_cases(ctx, whole) if not whole.reason else [])
        its_result = its(ctx, whole)
        intervals = {"twitter": cost_per_case_interval([whole.twitter], settings),
                     "hotline": cost_per_case_interval([whole.hotline], settings)}
        return PilotView(
            pilot=whole, projection=projection, channels=channel_lines(book), its=its_result,
            hotline_change=hotline_change(ctx, whole, its_result), staffing=staffing_for(ctx, whole),
            assumptions=assumptions(settings), filtered=bool(ctx.filters.dimension_values()),
            cost_intervals=intervals,
        )
    finally:
        ctx.con.close()
