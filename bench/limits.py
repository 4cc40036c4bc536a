"""Limits held (issue 19): a burst of approvals, Slack retries of one request, one user clicking
Approve many times — each run once against the bot as users run it, with a ledger each.

    PYTHONPATH=$PWD .venv/bin/python bench/limits.py                    # 1,000 approvals, 500 retries, 50 clicks
    ... --requests 200 --retries 100 --clicks 20 --processes 1          # a quicker look

What runs, all on this machine:
  * a throw-away PostgreSQL cluster (bench/rig.py: initdb / pg_ctl as the `postgres` OS user, in a
    temp folder, on --pg-port), stopped and removed at the end;
  * the simulated SSH fleet (tests/harness/ssh_fleet.py) in a process of its own: --routers FRR
    routers, every neighbor configured, each config line recorded per router;
  * the fake Slack Web API (tests/harness/fake_slack.py) in this process;
  * the bot: `peerbot serve --http --processes N` (gunicorn's master and N workers; --processes 0:
    the single waitress process) on that PostgreSQL, polls off.

Scenarios, one run each:
  1. burst: --requests Admin Down requests filed (signed button clicks, each session once, spread
     over the routers), then every one approved as fast as --clients clients can (two approvers
     taking turns), then settled. Ledger: approved / done / failed / still queued / run twice
     (a session's `neighbor X shutdown` reaching its router more than once) / lost.
  2. retries: one Admin Down click sent --retries times more with X-Slack-Retry-Num 1.. and
     X-Slack-Retry-Reason http_timeout, all at once with the original; then the same for the
     Approve click of that request. Expected: one request, one approval message, one run, every
     delivery acked, no error shown for a retry.
  3. clicks: the operator clicks Admin Down --clicks times at once (one request), then one
     approver clicks Approve --clicks times (distinct clicks, half at once, half one after the
     other): one run; every duplicate click told, not shown an error. And a requester who is also
     an approver (an admin) pressing Approve on their own request is refused.

Each prints ack p50 / p99 / max, the database connections in use at peak (pg_stat_activity of the
bench database) against the bot's pool, and the peak RSS (VmHWM) of every bot process. Exit 1 on
any loss, run twice, duplicate approval message, pool exhaustion ("QueuePool limit", "too many
clients") or HTTP answer other than 200.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

warnings.filterwarnings("ignore", message="DSA is deprecated")  # asyncssh at import, through ssh_fleet
import requests  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from handlers.ids import Action  # noqa: E402
from rig import Fleet, Postgres, button_body, free_port, machine, peak_rss_mb, process_tree  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import ChangeRequest, ChangeState, Router, Session  # noqa: E402
from tests.harness.bot import ADMIN, APPROVAL_CHANNEL, BOT_TOKEN, OPERATOR, SIGNING_SECRET  # noqa: E402
from tests.harness.fake_slack import FakeSlack  # noqa: E402
from tests.harness.slack_requests import sign  # noqa: E402
from tests.harness.ssh_fleet import PASSWORD, PASSWORD_ENV, register  # noqa: E402

APPROVERS = ("U222", "U223")
ACK_LIMIT = 3.0  # Slack retries a request not answered within 3 s
OPEN = ("requested", "approved", "running")
POOL_EXHAUSTED = ("QueuePool limit", "too many clients", "remaining connection slots")
# an approved request's message changes with its states (approved, running, done) and the
# follow-up poll's note: more updates than that came from the repeated clicks themselves
MAX_UPDATES = 6
T0 = time.monotonic()


def say(msg: str) -> None:
    print(f"[{time.monotonic() - T0:7.1f}s] {msg}", flush=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else float("nan")


# -- HTTP: signed posts, timed ---------------------------------------------------------------------
@dataclass
class Ack:
    what: str
    seconds: float
    status: int | None  # None: no answer


class Poster:
    """Signed posts to the bot, one kept-alive HTTP session a client thread; every answer timed."""

    def __init__(self, url: str):
        self.url = url
        self.local = threading.local()
        self.acks: list[Ack] = []
        self.lock = threading.Lock()

    def post(self, what: str, body: str, retry_num: int = 0) -> Ack:
        http = getattr(self.local, "http", None) or requests.Session()
        self.local.http = http
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": sign(SIGNING_SECRET, body, int(ts))}
        if retry_num:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"})
        t = time.monotonic()
        try:
            status: int | None = http.post(self.url, data=body.encode(), headers=headers, timeout=30).status_code
        except requests.RequestException:
            status = None
        ack = Ack(what, time.monotonic() - t, status)
        with self.lock:
            self.acks.append(ack)
        return ack

    def take(self) -> list[Ack]:
        with self.lock:
            out, self.acks = self.acks, []
        return out


# -- watching: database connections and the bot's memory ----------------------------------------------
class Watch:
    """Samples pg_stat_activity of the bench database and the VmHWM of every bot process."""

    def __init__(self, pg_url: str, dbname: str, bot_pid: int):
        self.engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
        self.dbname, self.bot_pid = dbname, bot_pid
        self.peak_conns = 0
        self.peak_states: dict[str, int] = {}
        self.rss: dict[int, float] = {}  # pid -> peak RSS MB (the largest seen)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="watch")

    def start(self) -> Watch:
        self.thread.start()
        return self

    def reset(self) -> None:
        self.peak_conns, self.peak_states = 0, {}

    def _run(self) -> None:
        with self.engine.connect() as c:
            while not self.stop.is_set():
                rows = c.execute(text("SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity WHERE datname = :d "
                                      "AND pid <> pg_backend_pid() GROUP BY 1"), {"d": self.dbname}).all()
                c.commit()
                total = sum(n for _, n in rows)
                if total > self.peak_conns:
                    self.peak_conns, self.peak_states = total, dict(rows)
                for pid in process_tree(self.bot_pid):
                    mb = peak_rss_mb(pid)
                    if mb is not None:
                        self.rss[pid] = max(self.rss.get(pid, 0.0), mb)
                self.stop.wait(0.2)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.engine.dispose()


# -- the bench's world ---------------------------------------------------------------------------------
@dataclass
class World:
    args: argparse.Namespace
    db: Database
    fleet: Fleet
    slack: FakeSlack
    poster: Poster
    watch: Watch
    bot_log: Path
    pool_capacity: int
    bot_processes: int
    sessions: dict[int, tuple[str, str]]  # id -> (router name, peer ip)
    spare: list[int] = field(default_factory=list)  # sessions left for scenarios 2 and 3

    # -- the database's view
    def requests_of(self, ids: list[int]) -> dict[int, Any]:
        with self.db.session() as s:
            rows = s.execute(select(ChangeRequest.id, ChangeRequest.state, ChangeRequest.approval_ts,
                                    ChangeRequest.decided_by, ChangeRequest.outcome)
                             .where(ChangeRequest.id.in_(ids))).all()
        return {r.id: r for r in rows}

    def request_by_key(self, keys: list[str]) -> dict[str, int]:
        with self.db.session() as s:
            rows = s.execute(select(ChangeRequest.idempotency_key, ChangeRequest.id)
                             .where(ChangeRequest.idempotency_key.in_(keys))).all()
        return {k: i for k, i in rows}

    def requests_for_session(self, sid: int) -> int:
        from storage.models import ChangeRequestItem

        with self.db.session() as s:
            return s.scalar(select(text("count(*)")).select_from(ChangeRequestItem)
                            .where(ChangeRequestItem.session_id == sid)) or 0

    def wait_announced(self, ids: list[int], timeout: float) -> list[int]:
        """Wait until every request's approval message is posted; the ids still without one."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.requests_of(ids)
            missing = [i for i in ids if not rows.get(i) or not rows[i].approval_ts
                       or rows[i].approval_ts.startswith("posting")]
            if not missing or time.monotonic() > deadline:
                return missing
            time.sleep(0.5)

    def settle(self, ids: list[int], timeout: float) -> float:
        """Wait until none of `ids` is requested / approved / running; seconds waited."""
        t = time.monotonic()
        while time.monotonic() - t < timeout:
            if not [r for r in self.requests_of(ids).values() if str(getattr(r.state, "value", r.state)) in OPEN]:
                break
            time.sleep(1)
        return time.monotonic() - t

    # -- what reached the routers and Slack
    def shutdown_lines(self) -> Counter[tuple[str, str]]:
        """(router, peer ip) -> how many `neighbor <ip> shutdown` lines the router received."""
        out: Counter[tuple[str, str]] = Counter()
        for router, lines in self.fleet.ask("lines").items():
            for line in lines:
                m = re.fullmatch(r"neighbor (\S+) shutdown", line.strip())
                if m:
                    out[(router, m.group(1))] += 1
        return out

    def approval_posts(self) -> Counter[int]:
        """request id -> approval messages posted (chat.postMessage to the approval channel)."""
        out: Counter[int] = Counter()
        for c in self.slack.of("chat.postMessage"):
            m = re.match(r"Change request #(\d+)", str(c.args.get("text") or ""))
            if c.args.get("channel") == APPROVAL_CHANNEL and m:
                out[int(m.group(1))] += 1
        return out

    def approval_updates(self, ts: str) -> int:
        return sum(1 for c in self.slack.of("chat.update") if c.args.get("ts") == ts)

    def told(self, hook: str) -> list[str]:
        """The texts posted to one response_url (ephemeral answers to the clicker)."""
        return [str(c.args.get("text") or "") for c in self.slack.of("response_url") if c.path == f"/hooks/{hook}"]

    def log_problems(self) -> Counter[str]:
        text_ = self.bot_log.read_text(errors="replace")
        found: Counter[str] = Counter()
        for needle in (*POOL_EXHAUSTED, "Traceback", "no answer within"):
            found[needle] = text_.count(needle)
        return found


