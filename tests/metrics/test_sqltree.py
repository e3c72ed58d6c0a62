"""Statements compiled through the syntax tree: values are parameters, never code; compiled statements are
kept in the cache file, and a run that finds them there does not import SQLGlot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import duckdb
import pytest

from carepulse.metrics import sqlcache, sqltree

HOSTILE = "o'brien $as_of {{as_of}} ') OR 1=1 --"


def test_values_are_parameters_and_never_code() -> None:
    stmt = sqltree.statement("SELECT $name AS a, $n + 1 AS b, $day AS c, CAST($list AS VARCHAR[]) AS d",
                             {"name": HOSTILE, "n": 41, "day": date(2026, 1, 2), "list": ("x", "y"), "unused": 1})
    assert HOSTILE not in stmt.sql and "$name" in stmt.sql
    assert set(stmt.params) == {"name", "n", "day", "list"}  # only what the code names
    assert duckdb.connect().execute(*stmt).fetchall() == [(HOSTILE, 42, date(2026, 1, 2), ["x", "y"])]
    with pytest.raises(sqltree.MissingValue, match=r"\$n"):
        sqltree.statement("SELECT $n")


def test_display_puts_values_in_as_literal_nodes() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    stmt = sqltree.statement("SELECT $name, $at, $t, $flag, $none", {"name": HOSTILE, "at": moment,
                                                                     "t": time(8, 30), "flag": True, "none": None})
    text = sqltree.display(stmt, pretty=False)
    assert "'o''brien $as_of {{as_of}} '') OR 1=1 --'" in text
    assert "CAST('2026-01-02 03:04:05.678901+00:00' AS TIMESTAMPTZ)" in text
    row = duckdb.connect().execute(text).fetchall()[0]
    assert row[0] == HOSTILE and row[1] == moment and row[2] == time(8, 30) and row[3] is True and row[4] is None


def test_signature_expansion_takes_the_patterns_as_parameters() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE crm_cases (agent VARCHAR, channel VARCHAR)")
    con.execute("INSERT INTO crm_cases VALUES ('Anna Becker', 'twitter'), ('Karl Lorenz', 'twitter')")
    code = "SELECT carepulse_signature(t) FROM (VALUES ('thanks ^AB'), ('ok ^XY'), ('none')) v(t) ORDER BY t"
    none = sqltree.statement(code, {sqltree.SIGNATURE_PATTERNS: ()})
    assert con.execute(*none).fetchall() == [(None,), (None,), (None,)]
    signed = sqltree.statement(code, {sqltree.SIGNATURE_PATTERNS: (r"\^([A-Z]{2})\b",)})
    assert r"\^" not in signed.sql  # the pattern is a parameter
    assert con.execute(*signed).fetchall() == [(None,), ("XY",), ("Anna Becker",)]


CHILD = """
import json, sys
from carepulse.metrics import sqltree
stmt = sqltree.statement("SELECT $a + 1 AS x, lower($b) AS y", {"a": 1, "b": "Q"})
print(json.dumps({"sqlglot": "sqlglot" in sys.modules, "sql": stmt.sql}))
"""


def _child(cache: str) -> dict[str, object]:
    env = {**os.environ, "CAREPULSE_CACHE_DIR": cache}
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout)


def test_a_second_run_takes_the_compiled_statement_from_the_cache_file(tmp_path: Path) -> None:
    first = _child(str(tmp_path))
    assert first["sqlglot"] is True
    files = list(tmp_path.glob("statements-*.json"))
    assert len(files) == 1
    second = _child(str(tmp_path))
    assert second == {"sqlglot": False, "sql": first["sql"]}  # no SQLGlot import at all
    files[0].write_text("{not json", encoding="utf-8")  # a damaged file is compiled over, not an error
    assert _child(str(tmp_path))["sqlglot"] is True
    assert _child(str(tmp_path))["sqlglot"] is False
    assert _child("off")["sqlglot"] is True and not list(Path(tmp_path / "off").glob("*"))


def test_the_cache_holds_code_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREPULSE_CACHE_DIR", str(tmp_path))
    sqlcache.forget()
    try:
        sqltree._COMPILED.clear()
        sqltree.statement("SELECT $secret_name AS s", {"secret_name": "customer@example.org"})
        text = next(tmp_path.glob("statements-*.json")).read_text(encoding="utf-8")
        assert "$secret_name" in text and "customer@example.org" not in text
    finally:
        sqlcache.forget()
