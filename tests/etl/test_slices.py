"""A big load is folded in as slices of its staged rows (threads.SLICE_ROWS): the result must not show it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import generate
from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.etl.transform import threads
from carepulse.warehouse import Warehouse
from tests.etl.test_properties import forests
from tests.twcs_helpers import stored_runs, write_twcs


def _state(db: Path) -> list[tuple]:
    """Every row the rebuild writes: threads whole, and the tweets with their computed columns."""
    con = Warehouse(db).reader().connection()
    found = con.execute("SELECT * FROM threads ORDER BY thread_id").fetchall()
    found += con.execute("SELECT * EXCLUDE (run_id) FROM tweets ORDER BY tweet_id").fetchall()
    return found


def _load(db: Path, files: list[Path], slice_rows: int, accounts: tuple[str, ...] = ()) -> tuple[int, int, int]:
    """Load with ``slice_rows`` staged records per slice; (loaded, conversations rebuilt, threads rebuilt)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(threads, "SLICE_ROWS", slice_rows)
        report = ingest_tweets(Warehouse(db), "twcs", files, Settings(db=db), accounts=accounts)
    return report.loaded, report.conversations_rebuilt, report.threads_rebuilt


def test_the_public_sample_sliced_equals_the_sample_whole(tmp_path: Path, shared_sample: Path) -> None:
    whole = _load(tmp_path / "whole.duckdb", [shared_sample], 10_000_000)
    sliced = _load(tmp_path / "sliced.duckdb", [shared_sample], 97)
    # the counts say the same: a conversation two slices touched is counted once, its threads once
    assert sliced == whole
    assert whole[0] == 1000 and whole[1] > 0
    assert _state(tmp_path / "sliced.duckdb") == _state(tmp_path / "whole.duckdb")


def test_a_sliced_load_on_top_of_earlier_data_with_a_new_brand(tmp_path: Path, shared_sample: Path) -> None:
    """The second load names a customer of the first half a brand account by --account: the conversations loaded
    before change roles, and every slice of the second load must see that brand."""
    lines = shared_sample.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("".join(lines[:501]), encoding="utf-8")
    second.write_text(lines[0] + "".join(lines[501:]), encoding="utf-8")
    for name, rows in (("whole", 10_000_000), ("sliced", 61)):
        db = tmp_path / f"{name}.duckdb"
        _load(db, [first], rows)
        _load(db, [second], rows, accounts=("115768",))
        con = Warehouse(db).reader().connection()
        assert con.execute("SELECT bool_and(is_brand), count(*) FROM tweets WHERE author_id = '115768'"
                           ).fetchall() == [(True, 10)]  # the first load's ten tweets became the brand's
        con.close()
    assert _state(tmp_path / "sliced.duckdb") == _state(tmp_path / "whole.duckdb")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forests(), st.randoms(use_true_random=False), st.integers(min_value=1, max_value=7))
def test_any_slicing_of_any_file_order_equals_one_pass(rows: list[list[str]], rnd, slice_rows: int) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)  # late parents: a reply's parent may come in a later slice
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        file = write_twcs(base / "f.csv", shuffled)
        whole = _load(base / "whole.duckdb", [file], 10_000_000)
        sliced = _load(base / "sliced.duckdb", [file], slice_rows)
        assert sliced == whole
        assert _state(base / "sliced.duckdb") == _state(base / "whole.duckdb")


def test_threads_are_stored_in_runs_of_one_account(tmp_path: Path, shared_sample: Path) -> None:
    """A filter on one account reads only its row groups (docs/warehouse.md, ``threads``): every load writes
    its threads ordered by account (unassigned last), then start; a load in slices writes one run per slice."""
    _load(tmp_path / "whole.duckdb", [shared_sample], 10_000_000)
    backwards, runs, accounts = stored_runs(tmp_path / "whole.duckdb")
    assert len(accounts) > 20
    assert (backwards, runs) == (0, len(accounts))
    _load(tmp_path / "sliced.duckdb", [shared_sample], 400)  # three slices: at most three runs per account
    backwards, runs, accounts = stored_runs(tmp_path / "sliced.duckdb")
    assert 0 < backwards <= 2 and len(accounts) < runs <= 3 * len(accounts)


def test_a_first_load_in_slices_leaves_no_free_blocks_in_the_new_file(tmp_path: Path) -> None:
    """A first load ends each slice with part-filled row groups; if the checkpoint merges them (DuckDB's vacuum)
    the merged copies go to new blocks and the old ones stay free inside the published file (16 % of it here, 84 MB
    of a 10 M-tweet warehouse). The new file must be about its data: at most 5 % free blocks."""
    csv = tmp_path / "tweets.csv"
    con = duckdb.connect()
    generate.build(con, 1_000_000, seed=42)
    generate.write_twcs(con, csv)
    con.close()
    db = tmp_path / "first.duckdb"
    loaded, _, _ = _load(db, [csv], 100_000)
    assert loaded == 1_000_000
    con = duckdb.connect(str(db), read_only=True)
    (total, free), = con.execute("SELECT total_blocks, free_blocks FROM pragma_database_size()").fetchall()
    con.close()
    assert free <= 0.05 * total, f"{free} of {total} blocks free"
