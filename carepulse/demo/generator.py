"""Seeded simulation of a six-month Twitter customer-service pilot for the embedded demo.

The demo has to run without API keys or real customer data, and it only convinces
management when its numbers tell a plausible story. So the generator does not draw
metrics; it simulates the mechanics that produce them, and the story follows:

* customers of the fictitious telco Nordfunk tweet around the clock along a daily curve,
  volume grows about 15 % a month, and three outages bring bursts of similar complaints;
* a flat team of twelve agents staffs the public desk by rota within the opening hours
  (Mon-Fri 08-20, Sat 09-16 Europe/Berlin) and works a first-come-first-served queue, so
  night tweets wait for the morning, Mondays carry the weekend, and response times
  worsen as volume outgrows the team;
* under load agents skip some first tweets, so unanswered threads cluster in overload
  weeks, and the queue is never empty when the data ends;
* customers answer, send DMs, nudge when ignored and sometimes thank at the end;
* the CRM export is derived from the same simulated threads (cases logged by the agent
  who answered, with the signature's initials), next to hotline, e-mail and chat cases;
* the export also reaches 26 weeks back before the launch (hotline, e-mail and chat only), and
  the launch took a known share of the hotline's calls (``HOTLINE_VOLUME_DROP``), so the
  before/after estimate of the hotline's volume has a true answer to be checked against.
* like every real input, the files hold a few broken records (a case typed wrong, a page
  cut off by a killed pull), so the demo shows the quarantine at work; they come on top of
  the story's records and change none of its numbers.

Everything random comes from one ``random.Random(seed)`` and nothing iterates over a
hash-ordered collection, so a seed always yields byte-identical files. The pre-launch history
has a generator of its own (``_history_rng``), so adding it left every pilot record as it was.

The simulation is split along its seams: ``story`` (the knobs), ``clock``, ``vocabulary`` (the
words, read from ``vocabulary.json``), ``entities``, ``world`` (what is fixed before the run),
``desk`` (the run) and ``texts``; then one module per output: ``tweets``, ``crm``, ``history``
(the weeks before the launch) and ``defects`` (the planted broken records).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Final

from carepulse.demo.clock import _add_months, _Calendar
from carepulse.demo.crm import CRM_HEADERS, _crm_cases, _numbered_cases, _write_crm
from carepulse.demo.defects import DemoDefect, _plant_broken_cases, _plant_cut_off_pages
from carepulse.demo.desk import _Desk
from carepulse.demo.history import _history_rng, _history_rows
from carepulse.demo.story import ACCOUNTS, HISTORY_WEEKS, HOTLINE_VOLUME_DROP
from carepulse.demo.tweets import _tweet_lines
from carepulse.demo.world import _World

__all__ = [
    "ACCOUNTS",
    "CRM_HEADERS",
    "CRM_MAPPING_TOML",
    "HISTORY_WEEKS",
    "HOTLINE_VOLUME_DROP",
    "DemoDefect",
    "DemoFiles",
    "generate_demo",
]

CRM_MAPPING_TOML: Final = (files("carepulse.demo") / "crm_mapping.toml").read_text(encoding="utf-8")
"""The mapping of the demo's CRM export, written next to it as ``crm_mapping.toml``."""


@dataclass(frozen=True)
class DemoFiles:
    """The files of one generated demo and the brand handles the loader must be told about."""

    tweets_jsonl: Path
    crm_csv: Path
    crm_mapping: Path
    accounts: tuple[str, ...]
    defects: tuple[DemoDefect, ...] = ()
    """The planted broken records, one quarantined record each, in file and line order."""


def generate_demo(out_dir: Path, seed: int = 7, months: int = 6, start: date = date(2026, 5, 4)) -> DemoFiles:
    """Simulate ``months`` of Nordfunk's Twitter support from ``start`` and write the demo inputs.

    Writes ``tweets.jsonl`` (twarc2 response pages), ``crm_export.csv`` (German CRM export)
    and ``crm_mapping.toml`` into ``out_dir``. The same arguments give byte-identical files.
    A few broken records are planted among the good ones (listed in ``DemoFiles.defects``); they
    are drawn after everything else, so the good records are the same as without them.
    The CRM export starts ``HISTORY_WEEKS`` weeks before ``start`` with the hotline, e-mail and chat
    cases of the time before the launch (see ``_history_rows``), then holds the pilot's cases.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    calendar = _Calendar(start, _add_months(start, months))
    world = _World.create(rng, calendar)
    desk = _Desk(rng, world, calendar)
    desk.run()
    tweets_jsonl, crm_csv = out_dir / "tweets.jsonl", out_dir / "crm_export.csv"
    pages = _tweet_lines(desk.tweets, world, calendar, rng)
    crm = _crm_cases(desk.threads, world, calendar, rng)
    cases = _numbered_cases(crm.cases, rng)
    pages, page_defects = _plant_cut_off_pages(pages, tweets_jsonl.name, rng)
    rows, case_defects = _plant_broken_cases(cases, crm_csv.name, rng)
    history = _history_rows(crm, calendar, _history_rng(seed), first_number=cases[0][0] if cases else 2_604_000)
    # The history's rows come first, so every broken pilot row sits that many lines further down.
    case_defects = [dataclasses.replace(d, line=d.line + len(history)) for d in case_defects]
    with tweets_jsonl.open("w", encoding="utf-8", newline="\n") as out:
        out.writelines(line + "\n" for line in pages)
    _write_crm(crm_csv, history + rows)
    files = DemoFiles(
        tweets_jsonl=tweets_jsonl,
        crm_csv=crm_csv,
        crm_mapping=out_dir / "crm_mapping.toml",
        accounts=ACCOUNTS,
        defects=(*case_defects, *page_defects),
    )
    files.crm_mapping.write_text(CRM_MAPPING_TOML, encoding="utf-8")
    return files
