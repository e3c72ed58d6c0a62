"""``carepulse users``: passwords kept as argon2 hashes, and the add / list / set-role / remove commands."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pytest

from carepulse.cli import main
from carepulse.warehouse import Warehouse
from carepulse.warehouse import dashboard_users as users

PASSWORD = "correct horse battery"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "wh.duckdb"
    with Warehouse(path).writer():
        pass  # an empty warehouse: schema only
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_hash_round_trips_and_is_not_the_password() -> None:
    stored = users.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert users.verify_password(stored, PASSWORD)
    assert not users.verify_password(stored, PASSWORD + "!")
    assert not users.verify_password("not a hash", PASSWORD)
    assert users.hash_password(PASSWORD) != stored  # salted


def test_roles_are_ordered() -> None:
    assert users.role_includes("admin", "management") and users.role_includes("analyst", "teamlead")
    assert not users.role_includes("teamlead", "analyst") and not users.role_includes("boss", "management")


def test_add_list_set_role_remove(db: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(["users", "add", "alice", "--role", "analyst", "--password-stdin", "--db", str(db)],
                       capsys, monkeypatch, PASSWORD + "\n")
    assert code == 0 and "added alice (analyst)" in out
    stored = duckdb.connect(str(db), read_only=True).execute(
        "SELECT role, password_hash FROM dashboard_users WHERE name = 'alice'").fetchone()
    assert stored is not None and stored[0] == "analyst"
    assert stored[1] != PASSWORD and users.verify_password(stored[1], PASSWORD)
    assert users.get_user(db, "alice") == ("analyst", stored[1])

    assert run(["users", "add", "bob", "--role", "management", "--password-stdin", "--db", str(db)],
               capsys, monkeypatch, PASSWORD + "\n")[0] == 0
    code, out, _ = run(["users", "list", "--db", str(db)], capsys, monkeypatch)
    lines = out.splitlines()
    assert code == 0 and [line.split()[:2] for line in lines] == [["alice", "analyst"], ["bob", "management"]]
    assert "argon2" not in out

    assert run(["users", "set-role", "bob", "teamlead", "--db", str(db)], capsys, monkeypatch)[0] == 0
    assert users.get_user(db, "bob") is not None and users.get_user(db, "bob")[0] == "teamlead"  # type: ignore[index]
    assert run(["users", "remove", "alice", "--db", str(db)], capsys, monkeypatch)[:2] == (0, "removed alice\n")
    assert [u.name for u in users.list_users(db)] == ["bob"]


@pytest.mark.parametrize("args, stdin, message", [
    (["users", "add", "carol", "--role", "boss", "--password-stdin"], PASSWORD,
     "error: unknown role 'boss': expected one of management, teamlead, analyst, admin\n"),
    (["users", "add", "dup", "--role", "admin", "--password-stdin"], PASSWORD,
     "error: a dashboard user 'dup' exists already (users set-role changes the role)\n"),
    (["users", "remove", "nobody"], "", "error: no dashboard user 'nobody' (carepulse users list shows them)\n"),
    (["users", "set-role", "nobody", "admin"], "",
     "error: no dashboard user 'nobody' (carepulse users list shows them)\n"),
    (["users", "set-role", "dup", "owner"], "",
     "error: unknown role 'owner': expected one of management, teamlead, analyst, admin\n"),
    (["users", "add", "erin", "--role", "admin", "--password-stdin"], "short",
     "error: the password is too short: use at least 10 characters\n"),
    (["users", "add", "x y", "--role", "admin", "--password-stdin"], PASSWORD,
     "error: user name 'x y': use 1 to 64 letters, digits and . _ @ + - (starting with a letter or digit)\n"),
    (["users", "add", "erin", "--role", "admin", "--password-stdin"], "",
     "error: --password-stdin: stdin gave no password\n"),
    (["users", "add", "erin", "--role", "admin"], "",
     "error: no terminal to ask for the password: pipe it in with --password-stdin\n"),
])
def test_errors_are_one_line(db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                             args: list[str], stdin: str, message: str) -> None:
    users.add_user(db, "dup", "management", PASSWORD)
    code, _, err = run([*args, "--db", str(db)], capsys, monkeypatch, stdin + "\n" if stdin else "")
    assert code == 2 and err == message
    assert [u.name for u in users.list_users(db)] == ["dup"]  # nothing changed


def test_a_password_is_never_an_argument(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["users", "add", "frank", "--role", "admin", "--password", PASSWORD, "--db", str(db)])
    assert "unrecognized arguments" in capsys.readouterr().err


def test_a_mistyped_db_is_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "typo.duckdb"
    code, _, err = run(["users", "list", "--db", str(missing)], capsys, monkeypatch)
    assert code == 2 and err.startswith(f"error: no warehouse at {missing}") and not missing.exists()


def test_an_old_warehouse_without_the_table_has_no_users(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with Warehouse(path).writer() as con:
        con.execute("DROP TABLE dashboard_users")
    assert users.list_users(path) == [] and users.get_user(path, "anyone") is None
