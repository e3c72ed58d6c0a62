"""Benchmarks at TWCS scale: ``python -m benchmarks.run`` (benchmarks/RESULTS.md)."""

from carepulse.core.native import one_blas_thread

# The harness calls carepulse's own functions for the raw query times: with the BLAS threads the carepulse command
# runs with (carepulse.core.native). The peers inherit the setting; none of them calls BLAS.
one_blas_thread()
