"""Progress bars: drawn on a terminal, and where none is drawn, tqdm is not even imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from carepulse.core import progress

SILENT_RUN = """
import sys
from carepulse.core import progress
made = progress.bar(10, "load")
made.update(3)
made.set_description_str("load: threads")
made.close()
with progress.Phases("load", 2) as phases:
    phases.start("staging")
    phases.note("pass 2")
    phases.start("threads")
print(type(made).__name__, "tqdm" in sys.modules, "multiprocessing" in sys.modules)
"""


def test_no_terminal_no_bar_and_no_tqdm() -> None:
    """stderr a pipe, as under cron, a benchmark or the resident loader's log: the load's phases and bars take their
    calls and tqdm (which imports multiprocessing) stays unimported."""
    done = subprocess.run([sys.executable, "-c", SILENT_RUN], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["Silent", "False", "False"]
    assert done.stderr == ""


def test_a_terminal_gets_a_tqdm_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    from tqdm import tqdm

    monkeypatch.setattr(progress, "enabled", lambda: True)
    with progress.bar(5, "load") as made:
        assert isinstance(made, tqdm)
        made.update(5)
        assert made.n == 5
