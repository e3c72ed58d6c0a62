"""The CRM export's weeks before the launch: hotline, e-mail and chat cases, with a known effect of the launch."""

from __future__ import annotations

import random
from datetime import timedelta

from carepulse.demo.clock import _Calendar
from carepulse.demo.crm import OTHER_CHANNELS, _Case, _channel_cases, _contact_slots, _crm_row, _CrmDraw
from carepulse.demo.story import HISTORY_WEEKS, HOTLINE_VOLUME_DROP


def _history_rng(seed: int) -> random.Random:
    """The pre-launch history's own generator: drawing from the main one would change every pilot record."""
    return random.Random(seed * 1_000_003 + 17)


def _history_rows(crm: _CrmDraw, calendar: _Calendar, rng: random.Random, first_number: int) -> list[list[str]]:
    """The export's rows for the ``HISTORY_WEEKS`` weeks before the pilot's first day.

    Hotline, e-mail and chat cases with the pilot's daily and weekly rhythm, its +3 %/month growth
    continued backwards, the same staff, and no outages (the three outages are the pilot's). E-mail
    and chat run at the pilot's regular rate; the hotline at that rate / (1 - HOTLINE_VOLUME_DROP),
    since the launch took that share of its calls. The outage hours and the calls of Twitter
    customers whose problem came back are on top of the pilot's regular rate, as they were.
    Case numbers grow with gaps like the pilot's and end below ``first_number``.
    """
    before = _Calendar(calendar.first_day - timedelta(weeks=HISTORY_WEEKS), calendar.first_day)
    cases: list[_Case] = []
    for channel in OTHER_CHANNELS:
        factor = 1 / (1 - HOTLINE_VOLUME_DROP) if channel.name == "Telefon" else 1.0
        slots = _contact_slots(channel, before, [], growth_from=calendar.first_day)
        cases += _channel_cases(rng, channel, slots, crm.rate[channel.name] * factor, calendar,
                                crm.staff[channel.name])
    channel_order = {"Telefon": 1, "E-Mail": 2, "Chat": 3}
    cases.sort(key=lambda case: (case.opened_ms, channel_order[case.channel], case.agent))
    gaps = [rng.randint(1, 3) for _ in cases]
    number = first_number - sum(gaps) - rng.randrange(1, 1000)
    rows = []
    for gap, case in zip(gaps, cases, strict=True):
        number += gap
        rows.append(_crm_row(f"NF-{number}", case))
    return rows
