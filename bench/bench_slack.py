"""Benchmark the Slack path: signed /peering requests against the real Bolt app on waitress.

    .venv/bin/python bench/bench_slack.py [--sessions 1000] [--requests 50]

Prints ack latency (what Slack's 3-second rule is about) and the time until the answer is
posted to response_url, for `/peering list` and `/peering show`, plus the raw service time of
list_sessions. Uses a temporary SQLite DB and a fake Slack API on 127.0.0.1; nothing leaves
the machine.
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
from bot.sessions.inventory import load_inventory  # noqa: E402
from bot.sessions.queries import list_sessions  # noqa: E402
from tests.factories import make_session  # noqa: E402
from tests.harness.bot import settings_for, start_bot  # noqa: E402
from tests.harness.fake_slack import FakeSlack  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def fmt(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{name:38s} n={len(ms):4d}  p50={statistics.median(ms):7.1f} ms  p95={pct(ms, 95):7.1f} ms  "
            f"max={max(ms):7.1f} ms")


def timed(n: int, fn) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=50)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="peerbot-bench-"))
    slack = FakeSlack().start()
    core = Core.from_settings(settings_for(f"sqlite:///{tmp / 'bench.db'}", slack, tmp))
    load_inventory(core.db, ROOT / "tests" / "data" / "inventory.yml")
    t = time.perf_counter()
    for n in range(args.sessions):
        make_session(core, ip=f"2001:db8::{n + 0x100:x}", asn=str(65601 + n % 50), name=f"Peer {n:04d}")
    print(f"created {args.sessions} sessions through the service in {time.perf_counter() - t:.1f} s "
          f"({(time.perf_counter() - t) / args.sessions * 1000:.1f} ms each)")

    for label, query, page in (("list_sessions (service, page 5)", "", 5), ("list_sessions (filtered)", "AS65610 peer", 1)):
        print(fmt(label, timed(args.requests, lambda: list_sessions(core.db, query, page=page, page_size=15))))

    bot = start_bot(core, slack)
    try:
        for text in ("list", "list state:down AS65610", "show 42"):
            acks, answers = [], []
            for _ in range(args.requests):
                mark = slack.mark()
                t = time.perf_counter()
                r = bot.send.command(text)
                acks.append(time.perf_counter() - t)
                assert r.status_code == 200
                slack.wait_for("response_url", after=mark, timeout=10)
                answers.append(time.perf_counter() - t)
            print(fmt(f"/peering {text}: ack", acks))
            print(fmt(f"/peering {text}: answer posted", answers))
    finally:
        bot.stop()
        slack.stop()
        core.db.dispose()


if __name__ == "__main__":
    main()
