"""The dashboard's one data manager: the warehouse reader, the settings, and a snapshot-keyed cache.

Every page asks metrics through :func:`load`, which injects ``db`` and ``settings`` and caches the
answer per warehouse snapshot: the same view asked twice (a reload, a second user, a back button)
costs one query, and a newly published load changes the snapshot key, so the next question sees
it. Nothing is cached across snapshots, so the cache never serves stale numbers. Callers must not
mutate what they get (figure builders and grids only read).

The cache is single-flight: a question asked while the same question is being answered (the
start-up warm-up and the first browser, two tabs, two callbacks sharing a view) waits for that
answer instead of running the same queries a second time beside it.

A warehouse that cannot be read (damaged, foreign, newer, locked, gone bad while serving) is not a
bug: :func:`warehouse_problem` and :func:`failure_message` give its one-line reason, which the app
shows as an error panel on every page instead of blank cards and HTTP 500s (``dashboard/app.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from carepulse.core.config import Settings
from carepulse.core.errors import (
    DataError,
    ResourceError,
    WarehouseError,
    describe_failure,
    first_line,
    is_resource_failure,
)
from carepulse.dashboard.formatting import Locale, locale_of
from carepulse.warehouse import Reader, Warehouse

log = logging.getLogger(__name__)
T = TypeVar("T")
CACHE_ENTRIES = 256
CACHE_BYTES = 512 * 1024 * 1024  # a Kaplan-Meier curve of a 3 M-tweet warehouse is tens of MB
RELEASE_EVERY_S = 30.0
"""How often a serving dashboard lets go of snapshots a load or a compaction replaced (:func:`release_replaced`)."""


@dataclass
class _Flight:
    """One answer being computed; the callers asking for it meanwhile wait on ``done``."""

    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    failed: bool = False
    waiters: int = 0


@dataclass
class DashboardState:
    path: Path
    settings: Settings
    reader: Reader
    cache: OrderedDict[Hashable, tuple[Any, int]] = field(default_factory=OrderedDict)
    cache_bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: dict[Hashable, _Flight] = field(default_factory=dict)
    calls: int = 0  # underlying (uncached) calls, for tests and the log

    @property
    def locale(self) -> Locale:
        return locale_of(self.settings.locale)


_state: DashboardState | None = None


@dataclass
class Measure:
    """The metric calls made through :func:`load` while :func:`measuring` is on, each computed and timed.

    The calls bypass the snapshot cache; like it, a call asked before (same function and arguments) is
    answered from ``memo`` and timed only the first time. ``seconds`` holds one entry per call computed.
    """

    seconds: list[float] = field(default_factory=list)
    memo: dict[Hashable, Any] = field(default_factory=dict)

    def call(self, state: DashboardState, function: Callable[..., T], args: tuple[Hashable, ...],
             kwargs: dict[str, Hashable]) -> T:
        key = (function.__module__, function.__qualname__, args, tuple(sorted(kwargs.items())))
        if key in self.memo:
            remembered: T = self.memo[key]
            return remembered
        began = time.perf_counter()
        value = function(*args, db=state.reader, settings=state.settings, **kwargs)
        self.seconds.append(time.perf_counter() - began)
        self.memo[key] = value
        return value


_measure: Measure | None = None


@contextmanager
def measuring(measure: Measure) -> Iterator[Measure]:
    """Route every :func:`load` of this process through ``measure`` until the block ends (one at a time;
    for benchmarks and tests, never while serving: the cache is not used meanwhile)."""
    global _measure
    previous, _measure = _measure, measure
    try:
        yield measure
    finally:
        _measure = previous


def configure(db: Path | str, settings: Settings) -> DashboardState:
    """Point the dashboard at a warehouse file (one per process)."""
    global _state
    path = Path(db)
    _state = DashboardState(path=path, settings=settings, reader=Warehouse(path).reader())
    return _state


def current() -> DashboardState:
    if _state is None:
        raise RuntimeError("the dashboard is not configured: call dashboard.app.create_app(db, settings) first")
    return _state


def settings() -> Settings:
    return current().settings


LANGUAGE_COOKIE = "carepulse_lang"  # the navbar's language switch (dashboard/i18n.py)


def locale() -> Locale:
    """The language of this request: the switch's cookie when set, else the configured locale. Numbers,
    dates and the words of the interface (:func:`carepulse.dashboard.i18n._`) follow it."""
    try:
        import flask

        if flask.has_request_context():
            chosen = flask.request.cookies.get(LANGUAGE_COOKIE)
            if chosen in ("de", "en"):
                return chosen  # type: ignore[return-value]
    except ImportError:  # pragma: no cover - flask comes with dash
        pass
    return current().locale


def snapshot_key() -> tuple[int, ...] | None:
    """The warehouse reader's id of the published snapshot: a new load publishes a new one."""
    return current().reader.snapshot_id()


def warehouse_exists() -> bool:
    return snapshot_key() is not None


def warehouse_problem() -> str | None:
    """Why the published warehouse cannot be read, in one line; None when it can, or when there is no file
    (the pages say "no warehouse" themselves). Cheap: the reader attaches once per snapshot and remembers
    a failure for the snapshot that failed."""
    state = current()
    if snapshot_key() is None:
        return None
    try:
        state.reader.connection().close()
    except Exception as exc:
        return failure_message(exc)
    return None


