"""The shape check before Bolt (bot/serve/payload_check.py) accepts every real Slack payload sample."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.serve.payload_check import MalformedPayload, check_body
from tests.harness.slack_requests import LOCAL_PAYLOADS, PAYLOADS

SAMPLES = sorted({p.name: p for base in (PAYLOADS, LOCAL_PAYLOADS) if base.exists()
                  for p in base.iterdir() if p.suffix in (".json", ".txt")}.values())


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_real_payload_samples_pass(path: Path) -> None:
    if path.suffix == ".txt":  # a form-encoded slash command
        assert check_body(path.read_text().strip().encode(), "application/x-www-form-urlencoded")["command"]
        return
    sample = json.loads(path.read_text())
    if "envelope_id" in sample:  # Socket Mode: the payload inside the envelope
        sample = sample["payload"]
    if not isinstance(sample, dict) or "type" not in sample:
        pytest.skip("not an interactivity payload")
    body = urlencode({"payload": json.dumps(sample)}).encode()
    assert check_body(body, "application/x-www-form-urlencoded") == sample


def test_the_reason_names_the_problem_without_quoting_content() -> None:
    secret = "hunter2-md5"
    body = urlencode({"payload": json.dumps({"type": "view_submission", "view": {"callback_id": 5},
                                             "note": secret})}).encode()
    with pytest.raises(MalformedPayload) as exc:
        check_body(body, "application/x-www-form-urlencoded")
    assert str(exc.value) == "view.callback_id is not a string" and secret not in str(exc.value)
