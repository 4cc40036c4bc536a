"""The fake IRRd (tests/irr_server.py) answers real bgpq4 the way IRRd does."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess

import pytest

from tests.irr_server import IRR_TEST_DATA, start_irr_server
from tests.lab_fixture import skip_or_fail

BGPQ4 = shutil.which("bgpq4")


@pytest.fixture
def bgpq4() -> str:
    if BGPQ4 is None:
        skip_or_fail("bgpq4 is not installed (apt-get install bgpq4)")
    return BGPQ4


def run_bgpq4(bgpq4: str, host: str, port: int, *args: str) -> dict:
    proc = subprocess.run([bgpq4, "-h", f"{host}:{port}", "-j", *args],
                          capture_output=True, text=True, timeout=30, check=True)
    return json.loads(proc.stdout)


def prefixes(result: dict, name: str) -> list[str]:
    return sorted(entry["prefix"] for entry in result[name])


def test_bgpq4_expands_as_set_ipv4(bgpq4, irr_server):
    host, port = irr_server
    out = run_bgpq4(bgpq4, host, port, "-4", "-l", "PL", "AS-EXAMPLE")
    assert prefixes(out, "PL") == ["198.51.100.0/25", "198.51.100.128/25", "203.0.113.0/24"]
    assert all(entry["exact"] for entry in out["PL"])


def test_bgpq4_expands_as_set_ipv6(bgpq4, irr_server):
    host, port = irr_server
    out = run_bgpq4(bgpq4, host, port, "-6", "-l", "PL6", "AS-EXAMPLE")
    assert prefixes(out, "PL6") == ["2001:db8:65::/48", "2001:db8:66::/48"]


def test_bgpq4_single_asn_and_unknown_set(bgpq4, irr_server):
    host, port = irr_server
    assert prefixes(run_bgpq4(bgpq4, host, port, "-4", "-l", "A", "AS65601"), "A") == ["203.0.113.0/24"]
    # unknown as-set: bgpq4 still exits 0, with an empty (deny-all) list
    assert run_bgpq4(bgpq4, host, port, "-4", "-l", "N", "AS-NOPE")["N"] == []


def test_irrd4_a_query_mode(bgpq4):
    server, port = start_irr_server(IRR_TEST_DATA, aquery=True)
    try:
        out = run_bgpq4(bgpq4, "127.0.0.1", port, "-4", "-l", "PL", "AS-EXAMPLE")
        assert prefixes(out, "PL") == ["198.51.100.0/25", "198.51.100.128/25", "203.0.113.0/24"]
        assert any(q.startswith("!a4") for q in server.queries)
    finally:
        server.close()


def test_protocol_replies_without_bgpq4():
    server, port = start_irr_server({"as-set": {"AS-X": ["AS65601"]}, "route": {"AS65601": ["192.0.2.0/24"]}})
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"!!\n!a\n!iAS-X,1\n!gas65601\n!6as65601\n!iAS-MISSING,1\n!q\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        assert data == b"D\nA8\nAS65601\nC\nA13\n192.0.2.0/24\nC\nC\nD\n"
    finally:
        server.close()
    # closed cleanly: the port is free again
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
