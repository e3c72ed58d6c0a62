"""Text a spreadsheet will not evaluate: the one rule for every CSV carepulse writes (CLI and dashboard).

A spreadsheet treats a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a CR as a formula, also on a
line inside a cell when a naive reader splits rows at line breaks. Only CSV needs this: an XLSX string
cell and a Parquet value are never evaluated, so those formats keep text byte for byte.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LINE_START = re.compile(r"([\r\n])(?=[=+\-@\t])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def neutralise_text(value: Any) -> Any:
    """CSV text that no spreadsheet reads as a formula: ``'=1+2`` for ``=1+2``, the same after every line
    break inside the text, and control characters as visible escapes; other values unchanged."""
    if not isinstance(value, str):
        return value
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    text = _LINE_START.sub(r"\1'", text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
