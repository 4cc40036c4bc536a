"""A push cut off half-way (timeout, dropped connection): the new neighbor stays shut down (the
template enables it only in its last line), the session says "unknown — check the router", and
the next poll reconciles the database with what the router holds."""
from __future__ import annotations

import pytest

from bot.core import Core
from bot.changes.executor import Changes
from bot.sessions.queries import get_session
from bot.sessions.views import UNKNOWN_STATE
from tests.factories import make_session
from tests.fake_router import FakeRouter


@pytest.fixture
def env(inventory_core: Core, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "pw")
    router = FakeRouter()
    return inventory_core, router, Changes(inventory_core, driver_factory=router.factory)


def test_cut_off_configure_leaves_a_shut_neighbor_and_an_unknown_state(env) -> None:  # noqa: ANN001
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10", md5="Md5-Secr3t-Key")
    router.drop_after_lines = 3  # router bgp, remote-as, shutdown … then the line drops
    res = changes.configure(v.id, "U111")
    assert not res.ok and "unknown" in res.message and "Configure again" in res.message
    nbr = router.neighbors["192.0.2.10"]
    assert nbr.shutdown and nbr.password is None  # created, but not up without its key
    view = get_session(core.db, v.id)
    assert view.display_state == UNKNOWN_STATE and not view.configured
    # the next poll finds the neighbor: the session follows the router, and says what to do
    router.drop_after_lines = None
    polled = changes.poll_session(v.id)
    assert polled.configured and polled.display_state != UNKNOWN_STATE
    assert "Configure again" in polled.last_error
    # Configure again completes it, and the neighbor is enabled by the last line
    assert changes.configure(v.id, "U111").ok
    assert not router.neighbors["192.0.2.10"].shutdown and router.neighbors["192.0.2.10"].password == "Md5-Secr3t-Key"


def test_poll_after_an_interruption_that_left_nothing(env) -> None:  # noqa: ANN001
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    router.drop_after_lines = 0
    assert not changes.configure(v.id, "U111").ok
    assert get_session(core.db, v.id).display_state == UNKNOWN_STATE
    router.drop_after_lines = None
    polled = changes.poll_session(v.id)
    assert not polled.configured and polled.display_state == "Not configured"
    assert "nothing of it was left" in polled.last_error
