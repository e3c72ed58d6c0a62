"""Arrow <-> numpy through buffers: nulls, offsets (sliced chunks) and booleans survive the trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from carepulse.etl import columns


def test_values_valid_and_bools_read_sliced_chunks_with_nulls() -> None:
    ints = pa.chunked_array([pa.array([1, None, 3, 4], type=pa.int64()).slice(1), pa.array([7, 8], type=pa.int64())])
    assert columns.values(ints, fill=-1).tolist() == [-1, 3, 4, 7, 8]
    assert columns.valid(ints).tolist() == [False, True, True, True, True]
    flags = pa.chunked_array([pa.array([True, False, None, True, True, False, True, False, True]).slice(2)])
    assert columns.bools(flags).tolist() == [False, True, True, False, True, False, True]


def test_array_builds_nullable_ints_timestamps_and_bools() -> None:
    data = np.array([5, 6, 7], dtype=np.int64)
    missing = np.array([False, True, False])
    assert columns.array(data, pa.int64(), missing).to_pylist() == [5, None, 7]
    stamps = columns.array(data, pa.timestamp("us", tz="UTC"), missing)
    assert stamps.type == pa.timestamp("us", tz="UTC") and stamps.null_count == 1
    assert columns.array(np.array([True, False, True] * 5), pa.bool_()).to_pylist() == [True, False, True] * 5
    assert columns.values(columns.array(data, pa.int64(), missing)).tolist() == [5, 0, 7]


def test_the_loader_does_not_import_pandas() -> None:
    code = ("import sys, tempfile, pathlib\n"
            "from carepulse.core.config import Settings\n"
            "from carepulse.etl.loader import ingest_tweets\n"
            "from carepulse.warehouse import Warehouse\n"
            "d = pathlib.Path(tempfile.mkdtemp())\n"
            "f = d / 't.csv'\n"
            "f.write_text('tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\\n'\n"
            "             '1,c1,True,Tue Oct 31 22:10:47 +0000 2017,@Brand help,2,\\n'\n"
            "             '2,Brand,False,Tue Oct 31 22:11:47 +0000 2017,@c1 hi,,1\\n')\n"
            "r = ingest_tweets(Warehouse(d / 'w.duckdb'), 'twcs', [f], Settings())\n"
            "assert r.threads_rebuilt == 1, r\n"
            "print('pandas' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("small_rows", [0, 50_000])
def test_author_codes_agree_across_chunks(small_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads group and join on these codes: equal ids must get equal codes in every chunk, others not
    (both ways: Arrow's dictionary encoding for big columns, a Python dict for small ones)."""
    import duckdb

    monkeypatch.setattr(columns, "SMALL_ROWS", small_rows)
    con = duckdb.connect()
    first = con.sql("SELECT s FROM (VALUES ('b'), ('a'), ('b')) t(s)").to_arrow_table()["s"]
    second = con.sql("SELECT s FROM (VALUES ('c'), ('a'), ('b'), ('d')) t(s)").to_arrow_table()["s"]
    column = pa.chunked_array([*first.chunks, *second.chunks])
    codes = columns.codes(column).tolist()
    strings = column.to_pylist()
    assert len(codes) == 7
    for i in range(7):
        for j in range(7):
            assert (codes[i] == codes[j]) == (strings[i] == strings[j]), (strings, codes)


@pytest.mark.parametrize("small_rows", [0, 50_000])
def test_a_string_gather_keeps_values_nulls_and_offsets(small_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worked by hand: rows 4, 0, 1, 5, 2, 3 of a two-chunk column whose second chunk is a slice (offset 1);
    position 1 is masked out, row 1 is null itself."""
    monkeypatch.setattr(columns, "SMALL_ROWS", small_rows)
    column = pa.chunked_array([pa.array(["ab", None, "cde"]), pa.array(["zz", "", "xyz", "ü"]).slice(1)])
    taken = columns.take(column, np.array([4, 0, 1, 5, 2, 3], dtype=np.int32),
                         np.array([False, True, False, False, False, False]))
    assert taken.to_pylist() == ["xyz", None, None, "ü", "cde", ""]


def test_a_small_load_imports_neither_pandas_nor_pyarrow_compute(tmp_path: Path) -> None:
    """Each costs 80-300 ms to import: more than the SQL of a 10 k-tweet load."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from carepulse.core.config import Settings\n"
        "from carepulse.etl.loader import ingest_tweets\n"
        "from carepulse.warehouse import Warehouse\n"
        f"d = Path({str(tmp_path)!r})\n"
        "rows = ['1,c1,True,Tue Oct 31 22:10:47 +0000 2017,@Brand help,2,', "
        "'2,Brand,False,Tue Oct 31 22:11:47 +0000 2017,@c1 hi,,1', "
        "'3,c1,True,Tue Oct 31 22:12:47 +0000 2017,@Brand thanks,,2']\n"
        "header = 'tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id'\n"
        "for n in (2, 3):\n"
        "    f = d / f'{n}.csv'\n"
        "    f.write_text('\\n'.join([header, *rows[:n]]) + '\\n')\n"
        "    ingest_tweets(Warehouse(d / 'w.duckdb'), 'twcs', [f], Settings())\n"
        "print(sorted(m for m in ('pandas', 'pyarrow.compute') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("small_rows", [0, 50_000])
def test_codes_tell_apart_empty_null_and_trailing_zero_bytes(small_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The small path pads strings to one width: "a" and "a\\0", "" and null must still get codes of their own."""
    monkeypatch.setattr(columns, "SMALL_ROWS", small_rows)
    column = pa.chunked_array([pa.array(["a", "a\x00", "", None]), pa.array(["zz", "", "a", None, "ü"]).slice(1)])
    strings = column.to_pylist()
    codes = columns.codes(column).tolist()
    assert [(codes[i] == codes[j]) == (strings[i] == strings[j]) for i in range(8) for j in range(8)] == [True] * 64
