"""The data's local time span converts only rows near the UTC extremes, with the naive answer."""

from __future__ import annotations

import duckdb

from carepulse.metrics.data_views import _local, _local_extreme
from carepulse.metrics.sqltree import statement


def test_local_extremes_equal_converting_every_row_across_a_dst_fall_back() -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # 00:30 UTC on 2017-10-29 is 02:30 CEST; 01:10 UTC is 02:10 CET (the clock went back): the later
    # instant is the earlier local time, and a row a week later must not be converted to decide it.
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES (TIMESTAMPTZ '2017-10-29 00:30:00+00'),
        (TIMESTAMPTZ '2017-10-29 01:10:00+00'), (TIMESTAMPTZ '2017-11-05 12:00:00+00'),
        (TIMESTAMPTZ '2017-10-22 23:00:00+00')) v(ts)""")
    for tz in ("Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns"):
        for fn in ("min", "max"):
            fast = con.execute(*statement(f"SELECT {_local_extreme(fn, tz, 'ts', 't')}", {"tz": tz})).fetchall()
            naive = con.execute(*statement(f"SELECT {fn}({_local(tz, 'ts')}) FROM t", {"tz": tz})).fetchall()
            assert fast == naive, (tz, fn)
    con.execute("DELETE FROM t WHERE ts < TIMESTAMPTZ '2017-10-29 00:00:00+00' OR ts > '2017-11-01'")
    (earliest,), = con.execute(*statement(f"SELECT {_local_extreme('min', 'Europe/Berlin', 'ts', 't')}",
                                      {"tz": "Europe/Berlin"})).fetchall()
    assert str(earliest) == "2017-10-29 02:10:00"
