"""Every source the loader knows, registered in this one place (add a source: one line here)."""

from __future__ import annotations

from carepulse.core.errors import DataError
from carepulse.etl.resource import Resource, Stage
from carepulse.etl.sources import crm, jsonl, twcs

RESOURCES: dict[str, Resource] = {r.name: r for r in (twcs.RESOURCE, jsonl.RESOURCE, crm.RESOURCE)}


def resource(name: str) -> Resource:
    """The declared resource called ``name``; a :class:`DataError` naming the known ones if none is."""
    try:
        return RESOURCES[name]
    except KeyError as exc:
        raise DataError(f"unknown source {name!r} (known: {', '.join(RESOURCES)})") from exc


def tweet_stage(name: str) -> Stage:
    """The stage function of a tweet source (one the shared loader stages, dedupes and threads)."""
    found = RESOURCES.get(name)
    if found is None or found.table != "tweets" or found.stage is None:
        known = ", ".join(n for n, r in RESOURCES.items() if r.table == "tweets" and r.stage is not None)
        raise DataError(f"unknown tweet source {name!r} (known: {known})")
    return found.stage
