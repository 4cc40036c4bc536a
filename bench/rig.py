"""What the end-to-end benches (bench/limits.py; bench/chaos.py has its own copies for now) run
the bot against, all on this machine: a throw-away PostgreSQL cluster, the simulated SSH fleet
in a process of its own, signed Slack button bodies, and the peak RSS of a process tree.
"""
from __future__ import annotations

import copy
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.slack_requests import load_payload  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class Postgres:
    """A cluster of its own in a temp folder (trust auth, fsync off), run as the postgres OS user."""

    def __init__(self, base: Path, port: int, dbname: str, max_connections: int = 200):
        self.dir = base / "pg"
        self.port, self.dbname, self.max_connections = port, dbname, max_connections
        self.dir.mkdir()
        shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        self.run("initdb", "-D", str(self.dir), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.url = f"postgresql://postgres@127.0.0.1:{port}/{dbname}"

    @staticmethod
    def run(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args], capture_output=True,
                              text=True, check=check, cwd="/tmp")

    def start(self) -> None:
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
                f"-c max_connections={self.max_connections}")
        self.run("pg_ctl", "-D", str(self.dir), "-l", str(self.dir / "log"), "-o", opts, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.dir), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def createdb(self) -> None:
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.dbname)

    def log_text(self) -> str:
        try:
            return (self.dir / "log").read_text(errors="replace")
        except OSError:
            return ""


def free_port(prefer: int = 0) -> int:
    """`prefer` when it is free, else any free port."""
    for candidate in ([prefer] if prefer else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


class Fleet:
    """tests/harness/ssh_fleet.py in a process of its own (its CPU is not the bot's), driven over
    its stdin: "stats", "lines" (every router's config lines so far), "drop …"."""

    def __init__(self, routers: int, neighbors: int, delay: float):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.harness.ssh_fleet", "--routers", str(routers), "--sessions", str(neighbors),
             "--connect-delay", str(delay), "--command-delay", str(delay)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            # asyncssh warns of DSA at import (cryptography's warning): not the bench's business
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore:DSA is deprecated"})
        self.ports = json.loads(self.proc.stdout.readline())["ports"]  # type: ignore[union-attr]
        self.guard = threading.Lock()

    def ask(self, line: str) -> Any:
        with self.guard:
            self.proc.stdin.write(line + "\n")  # type: ignore[union-attr]
            self.proc.stdin.flush()  # type: ignore[union-attr]
            return json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]

    def stop(self) -> None:
        try:
            self.proc.stdin.close()  # type: ignore[union-attr]
            self.proc.wait(15)
        except Exception:  # noqa: BLE001 - stopping anyway
            self.proc.kill()


def button_body(action_id: str, value: str, user: str, channel: str, message_ts: str, response_url: str, *,
                action_ts: str | None = None, state: dict | None = None) -> str:
    """A signed-to-be block_actions body (shape: block_actions_message.json): one button clicked
    on a message. `action_ts` tells one click from another (Slack gives every click its own)."""
    p = copy.deepcopy(load_payload("block_actions_message.json"))
    p["user"] = {"id": user, "username": "user", "name": "user", "team_id": "T111"}
    p["team"] = {"id": "T111", "domain": "test"}
    p["container"].update(channel_id=channel, message_ts=message_ts, is_ephemeral=state is not None)
    p["channel"] = {"id": channel, "name": "netops"}
    p["message"]["ts"] = message_ts
    p["response_url"] = response_url
    p["trigger_id"] = f"{int(time.time())}.222.trigger"
    p["actions"] = [{"action_id": action_id, "block_id": "b", "text": {"type": "plain_text", "text": "x"},
                     "value": value, "type": "button", "action_ts": action_ts or f"{time.time():.6f}"}]
    if state is not None:
        p["state"] = state
    return urlencode({"payload": json.dumps(p)})


def process_tree(pid: int) -> list[int]:
    """`pid` and its live descendants (gunicorn's master and workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            continue
    return out


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine() -> str:
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:")), 0)
    return (f"machine: {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GB RAM, {platform.system()} "
            f"{platform.release()}, python {platform.python_version()}; load average at start "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
