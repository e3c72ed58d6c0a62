"""Arrow columns to numpy and back, through their buffers.

pyarrow's own conversions (``to_numpy``, ``pa.array`` of a numpy array, ``pyarrow.compute``
scalars) import pandas on first use, about 0.3 s: more than an incremental load of ten thousand
tweets spends on its SQL. These helpers read and build the fixed-width buffers directly, which is
also zero-copy where Arrow allows it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa

Column: TypeAlias = "pa.ChunkedArray | pa.Array"


def _chunks(column: Column) -> list[pa.Array]:
    return list(column.chunks) if isinstance(column, pa.ChunkedArray) else [column]


def values(column: Column, dtype: type[np.generic] = np.int64, fill: int = 0) -> npt.NDArray[Any]:
    """A fixed-width column (integers, timestamps as their integer) as numpy; nulls become ``fill``."""
    item = np.dtype(dtype).itemsize
    parts = []
    for chunk in _chunks(column):
        n = len(chunk)
        data = np.frombuffer(chunk.buffers()[1], dtype=dtype, count=n, offset=chunk.offset * item) if n else \
            np.empty(0, dtype=dtype)
        if chunk.null_count:
            data = np.where(_bits(chunk.buffers()[0], chunk.offset, n), data, dtype(fill))
        parts.append(data)
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def valid(column: Column) -> npt.NDArray[np.bool_]:
    """True where the column holds a value."""
    parts = [_bits(c.buffers()[0], c.offset, len(c)) if c.null_count else np.ones(len(c), dtype=np.bool_)
             for c in _chunks(column)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.bool_)


def bools(column: Column) -> npt.NDArray[np.bool_]:
    """A boolean column as numpy (nulls as False)."""
    parts = []
    for chunk in _chunks(column):
        data = _bits(chunk.buffers()[1], chunk.offset, len(chunk))
        if chunk.null_count:
            data &= _bits(chunk.buffers()[0], chunk.offset, len(chunk))
        parts.append(data)
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.bool_)


def _bits(buffer: pa.Buffer | None, offset: int, n: int) -> npt.NDArray[np.bool_]:
    if buffer is None:
        return np.ones(n, dtype=np.bool_)
    raw = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[offset:offset + n].astype(np.bool_)


def array(data: npt.NDArray[Any], type_: pa.DataType, missing: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """A numpy array as an Arrow array of ``type_`` (same width), null where ``missing``."""
    validity = None if missing is None or not missing.any() else \
        pa.py_buffer(np.packbits(~missing, bitorder="little"))
    if pa.types.is_boolean(type_):
        body = pa.py_buffer(np.packbits(np.asarray(data, dtype=np.bool_), bitorder="little"))
    else:
        body = pa.py_buffer(np.ascontiguousarray(data))
    return pa.Array.from_buffers(type_, len(data), [validity, body])
