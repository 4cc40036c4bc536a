"""peerbot's own bounded worker pool: SSH (changes and polls) runs here, never on Bolt's
listener threads, so a router that hangs cannot stop the bot answering Slack."""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


def default_size() -> int:
    # Router work waits on the network, not the CPU: a few threads a core, within reason.
    return max(4, min(32, (os.cpu_count() or 1) * 4))


class Workers:
    def __init__(self, size: int | None = None):
        self.size = size or default_size()
        self._pool = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="peerbot-worker")
        self._lock = threading.Lock()
        self._queued = 0

    @property
    def queued(self) -> int:
        """Jobs submitted and not finished (running or waiting for a thread)."""
        return self._queued

    def submit(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Run `fn` on a worker; an exception is logged (a job reports its own failures to users)."""

        def job() -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception:  # noqa: BLE001 - logged with the job's name; the pool lives on
                log.exception("worker job %s failed", name)
                raise
            finally:
                with self._lock:
                    self._queued -= 1

        with self._lock:
            self._queued += 1
        return self._pool.submit(job)

    def shutdown(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
