"""Benchmark the router path against the real FRR lab (run as root; builds and removes the lab).

    sudo .venv/bin/python bench/bench_router.py [--rounds 5]

Prints: poll of all neighbors (SSH connect + one `show bgp neighbors json`), Configure of a new
neighbor through the service (render, push, save, read back), time until it is Established,
Admin Down / Admin Up, and Delete.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bot.core import Core  # noqa: E402
from bot.changes.executor import Changes  # noqa: E402
from bot.sessions.inventory import load_inventory  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from tests.factories import make_session  # noqa: E402
from storage.models import Router  # noqa: E402
from tests.lab_fixture import load_lab  # noqa: E402

LAB_SH = ROOT / "tests" / "lab" / "lab.sh"


def line(label: str, secs: list[float]) -> str:
    ms = sorted(s * 1000 for s in secs)
    return f"{label:34s} n={len(ms):3d}  median={statistics.median(ms):7.0f} ms  max={ms[-1]:7.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    t = time.perf_counter()
    subprocess.run(["bash", str(LAB_SH), "up"], check=True, capture_output=True)
    print(f"lab up in {time.perf_counter() - t:.1f} s")
    try:
        lab = load_lab()
        os.environ["PEERBOT_TEST_ROUTER_PASSWORD"] = lab.password
        tmp = Path(tempfile.mkdtemp(prefix="peerbot-bench-"))
        core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=f"sqlite:///{tmp / 'b.db'}", PEERBOT_SECRET_KEY="k"))
        load_inventory(core.db, ROOT / "tests" / "data" / "inventory.yml")
        with core.db.session() as s:  # the lab's address (SSH_PORT, LAB_USER may differ from the inventory's)
            edge1 = s.scalar(select(Router).where(Router.name == "edge1"))
            edge1.host, edge1.port, edge1.username = lab.host, lab.port, lab.username
        changes = Changes(core)
        spare = lab.spares["v4"]
        v = make_session(core, ip=spare.peer_ip, asn=str(lab.peer.asn), name="Bench Peer", session_type="local",
                         exchange="No Exchange", actor="cli:bench")
        polls, configures, established, downs, ups, deletes = [], [], [], [], [], []
        for _ in range(args.rounds):
            t = time.perf_counter()
            assert all(r.ok for r in changes.poll_all() if r.router_name == "edge1")
            polls.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = changes.configure(v.id, "bench")
            assert r.ok, r.message
            configures.append(time.perf_counter() - t)
            lab.wait_state(spare.peer_ip, "Established", timeout=30)
            established.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert changes.admin_down(v.id, "bench").ok
            downs.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert changes.admin_up(v.id, "bench").ok
            ups.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = changes.delete(v.id, "bench")
            assert r.ok, r.message
            deletes.append(time.perf_counter() - t)
            v = make_session(core, ip=spare.peer_ip, asn=str(lab.peer.asn), name="Bench Peer", session_type="local",
                             exchange="No Exchange", actor="cli:bench")
        for label, values in (("poll edge1 (connect + 1 command)", polls), ("Configure (push+save+verify)", configures),
                              ("Configure → Established", established), ("Admin Down", downs), ("Admin Up", ups),
                              ("Delete", deletes)):
            print(line(label, values))
    finally:
        subprocess.run(["bash", str(LAB_SH), "down"], capture_output=True)


if __name__ == "__main__":
    main()
