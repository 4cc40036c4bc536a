"""Ack and answer times under load: the real bot (`peerbot serve --http`, its own process) against
the fake Slack Web API, with 10k and 100k sessions over 200 routers on SQLite and PostgreSQL.

    .venv/bin/python bench/ack_latency.py                 # everything (~5 min on 2 cores)
    .venv/bin/python bench/ack_latency.py --quick         # 2,000 sessions, SQLite, short phases
    .venv/bin/python bench/ack_latency.py --sizes 10000 --dbs sqlite --clients 1,50 --seconds 3

For each database and size it loads the sessions, starts the bot, and runs
  * mixed phases at 1, 10 and 50 concurrent clients: every client sends signed requests of every
    kind in turn (closed loop: the next one once the answer is there) —
      list        `/peering list`                      answer: the list posted to response_url
      show        `/peering show <id>`                 answer: the detail posted to response_url
      button      Next ▶ on a list (keyset page 2)     answer: the page posted to response_url
      submission  the wizard's step 1 Next             answer: the ack itself (the step 2 view)
      suggestion  the local-peer type-ahead            answer: the ack itself (the options)
      healthz     GET /healthz, the floor              answer: the ack itself
    and prints p50/p95/p99 ack time (request sent -> HTTP response), answer time (request sent ->
    message posted at the fake Slack) and each ack p99 as a ratio to /healthz's in that phase;
  * a saturation phase per kind (50 clients, that kind alone): requests/s and the server's CPU
    per request (user + system time of the bot process / requests), each phase once the bot is
    idle again (show's timeline pictures are drawn after its answer);
  * service timings in this process, without HTTP: list page 1, Next, the last page, type-ahead.
Targets are printed with the figures, met or missed; nothing is asserted. The load generator
shares the machine with the bot: on 2 cores the figures are a floor, not a capacity.

PostgreSQL: --pg-url (default postgresql://postgres@127.0.0.1:5432/test); the bench works in a
schema of its own, dropped at the end.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402

from bot.sessions.queries import list_sessions  # noqa: E402
from bot.sessions.views import ListKey  # noqa: E402
from handlers.ids import Action, Callback  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Peer, Session  # noqa: E402
from tests.harness.bulk import load_sessions, peer_name  # noqa: E402
from tests.harness.fake_slack import Call, FakeSlack  # noqa: E402

SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "xoxb-111-222-benchtoken"
KINDS = ("list", "show", "button", "submission", "suggestion", "healthz")
SLACK_LIMIT = 3.0
ANSWER_WAIT = 10.0  # a client waits at most this for an answer before it counts it as lost
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


# -- the fake Slack, recording when each response_url post arrived -------------------------------
class TimedSlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}
        self._arrival = threading.Condition()

    def _record(self, call: Call) -> None:
        now = time.perf_counter()
        if call.path.startswith("/hooks/bench-"):
            with self._arrival:
                self.arrived[call.path] = now
                self._arrival.notify_all()
            return  # not kept: a run posts hundreds of thousands
        super()._record(call)

    def wait_arrival(self, path: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self._arrival:
            while path not in self.arrived:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._arrival.wait(left)
            return self.arrived.pop(path)


# -- signed requests over a kept-alive connection ------------------------------------------------
def sign(body: bytes, ts: str) -> str:
    return "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()


class Client:
    """One simulated Slack user: a kept-alive HTTP connection to the bot."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                return r.status, r.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def slack(self, form: dict[str, str]) -> tuple[int, bytes]:
        body = urlencode(form).encode()
        ts = str(int(time.time()))
        return self.request("POST", "/slack/events", body, {
            "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(body, ts)})


@dataclass
class Fixture:
    """What the requests need from the loaded data and the bot."""

    hooks: str  # response_url base
    session_ids: list[int]
    next_value: str  # the Next button of page 1
    wizard_view: dict[str, Any]
    wizard_values: dict[str, Any]
    suggestions: list[str]


def _user(i: int) -> str:
    return f"UB{i:05d}"


def build_request(kind: str, fx: Fixture, rnd: random.Random, user: str) -> tuple[dict[str, str] | None, str | None]:
    """(form to post, or None for /healthz; the response_url path the answer goes to, or None)."""
    hook = f"/hooks/bench-{uuid.uuid4().hex}"
    url = fx.hooks + hook
    if kind == "healthz":
        return None, None
    if kind in ("list", "show"):
        txt = "list" if kind == "list" else f"show {rnd.choice(fx.session_ids)}"
        return {"token": "x", "team_id": "T111", "team_domain": "bench", "channel_id": "C111", "channel_name": "netops",
                "user_id": user, "user_name": "bench", "command": "/peering", "text": txt, "api_app_id": "A111",
                "response_url": url, "trigger_id": f"{time.time():.0f}.1.bench"}, hook
    if kind == "button":
        payload = {"type": "block_actions", "user": {"id": user, "username": "bench", "team_id": "T111"},
                   "api_app_id": "A111", "token": "x", "team": {"id": "T111", "domain": "bench"},
                   "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C111",
                                 "is_ephemeral": True},
                   "trigger_id": f"{time.time():.0f}.2.bench", "channel": {"id": "C111", "name": "netops"},
                   "response_url": url,
                   "actions": [{"action_id": f"{Action.LIST_PAGE}-next", "block_id": "list_nav", "value": fx.next_value,
                                "type": "button", "text": {"type": "plain_text", "text": "Next"},
                                "action_ts": f"{time.time():.6f}"}]}
        return {"payload": json.dumps(payload)}, hook
    if kind == "submission":
        view = {**fx.wizard_view, "id": "VBENCH0001", "state": {"values": fx.wizard_values}, "hash": "1.x"}
        payload = {"type": "view_submission", "team": {"id": "T111", "domain": "bench"},
                   "user": {"id": user, "username": "bench", "team_id": "T111"}, "api_app_id": "A111", "token": "x",
                   "trigger_id": f"{time.time():.0f}.3.bench", "view": view, "response_urls": []}
        return {"payload": json.dumps(payload)}, None
    if kind == "suggestion":
        payload = {"type": "block_suggestion", "user": {"id": user, "username": "bench", "team_id": "T111"},
                   "container": {"type": "view", "view_id": "VBENCH0002"}, "api_app_id": "A111", "token": "x",
                   "action_id": Action.WIZARD_LOCAL_PEER, "block_id": "peer_local", "value": rnd.choice(fx.suggestions),
                   "team": {"id": "T111", "domain": "bench"},
                   "view": {"id": "VBENCH0002", "type": "modal", "callback_id": Callback.WIZARD,
                            "private_metadata": fx.wizard_view.get("private_metadata", ""), "blocks": []}}
        return {"payload": json.dumps(payload)}, None
    raise ValueError(kind)


@dataclass
class Sample:
    kind: str
    ack: float
    answer: float | None  # None: no answer within ANSWER_WAIT
    status: int


def one(client: Client, slack: TimedSlack, fx: Fixture, kind: str, rnd: random.Random, user: str) -> Sample:
    form, hook = build_request(kind, fx, rnd, user)
    start = time.perf_counter()
    if form is None:
        status, _ = client.request("GET", "/healthz")
    else:
        status, _ = client.slack(form)
    acked = time.perf_counter()
    answered: float | None = acked
    if hook is not None:
        arrival = slack.wait_arrival(hook, ANSWER_WAIT)
        answered = arrival if arrival is not None else None
    return Sample(kind, acked - start, None if answered is None else max(answered, start) - start, status)


def run_phase(port: int, slack: TimedSlack, fx: Fixture, clients: int, seconds: float, kinds: tuple[str, ...],
              pid: int) -> tuple[list[Sample], float, float]:
    """`clients` closed-loop clients for `seconds`; each cycles through `kinds` (shuffled per
    round). Returns the samples, the wall time and the bot's CPU seconds meanwhile."""
    samples: list[Sample] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    go = threading.Barrier(clients + 1)

    def worker(n: int) -> None:
        rnd = random.Random(n)
        client = Client(port)
        mine: list[Sample] = []
        go.wait()
        while time.monotonic() < stop:
            order = list(kinds)
            rnd.shuffle(order)
            for kind in order:
                mine.append(one(client, slack, fx, kind, rnd, _user(n)))
        client.conn.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    go.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return samples, wall, cpu_seconds(pid) - cpu0


def settle(pid: int, timeout: float = 30.0) -> None:
    """Wait until the bot is idle: work a phase left behind (the timeline pictures of `show`,
    drawn on the worker pool after the answer) would otherwise be counted against the next
    phase's requests."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu_seconds(pid)
        if now - before < 0.25 * 0.05:  # under 5 % of a core
            return
        before = now


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its finished children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks


# -- the bot process ------------------------------------------------------------------------------
@contextlib.contextmanager
def running_bot(db_url: str, slack: TimedSlack, workdir: Path, serve_args: tuple[str, ...] = ()) -> Iterator[tuple[int, int]]:
    """`serve_args`: more options of `peerbot serve`, e.g. ("--processes", "2") (bench/processes.py)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEERBOT_"))}
    env.update(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
               PEERBOT_DATABASE_URL=db_url, PEERBOT_SECRET_KEY="bench-secret", PEERBOT_OPEN_MODE="true",
               PEERBOT_POLL_INTERVAL="0", PEERBOT_PEERINGDB_SYNC_HOURS="0", PEERBOT_LOG_LEVEL="WARNING",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    log = open(workdir / f"bot-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", "serve", "--http",
                             "--port", str(port), *serve_args], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = Client(port).request("GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise SystemExit(f"the bot did not start; its log:\n{(workdir / f'bot-{port}.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield port, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def prepare(port: int, slack: TimedSlack, db: Database) -> Fixture:
    """Page 1's Next button and the wizard's step 1 view, asked of the bot as a user would."""
    from tests.slack.test_wizard import values_for

    client = Client(port)
    hooks = slack.url
    rnd = random.Random(1)
    with db.session() as s:
        ids = list(s.scalars(select(Session.id).order_by(Session.id).limit(5000)))
        names = [n for n, in s.execute(select(Peer.name).where(Peer.is_local.is_(True)).order_by(Peer.id).limit(2000))]
    first = list_sessions(db, "", page=1, page_size=15)
    from handlers.views.sessions import _page_value

    next_value = _page_value("", 2, after=ListKey.of(first.items[-1]))
    mark = slack.mark()
    form, _ = build_request("list", Fixture(hooks, ids, next_value, {}, {}, []), rnd, _user(0))
    assert form is not None
    form["text"] = "add"
    status, body = client.slack(form)
    if status != 200:
        raise SystemExit(f"/peering add answered {status}: {body[:200]!r}")
    view = slack.wait_for("views.open", after=mark, timeout=20).args["view"]
    values = values_for(view, type="local", exchange="No Exchange")
    words = [n.split()[0].lower() for n in names[:50]] + [n.lower()[:6] for n in names[:50]] \
        + [str(4_200_000_000 + i) for i in (1, 17, 250)] + [n.split()[-1] for n in names[:20]] + ["zzz-none"]
    fx = Fixture(hooks, ids, next_value, view, values, words)
    # every kind must do what it stands for, or its figures mean nothing
    for kind, expect in (("submission", b'"response_action": "update"'), ("suggestion", b'"options": [{')):
        form, _ = build_request(kind, fx, random.Random(3), _user(0))
        if kind == "suggestion":
            payload = json.loads(form["payload"])  # type: ignore[index]
            form = {"payload": json.dumps({**payload, "value": words[0]})}
        status, body = client.slack(form)  # type: ignore[arg-type]
        if status != 200 or expect not in body.replace(b'":"', b'": "'):
            raise SystemExit(f"a {kind} request did not get the expected answer: {status} {body[:300]!r}")
    client.conn.close()
    return fx


# -- figures --------------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def ms(x: float) -> str:
    return "   n/a" if x != x else f"{x * 1000:6.1f}"


def mark(ok: bool) -> str:
    return "met   " if ok else "MISSED"


@dataclass
class Results:
    lines: list[str] = field(default_factory=list)
    targets: list[tuple[bool, str]] = field(default_factory=list)

    def out(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def target(self, ok: bool, what: str) -> None:
        self.targets.append((ok, what))
        self.out(f"    target {mark(ok)} {what}")


def report_mixed(res: Results, label: str, clients: int, samples: list[Sample], wall: float, check: dict[str, bool]) -> None:
    by: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by[s.kind].append(s)
    floor = pct([s.ack for s in by["healthz"]], 99)
    res.out(f"  {clients} client(s), {len(samples)} requests in {wall:.1f} s")
    res.out("    kind          n    ack p50   p95    p99 ms  answer p50   p95    p99    max ms  lost  non-200  p99/healthz")
    for kind in KINDS:
        got = by.get(kind, [])
        acks = [s.ack for s in got]
        answers = [s.answer for s in got if s.answer is not None]
        lost = sum(1 for s in got if s.answer is None)
        bad = sum(1 for s in got if s.status != 200)
        ratio = pct(acks, 99) / floor if floor == floor and floor > 0 else float("nan")
        res.out(f"    {kind:11} {len(got):5}  {ms(pct(acks, 50))} {ms(pct(acks, 95))} {ms(pct(acks, 99))}    "
                f"{ms(pct(answers, 50))} {ms(pct(answers, 95))} {ms(pct(answers, 99))} {ms(max(answers, default=float('nan')))}"
                f"  {lost:4}  {bad:7}  {ratio:8.2f}x")
    if check.get("slack_limit"):
        for kind in KINDS:
            got = by.get(kind, [])
            worst = max((s.answer for s in got if s.answer is not None), default=0.0)
            lost = sum(1 for s in got if s.answer is None)
            res.target(lost == 0 and worst <= SLACK_LIMIT,
                       f"{label} {clients} clients: {kind} answered within {SLACK_LIMIT:.0f} s (max {worst:.2f} s, lost {lost})")
    if check.get("ratio"):
        for kind in KINDS[:-1]:
            p99 = pct([s.ack for s in by.get(kind, [])], 99)
            res.target(p99 <= 3 * floor, f"{label} {clients} clients: {kind} ack p99 {p99 * 1000:.1f} ms <= 3 x /healthz p99 "
                                         f"({3 * floor * 1000:.1f} ms)")
    if check.get("single"):
        for kind in ("list", "show", "button"):
            p50 = pct([s.ack for s in by.get(kind, [])], 50)
            res.target(p50 <= 0.005, f"{label} 1 client: {kind} ack p50 {p50 * 1000:.1f} ms <= 5 ms")


def service_timings(res: Results, label: str, db: Database, size: int, repeat: int) -> None:
    """Page 1, Next, the last page and the type-ahead, in this process (no HTTP)."""
    from bot.sessions.pickers import search_local_peers

    def timed(fn: Callable[[], Any]) -> list[float]:
        fn()
        out = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
        return out

    first = list_sessions(db, "", page=1, page_size=15)
    after = ListKey.of(first.items[-1])
    rows = {
        "list page 1": timed(lambda: list_sessions(db, "", page=1, page_size=15)),
        "list Next (keyset)": timed(lambda: list_sessions(db, "", page=2, page_size=15, after=after)),
        "list last page": timed(lambda: list_sessions(db, "", page=-1, page_size=15)),
        "list router:NAME": timed(lambda: list_sessions(db, "router:edge-007", page=1, page_size=15)),
        "list asn:N": timed(lambda: list_sessions(db, "AS4200000077", page=1, page_size=15)),
    }
    rnd = random.Random(5)
    peers = max(1, size // 4)
    queries = [peer_name(rnd.randrange(1, peers)).split()[0][:rnd.randint(1, 6)] for _ in range(20)] \
        + [str(4_200_000_000 + rnd.randrange(1, peers)) for _ in range(10)] + [str(42000000), "zzz", "bone 1"]
    ta: list[float] = []
    for q in queries:
        ta += timed(lambda q=q: search_local_peers(db, q))[: max(1, repeat // 4)]
    rows["type-ahead (local peers)"] = ta
    res.out(f"  service timings, this process ({repeat} runs each):   p50     p95 ms")
    for name, values in rows.items():
        res.out(f"    {name:28} {ms(pct(values, 50))} {ms(pct(values, 95))}")
    if size >= 100_000:
        for name in ("list page 1", "list last page"):
            p50 = pct(rows[name], 50)
            res.target(p50 <= 0.020, f"{label}: {name} {p50 * 1000:.1f} ms <= 20 ms (p50)")
        p95 = pct(ta, 95)
        res.target(p95 <= 0.050, f"{label}: type-ahead p95 {p95 * 1000:.1f} ms <= 50 ms")


# -- databases ------------------------------------------------------------------------------------
@contextlib.contextmanager
def database(kind: str, workdir: Path, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:6]}.db"
        yield f"sqlite:///{path}"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in pg_url else "?"
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def machine(pg_url: str, dbs: list[str]) -> list[str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    out = [f"machine: {platform.node()} · {platform.system()} {platform.release()} · {os.cpu_count()} CPU(s) {model}",
           f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on the machine skews every figure)",
           f"python {platform.python_version()} · SQLite {sqlite3.sqlite_version}"]
    if "postgresql" in dbs:
        try:
            eng = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
            with eng.connect() as c:
                out[-1] += " · " + str(c.scalar(text("SELECT version()"))).split(",")[0]
            eng.dispose()
        except Exception as exc:  # noqa: BLE001
            out[-1] += f" · PostgreSQL unreachable ({type(exc).__name__})"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="session counts, comma separated")
    ap.add_argument("--dbs", default="sqlite,postgresql", help="sqlite, postgresql or both")
    ap.add_argument("--clients", default="1,10,50", help="concurrent clients of the mixed phases")
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each phase")
    ap.add_argument("--routers", type=int, default=200)
    ap.add_argument("--pg-url", default=os.environ.get("PEERBOT_BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--quick", action="store_true", help="2,000 sessions on SQLite, 1.5 s phases: does it all work?")
    ap.add_argument("--no-saturation", action="store_true", help="skip the per-kind requests/s phases")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.dbs, args.seconds = "2000", "sqlite", 1.5
    sizes = [int(x) for x in args.sizes.split(",") if x]
    dbs = [x.strip() for x in args.dbs.split(",") if x.strip()]
    clients = [int(x) for x in args.clients.split(",") if x]
    res = Results()
    res.out("bench/ack_latency.py: the bot in HTTP mode (its own process) against the fake Slack Web API")
    for line in machine(args.pg_url, dbs):
        res.out(line)
    res.out(f"sizes {sizes} sessions over {args.routers} routers · databases {dbs} · clients {clients} · "
            f"{args.seconds:.1f} s a phase · times in ms; ack = request -> HTTP response, "
            "answer = request -> message posted at the fake Slack (ack for submission/suggestion/healthz)")
    slack = TimedSlack().start()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="peerbot-bench-") as tmp:
            workdir = Path(tmp)
            for kind in dbs:
                for size in sizes:
                    label = f"{kind} {size // 1000}k" if size >= 1000 else f"{kind} {size}"
                    with database(kind, workdir, args.pg_url) as url:
                        db = Database(url)
                        db.upgrade()
                        t = time.perf_counter()
                        load_sessions(db, size, routers=args.routers)
                        if kind == "postgresql":
                            with db.engine.begin() as c:
                                c.execute(text("ANALYZE"))
                        res.out("")
                        res.out(f"== {label}: {size:,} sessions loaded in {time.perf_counter() - t:.1f} s")
                        service_timings(res, label, db, size, repeat=40 if not args.quick else 10)
                        with running_bot(url, slack, workdir) as (port, pid):
                            fx = prepare(port, slack, db)
                            for n in clients:
                                samples, wall, _ = run_phase(port, slack, fx, n, args.seconds, KINDS, pid)
                                report_mixed(res, label, n, samples, wall, {
                                    "slack_limit": n == 50 and size == 10_000 or (args.quick and n == max(clients)),
                                    "ratio": n == 50 and size == 10_000 or (args.quick and n == max(clients)),
                                    "single": n == 1})
                            if not args.no_saturation:
                                n = max(clients)
                                res.out(f"  saturation, {n} clients, one kind at a time:   req/s   server CPU ms/request")
                                rate: dict[str, float] = {}
                                for k in KINDS:
                                    settle(pid)
                                    samples, wall, cpu = run_phase(port, slack, fx, n, args.seconds, (k,), pid)
                                    rate[k] = len(samples) / wall
                                    res.out(f"    {k:11} {rate[k]:32.0f}   {cpu / max(1, len(samples)) * 1000:10.2f}")
                                if size == 10_000 or args.quick:
                                    share = rate["list"] / rate["healthz"]
                                    res.target(share >= 0.4, f"{label}: list {rate['list']:.0f}/s is {share:.0%} of "
                                                             f"/healthz {rate['healthz']:.0f}/s (>= 40%)")
                        db.dispose()
    finally:
        slack.stop()
    res.out("")
    missed = [w for ok, w in res.targets if not ok]
    res.out(f"summary: {len(res.targets) - len(missed)} of {len(res.targets)} targets met in {time.monotonic() - started:.0f} s"
            + (" — missed:" if missed else ""))
    for w in missed:
        res.out(f"  MISSED {w}")


if __name__ == "__main__":
    main()