@dataclass
class Ledger:
    name: str
    lines: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def fail_if(self, cond: bool, why: str) -> None:
        if cond:
            self.bad.append(why)


def common(w: World, led: Ledger, acks: list[Ack], seconds: float, problems_before: Counter[str]) -> None:
    """Ack times, connections at peak, memory, log problems: every scenario's last lines."""
    times = [a.seconds for a in acks if a.status is not None]
    statuses = Counter(a.status for a in acks)
    slow = sum(1 for a in acks if a.status is None or a.seconds >= ACK_LIMIT)
    led.add(f"elapsed {seconds:.1f} s; {len(acks)} HTTP posts, answers {dict(statuses)}")
    led.add(f"ack p50 {pct(times, 50) * 1000:.0f} ms, p99 {pct(times, 99) * 1000:.0f} ms, "
            f"max {max(times, default=0) * 1000:.0f} ms; >= {ACK_LIMIT:.0f} s or no answer: {slow}")
    led.fail_if(slow > 0, f"{slow} ack(s) >= {ACK_LIMIT:.0f} s")
    led.fail_if(any(s != 200 for s in statuses), f"answers other than 200: {dict(statuses)}")
    led.add(f"database connections at peak: {w.watch.peak_conns} ({w.watch.peak_states}) of a pool of "
            f"{w.pool_capacity} a process x {w.bot_processes} process(es)")
    rss = ", ".join(f"pid {pid} {mb:.0f} MB" for pid, mb in sorted(w.watch.rss.items()))
    led.add(f"peak RSS (VmHWM) of the bot processes: {rss}")
    now = w.log_problems()
    new = {k: now[k] - problems_before[k] for k in now if now[k] - problems_before[k]}
    led.add(f"bot log during the scenario: {new or 'no pool exhaustion, traceback or missed ack'}")
    led.fail_if(any(now[k] > problems_before[k] for k in POOL_EXHAUSTED), "pool exhaustion in the bot log")
    led.fail_if(now["Traceback"] > problems_before["Traceback"], "tracebacks in the bot log")


