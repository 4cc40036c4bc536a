"""Chaos run (issue 19): the bot as users run it, under faults, with a ledger at the end.

    PYTHONPATH=$PWD .venv/bin/python bench/chaos.py --seed 1
    ... --routers 20 --sessions 10 --requests 120 --kills 5

What runs, all on this machine:
  * a throw-away PostgreSQL cluster (initdb / pg_ctl as the `postgres` OS user, in a temp folder,
    on a spare port, trust auth), stopped and removed at the end;
  * the simulated SSH fleet (tests/harness/ssh_fleet.py) in a process of its own: R FRR routers,
    each with S/2 neighbors already configured; the database holds S sessions a router (the other
    S/2 not configured yet);
  * the fake Slack Web API (tests/harness/fake_slack.py) in this process;
  * two bot replicas, `peerbot serve --http` on two ports, on that PostgreSQL.
The bench files change requests through signed Slack requests (Configure of unconfigured sessions,
Admin Down / Admin Up of configured ones, bulk Admin Down of a few sessions of one router; each
session is asked for once, so each of its lines must reach its router at most once), and
approves each from the approval message it sees in the fake Slack, from two approvers at once,
plus a Slack retry of one click (same body, X-Slack-Retry-Num) and a second click. A request sent
to a replica that is down is sent again to the other one (as a load balancer would), with the
retry header.

Faults at seeded moments (printed): kill -9 of a replica and its restart (--kills), PostgreSQL
stopped (`pg_ctl stop -m fast`) and started again after a few seconds, the fake Slack answering
HTTP 500 for chat.postMessage/chat.update for a while, then 429 with Retry-After, and a router
dropping the connection after a few config lines (the simulator's "drop" switch).

The ledger at the end: requests filed / approved / done / failed (with reason) / outcome unknown;
run twice (a session's lines reaching its router more than once, from the simulator's per-router
config logs); lost (acked but not in the database, or not final); stuck in running/approved after
settling; per session, the database's configured / admin status against the router's; Slack:
approval messages posted per request; ack times (under 3 s, apart from those sent while a replica
was down); /healthz while PostgreSQL was down and after; peak RSS of the bot processes.
Exit 1 on any run twice, lost, stuck, or approval message posted more or fewer than once.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests
from sqlalchemy import select, text, update

from handlers.ids import Action
from handlers.views.sessions import BULK_BLOCK
from storage.db import Database
from storage.models import ChangeRequest, Router, Session
from tests.harness.bot import APPROVAL_CHANNEL, BOT_TOKEN, OPERATOR, SIGNING_SECRET
from tests.harness.fake_slack import FakeSlack
from tests.harness.slack_requests import load_payload, sign
from tests.harness.ssh_fleet import PASSWORD, PASSWORD_ENV, neighbor_ip, register

PG_BIN = Path("/usr/lib/postgresql/15/bin")
APPROVERS = ("U222", "U223")
ACK_LIMIT = 3.0
T0 = time.monotonic()


def now() -> float:
    return time.monotonic() - T0


def say(msg: str) -> None:
    print(f"[{now():7.1f}s] {msg}", flush=True)


# -- PostgreSQL ----------------------------------------------------------------------------------
class Postgres:
    """A cluster of its own in a temp folder, run as the postgres OS user."""

    def __init__(self, base: Path, port: int):
        self.dir = base / "pg"
        self.port = port
        self.dir.mkdir()
        shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        self.run("initdb", "-D", str(self.dir), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.url = f"postgresql://postgres@127.0.0.1:{port}/chaos"

    @staticmethod
    def run(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args], capture_output=True,
                              text=True, check=check, cwd="/tmp")

    def start(self) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off -c max_connections=200"
        self.run("pg_ctl", "-D", str(self.dir), "-l", str(self.dir / "log"), "-o", opts, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.dir), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def createdb(self) -> None:
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "chaos")


def free_port(prefer: int = 0) -> int:
    for candidate in ([prefer] if prefer else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


# -- the fleet process ---------------------------------------------------------------------------
class Fleet:
    def __init__(self, routers: int, neighbors: int, delay: float):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.harness.ssh_fleet", "--routers", str(routers), "--sessions", str(neighbors),
             "--connect-delay", str(delay), "--command-delay", str(delay)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.ports = json.loads(self.proc.stdout.readline())["ports"]
        self.guard = threading.Lock()

    def ask(self, line: str) -> Any:
        with self.guard:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            return json.loads(self.proc.stdout.readline())

    def stop(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(15)
        except Exception:  # noqa: BLE001
            self.proc.kill()


# -- the fake Slack, counting what it accepted ---------------------------------------------------
class ChaosSlack(FakeSlack):
    """Counts the approval messages it accepted (a 500 or 429 is not a post), and hands the
    approvers only those: a message Slack refused is not seen by anyone."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: Counter[int] = Counter()  # request id -> approval messages accepted (chat.postMessage)
        self.accepted: list[tuple[int, str]] = []  # (request id, ts) of each accepted approval message

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        answer = super()._answer(method, args)
        if method == "chat.postMessage" and args.get("channel") == APPROVAL_CHANNEL and answer.get("ok"):
            m = re.match(r"Change request #(\d+)", str(args.get("text") or ""))
            if m and "outcome unknown" not in str(args.get("text")):
                with self._cond:
                    self.posted[int(m.group(1))] += 1
                    self.accepted.append((int(m.group(1)), answer["ts"]))
        return answer


