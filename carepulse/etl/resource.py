"""The one small interface every source exposes: a declared :class:`Resource`.

A source folder under ``carepulse/etl/sources/`` declares one ``RESOURCE`` in its ``__init__.py``;
:mod:`carepulse.etl.registry` lists them, and the shared loader finds a source by its name there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import duckdb

WriteMode = Literal["insert-new", "merge"]
"""``insert-new``: a key seen before is a duplicate (same content) or quarantined (different content),
never overwritten. ``merge``: a changed record replaces the stored one."""


class Stage(Protocol):
    """Parse and validate one file into the staging tables (:mod:`carepulse.etl.staging`).

    Every record goes to ``stg_tweets`` or, with its reason, ``stg_quarantine``; returns the records read.
    """

    def __call__(self, con: duckdb.DuckDBPyConnection, path: Path, run_id: int) -> int: ...


@dataclass(frozen=True)
class Resource:
    """A source as the loader sees it: what it writes where, and the function that stages one file."""

    name: str
    """The source's name on the command line (``carepulse ingest NAME``) and in the run log."""
    table: str
    """The warehouse table its records end up in."""
    primary_key: str
    write_mode: WriteMode
    stage: Stage | None
    """``None`` for a source that validates and applies its records itself (see its module docstring)."""
    staged_columns: frozenset[str] | None = None
    """The ``stg_tweets`` columns its stage fills (None: every one); the others are staged as virtual
    NULL columns, which take no memory (:func:`carepulse.etl.staging.stg_tweets_ddl`)."""
    staged_aliases: tuple[tuple[str, str], ...] = ()
    """``(column, other)``: a ``stg_tweets`` column that always equals another one, staged as a virtual copy
    of it (TWCS names an author once: its handle is its id)."""
    file_suffixes: tuple[str, ...] = ()
    """The name endings (lower case) of this source's files: what the resident loader takes from its folder
    (:mod:`carepulse.etl.watch`); a file with another name there, the warehouse's own for one, is left alone."""
