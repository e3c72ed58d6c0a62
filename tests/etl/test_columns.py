"""Arrow <-> numpy through buffers: nulls, offsets (sliced chunks) and booleans survive the trip."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa

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


def test_author_codes_agree_across_chunks() -> None:
    """Threads group and join on these codes: equal ids must get equal codes in every chunk, others not."""
    import duckdb

    from carepulse.etl.transform.threads import _codes

    con = duckdb.connect()
    first = con.sql("SELECT s FROM (VALUES ('b'), ('a'), ('b')) t(s)").to_arrow_table()["s"]
    second = con.sql("SELECT s FROM (VALUES ('c'), ('a'), ('b'), ('d')) t(s)").to_arrow_table()["s"]
    column = pa.chunked_array([*first.chunks, *second.chunks])
    codes = _codes(column).tolist()
    strings = column.to_pylist()
    assert len(codes) == 7
    for i in range(7):
        for j in range(7):
            assert (codes[i] == codes[j]) == (strings[i] == strings[j]), (strings, codes)
