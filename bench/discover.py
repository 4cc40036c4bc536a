"""Discovery benchmark (issue 17): read the BGP configuration of R simulated FRR routers x 50
neighbors over real SSH (200 ms login + 200 ms a command, as in the issue), import the 10,000
neighbors found, and compare 10,000 sessions with their routers (drift); on SQLite and PostgreSQL.

    .venv/bin/python bench/discover.py [--routers 200] [--delay 0.2] [--pg URL | --no-pg]

The routers (tests/harness/ssh_fleet.py) run in a process of their own, so their CPU is not
counted as the bot's; each measurement runs in a fresh bot process with default settings (the
pollers' pool and state reader children, started before the clock runs, as in a serving bot). Targets: discover(200) <= 3 x discover(1); import of
the 10,000 found sessions <= 10 s on each database; the drift comparison of 10,000 sessions
<= 5 s of CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from refresh import Simulator, readers_usage  # noqa: E402
from tests.harness.ssh_fleet import PASSWORD, PASSWORD_ENV  # noqa: E402

NEIGHBORS = 50
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def make_db(url: str, ports: list[int]) -> None:
    from storage.db import Database
    from tests.harness.ssh_fleet import register

    db = Database(url)
    db.upgrade()
    register(db, ports, 0)  # the routers only: their neighbors are what discovery finds
    db.dispose()


def pg_schema_url(base: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with create_engine(base).begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    with create_engine(base).begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def measure(url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", "--url", url], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, PASSWORD_ENV: PASSWORD}, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"measurement failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(url: str) -> None:
    import logging

    from bot.adoption.discovery import NEW, Discovery
    from bot.adoption.drift import Drift, compare_router
    from bot.adoption.importer import import_neighbors
    from bot.core import Core
    from bot.core.settings import Settings

    logging.disable(logging.WARNING)
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=url, PEERBOT_SECRET_KEY="bench",
                                       PEERBOT_CLI_ROLES="operator"), upgrade=False)
    discovery = Discovery(core)
    ids = Drift(core).discovery_router_ids()
    discovery.warm_up()  # the reader processes are running, as in a bot whose poller started them
    t, c, rc = time.perf_counter(), time.process_time(), readers_usage()[0]
    found = discovery.discover(ids)
    d_wall, d_cpu = time.perf_counter() - t, time.process_time() - c + readers_usage()[0] - rc
    new = sum(d.count(NEW) for d in found)
    ok = sum(d.ok for d in found)
    t = time.perf_counter()
    imported = sum(len(import_neighbors(core, "cli:bench", i).created) for i in ids)
    i_wall = time.perf_counter() - t
    drift = Drift(core)
    t, c = time.perf_counter(), time.process_time()
    reports = drift.check(ids, read=False, report=False)
    k_wall, k_cpu = time.perf_counter() - t, time.process_time() - c
    # the comparison alone (no database): what a check costs past reading its rows
    from sqlalchemy import select

    from bot.adoption.discovery import expected_for_router
    from storage.models import RouterNeighbor

    with core.db.session() as s:
        pairs = [(expected_for_router(s, i), {r.peer_ip: r.settings for r in
                                              s.scalars(select(RouterNeighbor).where(RouterNeighbor.router_id == i))})
                 for i in ids]
    c = time.process_time()
    differing = sum(len(compare_router(e, f)) for e, f in pairs)
    pure_cpu = time.process_time() - c
    print(json.dumps({"routers": len(ids), "ok": ok, "new": new, "discover_wall": d_wall, "discover_cpu": d_cpu,
                      "imported": imported, "import_wall": i_wall, "drift_wall": k_wall, "drift_cpu": k_cpu,
                      "drift_items": sum(len(r.items) for r in reports), "compare_cpu": pure_cpu,
                      "differing": differing, "failures": [d.error for d in found if not d.ok][:3]}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--routers", type=int, default=200)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--pg", default=os.environ.get("PEERBOT_BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--url")
    args = ap.parse_args()
    if args.child:
        child(args.url)
        return
    tmp = Path(tempfile.mkdtemp(prefix="peerbot-bench-discover-"))
    print(f"simulated FRR routers over SSH in a separate process; {args.delay * 1000:.0f} ms login + "
          f"{args.delay * 1000:.0f} ms per command; {NEIGHBORS} neighbors a router; {os.cpu_count()} CPUs")
    fleet = Simulator(args.routers, NEIGHBORS, args.delay)
    try:
        runs = []
        for label, n in (("1 router", 1), (f"{args.routers} routers", args.routers)):
            url = f"sqlite:///{tmp / f'discover{n}.db'}"
            make_db(url, fleet.ports[:n])
            runs.append((label, "SQLite", measure(url)))
        if not args.no_pg:
            url, schema = pg_schema_url(args.pg)
            try:
                make_db(url, fleet.ports[:args.routers])
                runs.append((f"{args.routers} routers", "PostgreSQL", measure(url)))
            finally:
                drop_schema(args.pg, schema)
        base = runs[0][2]["discover_wall"]
        print(f"{'':28s} {'discover':>9s} {'ratio':>6s} {'CPU':>7s} {'import':>8s} {'drift':>7s} {'drift CPU':>9s} "
              f"{'compare CPU':>11s}  found/imported")
        for label, dbname, m in runs:
            print(f"{label + ' (' + dbname + ')':28s} {m['discover_wall']:8.2f}s {m['discover_wall'] / base:5.1f}x "
                  f"{m['discover_cpu']:6.2f}s {m['import_wall']:7.2f}s {m['drift_wall']:6.2f}s {m['drift_cpu']:8.2f}s "
                  f"{m['compare_cpu']:10.3f}s  {m['new']}/{m['imported']} ({m['ok']}/{m['routers']} routers read)")
            for failure in m["failures"]:
                print(f"    not read: {failure}")
        print(f"targets: discover({args.routers}) <= 3x discover(1); import of {args.routers * NEIGHBORS:,} "
              f"<= 10 s on each database; drift comparison of {args.routers * NEIGHBORS:,} sessions <= 5 s CPU")
    finally:
        fleet.stop()


if __name__ == "__main__":
    main()
