"""`peerbot serve --http` as a real process: health check, signed /peering help, clean stop."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from tests.cli.test_cli import PEERBOT, ROOT
from tests.harness.bot import BOT_TOKEN, SIGNING_SECRET
from tests.harness.fake_slack import FakeSlack
from tests.harness.slack_requests import SlackSender


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_http_answers_health_and_signed_commands(tmp_path: Path, slack: FakeSlack) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEERBOT_"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
               PEERBOT_DATABASE_URL=f"sqlite:///{tmp_path}/serve.db", PEERBOT_POLL_INTERVAL="0",
               PEERBOT_INVENTORY=str(ROOT / "inventory.example.yml"))
    proc = subprocess.Popen([PEERBOT, "serve", "--http", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "peerbot serve did not come up"
            time.sleep(0.2)
        assert slack.of("auth.test"), "the bot checks its token at start"
        send = SlackSender(url + "/slack/events", SIGNING_SECRET, slack.response_url("serve"))
        mark = slack.mark()
        assert send.command("list").status_code == 200
        listing = slack.wait_for("response_url", after=mark).args
        assert "No sessions yet" in json.dumps(listing)
        assert send.command("help", signature="v0=" + "0" * 64).status_code == 401
        key = tmp_path / ".peerbot-secret-key"  # embedded default: a generated key beside the SQLite file
        assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    assert "inventory" in out and BOT_TOKEN not in out
