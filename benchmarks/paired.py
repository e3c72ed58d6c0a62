"""(d) at the scale curve's two largest sizes measured in turns, for the target "(d) at 10 M within 1.2x of 3 M".

    python -m benchmarks.run --sizes 3m,10m ...    # runs it after the last size, on the warehouses the curve wrote

The curve measures each size's (d) when it gets to that size, minutes after the size before; on this shared
machine the load average moves by more than the growth being judged within such a gap (0.2 to 2.3 within an
hour, RESULTS.md), so the ratio of two such walls mixes the warehouse's growth with the machine's drift. Here
the same batches go into both warehouses in turns, smaller, larger, larger, smaller (ABBA, repeated), so a drift
in time falls on both sizes alike and cancels in the ratio of their medians:

- the command, ``carepulse ingest twcs BATCH --db WAREHOUSE`` started fresh each time (no loader running, so it
  loads the file itself), as (d) in the curve;
- resident, one ``carepulse ingest twcs --watch DIR`` per warehouse, both running, each batch timed from its
  rename into the folder to the loader's ``loaded in`` line (:func:`benchmarks.resident.hand_over`).

Every load starts from the base alone (the delta the one before published is removed), as in the curve.
"""

from __future__ import annotations

import contextlib
import statistics
from pathlib import Path
from typing import Any

from benchmarks.processes import carepulse, checked, run_child
from benchmarks.resident import hand_over, resident_loader
from carepulse.warehouse.delta import delta_path

ROUNDS = 3
"""ABBA rounds: each size loads twice per round, so six loads per size and way."""


def order(rounds: int) -> list[int]:
    """The turns, 0 the smaller size and 1 the larger: ABBA per round (0 1 1 0 0 1 1 0 ...)."""
    return [side for _ in range(rounds) for side in (0, 1, 1, 0)]


def step_paired(sides: list[tuple[Path, Path]], work: Path, rounds: int = ROUNDS) -> dict[str, Any]:
    """``sides``: (batch, warehouse) of the smaller and the larger size. Their command and resident walls in
    turns, the medians per size and the ratios larger / smaller of the medians; or, when a load wrote a new base
    instead of a delta (a batch above a tenth of a small warehouse), why nothing was measured (``skipped``)."""
    command: list[list[float]] = [[], []]
    for side in order(rounds):
        batch, db = sides[side]
        _back_to_base(db)
        child = checked(run_child([*carepulse(), "ingest", "twcs", str(batch), "--db", str(db)]), "paired ingest")
        if not delta_path(db).exists():  # too big for a delta (docs/warehouse.md): its base now holds the batch
            return {"rounds": rounds, "skipped": f"the batch was folded into the base of {db.name} (too big for a "
                                                 "delta), so its load cannot be repeated"}
        command[side].append(child.wall_s)
    resident: list[list[float]] = [[], []]
    with contextlib.ExitStack() as stack:
        loaders = [stack.enter_context(resident_loader(work / f"paired_inbox_{side}", db))
                   for side, (_, db) in enumerate(sides)]
        for n, side in enumerate(order(rounds)):
            batch, db = sides[side]
            _back_to_base(db)
            wall, _ = hand_over(loaders[side], batch, work / f"paired_inbox_{side}" / f"batch_{n}.csv")
            resident[side].append(wall)
    out: dict[str, Any] = {"rounds": rounds}
    for name, walls in (("command", command), ("resident", resident)):
        medians = [statistics.median(w) for w in walls]
        out[name] = {"walls": walls, "median_s": medians, "ratio": medians[1] / medians[0]}
    return out


def _back_to_base(db: Path) -> None:
    delta_path(db).unlink(missing_ok=True)