# -- bot replicas --------------------------------------------------------------------------------
@dataclass
class Replica:
    name: str
    port: int
    env: dict[str, str]
    logdir: Path
    proc: subprocess.Popen | None = None
    down: list[list[float]] = field(default_factory=list)  # [from, to] while not serving
    peak_rss_mb: float = 0.0
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.logdir / f"{self.name}-{self.starts}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", "serve", "--http",
                                      "--port", str(self.port)], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.logdir, start_new_session=False)
        log.close()

    def wait_ready(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    if self.down and self.down[-1][1] < 0:
                        self.down[-1][1] = now()
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.2)
        return False

    def sample_rss(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_mb = max(self.peak_rss_mb, int(line.split()[1]) / 1024)
        except OSError:
            pass

    def kill9(self) -> None:
        self.sample_rss()
        self.down.append([now(), -1.0])
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.sample_rss()
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def was_down(self, t0: float, t1: float) -> bool:
        return any(a <= t1 + 0.5 and (b < 0 or b >= t0 - 0.5) for a, b in self.down)


# -- signed Slack requests -----------------------------------------------------------------------
def button_body(action_id: str, value: str, user: str, channel: str, message_ts: str, response_url: str,
                state: dict | None = None) -> str:
    p = copy.deepcopy(load_payload("block_actions_message.json"))
    p["user"] = {"id": user, "username": "user", "name": "user", "team_id": "T111"}
    p["team"] = {"id": "T111", "domain": "test"}
    p["container"].update(channel_id=channel, message_ts=message_ts, is_ephemeral=state is not None)
    p["channel"] = {"id": channel, "name": "netops"}
    p["message"]["ts"] = message_ts
    p["response_url"] = response_url
    p["trigger_id"] = f"{int(time.time())}.222.trigger"
    p["actions"] = [{"action_id": action_id, "block_id": "b", "text": {"type": "plain_text", "text": "x"},
                     "value": value, "type": "button", "action_ts": f"{time.time():.6f}"}]
    if state is not None:
        p["state"] = state
    return urlencode({"payload": json.dumps(p)})


@dataclass
class Ack:
    what: str
    start: float
    seconds: float
    status: int | None  # None: no answer from any replica
    replica: str
    retried: bool


class Clicker:
    """Posts signed bodies to a replica; one that does not answer gets it again (other replica,
    X-Slack-Retry-Num), as Slack retries and a load balancer moves on."""

    def __init__(self, replicas: list[Replica], rnd: random.Random):
        self.replicas, self.rnd = replicas, rnd
        self.acks: list[Ack] = []
        self.lock = threading.Lock()

    def post(self, what: str, body: str, retry_num: int = 0, prefer: int | None = None) -> Ack:
        order = list(self.replicas)
        with self.lock:
            self.rnd.shuffle(order)
        if prefer is not None:
            order.sort(key=lambda r: r is not self.replicas[prefer])
        start = now()
        for attempt in range(4):
            rep = order[attempt % len(order)]
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": sign(SIGNING_SECRET, body, int(ts))}
            if attempt or retry_num:
                headers.update({"X-Slack-Retry-Num": str(attempt + retry_num), "X-Slack-Retry-Reason": "http_timeout"})
            t = now()
            try:
                r = requests.post(f"http://127.0.0.1:{rep.port}/slack/events", data=body.encode(), headers=headers,
                                  timeout=ACK_LIMIT * 2)
                ack = Ack(what, t, now() - t, r.status_code, rep.name, attempt > 0 or retry_num > 0)
                if r.status_code < 500:
                    break
            except requests.RequestException:
                ack = Ack(what, t, now() - t, None, rep.name, attempt > 0 or retry_num > 0)
            with self.lock:
                self.acks.append(ack)
            time.sleep(0.3 if attempt else 0.05)
        else:
            return Ack(what, start, now() - start, None, "-", True)
        with self.lock:
            self.acks.append(ack)
        return ack


# -- the plan ------------------------------------------------------------------------------------
@dataclass
class Filing:
    n: int
    kind: str  # configure | admin_down | admin_up | bulk_down
    session_ids: list[int]
    key: str = ""  # the idempotency key the bot stores (action_id:user:action_ts)
    acked: int | None = None
    at: float = 0.0


def plan(rnd: random.Random, sessions: dict[int, tuple[int, int, bool]], count: int) -> list[Filing]:
    """sessions: id -> (router index, neighbor index, configured)."""
    unconf = [sid for sid, (_, _, c) in sessions.items() if not c]
    conf_by_router: dict[int, list[int]] = defaultdict(list)
    for sid, (r, _, c) in sessions.items():
        if c:
            conf_by_router[r].append(sid)
    rnd.shuffle(unconf)
    out: list[Filing] = []
    n_conf = min(len(unconf), count * 45 // 100)
    for sid in unconf[:n_conf]:
        out.append(Filing(0, "configure", [sid]))
    routers = list(conf_by_router)
    rnd.shuffle(routers)
    n_bulk = max(1, count // 12)
    for r in routers[:n_bulk]:  # bulk Admin Down of 3 sessions of one router
        picked = conf_by_router[r][:3]
        conf_by_router[r] = conf_by_router[r][3:]
        out.append(Filing(0, "bulk_down", picked))
    rest = [sid for r in routers for sid in conf_by_router[r]]
    rnd.shuffle(rest)
    left = count - len(out)
    for i, sid in enumerate(rest[:left]):
        out.append(Filing(0, "admin_down" if i % 2 == 0 else "admin_up", [sid]))
    rnd.shuffle(out)
    for i, f in enumerate(out):
        f.n = i + 1
    return out


def file_body(f: Filing, slack: FakeSlack) -> str:
    hook = slack.response_url(f"file-{f.n}")
    if f.kind == "bulk_down":
        state = {"values": {BULK_BLOCK: {Action.BULK_SELECT: {"type": "checkboxes", "selected_options": [
            {"value": str(sid), "text": {"type": "mrkdwn", "text": str(sid)}} for sid in f.session_ids]}}}}
        body = button_body(f"{Action.BULK_ACTION}-admin_down", "", OPERATOR, "C111", f"1700000001.{f.n:06d}", hook,
                           state)
    else:
        action = {"configure": Action.CONFIGURE, "admin_down": Action.ADMIN_DOWN, "admin_up": Action.ADMIN_UP}[f.kind]
        body = button_body(action, str(f.session_ids[0]), OPERATOR, "C111", f"1700000000.{f.n:06d}", hook)
    payload = json.loads(_payload_of(body))
    act = payload["actions"][0]
    f.key = f"{act['action_id']}:{OPERATOR}:{act['action_ts']}"[:160]
    return body


def _payload_of(body: str) -> str:
    from urllib.parse import parse_qs

    return parse_qs(body)["payload"][0]


# -- faults --------------------------------------------------------------------------------------
def fault_schedule(rnd: random.Random, window: float, kills: int, routers: int) -> list[tuple[float, str, Any]]:
    ev: list[tuple[float, str, Any]] = []
    for i in range(kills):
        ev.append((rnd.uniform(0.05, 0.95) * window, "kill", i % 2))
    ev.append((rnd.uniform(0.3, 0.7) * window, "pg_restart", rnd.uniform(3, 5)))
    ev.append((rnd.uniform(0.1, 0.5) * window, "slack_500", rnd.uniform(4, 8)))
    ev.append((rnd.uniform(0.5, 0.9) * window, "slack_429", rnd.randint(3, 8)))
    for _ in range(3):
        ev.append((rnd.uniform(0.1, 0.9) * window, "router_drop", (rnd.randrange(routers), rnd.randint(1, 4))))
    ev.sort(key=lambda e: e[0])
    # two kills closer than a restart takes would kill a replica that is not up yet: spread them
    last: dict[int, float] = {}
    out = []
    for t, kind, arg in ev:
        if kind == "kill":
            t = max(t, last.get(arg, -99) + 12)
            last[arg] = t
        out.append((t, kind, arg))
    out.sort(key=lambda e: e[0])
    return out


# -- the run -------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--routers", type=int, default=20)
    ap.add_argument("--sessions", type=int, default=10, help="sessions a router (half of them configured)")
    ap.add_argument("--requests", type=int, default=120)
    ap.add_argument("--rate", type=float, default=2.0, help="requests filed a second")
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--delay", type=float, default=0.3, help="router login / command delay, seconds")
    ap.add_argument("--poll", type=int, default=15, help="PEERBOT_POLL_INTERVAL of the bots, seconds (0: no polls)")
    ap.add_argument("--pg-port", type=int, default=55432)
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (logs) at the end")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="peerbot-chaos-"))
    os.chmod(tmp, 0o755)
    say(f"bench/chaos.py --seed {args.seed}: {args.routers} routers x {args.sessions} sessions, {args.requests} requests, "
        f"{args.kills} kills; work folder {tmp}")
    pg = fleet = slack = None
    replicas: list[Replica] = []
    try:
        pg = Postgres(tmp, free_port(args.pg_port))
        pg.start()
        pg.createdb()
        say(f"PostgreSQL 15 of its own on 127.0.0.1:{pg.port} ({pg.dir})")
        half = args.sessions // 2
        fleet = Fleet(args.routers, half, args.delay)
        db = Database(pg.url)
        db.upgrade()
        register(db, fleet.ports, args.sessions, configured=True)
        unconf_ips = [neighbor_ip(i) for i in range(half, args.sessions)]
        with db.session() as s:
            s.execute(update(Session).where(Session.peer_ip.in_(unconf_ips)).values(configured=False))
        with db.session() as s:
            rnames = {r.id: r.name for r in s.scalars(select(Router))}
            ips = {neighbor_ip(i): i for i in range(args.sessions)}
            sessions = {row.id: (int(rnames[row.router_id][1:]) - 1, ips[row.peer_ip], row.configured)
                        for row in s.scalars(select(Session))}
            srows = {row.id: (rnames[row.router_id], row.peer_ip, row.peer.asn) for row in s.scalars(select(Session))}
        say(f"fleet: {args.routers} simulated FRR routers ({half} neighbors each), {len(sessions)} sessions in the database")
        slack = ChaosSlack().start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEERBOT_"))}
        env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
                   PEERBOT_DATABASE_URL=pg.url, PEERBOT_SECRET_KEY="chaos-secret", PEERBOT_OPERATORS=OPERATOR,
                   PEERBOT_APPROVERS=",".join(APPROVERS), PEERBOT_APPROVAL_CHANNEL=APPROVAL_CHANNEL,
                   PEERBOT_POLL_INTERVAL=str(args.poll), PEERBOT_PEERINGDB_SYNC_HOURS="0", PEERBOT_DRIFT_HOURS="0",
                   PEERBOT_IRR_REFRESH_HOURS="0", PEERBOT_POLL_PROCESSES="0", PEERBOT_LOG_LEVEL="INFO",
                   PEERBOT_ROUTER_TIMEOUT="10", **{PASSWORD_ENV: PASSWORD},
                   PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
        replicas = [Replica(f"bot{i + 1}", free_port(), env, tmp) for i in range(2)]
        for r in replicas:
            r.start()
        for r in replicas:
            if not r.wait_ready():
                raise SystemExit(f"{r.name} did not start; see {tmp}/{r.name}-1.log")
        say(f"two replicas: {', '.join(f'{r.name} :{r.port} pid {r.proc.pid}' for r in replicas)}")  # type: ignore[union-attr]

        filings = plan(rnd, sessions, args.requests)
        window = len(filings) / args.rate
        faults = fault_schedule(rnd, window, args.kills, args.routers)
        say(f"{len(filings)} requests over {window:.0f} s; faults (seed {args.seed}):")
        for t, kind, arg in faults:
            print(f"           at {t:6.1f} s  {kind} {arg}", flush=True)
        clicker = Clicker(replicas, random.Random(args.seed + 1))
        stop = threading.Event()
        pg_down: list[list[float]] = []
        health: list[tuple[float, str, int | None]] = []
        events: list[str] = []
        approved_clicks: dict[int, float] = {}
        reclicks: Counter[int] = Counter()
        seen_approval: dict[int, float] = {}
        pool = ThreadPoolExecutor(16, thread_name_prefix="approve")  # one task a request: its clicks
        clicks = ThreadPoolExecutor(8, thread_name_prefix="click")  # the two simultaneous clicks (not `pool`: no deadlock)

        def healthz() -> None:
            while not stop.is_set():
                for r in replicas:
                    try:
                        st: int | None = requests.get(f"http://127.0.0.1:{r.port}/healthz", timeout=1.5).status_code
                    except requests.RequestException:
                        st = None
                    health.append((now(), r.name, st))
                    r.sample_rss()
                stop.wait(0.25)

        def approve(rid: int, ts: str) -> None:
            """Both approvers at once, one click sent again as a Slack retry, and a second click."""
            hook = slack.response_url(f"approve-{rid}")  # type: ignore[union-attr]
            bodies = [(u, button_body(Action.CHANGE_APPROVE, str(rid), u, APPROVAL_CHANNEL, ts, hook)) for u in APPROVERS]
            barrier = threading.Barrier(2)

            def click(user: str, body: str) -> None:
                barrier.wait()
                clicker.post(f"approve #{rid} {user}", body)

            futs = [clicks.submit(click, u, b) for u, b in bodies]
            for f in futs:
                f.result()
            clicker.post(f"approve #{rid} retry", bodies[0][1], retry_num=1)
            clicker.post(f"approve #{rid} again", button_body(Action.CHANGE_APPROVE, str(rid), APPROVERS[1],
                                                              APPROVAL_CHANNEL, ts, hook))
            # an approver told "Something went wrong" (the database away) clicks again a bit later
            for _ in range(6):
                time.sleep(3)
                with db.session() as s:
                    try:
                        st = s.scalar(select(ChangeRequest.state).where(ChangeRequest.id == rid))
                    except Exception:  # noqa: BLE001, S112 - PostgreSQL itself is down: ask again later
                        continue
                if str(getattr(st, "value", st)) != "requested":
                    break
                reclicks[rid] += 1
                clicker.post(f"approve #{rid} re-click", button_body(Action.CHANGE_APPROVE, str(rid), APPROVERS[0],
                                                                     APPROVAL_CHANNEL, ts, hook))
            approved_clicks[rid] = now()

        def approver() -> None:
            after = 0
            while not stop.is_set():
                with slack._cond:  # type: ignore[union-attr]
                    fresh = slack.accepted[after:]  # type: ignore[union-attr]
                    after += len(fresh)
                for rid, ts in fresh:
                    if rid in seen_approval:
                        continue
                    seen_approval[rid] = now()
                    pool.submit(approve, rid, ts)
                stop.wait(0.2)

        side: list[threading.Thread] = []

        def fault_runner() -> None:
            start = now()
            for t, kind, arg in faults:
                while now() - start < t and not stop.is_set():
                    time.sleep(0.05)
                if stop.is_set():
                    return
                if kind == "kill":
                    r = replicas[arg]
                    if r.proc is None or r.proc.poll() is not None:
                        events.append(f"{now():6.1f}s kill {r.name}: not running, skipped")
                        continue
                    pid = r.proc.pid
                    r.kill9()
                    events.append(f"{now():6.1f}s kill -9 {r.name} (pid {pid})")
                    say(f"FAULT kill -9 {r.name} pid {pid}")

                    def restart(r: Replica = r) -> None:
                        time.sleep(rnd.uniform(1, 3))
                        for attempt in range(5):
                            r.start()
                            if r.wait_ready():
                                events.append(f"{now():6.1f}s {r.name} restarted (pid {r.proc.pid})")  # type: ignore[union-attr]
                                say(f"{r.name} back (pid {r.proc.pid})")  # type: ignore[union-attr]
                                return
                            events.append(f"{now():6.1f}s {r.name} restart {attempt + 1} failed (exit {r.proc.poll()})")  # type: ignore[union-attr]
                            if r.proc is not None and r.proc.poll() is None:
                                r.proc.kill()
                                r.proc.wait()
                            time.sleep(2)
                    threading.Thread(target=restart, daemon=True).start()
                elif kind == "pg_restart":
                    def pg_restart(arg: float = arg) -> None:
                        say(f"FAULT PostgreSQL stop -m fast, down {arg:.1f} s")
                        a = now()
                        pg.stop("fast")  # type: ignore[union-attr]
                        pg_down.append([a, -1.0])
                        time.sleep(arg)
                        pg.start()  # type: ignore[union-attr]
                        pg_down[-1][1] = now()
                        events.append(f"{a:6.1f}s PostgreSQL stopped (-m fast), started again at {pg_down[-1][1]:.1f}s")
                        say("PostgreSQL up again")
                    side.append(threading.Thread(target=pg_restart, daemon=True))
                    side[-1].start()
                elif kind == "slack_500":
                    def slack_500(arg: float = arg) -> None:
                        say(f"FAULT fake Slack answers 500 to chat.postMessage/chat.update for {arg:.1f} s")
                        a = now()
                        slack.http_errors.update({"chat.postMessage": 500, "chat.update": 500})  # type: ignore[union-attr]
                        time.sleep(arg)
                        slack.http_errors.clear()  # type: ignore[union-attr]
                        events.append(f"{a:6.1f}s fake Slack 500 on chat.postMessage/chat.update for {arg:.1f} s")
                    side.append(threading.Thread(target=slack_500, daemon=True))
                    side[-1].start()
                elif kind == "slack_429":
                    say(f"FAULT fake Slack 429 (Retry-After 2) on the next {arg} chat.postMessage and chat.update")
                    slack.rate_limit("chat.postMessage", arg, 2)  # type: ignore[union-attr]
                    slack.rate_limit("chat.update", arg, 2)  # type: ignore[union-attr]
                    events.append(f"{now():6.1f}s fake Slack 429 Retry-After 2 for the next {arg} postMessage/update")
                elif kind == "router_drop":
                    idx, n = arg
                    fleet.ask(f"drop {idx} {n} 1")  # type: ignore[union-attr]
                    events.append(f"{now():6.1f}s router r{idx + 1}: next config session dropped after {n} lines")
                    say(f"FAULT router r{idx + 1} drops its next config session after {n} config lines")

        threads = [threading.Thread(target=fn, daemon=True) for fn in (healthz, approver, fault_runner)]
        for t in threads:
            t.start()
        filer_pool = ThreadPoolExecutor(4)

        def file_one(f: Filing) -> None:
            body = file_body(f, slack)  # type: ignore[arg-type]
            f.at = now()
            ack = clicker.post(f"file #{f.n} {f.kind}", body)
            f.acked = ack.status
        t_start = now()
        futs = []
        for f in filings:
            futs.append(filer_pool.submit(file_one, f))
            time.sleep(1 / args.rate)
        for fu in futs:
            fu.result()
        threads[2].join()
        for t in side:
            t.join()
        say(f"all {len(filings)} filed in {now() - t_start:.0f} s; settling")

        # -- settle: both replicas up, nothing approved/running, every approval seen and clicked
        for r in replicas:
            r.wait_ready(60)
        deadline = now() + 120
        quiet_since = None
        while now() < deadline:
            with db.session() as s:
                states = Counter(st for st, in s.execute(select(ChangeRequest.state)))
                unposted = s.scalar(select(text("count(*)")).select_from(ChangeRequest)
                                    .where(ChangeRequest.needs_approval.is_(True), ChangeRequest.approval_ts.is_(None)))
            busy = states.get("approved", 0) + states.get("running", 0)
            waiting_clicks = [rid for rid in seen_approval if rid not in approved_clicks]
            if busy == 0 and not waiting_clicks:
                quiet_since = quiet_since or now()
                # two sweeps with nothing to do, and two polls: what an interrupted change left is read back
                if now() - quiet_since > max(12, 2 * args.poll + 3):
                    break
            else:
                quiet_since = None
            time.sleep(1)
        stop.set()
        for t in threads[:2]:
            t.join(5)
        pool.shutdown(wait=False, cancel_futures=True)
        clicks.shutdown(wait=False, cancel_futures=True)
        time.sleep(1)
        say(f"settled at {now():.0f} s (unposted approval messages: {unposted})")
        for r in replicas:
            r.sample_rss()

        code = ledger(args, db, fleet, slack, filings, clicker, replicas, health, pg_down, events, srows,
                      seen_approval, approved_clicks, reclicks)
        db.dispose()
        return code
    finally:
        for r in replicas:
            r.stop()
        if slack is not None:
            slack.stop()
        if fleet is not None:
            fleet.stop()
        if pg is not None:
            pg.stop("immediate")
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def ledger(args, db, fleet, slack, filings, clicker, replicas, health, pg_down, events, srows,
           seen_approval, approved_clicks, reclicks) -> int:
    bad: list[str] = []
    print(f"\n==================== LEDGER (seed {args.seed}) ====================")
    print("faults injected:")
    for e in sorted(events, key=lambda x: float(x.split("s", 1)[0])):
        print("  " + e)
    with db.session() as s:
        rows = list(s.scalars(select(ChangeRequest).order_by(ChangeRequest.id)))
        by_key = {r.idempotency_key: r for r in rows}
        reqs = {r.id: {"state": str(r.state.value if hasattr(r.state, "value") else r.state), "action": r.action,
                       "outcome": r.outcome or "", "sessions": [i.session_id for i in r.items],
                       "items": [(i.session_id, i.ok, i.result) for i in r.items], "decided_by": r.decided_by,
                       "approval_ts": r.approval_ts, "needs_approval": r.needs_approval, "key": r.idempotency_key}
                for r in rows}
        sess = {row.id: (row.configured, str(getattr(row.admin_status, "value", row.admin_status)), row.needs_check)
                for row in s.scalars(select(Session))}
    acked = [f for f in filings if f.acked == 200]
    no_ack = [f for f in filings if f.acked != 200]
    told = {c.path.rsplit("-", 1)[-1]: json.dumps(c.args)[:300] for c in slack.of("response_url")
            if c.path.startswith("/hooks/file-")}
    stored = [f for f in filings if f.key in by_key]
    refused = [f for f in acked if f.key not in by_key]
    lost = [f for f in refused if str(f.n) not in told]
    print(f"\nrequests filed: {len(filings)} (acked 200: {len(acked)}, no 200 from any replica: {len(no_ack)})")
    print(f"  stored in the database: {len(stored)}; acked but not stored: {len(refused)} "
          f"(of which the user was told why: {len(refused) - len(lost)}, told nothing: {len(lost)})")
    for f in refused[:8]:
        print(f"    #{f.n} {f.kind} {f.session_ids}: {told.get(str(f.n), 'NOTHING')[:200]}")
    for f in no_ack:
        print(f"    #{f.n} {f.kind}: no 200 (last status {f.acked}); in the database: {f.key in by_key}")
    states = Counter(r["state"] for r in reqs.values())
    print(f"  states now: {dict(sorted(states.items()))}")
    approved = [r for r in reqs.values() if r["decided_by"] in APPROVERS]
    print(f"  approved by an approver: {len(approved)} "
          f"(by {dict(Counter(r['decided_by'] for r in approved))}; approval messages seen {len(seen_approval)}, "
          f"clicked {len(approved_clicks)}; approvals clicked again after a failure: {len(reclicks)})")
    unknown = [(rid, r) for rid, r in reqs.items() if r["outcome"].startswith("Outcome unknown")]
    failed = [(rid, r) for rid, r in reqs.items() if r["state"] == "failed" and not r["outcome"].startswith("Outcome unknown")]
    print(f"  done: {states.get('done', 0)}; failed with a reason: {len(failed)}; outcome unknown (reconciled "
          f"by the sweep): {len(unknown)}")
    reasons = Counter(re.sub(r"#\d+|\d+\.\d+\.\d+\.\d+|AS\d+|r\d+\b", "*", r["outcome"])[:110] for _, r in failed)
    for why, n in reasons.most_common(8):
        print(f"    {n:3} x failed: {why}")
    for rid, r in unknown:
        print(f"    #{rid} {r['action']} {r['sessions']}: {r['outcome'][:90]}")
    waiting = [rid for rid, r in reqs.items() if r["state"] == "requested"]
    stuck = [rid for rid, r in reqs.items() if r["state"] in ("running", "approved")]
    final = {"done", "failed", "rejected", "cancelled", "expired"}
    not_final = [rid for rid, r in reqs.items() if r["state"] not in final and r["state"] != "requested"]
    print(f"\nlost: {len(lost)} (acked, not stored, user told nothing)"
          f"; legitimately waiting (requested): {len(waiting)} {waiting[:10]}")
    print(f"stuck in running/approved after settling: {len(stuck)} {stuck[:10]}")
    if lost:
        bad.append(f"lost {len(lost)}")
    if stuck or not_final:
        bad.append(f"stuck {len(stuck)}")

    # -- run twice, from the routers' config logs
    state = fleet.ask("lines")
    key_line = {"configure": "neighbor {ip} remote-as {asn}", "admin_down": "neighbor {ip} shutdown",
                "admin_up": "no neighbor {ip} shutdown"}
    twice: list[str] = []
    reached = Counter()
    for rid, r in reqs.items():
        for sid in r["sessions"]:
            rname, ip, asn = srows[sid]
            want = key_line[r["action"]].format(ip=ip, asn=asn)
            n = sum(1 for line in state[rname] if line == want)
            reached[n] += 1
            if n > 1:
                twice.append(f"#{rid} {r['action']} session {sid} ({ip} on {rname}): '{want}' reached it {n} times "
                             f"(state {r['state']})")
            if n == 0 and r["state"] == "done":
                twice.append(f"#{rid} done but '{want}' never reached {rname}")
    print(f"\nrun twice: {sum(1 for t in twice if 'times' in t)} (session lines reaching a router more than once; "
          f"per session item: reached 0x {reached[0]}, 1x {reached[1]}, more {sum(v for k, v in reached.items() if k > 1)})")
    for t in twice[:12]:
        print("    " + t)
    if any("times" in t for t in twice):
        bad.append("run twice")
    if any("never reached" in t for t in twice):
        bad.append("done but never reached the router")

    # -- per session: DB against the routers (the simulator has the neighbors' config)
    stats = fleet.ask("stats")
    down_by_router = {r["name"]: set(r["admin_down"]) for r in stats["routers"]}
    present: dict[str, set[str]] = defaultdict(set)
    half = args.sessions // 2
    for rname in down_by_router:
        present[rname] = {neighbor_ip(i) for i in range(half)}
        for line in state[rname]:
            m = re.match(r"neighbor (\S+) remote-as", line)
            if m:
                present[rname].add(m.group(1))
    diffs = []
    req_of = {sid: (rid, r) for rid, r in reqs.items() for sid in r["sessions"]}
    for sid, (configured, admin, needs_check) in sess.items():
        rname, ip, _ = srows[sid]
        on_router = ip in present[rname]
        down = ip in down_by_router[rname]
        if configured != on_router or (configured and (admin == "down") != down):
            rid, r = req_of.get(sid, (None, {"state": "-", "outcome": ""}))
            diffs.append(f"session {sid} ({ip} on {rname}): db configured={configured} admin={admin} "
                         f"needs_check={needs_check}; router has it={on_router} shutdown={down}; request #{rid} "
                         f"{r['state']} {r['outcome'][:60]}")
    print(f"\nsessions: database equals the routers for {len(sess) - len(diffs)} of {len(sess)}; differences: {len(diffs)}")
    for d in diffs[:15]:
        print("    " + d)
    explained = [d for d in diffs if "Outcome unknown" in d or "needs_check=True" in d]
    if len(diffs) > len(explained):
        bad.append(f"{len(diffs) - len(explained)} session(s) differ from the router without an outcome-unknown mark")

    # -- Slack: approval messages, acks
    need = [rid for rid, r in reqs.items() if r["needs_approval"]]
    posts = slack.posted
    unposted = [rid for rid in need if posts[rid] == 0]
    # a claim of a process killed while it posted is taken over after ANNOUNCE_STALE (600 s):
    # later than this run waits; listed, not counted as lost
    held = [rid for rid in unposted if str(reqs[rid]["approval_ts"] or "").startswith("posting")]
    never = [rid for rid in unposted if rid not in held]
    more = [rid for rid in need if posts[rid] > 1]
    print(f"\nSlack: approval messages accepted by the fake: exactly once for {len(need) - len(unposted) - len(more)} of "
          f"{len(need)} requests needing approval; never: {len(never)} {never[:10]}; more than once: {len(more)} "
          f"{[(rid, posts[rid]) for rid in more[:10]]}")
    if never:
        for rid in never[:5]:
            r = reqs[rid]
            print(f"    #{rid} never posted: state {r['state']}, approval_ts {r['approval_ts']!r}")
    if held:
        print(f"    claimed by a process killed while posting, taken over after ANNOUNCE_STALE (600 s, after this "
              f"run; tests/slack/test_approvals.py checks it): {held}")
    if never or more:
        bad.append(f"approval messages: {len(never)} never posted, {len(more)} more than once")
    rep = {r.name: r for r in replicas}
    acks = clicker.acks
    ok = [a for a in acks if a.status is not None]
    during_down = [a for a in acks if a.replica in rep and rep[a.replica].was_down(a.start, a.start + a.seconds)]
    normal = [a for a in ok if a not in during_down]
    pg_window = [a for a in normal if any(x <= a.start + a.seconds and (y < 0 or y >= a.start) for x, y in pg_down)]
    normal_nopg = [a for a in normal if a not in pg_window]
    slow = [a for a in normal_nopg if a.seconds >= ACK_LIMIT]
    s = sorted(a.seconds for a in normal_nopg)
    p99 = s[int(0.99 * (len(s) - 1))] if s else float("nan")
    statuses = Counter(a.status for a in acks)
    print(f"acks: {len(acks)} HTTP posts ({dict(statuses)}); {len(during_down)} sent while their replica was down "
          f"or restarting (counted apart), {len(pg_window)} while PostgreSQL was down (apart); of the other "
          f"{len(normal_nopg)}: max {max(s, default=0):.2f} s, p99 {p99:.2f} s, >= {ACK_LIMIT:.0f} s: {len(slow)}")
    for a in slow[:5]:
        print(f"    slow: {a.what} {a.seconds:.2f} s on {a.replica} at {a.start:.1f}s status {a.status}")
    if slow:
        bad.append(f"{len(slow)} ack(s) >= {ACK_LIMIT} s")
    non200 = [a for a in normal_nopg if a.status != 200]
    if non200:
        print(f"    non-200 answers outside the down windows: {Counter(a.status for a in non200)}")

    # -- /healthz around the PostgreSQL stop
    for a, b in pg_down:
        print(f"/healthz: PostgreSQL down {a:.1f}s..{b:.1f}s")
        for r in replicas:
            inside = [st for t, n, st in health if n == r.name and a + 0.5 <= t <= b - 0.2]
            after = [(t, st) for t, n, st in health if n == r.name and t >= b]
            first_ok = next((t for t, st in after if st == 200), None)
            print(f"    {r.name}: while down {dict(Counter(inside))} (None: no answer); "
                  f"first 200 after: {'never' if first_ok is None else f'{first_ok - b:.1f} s'}")
            if any(st == 200 for st in inside):
                bad.append(f"{r.name} /healthz 200 while PostgreSQL was down")
            if first_ok is None or first_ok - b > 10 and not r.was_down(b, b + 10):
                bad.append(f"{r.name} /healthz not 200 within 10 s after PostgreSQL came back")
    for r in replicas:
        downs = ", ".join(f"{a:.1f}-{b:.1f}s" for a, b in r.down)
        print(f"{r.name}: started {r.starts} times, down {downs or 'never'}; peak RSS {r.peak_rss_mb:.0f} MB "
              f"(largest incarnation, VmHWM)")
    kills = sum(1 for e in events if "kill -9" in e)
    print(f"\nkill -9: {kills}; PostgreSQL stops: {len(pg_down)}")
    print("RESULT: " + ("OK (no loss)" if not bad else "LOSS: " + "; ".join(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
