"""Measure how long idle or half-sent connections can keep peerbot's HTTP endpoint from answering.

    .venv/bin/python bench/bench_http_limits.py [--idle 105 600] [--waitress-defaults]

For each count N: open N connections to the real Bolt app on waitress (`server.run()`, as
`peerbot serve --http` runs it), half of them sending part of a request header, then time a
GET /healthz while they stay open. `--waitress-defaults` runs the same against waitress' own
defaults (connection_limit 100, channel_timeout 120) for comparison. Fake Slack on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.serve.app import build_app  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.serve.wsgi import create_server  # noqa: E402
from tests.harness.bot import settings_for  # noqa: E402
from tests.harness.fake_slack import FakeSlack  # noqa: E402

WAITRESS_DEFAULTS = {"connection_limit": 100, "channel_timeout": 120, "cleanup_interval": 30,
                     "asyncore_use_poll": False}


def measure(port: int, idle: int, timeout: float) -> float:
    with ExitStack() as held:
        for n in range(idle):
            conn = held.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            if n % 2:
                conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Len")
        t = time.perf_counter()
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=timeout).raise_for_status()
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=int, nargs="+", default=[105, 600])
    ap.add_argument("--waitress-defaults", action="store_true")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="peerbot-bench-"))
    slack = FakeSlack().start()
    core = Core.from_settings(settings_for(f"sqlite:///{tmp / 'bench.db'}", slack, tmp))
    limits = WAITRESS_DEFAULTS if args.waitress_defaults else {}
    server = create_server(build_app(core), core, "127.0.0.1", 0, **limits)
    threading.Thread(target=server.run, daemon=True).start()
    port = server.effective_port  # type: ignore[attr-defined]
    print(f"limits: {'waitress defaults' if limits else 'peerbot (bot/serve/wsgi.py WAITRESS_LIMITS)'}")
    for n in args.idle:
        try:
            print(f"{n:5d} idle connections: /healthz answered after {measure(port, n, args.timeout):6.2f} s")
        except requests.RequestException as exc:
            print(f"{n:5d} idle connections: no answer within {args.timeout:.0f} s ({type(exc).__name__})")
        time.sleep(3)  # let the server close the previous round's connections
    slack.stop()


if __name__ == "__main__":
    main()
