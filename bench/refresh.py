"""Fleet benchmark (issue 11): one full refresh of R simulated FRR routers x 50 sessions over real
SSH, for R = 1, 10, 100, 500, and a bulk Admin Down of 500 sessions over 50 routers against the
same 500 sessions on 1 router; each as a ratio to its R = 1 figure from the same run. Also the
CPU cost of one SSH handshake (the floor: a refresh of R routers costs at least R of them).

    .venv/bin/python bench/refresh.py [--sizes 1,10,100,500] [--delay 0.2]

The routers (tests/harness/ssh_fleet.py) run in a process of their own, so their CPU is not
counted as the bot's (but they share the machine's cores with it); each measurement runs in a
fresh bot process of its own with default settings (PEERBOT_POLL_CONCURRENCY=128, one state
reader child per core): wall time, CPU time of the bot's process plus its state reader children,
and the peak RSS of the bot's process plus its children's.
Routers answer after --delay s at login and after --delay s per command (200 ms + 200 ms, as in
the issue). Targets: refresh(100) <= 3 x refresh(1); refresh(500) <= 12 x refresh(1); bulk over
50 routers <= 4 x the same on 1 router.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.ssh_fleet import PASSWORD, PASSWORD_ENV, USERNAME, neighbor_ip  # noqa: E402

SESSIONS = 50


class Simulator:
    """tests/harness/ssh_fleet.py in a process of its own."""

    def __init__(self, routers: int, sessions: int, delay: float):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.harness.ssh_fleet", "--routers", str(routers), "--sessions", str(sessions),
             "--connect-delay", str(delay), "--command-delay", str(delay)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.ports = json.loads(self.proc.stdout.readline())["ports"]

    def stats(self) -> dict:
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def reset(self) -> None:
        self.proc.stdin.write("reset\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)


def make_db(tmp: Path, label: str, ports: list[int], sessions: int) -> str:
    from storage.db import Database
    from tests.harness.ssh_fleet import register

    url = f"sqlite:///{tmp / (label + '.db')}"
    db = Database(url)
    db.upgrade()
    register(db, ports, sessions)
    db.dispose()
    return url


def measure(kind: str, url: str, per_router: int = 0) -> dict:
    """Run one measurement in a fresh process (see child())."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--url", url, "--per-router", str(per_router)],
                         cwd=ROOT, capture_output=True, text=True, env={**os.environ, PASSWORD_ENV: PASSWORD}, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _proc_usage(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS MB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    hwm = next((int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmHWM:")), 0)
    return cpu, hwm / 1024


def readers_usage() -> tuple[float, float, int]:
    """CPU seconds and peak RSS (MB) of the bot's state reader children (PEERBOT_POLL_PROCESSES),
    and how many there are: their work is the refresh's too."""
    from bot.routers import state_readers

    usage = [_proc_usage(pid) for pid in state_readers.child_pids()]
    return sum(c for c, _ in usage), sum(m for _, m in usage), len(usage)


def child(kind: str, url: str, per_router: int) -> None:
    import logging

    from sqlalchemy import select

    from bot.core import Core
    from bot.changes.executor import Changes
    from bot.core.settings import Settings
    from storage.models import Session

    logging.disable(logging.WARNING)
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=url, PEERBOT_SECRET_KEY="bench"), upgrade=False)
    changes = Changes(core)
    cold = None
    if kind == "refresh":
        # The first refresh of a new fleet stores every session's state (all of them "changed");
        # the one measured is the next, as every refresh after it: states mostly unchanged.
        t = time.perf_counter()
        changes.poll_all()
        cold = time.perf_counter() - t
        t, c, rc = time.perf_counter(), time.process_time(), readers_usage()[0]
        results = changes.poll_all()
        wall, cpu = time.perf_counter() - t, time.process_time() - c + readers_usage()[0] - rc
        ok = sum(r.ok for r in results)
        total = len(results)
        failures = [r.message for r in results if not r.ok][:3]
    else:  # bulk admin down: the first `per_router` sessions of every router
        wanted = {neighbor_ip(i) for i in range(per_router)}
        with core.db.session() as s:
            ids = [sid for sid, ip in s.execute(select(Session.id, Session.peer_ip).order_by(Session.id)) if ip in wanted]
        t, c = time.perf_counter(), time.process_time()
        results = changes.run("admin_down", ids, "bench")
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        ok, total = sum(r.ok for r in results), len(results)
        failures = [r.message for r in results if not r.ok][:3]
    _, readers_rss, readers = readers_usage()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + readers_rss
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss_mb, "ok": ok, "total": total, "cold": cold,
                      "readers": readers, "failures": failures}))


