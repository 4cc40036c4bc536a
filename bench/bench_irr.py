"""Benchmark: how long does an AS-SET import take, and where does the time go?

    .venv/bin/python bench/bench_irr.py [--prefixes 10000] [--runs 3]

Serves an AS-SET of `--prefixes` IPv4 routes (none aggregatable) and one IPv6 route from the
fake IRRd (tests/irr_server.py) on 127.0.0.1, then times: bgpq4 alone (IPv4, JSON, aggregated),
turning its output into checked entries, and the whole `IrrImports.import_set` (both families,
the checks, storing into SQLite, the diff). Nothing leaves the machine.
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
from bot.irr.bgpq4 import Bgpq4  # noqa: E402
from bot.irr.service import IrrImports  # noqa: E402
from bot.base.validation import AsSetName  # noqa: E402
from tests.harness.bot import OPERATOR, settings_for  # noqa: E402
from tests.harness.fake_slack import FakeSlack  # noqa: E402
from tests.irr_server import start_irr_server  # noqa: E402


def routes(n: int) -> list[str]:
    # every other /24 of 11.0.0.0/8: no two are adjacent, so bgpq4 -A cannot merge them
    return [f"11.{(2 * i) // 256}.{(2 * i) % 256}.0/24" for i in range(n)]


def timed(fn, runs: int) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefixes", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    data = {"source": "BENCH", "as-set": {"AS-BENCH": ["AS65620"]},
            "route": {"AS65620": routes(args.prefixes)}, "route6": {"AS65620": ["2001:db8:620::/48"]}}
    server, port = start_irr_server(data)
    slack = FakeSlack().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            core = Core.from_settings(settings_for(f"sqlite:///{tmp}/bench.db", slack, Path(tmp),
                                                   PEERBOT_IRR_HOST=f"127.0.0.1:{port}",
                                                   PEERBOT_IRR_MAX_PREFIXES=str(args.prefixes + 10)))
            bgpq4 = Bgpq4(f"127.0.0.1:{port}")
            target = AsSetName("AS-BENCH")
            raw, done = timed(lambda: bgpq4._run(target, ["-4", "-j", "-A", "-l", "PEERBOT"]), args.runs)
            entries_t, entries = timed(lambda: bgpq4.entries(target, 4), args.runs)
            imports = IrrImports(core)
            first_t, first = timed(lambda: imports.import_set("AS-BENCH", OPERATOR), 1)
            again_t, _ = timed(lambda: imports.import_set("AS-BENCH", OPERATOR), args.runs)
            assert first.ok and len(entries) == args.prefixes, (first.error, len(entries))
            print(f"AS-SET of {args.prefixes} IPv4 prefixes (+1 IPv6), median of {args.runs} run(s):")
            print(f"  bgpq4 -4 -j -A alone          {raw * 1000:8.0f} ms  ({len(done.stdout) / 1024:.0f} KiB of JSON)")
            print(f"  bgpq4 + parse + check entries {entries_t * 1000:8.0f} ms  "
                  f"(conversion {max(0.0, entries_t - raw) * 1000:.0f} ms)")
            print(f"  first import_set (v4+v6, store) {first_t * 1000:6.0f} ms")
            print(f"  re-import, unchanged            {again_t * 1000:6.0f} ms")
            core.db.dispose()
    finally:
        slack.stop()
        server.close()


if __name__ == "__main__":
    main()
