"""The scheduled re-import: every AS-SET a session uses, once, with the change limit
(PEERBOT_IRR_MAX_CHANGE_PERCENT); one summary to the notify channel when anything changed,
was flagged or failed. Changed sets become Configure requests for their configured sessions
(bot/irr/service.py), so nothing reaches a router without the usual approval."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core.access import IRR_ACTOR
from bot.irr.service import ImportResult, IrrImports
from bot.core.workers import Workers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshReport:
    results: tuple[ImportResult, ...]

    @property
    def changed(self) -> list[ImportResult]:
        return [r for r in self.results if r.ok and r.changed]

    @property
    def flagged(self) -> list[ImportResult]:
        return [r for r in self.results if r.flagged]

    @property
    def failed(self) -> list[ImportResult]:
        return [r for r in self.results if not r.ok and not r.flagged]

    @property
    def unchanged(self) -> list[ImportResult]:
        return [r for r in self.results if r.ok and not r.changed]

    @property
    def noteworthy(self) -> bool:
        return bool(self.changed or self.flagged or self.failed)


Renderer = Callable[[RefreshReport], dict[str, Any]]


class IrrRefresher:
    def __init__(self, imports: IrrImports, *, max_change_percent: float, actor: str = IRR_ACTOR,
                 workers: Workers | None = None, notifier: Any = None, channel: str | None = None,
                 render: Renderer | None = None):
        self.imports = imports
        self.max_change_percent = max_change_percent
        self.actor = actor
        self.workers = workers  # bgpq4 runs there, one set at a time
        self.notifier = notifier
        self.channel = channel
        self.render = render
        self._running = threading.Lock()

    def run_once(self) -> RefreshReport | None:
        """Re-import every AS-SET in use; None when a run is already going on."""
        if not self._running.acquire(blocking=False):
            log.info("IRR refresh still running: this run skipped")
            return None
        try:
            results = []
            for name in self.imports.in_use():
                try:
                    results.append(self._one(name))
                except Exception:  # noqa: BLE001 - one bad set must not stop the others
                    log.exception("IRR refresh of %s failed", name)
                    results.append(ImportResult(name, False, "Unexpected error (see the peerbot log)."))
            report = RefreshReport(tuple(results))
        finally:
            self._running.release()
        log.info("IRR refresh: %s set(s), %s changed, %s flagged, %s failed", len(report.results),
                 len(report.changed), len(report.flagged), len(report.failed))
        if report.noteworthy and self.notifier is not None and self.channel and self.render is not None:
            self.notifier.post(self.channel, self.render(report))
        return report

    def _one(self, name: str) -> ImportResult:
        job = (self.imports.import_set, name, self.actor)
        kwargs = {"max_change_percent": self.max_change_percent}
        if self.workers is None:
            return job[0](*job[1:], **kwargs)
        return self.workers.submit(f"IRR import {name}", *job, **kwargs).result()