def handshake_cpu(port: int, rounds: int = 20) -> float:
    """CPU seconds of this process for one SSH handshake + password login + close (paramiko)."""
    import paramiko

    def once() -> None:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", port=port, username=USERNAME, password=PASSWORD, allow_agent=False,
                       look_for_keys=False, timeout=10)
        client.close()

    once()  # warm-up (imports, first key exchange)
    c = time.process_time()
    for _ in range(rounds):
        once()
    return (time.process_time() - c) / rounds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,10,100,500")
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--child")
    ap.add_argument("--url")
    ap.add_argument("--per-router", type=int, default=0)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.url, args.per_router)
        return
    sizes = [int(x) for x in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="peerbot-bench-refresh-"))
    print(f"simulated FRR routers over SSH in a separate process (their CPU is not counted); "
          f"{args.delay * 1000:.0f} ms login + {args.delay * 1000:.0f} ms per command; {os.cpu_count()} CPUs")
    fleet = Simulator(max(max(sizes), 50), SESSIONS, args.delay)
    single = Simulator(1, 500, args.delay)  # one router holding the 500 sessions of the bulk
    try:
        floor = handshake_cpu(fleet.ports[0])
        cores = os.cpu_count() or 1
        print(f"SSH handshake + login (paramiko, client side): {floor * 1000:.1f} ms CPU each "
              f"-> floor for R routers = R x that (500: {floor * 500:.1f} s CPU, {floor * 500 / cores:.1f} s "
              f"on {cores} cores, before the routers' side of it, the command and storing)")
        print(f"{'':34s} {'wall':>8s} {'ratio':>6s} {'CPU':>8s} {'peak RSS':>9s}  ok    (first refresh of the fleet)")
        base = None
        for r in sizes:
            url = make_db(tmp, f"refresh{r}", fleet.ports[:r], SESSIONS)
            m = measure("refresh", url)
            base = base or m["wall"]
            print(f"refresh R={r:<4d} x {SESSIONS} sessions       {m['wall']:7.2f}s {m['wall'] / base:5.1f}x "
                  f"{m['cpu']:7.2f}s {m['rss_mb']:7.0f}MB  {m['ok']}/{m['total']}  ({m['cold']:.2f}s)")
            for failure in m["failures"]:
                print(f"    not ok: {failure}")
        one = measure("bulk", make_db(tmp, "bulk1", single.ports, 500), 500)
        fifty = measure("bulk", make_db(tmp, "bulk50", fleet.ports[:50], SESSIONS), 10)
        for label, m in (("bulk Admin Down 500 on 1 router", one), ("bulk Admin Down 500 over 50 routers", fifty)):
            print(f"{label:34s} {m['wall']:7.2f}s {m['wall'] / one['wall']:5.1f}x {m['cpu']:7.2f}s "
                  f"{m['rss_mb']:7.0f}MB  {m['ok']}/{m['total']}")
        print("targets: refresh(100) <= 3x, refresh(500) <= 12x refresh(1); bulk over 50 routers <= 4x bulk on 1")
    finally:
        fleet.stop()
        single.stop()


if __name__ == "__main__":
    main()
