"""Every source the loader knows, registered in this one place (add a source: one line here).

A source is the package ``carepulse.etl.sources.<name>`` declaring ``RESOURCE``. It is imported when it is
first asked for, not with this module: ``ingest twcs`` does not import the JSONL reader (start-up time).
"""

from __future__ import annotations

import importlib
from typing import cast

from carepulse.core.errors import DataError
from carepulse.etl.resource import Resource

SOURCES: tuple[str, ...] = (
    "twcs",
    "jsonl",
    "crm",
)


def _declared(name: str) -> Resource:
    """The ``RESOURCE`` of source ``name``, importing its package on first use (start-up time)."""
    return cast(Resource, importlib.import_module(f"carepulse.etl.sources.{name}").RESOURCE)


def __getattr__(attribute: str) -> dict[str, Resource]:
    """``RESOURCES``, name -> resource of every source, for whoever wants them all (imports every source)."""
    if attribute == "RESOURCES":
        return {name: _declared(name) for name in SOURCES}
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


def resource(name: str) -> Resource:
    """The declared resource called ``name``; a :class:`DataError` naming the known ones if none is."""
    if name not in SOURCES:
        raise DataError(f"unknown source {name!r} (known: {', '.join(SOURCES)})")
    return _declared(name)


def tweet_source(name: str) -> Resource:
    """A tweet source (one the shared loader stages, dedupes and threads), declared with its stage function."""
    found = _declared(name) if name in SOURCES else None
    if found is None or found.table != "tweets" or found.stage is None:
        known = ", ".join(n for n in SOURCES if (r := _declared(n)).table == "tweets" and r.stage is not None)
        raise DataError(f"unknown tweet source {name!r} (known: {known})")
    return found
