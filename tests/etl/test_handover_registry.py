"""A resident loader's registration (``etl.handover.registered``) against a second loader starting at once.

The end-to-end hand-over runs in ``tests/cli/test_ingest_handover.py`` with real processes; the instant tested
here (one loader between creating its registration and locking it, another sweeping stale ones) is too short
to hit with processes, so the sweep is run at exactly that instant.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

import pytest

from carepulse.etl import handover

TERMS = handover.Terms(kind="twcs", accounts=(), mapping=None, settings="{}")


def test_a_loader_starting_while_another_registers_leaves_its_registration_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, folder = tmp_path / "w.duckdb", tmp_path / "inbox"
    folder.mkdir()
    real_flock = fcntl.flock
    swept: list[list[str]] = []

    def sweep_first(fh: IO[Any], operation: int) -> None:
        if operation == fcntl.LOCK_EX:  # the registering loader is about to lock: a second loader sweeps now
            handover.sweep(handover.registry(db))
            swept.append(sorted(p.name for p in handover.registry(db).iterdir()))
        real_flock(fh, operation)

    monkeypatch.setattr(fcntl, "flock", sweep_first)
    with handover.registered(db, folder, (".csv",), TERMS):
        monkeypatch.undo()
        assert swept, "the sweep never ran at the instant before the lock"
        found = handover.find(db, TERMS)
        assert found is not None and found.pid == os.getpid() and found.folder == folder.resolve()
        assert sorted(p.name for p in handover.registry(db).iterdir()) == [
            f"twcs-{os.getpid()}.bell", f"twcs-{os.getpid()}.json"]
    assert list(handover.registry(db).iterdir()) == []


def test_a_killed_loaders_registration_is_swept_and_a_running_ones_is_not(tmp_path: Path) -> None:
    db, folder = tmp_path / "w.duckdb", tmp_path / "inbox"
    folder.mkdir()
    where = handover.registry(db)
    where.mkdir()
    (where / "twcs-1.json").write_text("{}", encoding="utf-8")  # what kill -9 leaves: no lock held
    (where / "twcs-1.bell").write_text("", encoding="utf-8")
    with handover.registered(db, folder, (".csv",), TERMS):
        handover.sweep(where)  # a second loader starting now
        assert sorted(p.name for p in where.iterdir()) == [f"twcs-{os.getpid()}.bell", f"twcs-{os.getpid()}.json"]
