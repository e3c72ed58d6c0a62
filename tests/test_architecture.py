"""The layers are enforced, not a convention: the import contracts in ``pyproject.toml`` pass on the tree
as it is, and each one fails when an import that breaks it is added (docs/architecture.md).

Each case copies the package and the contracts to a temporary directory, adds one offending import,
and runs ``lint-imports`` there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT), "--no-cache", str(tree / "pyproject.toml")], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("arch")
    shutil.copytree(REPO / "carepulse", tree / "carepulse",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "assets", "data"))
    shutil.copy(REPO / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_tree_keeps_every_contract(pristine: Path) -> None:
    done = lint(pristine)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("module", "offending_import", "contract"), [
    ("core/config.py", "import carepulse.metrics.registry", "cli -> dashboard | demo -> metrics | etl"),
    ("warehouse/store.py", "import carepulse.etl.loader", "cli -> dashboard | demo -> metrics | etl"),
    ("metrics/costs.py", "import carepulse.etl.loader", "cli -> dashboard | demo -> metrics | etl"),
    ("etl/loader.py", "import carepulse.metrics.engine", "cli -> dashboard | demo -> metrics | etl"),
    ("metrics/engine.py", "import carepulse.dashboard.state", "cli -> dashboard | demo -> metrics | etl"),
    ("etl/loader.py", "import carepulse.cli", "cli -> dashboard | demo -> metrics | etl"),
    ("demo/generator.py", "import carepulse.dashboard.formatting", "cli -> dashboard | demo -> metrics | etl"),
    ("dashboard/state.py", "import carepulse.etl.loader", "never the loaders"),
    ("metrics/context.py", "import carepulse.metrics.registry", "no import cycles"),
    ("etl/sources/crm/apply.py", "import carepulse.etl.sources.twcs", "stands alone"),
    ("etl/sources/twcs/reader.py", "import carepulse.etl.loader", "below the loader"),
])
def test_each_contract_fails_on_an_import_that_breaks_it(pristine: Path, tmp_path: Path, module: str,
                                                         offending_import: str, contract: str) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    target = tree / "carepulse" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{offending_import}  # noqa\n", encoding="utf-8")
    done = lint(tree)
    assert done.returncode != 0, done.stdout
    broken = [line for line in done.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken), done.stdout
