"""`peerbot serve` with SLACK_APP_TOKEN connects in Socket Mode: envelopes in, acks out."""
from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import PEERBOT
from tests.harness.bot import BOT_TOKEN
from tests.harness.fake_slack import FakeSlack
from tests.harness.fake_socket_mode import FakeSocketMode
from tests.harness.slack_requests import load_payload

APP_TOKEN = "xapp-1-A111-111-sockettoken"


@pytest.fixture
def socket_mode(slack: FakeSlack) -> Iterator[FakeSocketMode]:
    fake = FakeSocketMode().start()
    slack.socket_mode_url = fake.url
    yield fake
    fake.stop()


def test_socket_mode_command_is_acked_and_answered(tmp_path: Path, slack: FakeSlack,
                                                   socket_mode: FakeSocketMode) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEERBOT_"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=slack.api_url,
               PEERBOT_DATABASE_URL=f"sqlite:///{tmp_path}/sm.db", PEERBOT_POLL_INTERVAL="0")
    proc = subprocess.Popen([PEERBOT, "serve"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert socket_mode.connected.wait(30), "the bot did not open a Socket Mode connection"
        opened = slack.wait_for("apps.connections.open")
        assert opened.headers.get("authorization") == f"Bearer {APP_TOKEN}"
        envelope = copy.deepcopy(load_payload("slash_command_socket_mode_envelope.json"))
        envelope["payload"].update(command="/peering", text="help", response_url=slack.response_url("sm"))
        mark = slack.mark()
        socket_mode.send(envelope)
        ack = socket_mode.wait_ack(envelope["envelope_id"])
        assert ack == {"envelope_id": envelope["envelope_id"]}  # an empty ack, like ack() over HTTP
        answer = slack.wait_for("response_url", after=mark).args
        assert "/peering list" in json.dumps(answer)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert APP_TOKEN not in out and BOT_TOKEN not in out
