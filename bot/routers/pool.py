"""Router work fanned out over many routers (polls, the per-router groups of a bulk change) runs
here: at most PEERBOT_POLL_CONCURRENCY routers at once per process, each with a deadline of its
own, so a router that hangs delays only itself.

A job past its deadline is reported as timed out and no longer waited for; its thread is freed
by the driver's own SSH timeouts (PEERBOT_ROUTER_TIMEOUT on connect, login and every read), so
it never holds a pool thread for ever.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_pools: dict[int, ThreadPoolExecutor] = {}
_guard = threading.Lock()


def pool(size: int) -> ThreadPoolExecutor:
    """The process's pool of `size` threads (one per size: settings rarely differ in a process)."""
    with _guard:
        if size not in _pools:
            _pools[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="peerbot-router")
        return _pools[size]


@dataclass
class Outcome(Generic[T, R]):
    item: T
    result: R | None = None
    error: BaseException | None = None
    timed_out: bool = False  # still running when its deadline passed; not waited for


def run_each(fn: Callable[[T], R], items: Sequence[T], *, concurrency: int,
             timeout: float | None = None) -> list[Outcome[T, R]]:
    """`fn(item)` for every item, at most `concurrency` at once, in the order of `items`. An item's
    deadline runs from when its job starts (not while it waits for a thread)."""
    if not items:
        return []
    if len(items) == 1 and timeout is None:  # nothing to overlap: no thread hop
        return [_call(fn, items[0])]
    started: dict[int, float] = {}
    finished: queue.SimpleQueue[int] = queue.SimpleQueue()  # indexes, as jobs end: O(1) a job to collect

    def job(i: int) -> R:
        started[i] = time.monotonic()
        try:
            return fn(items[i])
        finally:
            finished.put(i)

    executor = pool(max(1, concurrency))
    futures = [executor.submit(job, i) for i in range(len(items))]
    outcomes: dict[int, Outcome[T, R]] = {}
    while len(outcomes) < len(items):
        wait_for = None
        if timeout is not None:
            running = [t0 for j, t0 in list(started.items()) if j not in outcomes]  # (a copy: jobs add to it)
            wait_for = max(0.0, min(running) + timeout - time.monotonic()) if running else 0.5
        try:
            i = finished.get(timeout=wait_for)
        except queue.Empty:
            i = None
        if i is not None and i not in outcomes:
            f = futures[i]
            exc = f.exception()  # the job's own `finally` ran: the future completes at once
            outcomes[i] = Outcome(items[i], error=exc) if exc is not None else Outcome(items[i], f.result())
        if timeout is not None:
            now = time.monotonic()
            for j, t0 in list(started.items()):
                if j not in outcomes and now - t0 >= timeout:
                    outcomes[j] = Outcome(items[j], timed_out=True)
    return [outcomes[i] for i in range(len(items))]


def _call(fn: Callable[[T], R], item: T) -> Outcome[T, R]:
    try:
        return Outcome(item, fn(item))
    except Exception as exc:  # noqa: BLE001 - handed to the caller like a pool job's
        return Outcome(item, error=exc)
