"""Benchmark the PeeringDB type-ahead (bot.peeringdb.search.search_networks) on a mirror of N
synthetic networks, on SQLite and on PostgreSQL.

    .venv/bin/python bench/lookup.py [--sizes 1000,10000,30000,100000] [--queries 200] [--pg URL|none]

Each query kind is timed separately: an exact ASN ("AS64512"), a name prefix (the first 4
letters of a name), a substring (3-6 letters from inside a word) and a short 2-letter prefix
(the first keystrokes). Nothing leaves the machine; PostgreSQL runs in a throwaway schema.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from bot.peeringdb.mirror import insert_tokens, row_for  # noqa: E402
from bot.peeringdb.search import search_networks  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import PdbNet  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_SYLLABLES = ["tel", "net", "com", "data", "cloud", "fi", "ber", "link", "wave", "core", "tra", "nsit", "hub",
              "sky", "stream", "ix", "air", "glo", "bal", "ra", "dio", "ko", "mo", "vo", "zen", "star", "line",
              "port", "metro", "cable", "fast", "web", "host", "ing", "on", "ex", "pro", "na", "lu", "tek"]
_SUFFIXES = ["", "", " Networks", " Telecom", " GmbH", " Ltd", " Inc.", " AS", " Internet", " Hosting", " B.V.",
             " S.A.", " Communications", " LLC"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def fmt(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{name:34s} n={len(ms):4d}  p50={statistics.median(ms):6.1f} ms  p95={pct(ms, 95):6.1f} ms  max={max(ms):6.1f} ms"


def synthetic_nets(n: int, rnd: random.Random) -> list[dict]:
    nets = []
    for i in range(n):
        word = "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(2, 3)))
        name = word.capitalize() + rnd.choice(_SUFFIXES) + (f" {i}" if rnd.random() < 0.3 else "")
        record = {"id": i + 1, "org_id": i + 1, "name": name, "asn": 1000 + i * 7,
                  "aka": word.upper() if rnd.random() < 0.3 else "",
                  "irr_as_set": f"AS-{word.upper()}" if rnd.random() < 0.6 else "",
                  "info_prefixes4": rnd.randint(1, 5000), "info_prefixes6": rnd.randint(1, 500),
                  "policy_general": rnd.choice(["Open", "Selective", "Restrictive", "No"]),
                  "updated": "2025-06-01T08:00:00Z", "status": "ok"}
        nets.append(row_for("net", record))
    return nets


def load(db: Database, nets: list[dict]) -> None:
    with db.session() as s:
        for i in range(0, len(nets), 5000):
            s.execute(insert(PdbNet), nets[i : i + 5000])
        insert_tokens(s, nets, batch_size=20000)
    if db.url.startswith("postgresql"):
        with db.engine.begin() as c:
            c.execute(text("ANALYZE"))


def queries(nets: list[dict], count: int, rnd: random.Random) -> dict[str, list[str]]:
    def inside(name: str) -> str:
        word = max(name.lower().split(), key=len)
        size = rnd.randint(3, 6)
        start = rnd.randint(0, max(0, len(word) - size))
        return word[start : start + size]

    picks = [rnd.choice(nets) for _ in range(count)]
    return {
        "exact ASN (AS64512)": [f"AS{n['asn']}" for n in picks],
        "name prefix (4 letters)": [n["name"][:4] for n in picks],
        "substring (3-6 letters)": [inside(n["name"]) for n in picks],
        "first keystrokes (2 letters)": [n["name"][:2] for n in picks],
    }


def run(label: str, db: Database, size: int, count: int) -> None:
    rnd = random.Random(size)
    nets = synthetic_nets(size, rnd)
    t = time.perf_counter()
    load(db, nets)
    print(f"{label} N={size}: loaded {size} networks in {time.perf_counter() - t:.1f} s")
    every: list[float] = []
    for kind, texts in queries(nets, count, rnd).items():
        search_networks(db, texts[0])  # warm the connection and caches
        times = []
        for q in texts:
            t = time.perf_counter()
            search_networks(db, q)
            times.append(time.perf_counter() - t)
        every += times
        print("  " + fmt(kind, times))
    print("  " + fmt("all kinds", every))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,30000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--pg", default=PG_URL, help="PostgreSQL URL, or 'none' to skip")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    for size in sizes:
        tmp = Path(tempfile.mkdtemp(prefix="peerbot-lookup-"))
        db = Database(f"sqlite:///{tmp / 'bench.db'}")
        db.upgrade()
        run("SQLite", db, size, args.queries)
        db.dispose()
    if args.pg == "none":
        return
    admin = create_engine(args.pg)
    for size in sizes:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in args.pg else "?"
            db = Database(f"{args.pg}{sep}options=-csearch_path%3D{schema}")
            db.upgrade()
            run("PostgreSQL", db, size, args.queries)
            db.dispose()
        finally:
            with admin.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


if __name__ == "__main__":
    main()
