"""What a computation returns: per metric, a :class:`Cell` for the whole selection and one per group.

Below the engine and the Python computations alike (:mod:`carepulse.metrics.pilot_figures`,
:mod:`carepulse.metrics.proxies`, :mod:`carepulse.metrics.comparisons`), so the engine imports those
modules and they import these classes without an import cycle. :mod:`carepulse.metrics.engine`
re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Value = float | int | str | None


@dataclass
class Cell:
    """One metric's value for one group, with its 95% interval, n and an optional sentence."""

    value: Value = None
    ci_low: float | str | None = None  # a month ("2027-03") for a projected month's range
    ci_high: float | str | None = None
    n: int | None = None
    note: str | None = None
    # A statistic's p-value and the numbers behind its verdict (adjusted p, rank-test p, response rates):
    # for --explain and the JSON, never for the headline sentence.
    p: float | None = None
    detail: dict[str, Any] | None = None


@dataclass
class MetricValues:
    total: Cell = field(default_factory=Cell)
    groups: dict[str, Cell] = field(default_factory=dict)
