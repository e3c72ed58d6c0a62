"""Published yardsticks the Pilot page shows beside our own numbers.

Each is a claim as it was reported, with its source, and the response time it speaks of, so the
page can put "ours: x% answered within an hour" next to it. Survey figures age: check the source
before quoting them in a decision paper.
"""

from __future__ import annotations

from dataclasses import dataclass

from carepulse.dashboard.i18n import N_

HOUR = 3600.0


@dataclass(frozen=True)
class Yardstick:
    """A published expectation and the source it was reported in."""

    claim: str
    source: str
    within_seconds: float


YARDSTICKS = (
    Yardstick(N_("53% of customers who tweet at a brand expect an answer within an hour"),
              N_("Lithium Technologies consumer survey, 2013"), HOUR),
    Yardstick(N_("72% of customers who complain on Twitter expect an answer within an hour"),
              N_("Lithium Technologies consumer survey, 2013"), HOUR),
)
