"""Guards for router changes: one change at a time per session, and one SSH configuration session
at a time per router (two config sessions interleaving their lines on one router is how
half-applied configs happen).

The router lock holds across processes, with the database as the coordinator:
- PostgreSQL: a session-level advisory lock `pg_advisory_lock(PEERBOT, router_id)`, held for the
  whole change on the process's lock connection (one for all its locks, see _AdvisoryLocks); a
  crashed process loses it with its connection.
  Advisory locks are database-wide, so the first key names the schema too: two peerbots in two
  schemas of one database do not block each other (router ids are per schema).
- SQLite file: `flock` on a lock file beside the database (the CLI and the bot on one host).
- In-memory SQLite: in-process only.
Inside one process a thread-local count makes it re-entrant (a request run holds the router,
and the change it calls takes the same lock again).
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from bot.base.errors import Conflict

log = logging.getLogger(__name__)

ADVISORY_CLASS = 0x50424F54  # "PBOT": the first key of every peerbot advisory lock
POLL = 0.1


class RouterBusy(Conflict):
    """The router is being changed by someone else and did not become free in time."""


class ChangeLocks:
    def __init__(self, engine: Engine | None = None, lock_dir: Path | None = None) -> None:
        self._guard = threading.Lock()
        self._busy: set[int] = set()
        self._routers: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._held = threading.local()
        self._advisory = _AdvisoryLocks(engine) if engine is not None and engine.dialect.name == "postgresql" else None
        self._lock_dir = lock_dir

    @classmethod
    def for_engine(cls, engine: Engine) -> ChangeLocks:
        lock_dir = None
        if engine.dialect.name == "sqlite":
            m = re.match(r"sqlite(?:\+\w+)?:///(.+)", engine.url.render_as_string())
            if m and m.group(1) != ":memory:" and "mode=memory" not in m.group(1):
                lock_dir = Path(m.group(1) + ".locks")
        return cls(engine, lock_dir)

    @contextmanager
    def sessions(self, ids: Iterable[int]) -> Iterator[set[int]]:
        """Claim the sessions not already being changed; yields the ids claimed."""
        with self._guard:
            claimed = {i for i in ids if i not in self._busy}
            self._busy |= claimed
        try:
            yield claimed
        finally:
            with self._guard:
                self._busy -= claimed

    def _counts(self) -> dict[int, int]:
        """router id -> how many times this thread holds it (re-entrant)."""
        if not hasattr(self._held, "counts"):
            self._held.counts, self._held.handles = {}, {}
        return self._held.counts

    @contextmanager
    def router(self, router_id: int, timeout: float | None = None) -> Iterator[None]:
        """Hold `router_id` (blocking; RouterBusy after `timeout` seconds when given)."""
        if not self.try_router(router_id, timeout=timeout if timeout is not None else -1):
            raise RouterBusy(f"Another change to router #{router_id} is in progress; try again later.")
        try:
            yield
        finally:
            self.release_router(router_id)

    @contextmanager
    def routers(self, router_ids: Iterable[int], timeout: float | None = None) -> Iterator[None]:
        """Several routers, always in id order (two requests on the same pair never deadlock)."""
        with ExitStack() as stack:
            for rid in sorted(set(router_ids)):
                stack.enter_context(self.router(rid, timeout))
            yield

    # -- the primitive: try (with a deadline; -1 waits forever, 0 does not wait) ---------------------
    def try_router(self, router_id: int, timeout: float = 0) -> bool:
        counts = self._counts()
        if counts.get(router_id):
            counts[router_id] += 1
            return True
        deadline = None if timeout < 0 else time.monotonic() + timeout
        local = self._routers_lock(router_id)
        if not local.acquire(timeout=-1 if deadline is None else max(0.0, timeout)):
            return False
        try:
            handle = self._acquire_shared(router_id, deadline)
        except BaseException:
            local.release()
            raise
        if handle is None:
            local.release()
            return False
        counts[router_id] = 1
        self._held.handles[router_id] = handle  # what releases the cross-process lock
        return True

    def release_router(self, router_id: int) -> None:
        counts = self._counts()
        counts[router_id] -= 1
        if counts[router_id]:
            return
        del counts[router_id]
        handle = self._held.handles.pop(router_id)
        try:
            self._release_shared(router_id, handle)
        finally:
            self._routers_lock(router_id).release()

    def _routers_lock(self, router_id: int) -> threading.Lock:
        with self._guard:
            return self._routers[router_id]

    # -- across processes --------------------------------------------------------------------------
    def _acquire_shared(self, router_id: int, deadline: float | None) -> object | None:
        if self._advisory is not None:
            while True:
                if self._advisory.try_lock(router_id):
                    return True
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                time.sleep(POLL)
        if self._lock_dir is not None:
            self._lock_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._lock_dir / f"router-{router_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    if deadline is not None and time.monotonic() >= deadline:
                        os.close(fd)
                        return None
                    time.sleep(POLL)
        return True  # in-process only

    def _release_shared(self, router_id: int, handle: object) -> None:
        if self._advisory is not None:
            self._advisory.unlock(router_id)
        elif self._lock_dir is not None:
            os.close(handle)  # type: ignore[arg-type]  # closing the fd drops the flock


class _AdvisoryLocks:
    """PostgreSQL advisory locks of this process, all held on one connection of their own.

    Session-level locks belong to a connection, and one connection can hold any number of them:
    a lock per pooled connection made the locks compete with queries for the pool (32 polls at
    once held 32 of its 40 connections). Calls are serialised on the connection; each is one
    short statement. If the connection is lost, so are its locks (as when a process dies): it
    is opened again, and the loss is logged. It goes back to the pool when no lock is held."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._class_key: int | None = None  # the first advisory key, from the schema
        self._guard = threading.Lock()
        self._held = 0

    def try_lock(self, router_id: int) -> bool:
        with self._guard:  # (the count changes with the statement: an unlock in between must not drop it)
            got = bool(self._call("SELECT pg_try_advisory_lock(:c, :r)", router_id, retry=True))
            self._held += got
            self._idle()
            return got

    def unlock(self, router_id: int) -> None:
        with self._guard:
            self._call("SELECT pg_advisory_unlock(:c, :r)", router_id, retry=False)
            self._held = max(0, self._held - 1)
            self._idle()

    def _idle(self) -> None:
        """No lock held: the connection goes back to the pool, with nothing left on it."""
        if self._held or self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
            self._conn.commit()
        except DBAPIError:
            pass  # a lost connection holds nothing any more
        self._drop()

    def _call(self, sql: str, router_id: int, *, retry: bool) -> object:
        for attempt in (1, 2):
            try:
                conn = self._connection()
                value = conn.execute(text(sql), {"c": self._class(conn), "r": router_id}).scalar()
                conn.commit()
                return value
            except DBAPIError as exc:
                if not exc.connection_invalidated and not _closed(self._conn):
                    raise
                log.warning("the advisory lock connection was lost; its router locks with it")
                self._drop()
                self._held = 0
                if not retry or attempt == 2:
                    return None  # (an unlock on a lost connection: nothing left to release)
        return None

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._engine.connect()
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except DBAPIError:
                pass

    def _class(self, conn: Connection) -> int:
        if self._class_key is None:
            schema = conn.execute(text("SELECT current_schema()")).scalar() or "public"
            self._class_key = ADVISORY_CLASS if schema == "public" else \
                zlib.crc32(f"PBOT:{schema}".encode()) & 0x7FFFFFFF
        return self._class_key


def _closed(conn: Connection | None) -> bool:
    return conn is None or conn.closed or conn.invalidated
