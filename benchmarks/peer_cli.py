"""The command line every peer pipeline shares: ``python -m benchmarks.<peer> CSV [--json]``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def main(doc: str, run: Callable[..., Any], argv: Sequence[str] | None = None,
         extra: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """Parse the file (and the peer's own options, added by ``extra``), run, print the result."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    if extra is not None:
        extra(parser)
    args = vars(parser.parse_args(argv))
    path, as_json = args.pop("file"), args.pop("json")
    result = run(path, **args)
    if as_json:
        print(json.dumps(result.as_dict()))
    else:
        print(f"{result.tweets:,} tweets, {result.threads:,} threads, {result.answered:,} answered, "
              f"median first response {result.median_s} s; " +
              ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
    return 0
