"""`peerbot serve` at start: a rejected token is one line and exit 2; an unreachable Slack in
HTTP mode still serves /healthz ("not ready" with the reason) and becomes ready when Slack
answers; a start prints no library chatter."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.cli.test_cli import PEERBOT
from tests.cli.test_serve import free_port
from tests.harness.bot import BOT_TOKEN, SIGNING_SECRET
from tests.harness.fake_slack import FakeSlack
from tests.harness.slack_requests import SlackSender

APP_TOKEN = "xapp-1-A111-111-sockettoken"


def _env(tmp_path: Path, api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEERBOT_"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=api_url,
               PEERBOT_DATABASE_URL=f"sqlite:///{tmp_path}/first.db", PEERBOT_POLL_INTERVAL="0", **extra)
    return env


def _serve(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([PEERBOT, "serve", *args], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def _until(proc: subprocess.Popen, what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except requests.ConnectionError:
            pass
        assert proc.poll() is None, f"peerbot exited ({proc.returncode}) waiting for {what}: {_stop(proc)[1]}"
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(0.2)


def _health(url: str) -> requests.Response:
    return requests.get(url + "/healthz", timeout=5)


def _closed_port_api() -> str:
    return f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there


@pytest.mark.parametrize("mode", [["--http"], []])
def test_rejected_bot_token_is_one_line_and_exit_2(tmp_path: Path, slack: FakeSlack, mode: list[str]) -> None:
    slack.fail_methods["auth.test"] = "invalid_auth"
    env = _env(tmp_path, slack.api_url, **({} if mode else {"SLACK_APP_TOKEN": APP_TOKEN}))
    p = subprocess.run([PEERBOT, "serve", *mode], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines() == ["peerbot: Slack rejected SLACK_BOT_TOKEN (invalid_auth)"]
    assert BOT_TOKEN not in p.stdout + p.stderr


def test_rejected_app_token_is_one_line_and_exit_2(tmp_path: Path, slack: FakeSlack) -> None:
    """A well-formed SLACK_APP_TOKEN that Slack refuses: one line naming it, exit 2 (no traceback)."""
    slack.fail_methods["apps.connections.open"] = "invalid_auth"
    env = _env(tmp_path, slack.api_url, SLACK_APP_TOKEN=APP_TOKEN)
    p = subprocess.run([PEERBOT, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines() == ["peerbot: Slack rejected SLACK_APP_TOKEN (invalid_auth)"], p.stderr
    assert "Traceback" not in p.stderr and APP_TOKEN not in p.stdout + p.stderr


def test_socket_mode_with_slack_unreachable_is_one_line_and_exit_1(tmp_path: Path) -> None:
    env = _env(tmp_path, _closed_port_api(), SLACK_APP_TOKEN=APP_TOKEN)
    p = subprocess.run([PEERBOT, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "peerbot: Slack unreachable" in p.stderr, p.stderr


def test_http_mode_serves_not_ready_while_slack_is_unreachable(tmp_path: Path) -> None:
    port = free_port()
    proc = _serve(tmp_path, _env(tmp_path, _closed_port_api()), "--http", "--port", str(port))
    try:
        url = f"http://127.0.0.1:{port}"
        _until(proc, "/healthz", lambda: _health(url).status_code == 503)
        answer = _health(url).json()
        assert answer["status"] == "not ready" and answer["reason"].startswith("Slack unreachable: ")
        assert "Connection" in answer["reason"] or "refused" in answer["reason"], answer
    finally:
        _out, err = _stop(proc)
    assert "serving anyway" in err and BOT_TOKEN not in err


def test_http_mode_becomes_ready_when_slack_answers(tmp_path: Path, slack: FakeSlack) -> None:
    slack.fail_methods["auth.test"] = "internal_error"  # Slack is having a bad day: transient
    port = free_port()
    proc = _serve(tmp_path, _env(tmp_path, slack.api_url), "--http", "--port", str(port))
    try:
        url = f"http://127.0.0.1:{port}"
        _until(proc, "/healthz 503", lambda: _health(url).status_code == 503)
        assert _health(url).json() == {"status": "not ready", "reason": "Slack unreachable: it answered internal_error",
                                       "pid": proc.pid}
        del slack.fail_methods["auth.test"]
        _until(proc, "/healthz 200", lambda: _health(url).status_code == 200)
        assert _health(url).json() == {"status": "ok", "pid": proc.pid}
        send = SlackSender(url + "/slack/events", SIGNING_SECRET, slack.response_url("ready"))
        mark = slack.mark()
        assert send.command("help").status_code == 200
        assert "/peering list" in str(slack.wait_for("response_url", after=mark, timeout=30).args)
    finally:
        _stop(proc)


def test_http_mode_exits_2_when_slack_comes_back_and_rejects_the_token(tmp_path: Path, slack: FakeSlack) -> None:
    slack.fail_methods["auth.test"] = "internal_error"
    port = free_port()
    proc = _serve(tmp_path, _env(tmp_path, slack.api_url), "--http", "--port", str(port))
    try:
        _until(proc, "/healthz 503", lambda: _health(f"http://127.0.0.1:{port}").status_code == 503)
        slack.fail_methods["auth.test"] = "token_revoked"
        proc.wait(timeout=60)
    finally:
        _out, err = _stop(proc)
    assert proc.returncode == 2, err
    assert err.strip().splitlines()[-1] == "peerbot: Slack rejected SLACK_BOT_TOKEN (token_revoked)"
    assert "Traceback" not in err


def test_a_start_prints_no_library_chatter(tmp_path: Path, slack: FakeSlack) -> None:
    """No alembic INFO lines and no Bolt warning about `client` and `token` (SLACK_BOT_TOKEN is in
    the environment, as in production); a fresh database says once that it was migrated."""
    port = free_port()
    env = _env(tmp_path, slack.api_url, PEERBOT_SECRET_KEY="a passphrase")
    for start in (1, 2):
        proc = _serve(tmp_path, env, "--http", "--port", str(port))
        try:
            _until(proc, "/healthz 200", lambda: _health(f"http://127.0.0.1:{port}").status_code == 200)
        finally:
            out, err = _stop(proc)
        lines = (out + err).strip().splitlines()
        assert not [line for line in lines if "alembic" in line], lines
        assert all(" peerbot" in line for line in lines), lines  # only peerbot's own loggers speak
        assert not [line for line in lines if "WARNING" in line or "ERROR" in line], lines
        migrated = [line for line in lines if "database schema migrated" in line]
        assert len(migrated) == (1 if start == 1 else 0), lines
