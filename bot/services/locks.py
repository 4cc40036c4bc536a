"""In-process guards for router changes: one change at a time per session, and one SSH
configuration session at a time per router (two config sessions interleaving their lines on one
router is how half-applied configs happen)."""
from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class ChangeLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._busy: set[int] = set()
        self._routers: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)

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

    def router(self, router_id: int) -> threading.Lock:
        with self._guard:
            return self._routers[router_id]
