"""Process-wide settings of the native libraries a carepulse process loads, made before they load.

carepulse's linear algebra is small: regressions over weeks, an ETS forecast of weekly volumes. OpenBLAS (numpy's
and scipy's BLAS) nevertheless starts a thread per core and, after each call, lets those threads spin while they
wait for the next one. Beside DuckDB, which wants every core for its scans, the spinning threads take cores the
queries needed: on two cores the Pilot page's weekly volume callback (statsmodels' ETS, then DuckDB) took 90 to
130 ms in about half of its requests and 30 to 50 ms in the rest; with one BLAS thread every request took 33 to
72 ms, and the page's filter change p95 went from 0.27-0.32 s to 0.25-0.26 s (3 M tweets; benchmarks/RESULTS.md).

The libraries read these variables once, when they load, so :func:`one_blas_thread` runs before any of them is
imported: first thing in the ``carepulse`` command, and in the benchmark harness. A value the user has set wins.
"""

from __future__ import annotations

import os

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""OpenBLAS (the numpy and scipy wheels) and MKL (some other builds of numpy)."""


def one_blas_thread() -> None:
    """One BLAS thread for this process and the processes it starts, unless the environment says otherwise."""
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


CLOSING_THREAD = "carepulse-close"
"""The name of a thread that only frees a finished DuckDB instance (``warehouse.store``). It is not a daemon: an
interpreter that finalizes while a daemon thread runs DuckDB's C++ ends that thread by unwinding it, which DuckDB's
code does not survive ("FATAL: exception not rethrown", the process aborts with 134). So a plain interpreter waits
for it at exit, and the ``carepulse`` command, which ends with ``os._exit``, need not: nothing it frees is data."""
