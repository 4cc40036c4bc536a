"""Benchmark: does the bot keep answering Slack while router jobs hang?

    .venv/bin/python bench/bench_hang.py [--jobs 50] [--requests 30]

Starts the real bot (Bolt behind waitress, fake Slack API on 127.0.0.1) with its routers pointed
at a TCP server that accepts SSH connections and never answers, queues `--jobs` router changes
on the worker pool (no approval needed, so they all run), then times signed `/peering list`
requests: the HTTP ack, and the time until the answer reaches response_url. Nothing leaves the
machine.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from bot.core import Core  # noqa: E402
from bot.changes.requests import ChangeRequests  # noqa: E402
from bot.sessions.inventory import load_inventory  # noqa: E402
from storage.models import Router  # noqa: E402
from tests.factories import make_session  # noqa: E402
from tests.harness.bot import OPERATOR, settings_for, start_bot  # noqa: E402
from tests.harness.fake_slack import FakeSlack  # noqa: E402
from tests.harness.slack_requests import load_payload, sign  # noqa: E402
from tests.slack.test_approvals import BlackHole  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--requests", type=int, default=30)
    args = ap.parse_args()
    import os

    os.environ["PEERBOT_TEST_ROUTER_PASSWORD"] = "pw"
    os.environ["PEERBOT_TEST_EDGE2_PASSWORD"] = "pw"
    hole = BlackHole()
    slack = FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(f"sqlite:///{tmp}/bench.db", slack, Path(tmp), PEERBOT_APPROVAL_SKIP="all",
                                PEERBOT_ROUTER_TIMEOUT="120", PEERBOT_WORKERS="8")
        core = Core.from_settings(settings)
        load_inventory(core.db, ROOT / "tests" / "data" / "inventory.yml")
        with core.db.session() as s:
            s.execute(update(Router).values(port=hole.port))
        requests = ChangeRequests(core)
        sids = [make_session(core, ip=f"192.0.2.{n // 2 + 20}" if n % 2 == 0 else f"198.51.100.{n // 2 + 20}",
                             router="edge1" if n % 2 == 0 else "edge2",
                             exchange="EXAMPLE-IX" if n % 2 == 0 else "OTHER-IX",
                             asn=str(65600 + n), name=f"Peer {n}").id for n in range(min(args.jobs, 400))]
        bot = start_bot(core, slack)
        for sid in sids:
            bot.app.runner.submit(requests.request(OPERATOR, "configure", [sid]).id)
        time.sleep(2)
        acks, answers = [], []
        fields = dict(parse_qsl(load_payload("slash_command.txt")))
        for _ in range(args.requests):
            fields.update(command="/peering", text="list", user_id=OPERATOR, channel_id="C111",
                          response_url=bot.send.response_url)
            body = urlencode(fields)
            ts = int(time.time())
            mark = slack.mark()
            t0 = time.perf_counter()
            r = bot.send.http.post(bot.send.endpoint, data=body.encode(), timeout=10, headers={
                "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(ts),
                "X-Slack-Signature": sign(bot.send.secret, body, ts)})
            acks.append(time.perf_counter() - t0)
            assert r.status_code == 200
            slack.wait_for("response_url", lambda c: "Peering sessions" in str(c.args), after=mark)
            answers.append(time.perf_counter() - t0)
        hung = len(hole.conns)
        queued = bot.app.runner.workers.queued
        hole.close()
        bot.stop()
        core.db.dispose()
    slack.stop()
    for name, vals in (("/peering list ack", acks), ("/peering list answer posted", answers)):
        ms = [v * 1000 for v in vals]
        print(f"{name:30s} n={len(ms)}  p50={statistics.median(ms):7.1f} ms  p95={pct(ms, 95):7.1f} ms  "
              f"max={max(ms):7.1f} ms")
    print(f"while {args.jobs} router jobs were queued: {hung} SSH connection(s) hanging "
          f"(one per router: a router is changed by one job at a time), {queued} job(s) still on the pool")


if __name__ == "__main__":
    main()