def admin_down_click(w: World, sid: int, user: str, hook: str, n: int) -> tuple[str, str]:
    """(body, idempotency key) of one Admin Down click on the session's detail message."""
    action_ts = f"{time.time():.0f}.{n:06d}"
    body = button_body(Action.ADMIN_DOWN, str(sid), user, "C111", f"1700000000.{n:06d}", w.slack.response_url(hook),
                       action_ts=action_ts)
    return body, f"{Action.ADMIN_DOWN}:{user}:{action_ts}"


def approve_click(w: World, rid: int, user: str, ts: str, hook: str, n: int) -> str:
    return button_body(Action.CHANGE_APPROVE, str(rid), user, APPROVAL_CHANNEL, ts, w.slack.response_url(hook),
                       action_ts=f"{time.time():.0f}.{n:06d}")


def ran(w: World, sids: list[int]) -> Counter[int]:
    lines = w.shutdown_lines()
    return Counter({sid: lines[w.sessions[sid]] for sid in sids})


# -- 1. the burst --------------------------------------------------------------------------------------
def burst(w: World, sids: list[int]) -> Ledger:
    led = Ledger(f"1. {len(sids):,} approvals burst")
    before = w.log_problems()
    w.watch.reset()
    w.poster.take()
    t0 = time.monotonic()
    clicks = [admin_down_click(w, sid, OPERATOR, f"file-{sid}", i + 1) for i, sid in enumerate(sids)]
    with ThreadPoolExecutor(w.args.clients) as pool:
        filed = list(pool.map(lambda c: w.poster.post("file", c[0]), clicks))
    keys = w.request_by_key([k for _, k in clicks])
    ids = sorted(keys.values())
    say(f"burst: {len(filed)} filed in {time.monotonic() - t0:.1f} s ({len(ids)} stored); waiting for the approval "
        "messages")
    unannounced = w.wait_announced(ids, 300)
    rows = w.requests_of(ids)
    t1 = time.monotonic()
    jobs = [(rid, APPROVERS[i % 2], rows[rid].approval_ts) for i, rid in enumerate(ids) if rid not in unannounced]
    with ThreadPoolExecutor(w.args.clients) as pool:
        approved_acks = list(pool.map(lambda j: w.poster.post("approve", approve_click(w, j[0], j[1], j[2],
                                                                                         f"approve-{j[0]}", j[0])), jobs))
    say(f"burst: {len(jobs)} approvals sent in {time.monotonic() - t1:.1f} s "
        f"({len(jobs) / max(0.001, time.monotonic() - t1):.0f}/s); settling")
    waited = w.settle(ids, w.args.settle)
    elapsed = time.monotonic() - t0
    rows = w.requests_of(ids)
    states = Counter(str(getattr(r.state, "value", r.state)) for r in rows.values())
    runs = ran(w, sids)
    twice = [sid for sid, n in runs.items() if n > 1]
    rid_of_sid = {sid: keys.get(k) for sid, (_, k) in zip(sids, clicks)}
    never = [sid for sid, n in runs.items() if n == 0 and rid_of_sid[sid] in rows
             and str(getattr(rows[rid_of_sid[sid]].state, "value", "")) == "done"]
    lost = [sid for sid, (_, k), a in zip(sids, clicks, filed) if a.status == 200 and k not in keys]
    approved_by = Counter(r.decided_by for r in rows.values())
    posts = w.approval_posts()
    more = [rid for rid in ids if posts[rid] > 1]
    failed = Counter((r.outcome or "")[:90] for r in rows.values() if str(getattr(r.state, "value", "")) == "failed")
    led.add(f"filed {len(sids)} (acked 200: {sum(1 for a in filed if a.status == 200)}), stored {len(ids)}, "
            f"approval messages posted: {sum(1 for r in ids if posts[r] == 1)} once, {len(more)} more than once, "
            f"{len(unannounced)} never (within 300 s)")
    led.add(f"approved by {dict(approved_by)}; approval clicks acked 200: "
            f"{sum(1 for a in approved_acks if a.status == 200)} of {len(approved_acks)}")
    led.add(f"states after settling ({waited:.0f} s): {dict(sorted(states.items()))}")
    led.add(f"done {states['done']} / failed {states['failed']} / still queued "
            f"{sum(states[s] for s in OPEN)} / run twice {len(twice)} / lost {len(lost)}")
    for why, n in failed.most_common(5):
        led.add(f"    {n} x failed: {why}")
    led.fail_if(bool(twice), f"run twice: {twice[:10]}")
    led.fail_if(bool(never), f"done but never reached the router: {never[:10]}")
    led.fail_if(bool(lost), f"lost: {lost[:10]}")
    led.fail_if(bool(more) or bool(unannounced), "approval messages not posted exactly once")
    led.fail_if(sum(states[s] for s in OPEN) > 0, "requests still queued after settling")
    led.fail_if(states["failed"] > 0, f"{states['failed']} failed")
    common(w, led, w.poster.take(), elapsed, before)
    return led


