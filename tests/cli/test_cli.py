"""The `peerbot` console script, run as a real subprocess."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PEERBOT = shutil.which("peerbot", path=str(Path(sys.executable).parent)) or "peerbot"


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEERBOT_"))}
    return subprocess.run([PEERBOT, *args], env={**base, **env}, capture_output=True, text=True, timeout=timeout,
                          cwd=env.get("CWD", str(ROOT)))


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "nope"}, "SLACK_BOT_TOKEN is malformed"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2-3"}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_SIGNING_SECRET": "zz"}, "SLACK_SIGNING_SECRET is malformed"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN is malformed"),
        ({"SLACK_BOT_TOKEN": "xoxb-\u2026", "SLACK_APP_TOKEN": "xapp-\u2026"}, "SLACK_BOT_TOKEN is malformed"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_APP_TOKEN": "xapp-\u2026"}, "SLACK_APP_TOKEN is malformed"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2 3"}, "SLACK_BOT_TOKEN is malformed"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2-3", "PEERBOT_LIST_PAGE_SIZE": "many"}, "PEERBOT_LIST_PAGE_SIZE is malformed"),
    ],
)
def test_serve_refuses_bad_tokens_with_one_line(env: dict[str, str], expected: str, tmp_path: Path) -> None:
    env = {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env}
    p = run(["serve"], env)
    assert p.returncode == 2
    assert expected in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "xoxb-1-2-3" not in p.stderr + p.stdout


def test_db_upgrade_inventory_load_and_sessions_list(tmp_path: Path) -> None:
    env = {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "PEERBOT_SECRET_KEY": "k"}
    assert run(["db", "upgrade"], env).returncode == 0
    first = run(["inventory", "load", str(ROOT / "inventory.example.yml")], env)
    assert first.returncode == 0, first.stderr
    assert "6 created" in first.stdout and "+ router edge1.ams" in first.stdout
    again = run(["inventory", "load", str(ROOT / "inventory.example.yml")], env)
    assert "0 created, 0 updated, 6 unchanged" in again.stdout
    listing = run(["sessions", "list"], env)
    assert listing.returncode == 0 and "0 session(s)" in listing.stdout


def test_sessions_list_prints_rows(tmp_path: Path) -> None:
    from bot.core import Core
    from bot.sessions.inventory import load_inventory
    from bot.core.settings import Settings
    from tests.factories import make_session

    url = f"sqlite:///{tmp_path}/rows.db"
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=url, PEERBOT_SECRET_KEY="k"))
    load_inventory(core.db, ROOT / "tests" / "data" / "inventory.yml")
    make_session(core, ip="192.0.2.10", name="Alpha Networks", asn="65601", actor="cli:tests")
    make_session(core, ip="198.51.100.9", name="Gamma", asn="65603", router="edge2", exchange="OTHER-IX", actor="cli:tests")
    core.db.dispose()
    env = {"PEERBOT_DATABASE_URL": url, "PEERBOT_SECRET_KEY": "k"}
    out = run(["sessions", "list"], env).stdout
    assert "Alpha Networks" in out and "AS65601" in out and "192.0.2.10" in out and "2 session(s)" in out
    out = run(["sessions", "list", "router:edge2"], env).stdout
    assert "Gamma" in out and "Alpha" not in out and "1 session(s)" in out


def test_inventory_errors_are_one_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("routers:\n  - name: r1\n    host: h\n    platform: vyos\n    username: u\n    local_asns: [1]\n")
    env = {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/e.db", "PEERBOT_SECRET_KEY": "k"}
    p = run(["inventory", "load", str(bad)], env)
    assert p.returncode == 2 and "routers.0.platform" in p.stderr and "Traceback" not in p.stderr
    p = run(["inventory", "load", str(tmp_path / "missing.yml")], env)
    assert p.returncode == 2 and "cannot read" in p.stderr


def test_inventory_never_holds_a_clear_password(tmp_path: Path) -> None:
    bad = tmp_path / "pw.yml"
    bad.write_text("routers:\n  - name: r1\n    host: h\n    platform: frr\n    username: u\n    password: hunter2\n    local_asns: [1]\n")
    env = {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "PEERBOT_SECRET_KEY": "k"}
    p = run(["inventory", "load", str(bad)], env)
    assert p.returncode == 2 and "password" in p.stderr and "hunter2" not in p.stderr
