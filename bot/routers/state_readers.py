"""Reading BGP state from many routers in a few child processes, so that SSH (paramiko's packet
handling and crypto) and parsing the answers use every core.

A poll is mostly waiting on the router, but what is not waiting is Python: ~20 ms of CPU a router
for the handshake, the read loop and the JSON. Under one interpreter lock a fleet refresh was
bound to one core (500 routers: 15 s of CPU in one process). Here each child runs up to `threads`
reads at once and answers with the parsed states; the bot's own process keeps everything else
(claims, locks, storing, notices), so a child holds no database connection and no Slack client.

Only reads come here (a poll's state, a discovery's configuration): changes (push, save, read back) keep their connection in the
bot's process, under its router lock. A child that dies fails the reads it was doing (as router
errors, so the poll reports them like an unreachable router) and is started again on next use.
Credentials travel over the child's pipe only; errors come back as their class name and message,
which by RouterError's contract hold no secret.
"""
from __future__ import annotations

import atexit
import itertools
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from bot.routers import base
from bot.routers.base import RouterCredentials, RouterError, RouterTimeout

log = logging.getLogger(__name__)

STATE, CONFIG = "state", "config"  # what a read asks the router for

# errors a child may report, by name (anything else arrives as RouterError)
_ERRORS = {cls.__name__: cls for cls in (base.RouterError, base.RouterUnreachable, base.RouterAuthFailed,
                                         base.RouterTimeout, base.NeighborNotFound, base.UnsupportedPlatform)}


def _child(conn: Any, threads: int, level: int) -> None:
    """A child's life: read (job id, credentials, timeout) from the pipe, read the router on a
    thread, send back (job id, states, error); None ends it."""
    from bot.base.logs import setup_logging
    from bot.routers import get_driver  # the SSH stack is imported here, not in the bot's process

    setup_logging(logging.getLevelName(level))  # as the bot's own process: secrets redacted
    send_lock = threading.Lock()
    conn.send((0, None, None))  # ready: imported (the first read does not wait for imports)

    def answer(message: tuple) -> None:
        with send_lock:
            try:
                conn.send(message)
            except (OSError, ValueError):  # the bot's side is gone: nothing to tell
                pass

    def read(job_id: int, kind: str, creds: RouterCredentials, timeout: float) -> None:
        try:
            with get_driver(creds, timeout=timeout) as drv:
                states = drv.bgp_config() if kind == CONFIG else drv.neighbors()
        except RouterError as exc:
            answer((job_id, None, (type(exc).__name__, str(exc))))
        except Exception as exc:  # noqa: BLE001 - reported as a failed read; no text: it may echo input
            answer((job_id, None, ("RouterError", f"{creds.host}: {kind} read failed ({type(exc).__name__})")))
        else:
            answer((job_id, states, None))

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="peerbot-reader") as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message is None:
                break
            pool.submit(read, *message)


class _Worker:
    """One child process and the thread that receives its answers."""

    def __init__(self, context: Any, threads: int):
        parent, child = context.Pipe()
        level = logging.getLogger().getEffectiveLevel()
        self.process = context.Process(target=_child, args=(child, threads, level), name="peerbot-state-reader",
                                       daemon=True)
        self.process.start()
        child.close()
        self.conn = parent
        self.send_lock = threading.Lock()
        self.pending: dict[int, Future] = {}
        self.ready = threading.Event()
        self.alive = True
        self.receiver = threading.Thread(target=self._receive, name="peerbot-reader-recv", daemon=True)
        self.receiver.start()

    def _receive(self) -> None:
        while True:
            try:
                job_id, states, error = self.conn.recv()
            except (EOFError, OSError):
                break
            if job_id == 0:
                self.ready.set()
                continue
            future = self.pending.pop(job_id, None)
            if future is None or future.done():
                continue  # given up on (its caller timed out)
            if error is not None:
                name, message = error
                future.set_exception(_ERRORS.get(name, RouterError)(message))
            else:
                future.set_result(states)
        self.alive = False
        self.ready.set()  # (nobody waits for a dead child)
        for future in list(self.pending.values()):  # the child died (or was stopped) mid-read
            if not future.done():
                future.set_exception(RouterError("the state reader process exited during the read"))
        self.pending.clear()

    def send(self, message: Any) -> None:
        with self.send_lock:
            self.conn.send(message)

    def stop(self, wait: float = 5.0) -> None:
        try:
            self.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(wait)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(wait)
        self.conn.close()


