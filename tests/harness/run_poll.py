"""One scheduled poll of every router in a process of its own (the two-process test).

    python -m tests.harness.run_poll DATABASE_URL INTERVAL START_AT

Builds a Core on DATABASE_URL (routers of tests/harness/ssh_fleet.py), waits until the epoch time
START_AT (so two processes race), runs one scheduled poll (Poller with `interval` set, as
start_scheduler does) and prints one JSON line: the names of the routers it polled and skipped.
"""
from __future__ import annotations

import json
import sys
import time

from bot.core import Core
from bot.serve.scheduler import Poller
from bot.changes.executor import Changes
from bot.core.settings import Settings


def main() -> None:
    url, interval, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=url, PEERBOT_SECRET_KEY="test-secret-key"), upgrade=False)
    poller = Poller(Changes(core))  # no sender: this process only polls
    poller.interval = interval  # as start_scheduler sets it
    time.sleep(max(0.0, start_at - time.time()))
    results = poller.run_once()
    print(json.dumps({"polled": sorted(r.router_name for r in results if r.ok),
                      "skipped": sorted(r.router_name for r in results if r.skipped),
                      "failed": sorted(r.message for r in results if not r.ok and not r.skipped)}), flush=True)
    core.db.dispose()


if __name__ == "__main__":
    main()