# -- 2. Slack retries of one request -------------------------------------------------------------------------
def retries(w: World, sid: int) -> Ledger:
    n = w.args.retries
    led = Ledger(f"2. {n} Slack retries of one request")
    before = w.log_problems()
    w.watch.reset()
    w.poster.take()
    t0 = time.monotonic()
    body, key = admin_down_click(w, sid, OPERATOR, "retry-file", 900001)
    with ThreadPoolExecutor(w.args.clients) as pool:
        list(pool.map(lambda k: w.poster.post("file", body, retry_num=k), range(n + 1)))  # 0: the original
    stored = w.request_by_key([key])
    rid = stored.get(key)
    per_session = w.requests_for_session(sid)
    missing = w.wait_announced([rid], 60) if rid else [0]
    led.add(f"filing: the click and {n} retries -> requests stored for the session: {per_session}; "
            f"approval messages: {w.approval_posts()[rid] if rid else 0}")
    led.fail_if(per_session != 1 or bool(missing), "filing retries did not make exactly one announced request")
    told_file = w.told("retry-file")
    led.add(f"  told the requester (response_url): {len(told_file)} {dict(Counter(t[:60] for t in told_file))}")
    if rid and not missing:
        ts = w.requests_of([rid])[rid].approval_ts
        updates_before = w.approval_updates(ts)
        approve = approve_click(w, rid, APPROVERS[0], ts, "retry-approve", 900002)
        with ThreadPoolExecutor(w.args.clients) as pool:
            list(pool.map(lambda k: w.poster.post("approve", approve, retry_num=k), range(n + 1)))
        w.settle([rid], 120)
        row = w.requests_of([rid])[rid]
        runs = ran(w, [sid])[sid]
        told = w.told("retry-approve")
        # the first delivery is sent with the retries: when a retry was answered first, the
        # first gets the note a second click gets ("You approved … already"); anything else the
        # approver is told is a refusal of their own click
        notes = [t for t in told if t.startswith("You approved request")]
        errors = [t for t in told if t not in notes]
        led.add(f"approval: the click and {n} retries -> state {getattr(row.state, 'value', row.state)}, decided by "
                f"{row.decided_by}; reached the router {runs} time(s)")
        led.add(f"  approval message: posted {w.approval_posts()[rid]} time(s), updated "
                f"{w.approval_updates(ts) - updates_before} time(s) after the clicks")
        led.add(f"  told the approver (response_url): {len(told)}: notes {dict(Counter(t[:70] for t in notes))}, "
                f"refusals/errors {len(errors)} {dict(Counter(t[:70] for t in errors))}")
        led.fail_if(runs != 1, f"the change reached the router {runs} times")
        led.fail_if(w.approval_posts()[rid] != 1, "approval message not posted exactly once")
        led.fail_if(w.approval_updates(ts) - updates_before > MAX_UPDATES, "approval message updated per retry")
        led.fail_if(bool(errors), f"{len(errors)} deliveries answered with a refusal the user sees")
        led.fail_if(len(notes) > 1, f"{len(notes)} notes: retries were answered as second clicks")
        led.fail_if(str(getattr(row.state, "value", row.state)) != "done", "not done")
    common(w, led, w.poster.take(), time.monotonic() - t0, before)
    return led


