"""Benchmark: how long the App Home tab takes to build with a big fleet.

    .venv/bin/python bench/bench_home.py [--sessions 10000] [--routers 200] [--changed 3000]
                                         [--database-url postgresql+psycopg://...] [--runs 20]

Fills a fresh database (SQLite file by default) with the fleet, then times home_summary (the
aggregate queries) and home_view (the blocks) and prints median / max and the block count.
Slack wants views.publish called well within 3 s of the event.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core import Core  # noqa: E402
from bot.home.summary import home_summary  # noqa: E402
from bot.sessions.inventory import load_inventory  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from handlers.views.home import home_view  # noqa: E402
from tests.notify.bulk_fleet import populate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--routers", type=int, default=200)
    ap.add_argument("--changed", type=int, default=3_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--database-url", default=None, help="an empty database (default: a temporary SQLite file)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="peerbot-bench-home-")
    url = args.database_url or f"sqlite:///{tmp}/peerbot.db"
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=url, PEERBOT_SECRET_KEY="bench-secret-key"))
    load_inventory(core.db, ROOT / "tests" / "data" / "inventory.yml")
    t = time.perf_counter()
    populate(core, sessions=args.sessions, routers=args.routers, changed=args.changed)
    print(f"fleet: {args.sessions} sessions, {args.routers} routers, {args.changed} changed in 24 h "
          f"({time.perf_counter() - t:.1f}s to load) on {core.db.engine.dialect.name}")
    summary_times, view_times, blocks = [], [], 0
    for _ in range(args.runs):
        t0 = time.perf_counter()
        summary = home_summary(core)
        t1 = time.perf_counter()
        view = home_view(summary)
        t2 = time.perf_counter()
        summary_times.append(t1 - t0)
        view_times.append(t2 - t1)
        blocks = len(view["blocks"])
    print(f"home_summary: median {statistics.median(summary_times) * 1000:.1f} ms, max {max(summary_times) * 1000:.1f} ms")
    print(f"home_view:    median {statistics.median(view_times) * 1000:.2f} ms, max {max(view_times) * 1000:.2f} ms")
    print(f"blocks: {blocks} (limit 100)")
    core.db.dispose()


if __name__ == "__main__":
    main()
