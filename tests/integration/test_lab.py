"""The FRR lab itself, driven through plain netmiko exactly like the bot drives a router."""

from __future__ import annotations

import json
import socket
import time

import pytest

netmiko = pytest.importorskip("netmiko")
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException  # noqa: E402

from tests.lab_fixture import Lab  # noqa: E402

# vtysh reports errors on lines starting with "%"; without error_pattern netmiko passes them.
FRR_ERRORS = r"^%"

pytestmark = pytest.mark.lab


def connect(lab: Lab, **overrides):
    return netmiko.ConnectHandler(**lab.netmiko_params(**overrides))


def configure(lab: Lab, *lines: str) -> str:
    with connect(lab) as conn:
        return conn.send_config_set([f"router bgp {lab.router.asn}", *lines], error_pattern=FRR_ERRORS)


def test_password_login_lands_at_exec_prompt(frr_lab: Lab):
    with connect(frr_lab) as conn:
        assert conn.find_prompt() == f"{frr_lab.router.name}#"
        version = conn.send_command("show version")
        assert "FRRouting" in version


def test_key_login_lands_at_exec_prompt(frr_lab: Lab):
    with connect(frr_lab, password=None, use_keys=True, key_file=frr_lab.key_file) as conn:
        assert conn.find_prompt() == f"{frr_lab.router.name}#"


def test_wrong_password_raises_auth_error(frr_lab: Lab):
    with pytest.raises(NetmikoAuthenticationException):
        connect(frr_lab, password="definitely-wrong")


def test_closed_port_raises_timeout_error():
    # no lab needed: a port nobody listens on, found by binding and releasing it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetmikoTimeoutException):
        netmiko.ConnectHandler(device_type="cisco_ios", host="127.0.0.1", port=port,
                               username="x", password="y", conn_timeout=3)


def test_baseline_sessions_established_with_prefixes(clean_lab: Lab):
    with connect(clean_lab) as conn:
        summary = json.loads(conn.send_command("show bgp summary json"))
    v4 = summary["ipv4Unicast"]["peers"][clean_lab.peer.v4]
    v6 = summary["ipv6Unicast"]["peers"][clean_lab.peer.v6]
    assert v4["state"] == "Established" and v4["remoteAs"] == clean_lab.peer.asn
    assert v4["pfxRcd"] == len(clean_lab.peer.prefixes_v4)
    assert v6["state"] == "Established" and v6["pfxRcd"] == len(clean_lab.peer.prefixes_v6)
    nbr = clean_lab.neighbor_json(clean_lab.peer.v4)
    assert nbr["addressFamilyInfo"]["ipv4Unicast"]["acceptedPrefixCounter"] >= 1


def test_baseline_admin_down_and_reset_brings_it_back(clean_lab: Lab):
    ip = clean_lab.peer.v4
    configure(clean_lab, f"neighbor {ip} shutdown")
    nbr = clean_lab.wait_state(ip, "Idle", timeout=10)
    assert nbr.get("adminShutDown") is True
    clean_lab.reset()
    assert clean_lab.neighbor_json(ip)["bgpState"] == "Established"


@pytest.mark.parametrize("spare", ["v4", "v6"])
def test_new_neighbor_on_spare_pair_comes_up(clean_lab: Lab, spare: str):
    pair = clean_lab.spares[spare]
    assert clean_lab.neighbor_json(pair.peer_ip) == {}
    lines = [f"neighbor {pair.peer_ip} remote-as {clean_lab.peer.asn}",
             f"neighbor {pair.peer_ip} description test-{spare}"]
    if pair.afi == "ipv6":
        lines += ["address-family ipv6 unicast", f"neighbor {pair.peer_ip} activate"]
    configure(clean_lab, *lines)
    nbr = clean_lab.wait_state(pair.peer_ip, "Established", timeout=20)
    assert nbr["remoteAs"] == clean_lab.peer.asn and nbr["nbrDesc"] == f"test-{spare}"
    # the PEER sees it too
    peer_view = clean_lab.neighbor_json(pair.router_ip, router="peer")
    assert peer_view["bgpState"] == "Established"


def test_new_neighbor_in_peer_group(clean_lab: Lab):
    pair, group = clean_lab.spares["v4"], clean_lab.peer_groups[0]
    configure(clean_lab, f"neighbor {pair.peer_ip} remote-as {clean_lab.peer.asn}",
              f"neighbor {pair.peer_ip} peer-group {group}")
    nbr = clean_lab.wait_state(pair.peer_ip, "Established", timeout=20)
    assert nbr.get("peerGroup") == group


def test_md5_spare_needs_the_right_password(clean_lab: Lab):
    pair = clean_lab.spares["v4_md5"]
    assert pair.md5 == "lab-md5-secret"
    configure(clean_lab, f"neighbor {pair.peer_ip} remote-as {clean_lab.peer.asn}")
    time.sleep(3)  # R1 tries to connect; PEER's kernel drops SYNs without a TCP-MD5 signature
    assert clean_lab.neighbor_json(pair.peer_ip)["bgpState"] != "Established"
    configure(clean_lab, f"neighbor {pair.peer_ip} password not-the-secret")
    time.sleep(3)
    assert clean_lab.neighbor_json(pair.peer_ip)["bgpState"] != "Established"
    configure(clean_lab, f"neighbor {pair.peer_ip} password {pair.md5}")
    clean_lab.wait_state(pair.peer_ip, "Established", timeout=20)


def test_reset_removes_neighbors_added_by_tests(clean_lab: Lab):
    added = [clean_lab.spares["v4"].peer_ip, clean_lab.spares["v6"].peer_ip]
    configure(clean_lab, *[f"neighbor {ip} remote-as {clean_lab.peer.asn}" for ip in added])
    with connect(clean_lab) as conn:
        conn.save_config()  # write memory changes the config file; reset() restores it
    assert clean_lab.spares["v4"].peer_ip in open(clean_lab.config_file).read()
    clean_lab.reset()
    for ip in added:
        assert clean_lab.neighbor_json(ip) == {}
    assert sorted(clean_lab.neighbors()) == sorted(clean_lab.baseline_peer_ips)
    assert clean_lab.spares["v4"].peer_ip not in open(clean_lab.config_file).read()
    for group in clean_lab.peer_groups:
        assert f"neighbor {group} peer-group" in clean_lab.vtysh("r1", "show running-config")


def test_lab_vtysh_reaches_the_peer(frr_lab: Lab, lab_vtysh):
    summary = json.loads(lab_vtysh("peer", "show bgp summary json"))
    assert summary["ipv4Unicast"]["as"] == frr_lab.peer.asn
    # the PEER is pre-provisioned for every spare pair
    for pair in frr_lab.spares.values():
        fam = "ipv6Unicast" if pair.afi == "ipv6" else "ipv4Unicast"
        assert pair.router_ip in summary[fam]["peers"]
