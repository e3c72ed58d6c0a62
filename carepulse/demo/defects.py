"""Broken records planted on purpose, so the demo shows the loaders' quarantine at work."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from carepulse.demo.clock import HOUR, MINUTE, _local
from carepulse.demo.crm import CRM_HEADERS, _Case, _crm_row


@dataclass(frozen=True)
class DemoDefect:
    """One record written broken on purpose, where the loader must quarantine it.

    Real exports always carry a few such records; the demo plants them so the Data page shows
    the quarantine keeping them with their reasons instead of an empty panel.
    """

    file: str
    """The file's name in the demo folder (``crm_export.csv`` or ``tweets.jsonl``)."""
    line: int
    """Its physical line, 1-based (the CRM header is line 1)."""
    what: str
    """What is wrong, in plain words."""


# --- Broken records --------------------------------------------------------------------------
# Real inputs always hold a few records the loader must refuse. The demo plants some, so its Data
# page shows the quarantine keeping them with file, line and reason. They are extra records (the
# story's cases and tweets are all there, unchanged) and are drawn after everything else.

CUT_OFF_PAGES: Final = 2


def _plant_cut_off_pages(lines: list[str], file_name: str, rng: random.Random) -> tuple[list[str], list[DemoDefect]]:
    """Put the start of a page in front of the page, as a pull killed mid-write leaves it.

    A killed twarc2 run leaves half a response line; the next run fetches the same window again and
    writes the page whole, so no tweet is lost and only the cut-off line is quarantined. The cut-off
    text gets a line end of its own (the restarted run opens the file for appending on a new line).
    """
    if len(lines) < 10 * CUT_OFF_PAGES:
        return lines, []
    chosen = sorted(rng.sample(range(len(lines) // 10, len(lines) - len(lines) // 10), CUT_OFF_PAGES))
    out: list[str] = []
    defects: list[DemoDefect] = []
    for index, line in enumerate(lines):
        if index in chosen:
            cut = int(len(line) * rng.uniform(0.3, 0.7))
            out.append(line[:cut])
            defects.append(DemoDefect(file_name, len(out), f"response page cut off after {cut:,} of {len(line):,} "
                                      "characters: the pull was killed while writing it (the next line has it whole)"))
        out.append(line)
    return out, defects


def _opened_on_a_short_months_last_day(case: _Case) -> bool:
    """Before 23:00, so its sibling (a few minutes later) is opened on the same day."""
    local = _local(case.opened_ms)
    return local.day < 31 and (local + timedelta(days=1)).day == 1 and local.hour < 23


def _impossible_date(row: list[str]) -> str:
    row[2] = "31" + row[2][2:]
    return f"opened {row[2]}: the month has no 31st"


def _fax(row: list[str]) -> str:
    row[1], row[10] = "Fax", "Vertrag"
    return "channel 'Fax': a cancellation came by fax, and the mapping knows no such channel"


def _school_grade(row: list[str]) -> str:
    row[12] = "6"
    return "satisfaction 6 on the 1-5 scale (a school grade typed in)"


def _cut_short(row: list[str]) -> str:
    del row[8:]
    return f"the row ends after {len(row)} of {len(CRM_HEADERS)} fields (edited by hand)"


def _minutes_in_words(row: list[str]) -> str:
    row[11] = "ca. " + row[11].split(",")[0]
    return f"handled minutes {row[11]!r}: a guess in words, not a number"


def _closed_last_year(row: list[str]) -> str:
    row[3] = row[3][:6] + str(int(row[3][6:10]) - 1) + row[3][10:]
    return f"closed {row[3]}: the year typed wrong, so the case closes before it opened"


def _tweet_id_as_number(row: list[str]) -> str:
    row[7] = f"{int(row[7]):.5E}".replace(".", ",")
    return f"tweet id {row[7]}: a spreadsheet turned the id into a number and lost its last digits"


CASE_BREAKAGES: Final[tuple[tuple[Callable[[_Case], bool], Callable[[list[str]], str]], ...]] = (
    (_opened_on_a_short_months_last_day, _impossible_date),
    (lambda case: case.channel == "Telefon", _fax),
    (lambda case: case.csat is not None and case.channel != "Twitter", _school_grade),
    (lambda case: case.channel == "E-Mail", _cut_short),
    (lambda case: case.channel == "Telefon", _minutes_in_words),
    (lambda case: case.closed_ms is not None and case.channel == "E-Mail", _closed_last_year),
    (lambda case: case.channel == "Twitter" and case.tweet_id != "", _tweet_id_as_number),
)
"""Which case each kind of damage can happen to, and the damage (it edits the row, says what it did)."""


def _plant_broken_cases(
    numbered: list[tuple[int, _Case]], file_name: str, rng: random.Random
) -> tuple[list[list[str]], list[DemoDefect]]:
    """The export's rows with one broken case per kind of damage, each right after a case like it.

    A broken case is a sibling of a real one (same channel, agent and team, logged a few minutes
    later but before the next case) with the next, unused case number, so it looks like any other
    row until it is read.
    """
    free = [index == len(numbered) - 1 or numbered[index + 1][0] - number >= 2
            for index, (number, _) in enumerate(numbered)]
    planted: dict[int, tuple[list[str], str]] = {}
    for eligible, damage in CASE_BREAKAGES:
        candidates = [index for index, (_, case) in enumerate(numbered) if free[index] and eligible(case)]
        if not candidates:
            continue
        index = rng.choice(candidates)
        free[index] = False
        number, case = numbered[index]
        next_opened = numbered[index + 1][1].opened_ms if index + 1 < len(numbered) else case.opened_ms + HOUR
        row = _crm_row(f"NF-{number + 1}", _sibling(case, next_opened, rng))
        planted[index] = (row, damage(row))
    rows: list[list[str]] = []
    defects: list[DemoDefect] = []
    for index, (number, case) in enumerate(numbered):
        rows.append(_crm_row(f"NF-{number}", case))
        if index in planted:
            row, what = planted[index]
            rows.append(row)
            defects.append(DemoDefect(file_name, len(rows) + 1, what))  # + 1: the header is line 1
    return rows, defects


def _sibling(case: _Case, next_opened_ms: int, rng: random.Random) -> _Case:
    later = rng.randrange(min(max(next_opened_ms - case.opened_ms, 0), 15 * MINUTE) + 1)
    return dataclasses.replace(
        case,
        opened_ms=case.opened_ms + later,
        closed_ms=None if case.closed_ms is None else case.closed_ms + later,
        customer_number=str(rng.randrange(1_000_000_000, 9_999_999_999)) if case.customer_number else "",
    )