# -- 3. one user clicking Approve many times -------------------------------------------------------------------
def clicks(w: World, sid: int, own_sid: int) -> Ledger:
    n = w.args.clicks
    led = Ledger(f"3. Approve clicked {n} times by one user")
    before = w.log_problems()
    w.watch.reset()
    w.poster.take()
    t0 = time.monotonic()
    # the operator's Admin Down, clicked n times at once (distinct clicks): one request
    filings = [admin_down_click(w, sid, OPERATOR, "clicks-file", 920000 + i) for i in range(n)]
    gate = threading.Barrier(n)

    def file_together(c: tuple[str, str]) -> Ack:
        gate.wait()
        return w.poster.post("file", c[0])

    with ThreadPoolExecutor(n) as pool:
        list(pool.map(file_together, filings))
    stored = w.request_by_key([k for _, k in filings])
    per_session = w.requests_for_session(sid)
    told_file = w.told("clicks-file")
    led.add(f"Admin Down clicked {n} times at once by the operator -> requests stored for the session: {per_session}; "
            f"told: {dict(Counter(t[:70] for t in told_file))}")
    led.fail_if(per_session != 1, f"{per_session} requests stored for one session by {n} clicks")
    rid = min(stored.values()) if stored else None
    if rid is None or w.wait_announced([rid], 60):
        led.bad.append("the request was not stored or announced")
        return led
    ts = w.requests_of([rid])[rid].approval_ts
    updates_before = w.approval_updates(ts)
    bodies = [approve_click(w, rid, APPROVERS[0], ts, "clicks-approve", 910000 + i) for i in range(n)]
    at_once, after = bodies[: n // 2], bodies[n // 2:]
    barrier = threading.Barrier(len(at_once))

    def together(b: str) -> Ack:
        barrier.wait()
        return w.poster.post("approve", b)

    with ThreadPoolExecutor(len(at_once)) as pool:
        list(pool.map(together, at_once))
    for b in after:  # in quick succession, as an impatient user does
        w.poster.post("approve", b)
        time.sleep(0.02)
    w.settle([rid], 120)
    row = w.requests_of([rid])[rid]
    runs = ran(w, [sid])[sid]
    told = w.told("clicks-approve")
    warnings = [t for t in told if "someone else" in t or "wrong" in t.lower() or t.startswith(":warning:")
                or "warning" in t]
    led.add(f"{n} clicks ({len(at_once)} at once, {len(after)} one after the other) -> state "
            f"{getattr(row.state, 'value', row.state)}, decided by {row.decided_by}; reached the router {runs} time(s)")
    led.add(f"  approval message: posted {w.approval_posts()[rid]} time(s), updated "
            f"{w.approval_updates(ts) - updates_before} time(s) after the clicks")
    led.add(f"  told the clicker: {len(told)} message(s): {dict(Counter(t[:80] for t in told))}")
    led.fail_if(runs != 1, f"the change reached the router {runs} times")
    led.fail_if(w.approval_posts()[rid] != 1, "approval message not posted exactly once")
    led.fail_if(w.approval_updates(ts) - updates_before > MAX_UPDATES, "approval message updated per click")
    led.fail_if(len(told) < n - 1, f"only {len(told)} of the {n - 1} duplicate clicks were told anything")
    led.fail_if(bool(warnings), f"{len(warnings)} duplicate click(s) shown an error or a wrong reason")
    # four eyes: an admin (operator and approver) asks, then approves their own request
    body, key = admin_down_click(w, own_sid, ADMIN, "own-file", 900004)
    w.poster.post("file", body)
    own = w.request_by_key([key]).get(key)
    if own is None or w.wait_announced([own], 60):
        led.bad.append("the admin's own request was not stored or announced")
    else:
        own_ts = w.requests_of([own])[own].approval_ts
        w.poster.post("approve own", approve_click(w, own, ADMIN, own_ts, "own-approve", 900005))
        time.sleep(2)
        own_row = w.requests_of([own])[own]
        refusal = w.told("own-approve")
        state = str(getattr(own_row.state, "value", own_row.state))
        led.add(f"requester approving their own request: state {state}; told {refusal[:1]}")
        led.fail_if(state != "requested" or not any("yourself" in t for t in refusal),
                    "a requester could approve their own request (or was not told why not)")
        led.fail_if(ran(w, [own_sid])[own_sid] != 0, "the self-approved change reached the router")
    common(w, led, w.poster.take(), time.monotonic() - t0, before)
    return led


# -- the run -----------------------------------------------------------------------------------------------
def start_bot(w_env: dict[str, str], port: int, processes: int, log: Path) -> subprocess.Popen:
    serve = ["serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    if processes:
        serve += ["--processes", str(processes)]
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", *serve], env=w_env,
                                stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=1000, help="scenario 1: requests filed and approved")
    ap.add_argument("--retries", type=int, default=500, help="scenario 2: Slack retries of one request")
    ap.add_argument("--clicks", type=int, default=50, help="scenario 3: Approve clicks by one user")
    ap.add_argument("--routers", type=int, default=20)
    ap.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    ap.add_argument("--processes", type=int, default=2, help="bot worker processes (gunicorn); 0: one waitress process")
    ap.add_argument("--delay", type=float, default=0.02, help="router login / command delay, seconds")
    ap.add_argument("--settle", type=float, default=900, help="scenario 1: longest wait for every request to finish")
    ap.add_argument("--pg-port", type=int, default=55532)
    ap.add_argument("--port", type=int, default=0, help="the bot's port (default: a free one)")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (logs) at the end")
    args = ap.parse_args()
    print(machine(), flush=True)
    print("bench/limits.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()), flush=True)
    per_router = -(-args.requests // args.routers) + 2  # and two spare sessions a router for scenarios 2 and 3
    tmp = Path(tempfile.mkdtemp(prefix="peerbot-limits-"))
    os.chmod(tmp, 0o755)
    pg = fleet = slack = bot = watch = None
    ledgers: list[Ledger] = []
    try:
        pg = Postgres(tmp, free_port(args.pg_port), "limits")
        pg.start()
        pg.createdb()
        say(f"PostgreSQL 15 of its own on 127.0.0.1:{pg.port}")
        fleet = Fleet(args.routers, per_router, args.delay)
        db = Database(pg.url)
        db.upgrade()
        register(db, fleet.ports, per_router, configured=True)
        with db.session() as s:
            names = {r.id: r.name for r in s.scalars(select(Router))}
            sessions = {row.id: (names[row.router_id], row.peer_ip) for row in s.scalars(select(Session))}
        by_router: dict[str, list[int]] = {}
        for sid in sorted(sessions):
            by_router.setdefault(sessions[sid][0], []).append(sid)
        spare = [sids.pop() for sids in by_router.values()] + [sids.pop() for sids in by_router.values()]
        spread = [sids[i] for i in range(per_router) for sids in by_router.values() if i < len(sids)]  # round robin
        burst_sids = spread[: args.requests]
        say(f"fleet: {args.routers} simulated FRR routers x {per_router} neighbors, all configured; "
            f"{len(sessions)} sessions in the database")
        slack = FakeSlack().start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEERBOT_"))}
        env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
                   PEERBOT_DATABASE_URL=pg.url, PEERBOT_SECRET_KEY="limits-secret", PEERBOT_OPERATORS=OPERATOR,
                   PEERBOT_APPROVERS=",".join(APPROVERS), PEERBOT_ADMINS=ADMIN,
                   PEERBOT_APPROVAL_CHANNEL=APPROVAL_CHANNEL, PEERBOT_POLL_INTERVAL="0",
                   PEERBOT_PEERINGDB_SYNC_HOURS="0", PEERBOT_DRIFT_HOURS="0", PEERBOT_IRR_REFRESH_HOURS="0",
                   PEERBOT_POLL_PROCESSES="0", PEERBOT_ROUTER_TIMEOUT="20", **{PASSWORD_ENV: PASSWORD},
                   PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
        port = free_port(args.port)
        bot_log = tmp / "bot.log"
        bot = start_bot(env, port, args.processes, bot_log)
        if not wait_ready(port, bot):
            print(bot_log.read_text()[-3000:])
            raise SystemExit("the bot did not start")
        time.sleep(2)  # every worker up (healthz answered by one of them)
        pool = db.engine.pool
        capacity = pool.size() + pool._max_overflow  # type: ignore[attr-defined]  # the bot's own pool, same URL
        watch = Watch(pg.url, "limits", bot.pid).start()
        say(f"bot: serve --http {'--processes ' + str(args.processes) if args.processes else '(waitress)'} on :{port}, "
            f"pids {process_tree(bot.pid)}")
        w = World(args, db, fleet, slack, Poster(f"http://127.0.0.1:{port}/slack/events"), watch, bot_log, capacity,
                  max(1, args.processes), sessions, spare)
        for run in (lambda: burst(w, burst_sids), lambda: retries(w, spare[0]), lambda: clicks(w, spare[1], spare[2])):
            led = run()
            ledgers.append(led)
            print(f"\n==== {led.name} ====", flush=True)
            for line in led.lines:
                print("  " + line, flush=True)
            print("  RESULT: " + ("OK" if not led.bad else "PROBLEM: " + "; ".join(led.bad)) + "\n", flush=True)
        pg_log = pg.log_text()
        if any(n in pg_log for n in POOL_EXHAUSTED):
            ledgers[-1].bad.append("PostgreSQL refused connections (see its log)")
        db.dispose()
    finally:
        if watch is not None:
            watch.close()
        if bot is not None and bot.poll() is None:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(20)
            except subprocess.TimeoutExpired:
                bot.kill()
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
    bad = [f"{led.name}: {b}" for led in ledgers for b in led.bad]
    print("RESULT: " + ("OK: every limit held" if not bad else "PROBLEMS:\n  " + "\n  ".join(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
