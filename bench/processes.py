"""Throughput of `/peering list` with one and two bot processes on PostgreSQL, in one run.

    .venv/bin/python bench/processes.py                       # 10k sessions, 4 s phases
    .venv/bin/python bench/processes.py --sessions 2000 --seconds 2 --clients 16

Loads the sessions into a schema of its own (dropped at the end), then starts the real bot
(`peerbot serve --http`, its own processes, against the fake Slack Web API of
bench/ack_latency.py) once a setup: one process (waitress), then `--processes N` for each N
(gunicorn's master and workers). For each it runs
  * `/peering list` alone, `--clients` closed-loop clients (the next request once the list is
    posted to response_url): lists per second;
  * list and GET /healthz mixed: ack p99 of list against /healthz's p99.
`--processes 1,2,4`: the gunicorn process counts (1 and 2 always). Prints the ratio of two
processes to one (target >= 1.5x on 2 cores) and each setup's list p99 / /healthz p99 (<= 3x). The load generator shares
the machine with the bot, so on 2 cores it takes CPU the second process would use: the ratio is a
floor. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import select, text  # noqa: E402

from ack_latency import (DEFAULT_PG, Fixture, Results, TimedSlack, cpu_seconds, database, machine, ms,  # noqa: E402
                         pct, run_phase, running_bot, settle)
from storage.db import Database  # noqa: E402
from storage.models import Session  # noqa: E402
from tests.harness.bulk import load_sessions  # noqa: E402

def tree_cpu(pid: int) -> float:
    """CPU seconds of the bot: the process and its live children (gunicorn's workers)."""
    def children(p: int) -> list[int]:
        try:
            return [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            return []

    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += cpu_seconds(p)
        except OSError:
            continue
        todo += children(p)
    return total


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process on this machine (the server's share of a list)."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(d.name))
            except OSError:
                continue
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def setups(counts: list[int]) -> list[tuple[str, tuple[str, ...]]]:
    """The single waitress process, then gunicorn with each of `counts` workers."""
    return [("1 process (waitress)", ())] + [(f"--processes {n} (gunicorn)", ("--processes", str(n))) for n in counts]


@dataclass
class Throughput:
    label: str
    lists_per_s: float
    list_p99: float  # seconds, list and /healthz mixed
    healthz_p99: float

    @property
    def ratio(self) -> float:
        """list ack p99 / /healthz ack p99 (target <= 3)."""
        return self.list_p99 / self.healthz_p99 if self.healthz_p99 else float("inf")


HEADER = ("  setup                       lists/s  lost  non-200   list ack p50  p99 ms  /healthz p99 ms  p99 ratio"
          "   CPU (cores): bot  postgres  bench+fake Slack  machine busy")


def measure(url: str, slack: TimedSlack, workdir: Path, session_ids: list[int], counts: list[int], clients: int,
            seconds: float, out: Callable[[str], None]) -> dict[str, Throughput]:
    """`/peering list` throughput and ack p99 (mixed with /healthz) of the bot on `url` (sessions
    already there), one setup after the other in this run: waitress, then gunicorn with each of
    `counts` processes. Prints one row a setup with `out`; bench/chaos.py calls it too."""
    fx = Fixture(slack.url, session_ids, "", {}, {}, [])
    rows: dict[str, Throughput] = {}
    out(HEADER)
    for label, serve_args in setups(counts):
        with running_bot(url, slack, workdir, serve_args) as (port, pid):
            run_phase(port, slack, fx, clients, 1.0, ("list",), pid)  # warm: pools, caches, workers
            settle(pid, 5)
            bot0, me0, pg0, (busy0, all0) = tree_cpu(pid), own_cpu(), postgres_cpu(), machine_busy()
            samples, wall, _ = run_phase(port, slack, fx, clients, seconds, ("list",), pid)
            bot_cores, my_cores = (tree_cpu(pid) - bot0) / wall, (own_cpu() - me0) / wall
            pg_cores = (postgres_cpu() - pg0) / wall
            busy1, all1 = machine_busy()
            busy = (busy1 - busy0) / max(1, all1 - all0)
            rate = sum(1 for x in samples if x.answer is not None) / wall
            lost = sum(1 for x in samples if x.answer is None)
            bad = sum(1 for x in samples if x.status != 200)
            mixed, _, _ = run_phase(port, slack, fx, clients, seconds, ("list", "healthz"), pid)
            lists = [x.ack for x in mixed if x.kind == "list"]
            health = [x.ack for x in mixed if x.kind == "healthz"]
            row = rows[label] = Throughput(label, rate, pct(lists, 99), pct(health, 99))
            out(f"  {label:26} {rate:8.0f}  {lost:4}  {bad:7}   {ms(pct(lists, 50))}  {ms(row.list_p99)}"
                f"   {ms(row.healthz_p99):>12}   {row.ratio:8.2f}x   {bot_cores:17.2f} {pg_cores:9.2f} {my_cores:17.2f} {busy:13.0%}")
        time.sleep(1)
    return rows


def gunicorn(rows: dict[str, Throughput], n: int) -> Throughput:
    return rows[f"--processes {n} (gunicorn)"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--routers", type=int, default=200)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--processes", default="1,2", help="gunicorn process counts to run, comma-separated (1 and 2 "
                    "always; e.g. 1,2,4)")
    ap.add_argument("--pg-url", default=os.environ.get("PEERBOT_BENCH_PG_URL", DEFAULT_PG))
    args = ap.parse_args()
    counts = sorted({1, 2, *(int(x) for x in args.processes.split(",") if x.strip())})
    res = Results()
    res.out("bench/processes.py: /peering list per second with 1, 2 … bot processes on PostgreSQL")
    for line in machine(args.pg_url, ["postgresql"]):
        res.out(line)
    res.out(f"{args.sessions:,} sessions over {args.routers} routers · {args.clients} clients · {args.seconds:.1f} s a phase")
    slack = TimedSlack().start()
    try:
        with tempfile.TemporaryDirectory(prefix="peerbot-bench-") as tmp, \
                database("postgresql", Path(tmp), args.pg_url) as url:
            db = Database(url)
            db.upgrade()
            load_sessions(db, args.sessions, routers=args.routers)
            with db.engine.begin() as c:
                c.execute(text("ANALYZE"))
            with db.session() as s:
                ids = list(s.scalars(select(Session.id).limit(100)))
            db.dispose()
            rows = measure(url, slack, Path(tmp), ids, counts, args.clients, args.seconds, res.out)
    finally:
        slack.stop()
    one, two = gunicorn(rows, 1), gunicorn(rows, 2)
    res.out("")
    res.out(f"two processes / one: {two.lists_per_s / one.lists_per_s:.2f}x (gunicorn 2 vs 1); "
            f"{two.lists_per_s / rows['1 process (waitress)'].lists_per_s:.2f}x against the single waitress process")
    res.target(two.lists_per_s >= 1.5 * one.lists_per_s,
               f"2 processes serve >= 1.5x the lists of 1 ({two.lists_per_s:.0f}/s vs {one.lists_per_s:.0f}/s)")
    for row in rows.values():
        res.target(row.ratio <= 3, f"{row.label}: list ack p99 <= 3x /healthz p99 ({row.ratio:.2f}x)")


if __name__ == "__main__":
    main()
