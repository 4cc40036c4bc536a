"""A real push with an MD5 key and a failed login, logged at DEBUG: no secret in the log."""
from __future__ import annotations

import io

import pytest

from bot.core import Core
from bot.changes.executor import Changes
from tests.factories import make_session

pytestmark = pytest.mark.lab


def test_md5_push_and_bad_login_leave_no_secret_in_debug_log(inventory_core: Core, clean_lab, debug_log: io.StringIO,  # noqa: ANN001
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    spare = clean_lab.spares["v4_md5"]
    v = make_session(inventory_core, ip=spare.peer_ip, asn=str(clean_lab.peer.asn), name="Secret Peer",
                     session_type="local", exchange="No Exchange", md5=spare.md5)
    changes = Changes(inventory_core)
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "wrong-" + clean_lab.password)
    failed = changes.configure(v.id, "U111")
    assert not failed.ok and "authentication" in failed.message.lower()
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", clean_lab.password)
    assert changes.configure(v.id, "U111").ok
    clean_lab.wait_state(spare.peer_ip, "Established")
    log = debug_log.getvalue()
    assert "failed" in log  # the failure was logged ...
    for secret in (spare.md5, clean_lab.password):
        assert secret not in log  # ... without the MD5 key or the router password
