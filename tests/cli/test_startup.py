"""Start-up stays cheap: a command imports what it runs, and ``--help`` or an argument error imports nearly nothing.

Each case runs the CLI in a fresh interpreter (as the ``carepulse`` command does) and looks at ``sys.modules``
afterwards, so an eager import put back at the top of a command module, the registry or the CRM pipeline
fails here: ``carepulse --help`` importing tweepy again (through ``pull``), ``ingest twcs --help`` importing
DuckDB and the loader, a TWCS load importing the JSONL reader or the CRM readers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from carepulse.cli import COMMANDS, build_parser

# Runs main() as the console script does, then writes the names of the imported modules to argv[1].
PROBE = """
import sys
from carepulse.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
import json
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""

# Heavy or command-specific: none of them is needed to parse arguments or print help.
THIRD_PARTY = ("tweepy", "requests", "oauthlib", "requests_oauthlib", "urllib3", "duckdb", "numpy", "pyarrow",
               "pandas", "plotly", "dash", "statsmodels", "scipy", "openpyxl", "argon2", "tqdm", "weasyprint",
               "sqlglot", "babel", "waitress", "vaderSentiment")
PROJECT = ("carepulse.core.config", "carepulse.core.errors", "carepulse.etl", "carepulse.warehouse",
           "carepulse.metrics", "carepulse.dashboard", "carepulse.report", "carepulse.demo")
# What only ``pull`` needs, and what no other command may import to parse its arguments.
PULL_ONLY = ("tweepy", "requests", "oauthlib", "requests_oauthlib", "carepulse.etl.twitter_api")
DASHBOARD_ONLY = ("dash", "plotly", "statsmodels", "carepulse.dashboard", "carepulse.report")


def imported(tmp_path: Path, *args: str) -> tuple[int, set[str], str]:
    """The exit code, the modules imported and stderr of ``carepulse ARGS`` in a new interpreter."""
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if k not in ("CAREPULSE_CONFIG", "CAREPULSE_DB")}
    done = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert out.exists(), done.stderr
    found = json.loads(out.read_text(encoding="utf-8"))
    return found["code"], set(found["modules"]), done.stderr


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The names (packages and their submodules) among the imported modules."""
    return sorted(name for name in names if any(m == name or m.startswith(f"{name}.") for m in modules))


@pytest.mark.parametrize("args", [["--help"], ["--version"], [], ["bogus"], ["ingest", "twcs", "--help"],
                                  ["ingest", "twcs"], ["ingest", "twcs", "x.csv", "--bogus"]],
                         ids=lambda args: " ".join(args) or "no-arguments")
def test_help_and_argument_errors_import_no_command_code(tmp_path: Path, args: list[str]) -> None:
    code, modules, _ = imported(tmp_path, *args)
    assert code in (0, 2)
    assert loaded(modules, THIRD_PARTY) == []
    assert loaded(modules, PROJECT) == []


@pytest.mark.parametrize("args", [["--help"], ["--version"], [], ["bogus"], ["-v", "--config", "x.toml"]],
                         ids=lambda args: " ".join(args) or "no-arguments")
def test_naming_no_command_lists_the_commands_without_importing_one(tmp_path: Path, args: list[str]) -> None:
    code, modules, _ = imported(tmp_path, *args)
    assert code in (0, 2)
    assert sorted(m for m in modules if m.startswith("carepulse.cli.commands.")) == []


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_command_help_imports_neither_tweepy_nor_the_dashboard(tmp_path: Path, command: str) -> None:
    code, modules, _ = imported(tmp_path, command, "--help")
    assert code == 0
    assert loaded(modules, PULL_ONLY) == []
    assert loaded(modules, DASHBOARD_ONLY) == []
    if command != "users":  # its help lists the roles, declared beside the user store (DuckDB, argon2)
        assert loaded(modules, ("duckdb", "numpy", "pyarrow", "carepulse.etl", "carepulse.warehouse")) == []


def test_an_argument_error_is_still_one_error_line(tmp_path: Path) -> None:
    code, _, stderr = imported(tmp_path, "ingest", "twcs")
    assert code == 2
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert errors == ["carepulse ingest twcs: error: one of the arguments FILE --watch is required"]


def test_a_twcs_load_imports_neither_other_sources_nor_tweepy(tmp_path: Path, shared_sample: Path) -> None:
    code, modules, stderr = imported(tmp_path, "ingest", "twcs", str(shared_sample), "--db", str(tmp_path / "w.duckdb"))
    assert code == 0, stderr
    assert "carepulse.etl.sources.twcs.reader" in modules  # the probe did load
    assert loaded(modules, PULL_ONLY) == []
    assert loaded(modules, DASHBOARD_ONLY) == []
    assert loaded(modules, ("carepulse.etl.sources.jsonl", "carepulse.etl.sources.crm.read_csv",
                            "carepulse.etl.sources.crm.read_xlsx", "carepulse.etl.sources.crm.read_parquet",
                            "carepulse.etl.sources.crm.validate", "openpyxl")) == []


def test_the_listing_is_the_help_of_the_full_parser() -> None:
    """``carepulse --help`` lists each command by its line alone: the same text as with every command registered."""
    assert build_parser(["--help"]).format_help() == build_parser().format_help()
    assert build_parser([]).format_usage() == build_parser().format_usage()


# Runs the ``carepulse`` command as the console script does (run(): main, then leave at once) and writes the BLAS
# thread variables as they are when numpy is first imported, to argv[1].
BLAS_PROBE = """
import json, os, sys

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            sys.meta_path.remove(self)
            with open(OUT, "w", encoding="utf-8") as fh:
                json.dump({v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}, fh)
        return None

sys.meta_path.insert(0, Watch())
OUT, sys.argv = sys.argv[1], ["carepulse", *sys.argv[2:]]
from carepulse.cli import run
run()
"""


@pytest.mark.parametrize("preset", [{}, {"OPENBLAS_NUM_THREADS": "3"}], ids=["default", "set-by-the-user"])
def test_numpy_loads_with_one_blas_thread_unless_the_user_set_one(tmp_path: Path, shared_sample: Path,
                                                                  preset: dict[str, str]) -> None:
    """carepulse.core.native: OpenBLAS threads spinning beside DuckDB's took the cores its queries needed."""
    out = tmp_path / "blas.json"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS") and not k.startswith("CAREPULSE_")}
    done = subprocess.run([sys.executable, "-c", BLAS_PROBE, str(out), "ingest", "twcs", str(shared_sample), "--db",
                           str(tmp_path / "w.duckdb")], cwd=tmp_path, env={**env, **preset}, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    expected = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **preset}
    assert json.loads(out.read_text(encoding="utf-8")) == expected
