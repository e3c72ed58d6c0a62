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


SMALL_ROWS = 50_000
"""Below this many rows, string gathers and codes work on the Arrow buffers with numpy: importing
``pyarrow.compute`` (which Arrow's ``take`` and ``dictionary_encode`` need) costs 80 ms, more than a small load's
SQL, and ``pa.array`` of Python objects imports pandas."""


def _strings(column: Column) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """A string column's offsets (one more than rows), its bytes, and which rows are not null."""
    whole = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not (pa.types.is_string(whole.type) or pa.types.is_large_string(whole.type)):
        raise TypeError(f"a string column expected, got {whole.type}")
    _, offsets_buf, data_buf = whole.buffers()
    width = np.int64 if pa.types.is_large_string(whole.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=width)[whole.offset:whole.offset + len(whole) + 1].astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    return offsets, data, valid(whole)


def _gather(offsets: npt.NDArray[np.int64], idx: npt.NDArray[np.int64],
            lengths: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The new offsets, and the position in the old bytes of every byte, of rows ``idx`` cut to ``lengths``."""
    new_offsets = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    positions = np.repeat(offsets[idx] - new_offsets[:-1], lengths) + np.arange(new_offsets[-1], dtype=np.int64)
    return new_offsets, positions


def take(column: Column, indices: npt.NDArray[Any], missing: npt.NDArray[np.bool_]) -> pa.Array | pa.ChunkedArray:
    """``column[indices]`` of a string column, null where ``missing`` or where the value is null (a small gather
    copies the bytes with one numpy fancy index)."""
    if len(column) > SMALL_ROWS or len(indices) > SMALL_ROWS:
        return column.take(array(indices, pa.int32(), missing))
    offsets, data, present = _strings(column)
    idx = np.asarray(indices, dtype=np.int64)
    gone = np.asarray(missing, dtype=np.bool_) | ~present[idx]
    lengths = np.where(gone, 0, offsets[idx + 1] - offsets[idx])
    new_offsets, positions = _gather(offsets, idx, lengths)
    validity = pa.py_buffer(np.packbits(~gone, bitorder="little")) if gone.any() else None
    return pa.Array.from_buffers(pa.large_string(), len(idx),
                                 [validity, pa.py_buffer(new_offsets), pa.py_buffer(data[positions])])


def codes(column: Column) -> npt.NDArray[np.int32]:
    """A string column as one integer per distinct value (equal strings, equal codes; nulls share one code).

    A small column is laid out as fixed-width byte rows (zero-padded, with its length beside, so "a" and "a\\0"
    differ) and numbered by ``np.unique``: a sort in C, not a Python loop over the rows.
    """
    if len(column) > SMALL_ROWS:
        encoded = column.dictionary_encode(null_encoding="encode")  # null: a code of its own, not 0
        chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
        return values(pa.chunked_array([c.indices for c in chunks], type=pa.int32()), np.int32)
    offsets, data, present = _strings(column)
    n = len(offsets) - 1
    lengths = np.where(present, offsets[1:] - offsets[:-1], 0)
    width = int(lengths.max()) if n else 0
    rows = np.zeros((n, width + 8), dtype=np.uint8)
    rows[:, :8] = np.where(present, lengths, -1).astype(">i8").view(np.uint8).reshape(n, 8)  # null: length -1
    packed, positions = _gather(offsets, np.arange(n, dtype=np.int64), lengths)
    within = np.arange(len(positions)) - np.repeat(packed[:-1], lengths)  # each byte's place in its string
    rows[np.repeat(np.arange(n), lengths), 8 + within] = data[positions]
    _, inverse = np.unique(rows.view(f"V{width + 8}").ravel(), return_inverse=True)
    return inverse.astype(np.int32).ravel()
