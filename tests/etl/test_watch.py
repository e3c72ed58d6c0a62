"""The resident loader's folder contract (carepulse/etl/watch.py), with plain callables as the load.

No DuckDB here: ``load`` records what it was handed (and can raise), ``sleep`` and ``should_stop`` are
counters, so every pass of the watcher is deterministic and instant.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from carepulse.core.errors import ConfigError, DataError, ResourceError, SourceError, WarehouseError
from carepulse.etl.watch import (
    FAILED,
    IN_PROGRESS,
    LOADED,
    Handed,
    Tally,
    check_folder,
    is_file_error,
    move_into,
    others,
    waiting,
    watch,
)


def _no_sleep(seconds: float) -> None:
    raise AssertionError("a single pass (once=True) must not sleep")


def _drop(folder: Path, *names: str) -> list[Path]:
    """Files named ``names`` in ``folder``, each holding its own name (so a move can be checked by content)."""
    paths = []
    for name in names:
        path = folder / name
        path.write_text(f"content of {name}\n", encoding="utf-8")
        paths.append(path)
    return paths


class Loads:
    """A ``load``: records each file it is handed (checking it is still in the watched folder), returns a
    report, and raises ``failures[name]`` for the names listed there; ``then[name]`` runs after that load."""

    def __init__(self, failures: dict[str, BaseException] | None = None,
                 then: dict[str, Callable[[], None]] | None = None) -> None:
        self.seen: list[str] = []
        self.failures = failures or {}
        self.then = then or {}

    def __call__(self, path: Path) -> str:
        assert path.is_file(), f"{path} handed over but not there"
        assert path.read_text(encoding="utf-8") == f"content of {path.name}\n"
        self.seen.append(path.name)
        if path.name in self.then:
            self.then[path.name]()
        if path.name in self.failures:
            raise self.failures[path.name]
        return f"report of {path.name}"


def _watch_once(folder: Path, load: Callable[[Path], str], *,
                describe: Callable[[BaseException], str] = str) -> tuple[Tally, list[Handed[str]]]:
    handed: list[Handed[str]] = []

    def sleep(seconds: float) -> None:  # raising, not recording: a watcher that ignored once would never return
        raise AssertionError("once=True slept instead of returning after its pass")

    tally = watch(folder, load, poll_s=0.5, once=True, should_stop=lambda: False, sleep=sleep,
                  on_handed=handed.append, describe=describe)
    return tally, handed


def _files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_every_file_is_loaded_once_in_name_order_and_moved_to_loaded(tmp_path: Path) -> None:
    _drop(tmp_path, "b.csv", "c10.csv", "a.csv", "c2.csv", "B.csv")
    load = Loads()

    tally, handed = _watch_once(tmp_path, load)

    assert load.seen == ["B.csv", "a.csv", "b.csv", "c10.csv", "c2.csv"]  # name order (code points), not mtime
    assert tally == Tally(loaded=5, failed=0)
    assert _files_in(tmp_path) == []
    assert _files_in(tmp_path / LOADED) == ["B.csv", "a.csv", "b.csv", "c10.csv", "c2.csv"]
    for name in load.seen:  # moved whole, not copied or rewritten
        assert (tmp_path / LOADED / name).read_text(encoding="utf-8") == f"content of {name}\n"
    assert [(h.file, h.moved_to, h.report, h.error) for h in handed] == [
        (tmp_path / name, tmp_path / LOADED / name, f"report of {name}", None) for name in load.seen]
    assert all(h.seconds >= 0 for h in handed)
    assert not (tmp_path / FAILED).exists()


@pytest.mark.parametrize("name", [".hidden.csv", ".x.csv.tmp", "export.csv.part", "export.csv.partial",
                                  "export.csv.tmp", "export.csv.crdownload", "export.csv~"])
def test_a_file_still_being_written_is_left_alone(tmp_path: Path, name: str) -> None:
    _drop(tmp_path, name, "ready.csv")
    load = Loads()

    tally, _ = _watch_once(tmp_path, load)

    assert waiting(tmp_path) == []
    assert load.seen == ["ready.csv"]
    assert tally == Tally(loaded=1, failed=0)
    assert (tmp_path / name).read_text(encoding="utf-8") == f"content of {name}\n"  # untouched, still in place
    assert _files_in(tmp_path / LOADED) == ["ready.csv"]


def test_every_in_progress_ending_is_skipped_and_renaming_it_away_makes_the_file_due(tmp_path: Path) -> None:
    names = [f"x{ending}" for ending in IN_PROGRESS]
    _drop(tmp_path, *names)
    assert waiting(tmp_path) == []
    os.rename(tmp_path / "x.part", tmp_path / "x.csv")
    assert waiting(tmp_path) == [tmp_path / "x.csv"]


def test_subfolders_are_not_entered_nor_taken(tmp_path: Path) -> None:
    (tmp_path / "sub.csv").mkdir()  # a folder with a file's name
    _drop(tmp_path / "sub.csv", "inner.csv")
    (tmp_path / LOADED).mkdir()
    _drop(tmp_path / LOADED, "old.csv")  # loaded by an earlier run: never loaded again
    _drop(tmp_path, "new.csv")
    load = Loads()

    tally, _ = _watch_once(tmp_path, load)

    assert load.seen == ["new.csv"]
    assert tally == Tally(loaded=1, failed=0)
    assert (tmp_path / "sub.csv" / "inner.csv").is_file()
    assert _files_in(tmp_path / LOADED) == ["new.csv", "old.csv"]


def test_waiting_lists_complete_files_in_name_order(tmp_path: Path) -> None:
    _drop(tmp_path, "2.csv", "1.jsonl", ".3.csv", "4.csv.tmp")
    (tmp_path / "5").mkdir()
    assert waiting(tmp_path) == [tmp_path / "1.jsonl", tmp_path / "2.csv"]


def test_a_file_its_source_rejects_goes_to_failed_with_the_reason_and_the_next_is_loaded(tmp_path: Path) -> None:
    _drop(tmp_path, "a.csv", "b.csv", "c.csv")
    load = Loads(failures={"b.csv": DataError("b.csv: not a TWCS file: missing column(s) tweet_id")})

    tally, handed = _watch_once(tmp_path, load, describe=lambda exc: f"described: {exc}")

    assert load.seen == ["a.csv", "b.csv", "c.csv"]
    assert tally == Tally(loaded=2, failed=1)
    assert _files_in(tmp_path) == []
    assert _files_in(tmp_path / LOADED) == ["a.csv", "c.csv"]
    assert _files_in(tmp_path / FAILED) == ["b.csv", "b.csv.error"]
    assert (tmp_path / FAILED / "b.csv").read_text(encoding="utf-8") == "content of b.csv\n"
    assert (tmp_path / FAILED / "b.csv.error").read_text(encoding="utf-8") == \
        "described: b.csv: not a TWCS file: missing column(s) tweet_id\n"
    rejected = handed[1]
    assert (rejected.file, rejected.moved_to) == (tmp_path / "b.csv", tmp_path / FAILED / "b.csv")
    assert rejected.report is None
    assert rejected.error == "described: b.csv: not a TWCS file: missing column(s) tweet_id"
    assert [h.report for h in (handed[0], handed[2])] == ["report of a.csv", "report of c.csv"]


def test_a_second_rejected_file_of_the_same_name_keeps_its_own_reason(tmp_path: Path) -> None:
    _drop(tmp_path, "b.csv")
    _watch_once(tmp_path, Loads(failures={"b.csv": DataError("first reason")}))
    _drop(tmp_path, "b.csv")
    tally, handed = _watch_once(tmp_path, Loads(failures={"b.csv": DataError("second reason")}))

    assert tally == Tally(loaded=0, failed=1)
    assert handed[0].moved_to == tmp_path / FAILED / "b.1.csv"
    assert (tmp_path / FAILED / "b.csv.error").read_text(encoding="utf-8") == "first reason\n"
    assert (tmp_path / FAILED / "b.1.csv.error").read_text(encoding="utf-8") == "second reason\n"


@pytest.mark.parametrize("error", [
    WarehouseError("the warehouse is locked by another program"),
    ResourceError("no space left on device"),
    OSError(28, "No space left on device"),
    ConfigError("memory_limit is not a size"),
    RuntimeError("a bug in the loader"),
], ids=lambda e: type(e).__name__)
def test_a_failure_of_the_warehouse_or_machine_stops_the_watcher_and_leaves_the_file(
        tmp_path: Path, error: Exception) -> None:
    _drop(tmp_path, "a.csv", "b.csv", "c.csv")
    load = Loads(failures={"b.csv": error})
    handed: list[Handed[str]] = []

    with pytest.raises(type(error)) as raised:
        watch(tmp_path, load, poll_s=0.5, once=True, should_stop=lambda: False, sleep=lambda s: None,
              on_handed=handed.append)

    assert raised.value is error
    assert load.seen == ["a.csv", "b.csv"]  # c.csv never handed over
    assert _files_in(tmp_path) == ["b.csv", "c.csv"]  # the failed one and the later one stay, as they were
    assert (tmp_path / "b.csv").read_text(encoding="utf-8") == "content of b.csv\n"
    assert _files_in(tmp_path / LOADED) == ["a.csv"]
    assert not (tmp_path / FAILED).exists()
    assert [h.file.name for h in handed] == ["a.csv"]


@pytest.mark.parametrize(("error", "files_fault"), [
    (DataError("bad header"), True),
    (WarehouseError("damaged"), False),
    (ResourceError("disk full"), False),
    (ConfigError("bad setting"), False),
    (SourceError("API down"), False),
    (OSError("disk"), False),
    (ValueError("bug"), False),
    (KeyboardInterrupt(), False),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v))
def test_only_a_data_error_of_the_file_is_the_files_fault(error: BaseException, files_fault: bool) -> None:
    assert is_file_error(error) is files_fault


def test_a_keyboard_interrupt_in_a_load_propagates_and_leaves_the_file(tmp_path: Path) -> None:
    _drop(tmp_path, "a.csv")
    with pytest.raises(KeyboardInterrupt):
        _watch_once(tmp_path, Loads(failures={"a.csv": KeyboardInterrupt()}))
    assert _files_in(tmp_path) == ["a.csv"]
    assert not (tmp_path / LOADED).exists()
    assert not (tmp_path / FAILED).exists()


def test_move_into_numbers_a_name_already_taken(tmp_path: Path) -> None:
    moved = []
    for round_ in range(3):
        (tmp_path / "name.csv").write_text(f"round {round_}", encoding="utf-8")
        moved.append(move_into(tmp_path / "name.csv", LOADED))

    assert moved == [tmp_path / LOADED / n for n in ("name.csv", "name.1.csv", "name.2.csv")]
    assert [p.read_text(encoding="utf-8") for p in moved] == ["round 0", "round 1", "round 2"]  # none overwritten
    assert not (tmp_path / "name.csv").exists()


def test_move_into_numbers_a_name_without_a_suffix_and_creates_the_subfolder(tmp_path: Path) -> None:
    for round_ in range(2):
        (tmp_path / "README").write_text(f"round {round_}", encoding="utf-8")
        move_into(tmp_path / "README", FAILED)
    assert _files_in(tmp_path / FAILED) == ["README", "README.1"]
    assert (tmp_path / FAILED / "README.1").read_text(encoding="utf-8") == "round 1"


def test_a_name_clash_in_loaded_does_not_overwrite_the_earlier_file(tmp_path: Path) -> None:
    (tmp_path / LOADED).mkdir()
    (tmp_path / LOADED / "a.csv").write_text("loaded yesterday", encoding="utf-8")
    _drop(tmp_path, "a.csv")

    _, handed = _watch_once(tmp_path, Loads())

    assert handed[0].moved_to == tmp_path / LOADED / "a.1.csv"
    assert (tmp_path / LOADED / "a.csv").read_text(encoding="utf-8") == "loaded yesterday"
    assert (tmp_path / LOADED / "a.1.csv").read_text(encoding="utf-8") == "content of a.csv\n"


def test_once_returns_after_one_pass_without_taking_what_arrives_during_it(tmp_path: Path) -> None:
    _drop(tmp_path, "a.csv")
    def arrive() -> None:
        _drop(tmp_path, "z.csv")

    load = Loads(then={"a.csv": arrive})

    tally, _ = _watch_once(tmp_path, load)  # fails if it slept

    assert load.seen == ["a.csv"]
    assert tally == Tally(loaded=1, failed=0)
    assert _files_in(tmp_path) == ["z.csv"]  # left for the next run


def test_once_on_an_empty_folder_returns_at_once(tmp_path: Path) -> None:
    load = Loads()
    tally, handed = _watch_once(tmp_path, load)
    assert (tally, handed, load.seen) == (Tally(), [], [])
    assert list(tmp_path.iterdir()) == []  # no loaded/ or failed/ made for nothing


def test_without_once_it_polls_until_told_to_stop_and_takes_files_that_arrive_between_passes(tmp_path: Path) -> None:
    _drop(tmp_path, "a.csv")
    slept: list[float] = []
    loaded_after_sleeps: dict[str, int] = {}

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            _drop(tmp_path, ".b.csv.tmp")  # written under an in-progress name, then renamed into place
            os.rename(tmp_path / ".b.csv.tmp", tmp_path / "b.csv")

    def load(path: Path) -> str:
        loaded_after_sleeps[path.name] = len(slept)
        return "ok"

    handed: list[Handed[str]] = []
    tally = watch(tmp_path, load, poll_s=0.25, once=False, should_stop=lambda: len(slept) >= 4, sleep=sleep,
                  on_handed=handed.append)

    assert slept == [0.25] * 4  # one sleep of poll_s between passes, until should_stop
    assert loaded_after_sleeps == {"a.csv": 0, "b.csv": 2}  # b.csv taken on the pass right after it appeared
    assert tally == Tally(loaded=2, failed=0)
    assert _files_in(tmp_path / LOADED) == ["a.csv", "b.csv"]
    assert [h.report for h in handed] == ["ok", "ok"]


def test_should_stop_is_heard_between_files_of_one_pass(tmp_path: Path) -> None:
    _drop(tmp_path, "a.csv", "b.csv", "c.csv")
    stop: list[bool] = []
    load = Loads(then={"a.csv": lambda: stop.append(True)})

    tally = watch(tmp_path, load, poll_s=0.25, once=False, should_stop=lambda: bool(stop), sleep=lambda s: None,
                  on_handed=lambda h: None)

    assert load.seen == ["a.csv"]  # the load in progress finished; nothing after it started
    assert tally == Tally(loaded=1, failed=0)
    assert _files_in(tmp_path) == ["b.csv", "c.csv"]
    assert _files_in(tmp_path / LOADED) == ["a.csv"]


def test_a_stop_requested_before_the_first_pass_takes_nothing(tmp_path: Path) -> None:
    _drop(tmp_path, "a.csv")
    load = Loads()
    tally = watch(tmp_path, load, poll_s=0.25, once=False, should_stop=lambda: True, sleep=lambda s: None,
                  on_handed=lambda h: None)
    assert (tally, load.seen, _files_in(tmp_path)) == (Tally(), [], ["a.csv"])


def test_a_file_taken_away_after_the_listing_is_skipped(tmp_path: Path) -> None:
    _drop(tmp_path, "a.csv", "b.csv", "c.csv")
    load = Loads(then={"a.csv": lambda: (tmp_path / "b.csv").unlink()})

    tally, handed = _watch_once(tmp_path, load)

    assert load.seen == ["a.csv", "c.csv"]
    assert tally == Tally(loaded=2, failed=0)
    assert [h.file.name for h in handed] == ["a.csv", "c.csv"]
    assert _files_in(tmp_path / LOADED) == ["a.csv", "c.csv"]
    assert not (tmp_path / FAILED).exists()


def test_a_file_locked_by_another_process_is_left_for_a_later_pass_and_the_loader_locks_what_it_loads(
        tmp_path: Path) -> None:
    """A command taking back a file it handed over holds its lock (carepulse.etl.handover.take_back): the watcher
    must not start on it meanwhile, and must hold the lock itself while it loads and moves a file."""
    held, _ = _drop(tmp_path, "a.csv", "b.csv")
    locked_during_load = []

    def try_lock() -> None:  # during b.csv's load: another open file description must not get the lock
        with (tmp_path / "b.csv").open("rb") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                locked_during_load.append(True)

    with held.open("rb") as taker:
        fcntl.flock(taker, fcntl.LOCK_EX)
        load = Loads(then={"b.csv": try_lock})
        tally, _ = _watch_once(tmp_path, load)
    assert load.seen == ["b.csv"] and tally == Tally(loaded=1, failed=0)
    assert locked_during_load == [True]
    assert _files_in(tmp_path) == ["a.csv"]  # left where it was, not moved, not failed

    tally, _ = _watch_once(tmp_path, load)  # the lock released: the next pass takes it
    assert load.seen == ["b.csv", "a.csv"] and _files_in(tmp_path / LOADED) == ["a.csv", "b.csv"]


def test_check_folder_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist or is not a folder") as raised:
        check_folder(tmp_path / "missing")
    assert str(tmp_path / "missing") in str(raised.value)


def test_check_folder_refuses_a_file(tmp_path: Path) -> None:
    (file,) = _drop(tmp_path, "inbox")
    with pytest.raises(ConfigError, match="not a folder"):
        check_folder(file)


def test_check_folder_refuses_a_folder_files_could_not_be_moved_out_of(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_access = os.access
    asked: list[tuple[str, int]] = []

    def access(path: str | os.PathLike[str], mode: int) -> bool:  # tests run as root too, where chmod has no effect
        asked.append((os.fspath(path), mode))
        return False if os.fspath(path) == os.fspath(tmp_path) else real_access(path, mode)

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(ConfigError, match="is not writable") as raised:
        check_folder(tmp_path)
    assert str(tmp_path) in str(raised.value)
    assert asked == [(os.fspath(tmp_path), os.W_OK | os.X_OK)]


def test_check_folder_accepts_a_writable_folder(tmp_path: Path) -> None:
    check_folder(tmp_path)  # no error


def test_watch_checks_the_folder_before_anything_else(tmp_path: Path) -> None:
    calls: list[str] = []

    def should_stop() -> bool:
        calls.append("should_stop")
        return False

    with pytest.raises(ConfigError, match="does not exist"):
        watch(tmp_path / "missing", lambda p: calls.append("load"), poll_s=0.1, once=False,
              should_stop=should_stop, sleep=lambda s: calls.append("sleep"),
              on_handed=lambda h: calls.append("handed"))
    assert calls == []


def test_only_the_sources_endings_are_taken_and_the_warehouse_is_left_alone(tmp_path: Path) -> None:
    """A warehouse kept in the folder it watches (or a watcher pointed at a busy folder) is never taken."""
    for name in ("a.CSV", "b.txt", "w.duckdb", "w.duckdb.delta", "w.duckdb.lock", "notes.md"):
        (tmp_path / name).write_text("x")
    assert waiting(tmp_path, (".csv", ".txt")) == [tmp_path / "a.CSV", tmp_path / "b.txt"]
    assert others(tmp_path, (".csv", ".txt")) == 4 and others(tmp_path, ()) == 0
    taken: list[str] = []
    tally = watch(tmp_path, lambda p: taken.append(p.name), poll_s=1.0, once=True, should_stop=lambda: False,
                  sleep=_no_sleep, on_handed=lambda _: None, suffixes=(".csv", ".txt"))
    assert taken == ["a.CSV", "b.txt"] and tally.loaded == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == \
        ["notes.md", "w.duckdb", "w.duckdb.delta", "w.duckdb.lock"]


def test_a_clash_number_goes_before_the_last_suffix_or_a_compressed_pair(tmp_path: Path) -> None:
    for name in ("day.2026-12-06.csv", "x.csv.gz"):
        (tmp_path / "loaded").mkdir(exist_ok=True)
        (tmp_path / "loaded" / name).write_text("earlier")
        (tmp_path / name).write_text("later")
    assert move_into(tmp_path / "day.2026-12-06.csv", "loaded").name == "day.2026-12-06.1.csv"
    assert move_into(tmp_path / "x.csv.gz", "loaded").name == "x.1.csv.gz"


@pytest.mark.parametrize("poll", [0.0, -1.0, float("nan"), float("inf"), 3600.5])
def test_a_poll_outside_0_to_an_hour_is_refused_before_the_folder_is_looked_at(tmp_path: Path, poll: float) -> None:
    with pytest.raises(ConfigError, match="--poll must be a number of seconds above 0 and at most 3600"):
        watch(tmp_path / "missing", lambda p: None, poll_s=poll, once=True, should_stop=lambda: False,
              sleep=_no_sleep, on_handed=lambda _: None)


def test_a_file_that_vanishes_while_it_is_read_is_passed_over_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a")
    (tmp_path / "b.csv").write_text("b")
    loaded: list[str] = []

    def load(path: Path) -> None:
        if path.name == "a.csv":
            path.unlink()  # another program took it away mid-read
            raise FileNotFoundError(path)
        loaded.append(path.name)

    tally = watch(tmp_path, load, poll_s=1.0, once=True, should_stop=lambda: False, sleep=_no_sleep,
                  on_handed=lambda _: None)
    assert loaded == ["b.csv"] and (tally.loaded, tally.failed) == (1, 0)
    assert not (tmp_path / FAILED).exists()
