"""`peerbot serve --http --processes N` as real processes (gunicorn's master and its workers):
signed commands answered by both workers on one port, the notice outbox sent once across them,
a SIGKILLed worker replaced while the other serves; SQLite refuses more than one process."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text

from bot.core import Core
from bot.notices.outbox import add_notice
from storage.models import Notice
from tests.cli.test_cli import ROOT
from tests.cli.test_serve import free_port
from tests.conftest import PG_AVAILABLE, PG_URL
from tests.harness.bot import BOT_TOKEN, SIGNING_SECRET, settings_for
from tests.harness.fake_slack import FakeSlack
from tests.harness.slack_requests import SlackSender

# the worktree's own code, whichever `peerbot` the venv's entry point would run
SERVE = [sys.executable, "-c", "from bot.cli import main; main()", "serve", "--http"]
NOTIFY = "CNOTIFY"
ACCESS = re.compile(r'"POST /slack/events HTTP/1\.1" (\d+) .* pid=<?(\d+)>?')


def env_for(database_url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEERBOT_"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
               PEERBOT_DATABASE_URL=database_url, PEERBOT_SECRET_KEY="test-secret-key",
               PEERBOT_POLL_INTERVAL="0", PEERBOT_OPERATORS="U111", PYTHONPATH=str(ROOT), **extra)
    return env


def test_sqlite_refuses_more_than_one_process(tmp_path: Path, slack: FakeSlack) -> None:
    proc = subprocess.run([*SERVE, "--processes", "2", "--port", str(free_port())],
                          env=env_for(f"sqlite:///{tmp_path}/one.db", slack), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == ["peerbot: --processes 2 needs PostgreSQL (PEERBOT_DATABASE_URL is sqlite): SQLite serves "
                     "one process; leave --processes out or use --processes 1"], proc.stderr
    assert not slack.calls, "refused before anything started"


# -- PostgreSQL: one gunicorn master, two workers, for the whole module ------------------------------
@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    core: Core
    slack: FakeSlack
    output: list[str]  # the master's and workers' stderr lines, as they come

    def healthz_pid(self) -> int:
        r = requests.get(self.url + "/healthz", timeout=5, headers={"Connection": "close"})
        assert r.status_code == 200, r.text
        return r.json()["pid"]

    def pids(self, tries: int = 200) -> set[int]:
        return {self.healthz_pid() for _ in range(tries)}


def notice_texts(slack: FakeSlack) -> Counter:
    return Counter(c.args.get("text") for c in slack.of("chat.postMessage") if c.args.get("channel") == NOTIFY)


def add_notices(core: Core, first: int, count: int) -> list[str]:
    with core.db.session() as s:
        for i in range(first, first + count):
            add_notice(s, "change", NOTIFY, f"session:{i}", broadcast=False,
                       payload={"peer": f"peer-{i}", "ip": f"192.0.2.{i}", "router": "r1", "session_id": i,
                                "old": "Active", "new": "Established"})
    return [f"peer-{i} 192.0.2.{i}: Active → Established" for i in range(first, first + count)]


@pytest.fixture(scope="module")
def pg_schema_url() -> Iterator[str]:
    if not PG_AVAILABLE:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable at {PG_URL} (CI must start it)")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def served(pg_schema_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    slack = FakeSlack().start()
    tmp = tmp_path_factory.mktemp("procs")
    core = Core.from_settings(settings_for(pg_schema_url, slack, tmp))  # the schema
    add_notices(core, 101, 10)  # left unsent by a previous run: both workers' senders start on them at once
    port = free_port()
    proc = subprocess.Popen([*SERVE, "--processes", "2", "--access-log", "--port", str(port)],
                            env=env_for(pg_schema_url, slack, PEERBOT_NOTIFY_CHANNEL=NOTIFY,
                                        PEERBOT_INVENTORY=str(ROOT / "inventory.example.yml")),
                            cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    s = Served(proc, f"http://127.0.0.1:{port}", core, slack, output)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                s.healthz_pid()
                break
            except (requests.ConnectionError, AssertionError):
                pass
            assert proc.poll() is None, "".join(output)
            assert time.monotonic() < deadline, "peerbot serve --processes 2 did not come up: " + "".join(output)
            time.sleep(0.2)
        yield s
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(timeout=5)
        slack.stop()
        core.db.dispose()
        out = "".join(output)
        assert BOT_TOKEN not in out and SIGNING_SECRET not in out


def db_connections(pid: int, port: int = 5432) -> int:
    """TCP connections of process `pid` to `port` (its sockets' inodes in /proc/net/tcp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[2].rsplit(":", 1)[1] == f"{port:04X}" and fields[9] in inodes:
                count += 1
    return count


def workers(s: Served, count: int = 2, timeout: float = 30) -> set[int]:
    """The pids /healthz names, once `count` distinct ones answered."""
    deadline = time.monotonic() + timeout
    seen: set[int] = set()
    while len(seen) < count:
        seen |= s.pids(20)
        assert time.monotonic() < deadline, f"only {seen} answered"
    return seen


@pytest.mark.postgres
def test_two_workers_answer_signed_commands_on_one_port(served: Served) -> None:
    pids = workers(served)
    assert len(pids) == 2 and served.proc.pid not in pids  # the master serves nothing itself
    # nothing to inherit at the fork: the master runs one thread and holds no database connection
    master = Path(f"/proc/{served.proc.pid}/status").read_text()
    assert re.search(r"^Threads:\s+1$", master, re.M), master
    assert db_connections(served.proc.pid) == 0 and all(db_connections(p) > 0 for p in pids)
    mark = served.slack.mark()
    statuses: list[int] = []

    def client(n: int) -> None:
        send = SlackSender(served.url + "/slack/events", SIGNING_SECRET, served.slack.response_url("procs"))
        for _ in range(n):
            # a connection a request, as Slack opens them: each is accepted by either worker
            statuses.append(send.command("list", headers={"Connection": "close"}).status_code)
        send.http.close()

    threads = [threading.Thread(target=client, args=(10,)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses == [200] * 50
    deadline = time.monotonic() + 30
    while len([c for c in served.slack.calls[mark:] if c.method == "response_url"]) < 50:
        assert time.monotonic() < deadline, "not every /peering list was answered"
        time.sleep(0.1)
    answers = [c for c in served.slack.calls[mark:] if c.method == "response_url"]
    assert all("session" in json.dumps(c.args) for c in answers)
    time.sleep(0.5)  # the access log lines of the last requests
    by_pid = Counter(int(m.group(2)) for line in list(served.output) if (m := ACCESS.search(line)))
    served_by = {pid for pid, n in by_pid.items() if n}
    assert sum(by_pid.values()) >= 50 and served_by == pids, by_pid
    # the app's own checks hold behind gunicorn: unsigned 401, a chunked body 411, oversized 413
    send = SlackSender(served.url + "/slack/events", SIGNING_SECRET, served.slack.response_url("procs"))
    assert send.command("list", signature="v0=" + "0" * 64).status_code == 401
    chunked = requests.post(served.url + "/slack/events", data=iter([b"command=%2Fpeering", b"&text=list"]), timeout=10)
    assert chunked.status_code == 411
    big = requests.post(served.url + "/slack/events", data=b"x" * 1_000_001, timeout=10)
    assert big.status_code == 413


@pytest.mark.postgres
def test_the_notice_outbox_is_sent_once_across_the_workers(served: Served) -> None:
    # ten were left before the start (both workers deliver at boot), twenty come while both run:
    # each worker's sender looks every 10 s, one at a time (SENDER_LOCK), each notice claimed
    expected = [f"peer-{i} 192.0.2.{i}: Active → Established" for i in range(101, 111)]
    expected += add_notices(served.core, 1, 20)
    deadline = time.monotonic() + 30
    while not set(expected) <= set(notice_texts(served.slack)):
        assert time.monotonic() < deadline, f"sent: {notice_texts(served.slack)}"
        time.sleep(0.2)
    time.sleep(11)  # one more round of both senders: nothing is sent again
    sent = notice_texts(served.slack)
    assert {t: sent[t] for t in expected} == {t: 1 for t in expected}
    with served.core.db.session() as s:
        assert {n.state for n in s.scalars(select(Notice))} == {"sent"}


@pytest.mark.postgres
def test_a_killed_worker_is_replaced_while_the_other_serves(served: Served) -> None:
    before = workers(served)
    victim, survivor = sorted(before)
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.2)
    answered = served.pids(30)  # straight after the kill: the other worker answers every request
    assert victim not in answered and survivor in answered
    send = SlackSender(served.url + "/slack/events", SIGNING_SECRET, served.slack.response_url("kill"))
    assert send.command("list").status_code == 200
    deadline = time.monotonic() + 60
    while True:  # the master forks a new worker in its place
        now = served.pids(20)
        if now - before:
            break
        assert time.monotonic() < deadline, f"no new worker: {now}"
        time.sleep(0.5)
    assert served.proc.poll() is None
    assert len(workers(served)) == 2