class StateReaders:
    """`processes` children with `threads` reads each; `read()` blocks its caller (a router-pool
    thread) until the child answers."""

    def __init__(self, processes: int, threads: int):
        self.processes, self.threads = processes, threads
        # spawn, not fork: the bot's process has threads (and locks held by them) when it starts one
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker | None] = [None] * processes
        self._guard = threading.Lock()
        self._ids = itertools.count(1)

    def read(self, creds: RouterCredentials, timeout: float, *, wait: float, kind: str = STATE) -> Any:
        """The router's neighbor states (kind STATE), or its BGP configuration (kind CONFIG: a
        BgpConfig, for discovery), read in a child with the driver's `timeout`; gives up waiting
        (RouterTimeout) after `wait` s, by which the driver's own timeouts have fired."""
        future: Future = Future()
        job_id = next(self._ids)
        with self._guard:
            worker = self._least_busy()
            worker.pending[job_id] = future
        try:
            worker.send((job_id, kind, creds, timeout))
        except (OSError, ValueError):
            worker.pending.pop(job_id, None)
            raise RouterError("the state reader process is not available") from None
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            worker.pending.pop(job_id, None)
            raise RouterTimeout(f"{creds.host}: no answer within {wait:g} s") from None

    def start(self, wait: float = 30.0) -> None:
        """Start the children now and wait until they can read: a poll's deadline then runs
        from its read, not from a child's start-up (imports take a second or two)."""
        with self._guard:
            workers = self._started()
        deadline = time.monotonic() + wait
        for w in workers:
            w.ready.wait(max(0.0, deadline - time.monotonic()))

    def _started(self) -> list[_Worker]:
        for i, w in enumerate(self._workers):  # (re)start what is missing or dead
            if w is None or not w.alive or not w.process.is_alive():
                if w is not None:
                    w.stop(wait=1)
                self._workers[i] = _Worker(self._context, self.threads)
        return self._workers  # type: ignore[return-value]

    def _least_busy(self) -> _Worker:
        return min(self._started(), key=lambda w: len(w.pending))

    def pids(self) -> list[int]:
        """The running children (for benchmarks: their CPU and memory are the poll's too)."""
        return [w.process.pid for w in self._workers if w is not None and w.process.is_alive()]

    def close(self) -> None:
        with self._guard:
            workers, self._workers = self._workers, [None] * self.processes
        for w in workers:
            if w is not None:
                w.stop()


_readers: dict[tuple[int, int], StateReaders] = {}
_readers_guard = threading.Lock()


def sizes(poll_processes: int | None, poll_concurrency: int) -> tuple[int, int]:
    """(child processes, reads a child) from PEERBOT_POLL_PROCESSES (None: one per core) and
    PEERBOT_POLL_CONCURRENCY (reads at once in all): what polls and discovery both use."""
    processes = default_processes() if poll_processes is None else poll_processes
    return processes, max(1, -(-poll_concurrency // max(1, processes)))


def readers(processes: int, threads: int) -> StateReaders:
    """The process's readers for these sizes (started on first read, stopped at exit)."""
    with _readers_guard:
        key = (processes, threads)
        if key not in _readers:
            _readers[key] = StateReaders(processes, threads)
        return _readers[key]


def child_pids() -> list[int]:
    """Every running child of every reader set (benchmarks count their CPU and memory)."""
    with _readers_guard:
        return [pid for r in _readers.values() for pid in r.pids()]


def close_all() -> None:
    with _readers_guard:
        all_readers = list(_readers.values())
        _readers.clear()
    for r in all_readers:
        r.close()


atexit.register(close_all)


def default_processes() -> int:
    """One child per core when there is more than one core; none (read in the bot's own
    threads) on one core, where a child would only add its memory."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 else 0
