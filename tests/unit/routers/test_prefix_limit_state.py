"""A session torn down by its max-prefix limit reads as "prefix limit exceeded (N)", not as a
plain Idle (issue 10)."""
from __future__ import annotations

import json

from bot.routers.parsers import frr
from bot.routers.parsers.common import is_prefix_limit, with_prefix_limit

from .helpers import fixture


def test_frr_max_prefix_teardown_from_the_lab():
    # captured on the FRR 8.4 lab: maximum-prefix 1 90 restart 5, two prefixes announced
    [state] = frr.parse_neighbors(fixture("frr", "neighbor_prefix_limit.json")).values()
    assert state.state == "Idle" and not state.admin_down
    assert state.last_error == "prefix limit exceeded (1)"


def test_frr_limit_unknown_and_the_peers_teardown_are_told_apart():
    nb = json.loads(fixture("frr", "neighbor_prefix_limit.json"))
    ip, data = next(iter(nb.items()))
    del data["addressFamilyInfo"]["ipv4Unicast"]["prefixAllowedMax"]
    assert frr.parse_neighbors(json.dumps(nb))[ip].last_error == "prefix limit exceeded"
    # the PEER tore the session down because WE sent too many: its own reason, not our limit
    data.pop("prefixesConfigExceedMax")
    data["lastResetDueTo"] = "BGP Notification received"
    assert frr.parse_neighbors(json.dumps(nb))[ip].last_error == "Cease/Maximum Number of Prefixes Reached"


def test_platform_wordings():
    for text in ("Cease/Maximum Number of Prefixes Reached", "Peer over prefix limit of session 1", "PfxCt",
                 "Peer exceeding maximum prefix limit (CEASE notification sent - maximum number of prefixes reached)",
                 "Maximum routes exceeded", "PrefixLimitExceeded", "Neighbor has exceeded the max. no. of prefixes"):
        assert is_prefix_limit(text), text
        assert with_prefix_limit(text, 100) == "prefix limit exceeded (100)"
    for text in ("Hold Timer Expired", "Cease/Administrative Shutdown", "Peer closed the session", None):
        assert not is_prefix_limit(text)
        assert with_prefix_limit(text, 100) == text


def test_the_session_shows_it_instead_of_a_plain_idle():
    from handlers.views.common import state_label
    from tests.unit.test_session_views import view

    v = view(configured=True, admin_status="up", bgp_state="Idle", last_error="prefix limit exceeded (1)")
    assert v.display_state == "Idle \u2014 prefix limit exceeded (1)"
    assert state_label(v.display_state) == ":red_circle: Idle \u2014 prefix limit exceeded (1)"
    assert view(configured=True, bgp_state="Established", last_error="prefix limit exceeded (1)").display_state \
        == "Established"


def test_the_detail_shows_the_limit():
    from handlers.views.sessions import session_detail
    from tests.unit.test_session_views import view

    text = str(session_detail(view(max_prefixes=1210))["blocks"])
    assert "*Max prefixes*\\n1,210" in text