def failure_message(exc: BaseException) -> str | None:
    """The one-line reason when ``exc`` means the warehouse cannot be read (or the machine ran out of
    memory or disk), else None: a bug, which keeps its traceback and HTTP 500."""
    if isinstance(exc, WarehouseError | ResourceError) or (isinstance(exc, DataError) and snapshot_key() is None):
        return str(exc)
    if is_resource_failure(exc):
        return describe_failure(exc, current().path) or first_line(exc)
    return None


def load(function: Callable[..., T], *args: Hashable, **kwargs: Hashable) -> T:
    """``function(*args, db=reader, settings=settings, **kwargs)``, cached per warehouse snapshot.

    Arguments must be hashable (Filters is a frozen dataclass; pass tuples, not lists). A call whose
    answer is being computed by another thread waits for it (single flight); if that computation
    fails, the waiting call runs the function itself, so its own error reaches its own caller.
    """
    state = current()
    if _measure is not None:
        return _measure.call(state, function, args, kwargs)
    key = (snapshot_key(), function.__module__, function.__qualname__, args, tuple(sorted(kwargs.items())))
    with state.lock:
        if key in state.cache:
            state.cache.move_to_end(key)
            cached: T = state.cache[key][0]
            return cached
        flight = state.in_flight.get(key)
        leader = flight is None
        if flight is None:
            flight = state.in_flight[key] = _Flight()
        else:
            flight.waiters += 1
    if not leader:
        flight.done.wait()
        if not flight.failed:
            shared: T = flight.value
            return shared
        return _compute(state, key, function, args, kwargs)
    try:
        value = _compute(state, key, function, args, kwargs)
    except BaseException:
        flight.failed = True
        raise
    else:
        flight.value = value
    finally:
        with state.lock:
            state.in_flight.pop(key, None)
        flight.done.set()
    return value


def _compute(state: DashboardState, key: Hashable, function: Callable[..., T], args: tuple[Hashable, ...],
             kwargs: dict[str, Hashable]) -> T:
    """Run the function and keep its answer (least recently used answers go past the size limits)."""
    value = function(*args, db=state.reader, settings=state.settings, **kwargs)
    size = _size(value)
    with state.lock:
        state.calls += 1
        if key in state.cache:
            state.cache_bytes -= state.cache.pop(key)[1]
        state.cache[key] = (value, size)
        state.cache_bytes += size
        while state.cache and (len(state.cache) > CACHE_ENTRIES or state.cache_bytes > CACHE_BYTES):
            state.cache_bytes -= state.cache.popitem(last=False)[1][1]
    return value


def _size(value: Any) -> int:
    """Roughly the memory a cached answer holds (DataFrames by their columns' buffers, the rest a small
    constant). Column by column: ``DataFrame.memory_usage`` builds a Series to sum, 0.6 ms on every
    answer computed, three times this."""
    if hasattr(value, "columns") and callable(getattr(value, "items", None)):
        try:
            return 4096 + sum(int(column.array.nbytes) for _, column in value.items())
        except AttributeError:  # not a DataFrame after all
            pass
    return 4096


def clear_cache() -> None:
    state = current()
    with state.lock:
        state.cache.clear()
        state.cache_bytes = 0


def together(*calls: Callable[[], Any]) -> list[Any]:
    """The answers of ``calls``, the first run on this thread and the others each on a thread of its own.

    A callback that needs several loads (the Pilot page's headline, its channels, its histogram) waits for
    the slowest rather than for their sum: DuckDB releases the GIL. The busiest account at 10 M tweets: the
    headline 125 ms, the histogram 26 ms beside it. The first error is raised, after every call ended.
    While a benchmark measures the raw queries (:func:`measuring`), the calls run one after the other, so
    each is timed alone and their sum stays the queries' time.
    """
    if _measure is not None:
        return [call() for call in calls]
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # re-raised below, on the caller's thread
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,), name=f"carepulse-load-{i}", daemon=True)
               for i in range(1, len(calls))]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results


def run_at_once(jobs: Sequence[Callable[[], Any]]) -> None:
    """Run the jobs side by side (:func:`together`), as a browser sends a page's callbacks, and wait for all.

    DuckDB works without the GIL, so one job's queries run while another's Python (figures, statistics,
    imports) does. A failing job is logged and the others go on: its error shows again when a page asks.
    """
    def guarded(job: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            except Exception:
                log.debug("warm-up job failed", exc_info=True)
        return run

    together(*(guarded(job) for job in jobs))


def release_replaced(every_s: float = RELEASE_EVERY_S, stop: threading.Event | None = None) -> threading.Thread:
    """In the background, every ``every_s``: each reader of this server lets go of a snapshot that is no longer
    published (:meth:`Reader.release_stale`). A reader switches at its next query anyway; without this, a
    dashboard nobody opens keeps the base a nightly compaction replaced, and its space on disk, until morning."""

    stopped = stop or threading.Event()  # the server runs it until the process ends; a test stops it

    def run() -> None:
        while not stopped.wait(every_s):
            try:
                Reader.release_all_stale()
            except Exception:  # a file that cannot be looked at now is looked at again next time
                log.debug("releasing replaced snapshots failed", exc_info=True)

    thread = threading.Thread(target=run, name="carepulse-release", daemon=True)
    thread.start()
    return thread


def warm_up(jobs: list[Callable[[], Any]]) -> threading.Thread:
    """Run the default views once in the background, so the first page a user opens is quick."""

    def run() -> None:
        for job in jobs:
            try:
                job()
            except Exception:  # a warm-up failure shows again, with its message, when the page asks
                log.debug("warm-up job failed", exc_info=True)

    thread = threading.Thread(target=run, name="carepulse-warm-up", daemon=True)
    thread.start()
    return thread
