"""``python -m benchmarks.soak``: the resident loader over many files, on a tiny base so compactions come often."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import soak
from carepulse.warehouse import Warehouse


def test_many_hand_overs_load_everything_compact_and_hold_no_replaced_base(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    assert soak.main(["--tweets", "3000", "--batches", "12", "--batch", "100", "--workdir", str(tmp_path),
                      "--json", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    rows = result["rows"]
    assert [r["n"] for r in rows] == list(range(1, 13))
    # 100 tweets a load pass the delta's 10 % share of a 3,000-tweet base every few loads
    compacting = [r for r in rows if r["compacted"]]
    assert 2 <= len(compacting) <= 6
    assert all(r["delta_mb"] == 0 for r in compacting)  # folded into the new base
    # the loader answered each of those loads first and said a compaction follows; the soak timed it apart
    assert all(r["compact_s"] > 0 for r in compacting)
    assert all(r["compact_s"] is None for r in rows if not r["compacted"])
    assert all(r["held_replaced"] == 0 for r in rows)  # the loader let go of every base a compaction replaced
    assert all(r["rss_mb"] > 20 for r in rows)
    # the loader's own high-water mark (VmHWM), read after the last load: at least what was sampled along the way,
    # within the kernel's bookkeeping (per-thread RSS counters sync in batches, and file pages reclaimed from a
    # mapping lower RSS without raising the mark: 48 KB below a sample once, of 184 MB)
    assert result["peak_rss_mb"] >= 0.99 * max(r["rss_mb"] for r in rows)
    assert sum(w["compactions"] for w in result["windows"]) == len(compacting)
    assert [(w["first"], w["last"]) for w in result["windows"]] == [(1, 10), (11, 12)]
    con = Warehouse(tmp_path / "soak_3000.duckdb").reader().connection()
    assert con.execute("SELECT count(*), count(DISTINCT tweet_id) FROM tweets").fetchone() == (3000 + 12 * 100,) * 2
