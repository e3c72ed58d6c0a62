"""Where a redirect may lead: a path on this site, never another site (login, the language switch)."""

from __future__ import annotations


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site (``//evil``, ``/\\evil``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 32 for c in target):
        return "/"
    return target
