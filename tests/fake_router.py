"""An in-memory router behind the RouterDriver protocol, for service and handler tests.

    router = FakeRouter()
    changes = Changes(core, driver_factory=router.factory)
    router.reject_line = r"maximum-prefix"      # the router refuses the matching line
    router.fail_connect = "unreachable" | "auth" | "timeout"

It understands the few Cisco-like lines the FRR templates render (remote-as, shutdown,
description, password, no neighbor) and records everything: connections, pushes, saves.
"""
from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.routers.base import Platform
from bot.routers.bgp_config import parse_bgp_config
from bot.routers.bgp_config.model import BgpConfig
from bot.routers import (
    ConfigRejected, NeighborState, RouterAuthFailed, RouterCredentials, RouterTimeout, RouterUnreachable,
)


def _norm(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return ip


@dataclass
class FakeNeighbor:
    remote_asn: int | None = None
    shutdown: bool = False
    description: str | None = None
    password: str | None = None
    state: str = "Established"
    peer_group: str | None = None
    prefix_list: str | None = None  # bound inbound
    max_prefixes: int | None = None


@dataclass
class FakeRouter:
    neighbors: dict[str, FakeNeighbor] = field(default_factory=dict)
    connections: int = 0
    saves: int = 0
    pushes: list[list[str]] = field(default_factory=list)
    push_secrets: list[tuple[str, ...]] = field(default_factory=list)  # what the driver was told to mask
    credentials: list[RouterCredentials] = field(default_factory=list)
    reject_line: str | None = None  # regex: a matching line is refused (lines before it stay applied)
    fail_connect: str | None = None  # "unreachable" | "auth" | "timeout"
    fail_show: bool = False  # neighbors() raises RouterTimeout
    keep_after_delete: bool = False  # "no neighbor X" is accepted but does nothing
    hide_shutdown: bool = False  # like Junos: a deactivated (admin-down) neighbor is not listed
    push_gate: threading.Event | None = None  # push() waits for it (to hold a change in flight)
    drop_after_lines: int | None = None  # the connection drops after this many lines of a push
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    asn: int = 65000  # its `router bgp` AS, in the running config discovery reads

    def factory(self, creds: RouterCredentials, timeout: float) -> FakeDriver:
        self.credentials.append(creds)
        return FakeDriver(self, creds)

    # -- the "CLI" -----------------------------------------------------------------------
    def apply(self, line: str) -> None:
        if self.reject_line and re.search(self.reject_line, line):
            raise ConfigRejected(f"fake rejected the configuration at {line!r}: "
                                 "% Invalid input", command=line)
        words = line.split()
        neg = words[:1] == ["no"]
        if neg:
            words = words[1:]
        if len(words) < 2 or words[0] != "neighbor":
            return  # context lines (router bgp, address-family, exit, prefix-list ...)
        ip = _norm(words[1])
        rest = words[2:]
        if neg and not rest:
            if ip not in self.neighbors:
                raise ConfigRejected("fake rejected the configuration: % Specify remote-as or peer-group commands first")
            if not self.keep_after_delete:
                del self.neighbors[ip]
            return
        if rest[:1] == ["remote-as"] and not neg:
            if len(rest) < 2:
                raise ConfigRejected("fake rejected the configuration: % Command incomplete")
            self.neighbors.setdefault(ip, FakeNeighbor()).remote_asn = int(rest[1])
            return
        nbr = self.neighbors.get(ip)
        if nbr is None:
            raise ConfigRejected("fake rejected the configuration: % Specify remote-as or peer-group commands first")
        if rest[:1] == ["shutdown"]:
            nbr.shutdown = not neg
        elif rest[:1] == ["description"]:
            nbr.description = None if neg else " ".join(rest[1:])
        elif rest[:1] == ["password"]:
            nbr.password = None if neg else rest[1]
        elif rest[:1] == ["peer-group"]:
            nbr.peer_group = None if neg else rest[1]
        elif rest[:1] == ["prefix-list"] and rest[-1:] == ["in"]:
            nbr.prefix_list = None if neg else rest[1]
        elif rest[:1] == ["maximum-prefix"]:
            nbr.max_prefixes = None if neg else int(rest[1])

    def running_config(self) -> str:
        """The neighbors as FRR 8.4's `show running-config` prints them (what discovery reads)."""
        out = ["frr version 8.4", "frr defaults traditional", "!", f"router bgp {self.asn}"]
        for group in sorted({n.peer_group for n in self.neighbors.values() if n.peer_group}):
            out.append(f" neighbor {group} peer-group")
        for ip, n in self.neighbors.items():
            out.append(f" neighbor {ip} remote-as {n.remote_asn}")
            if n.peer_group:
                out.append(f" neighbor {ip} peer-group {n.peer_group}")
            if n.description:
                out.append(f" neighbor {ip} description {n.description}")
            if n.password:
                out.append(f" neighbor {ip} password {n.password}")
            if n.shutdown:
                out.append(f" neighbor {ip} shutdown")
        out.append(" !")
        for family in (4, 6):
            lines = []
            for ip, n in self.neighbors.items():
                if ipaddress.ip_address(ip).version != family:
                    continue
                if family == 6:
                    lines.append(f"  neighbor {ip} activate")
                if n.prefix_list:
                    lines.append(f"  neighbor {ip} prefix-list {n.prefix_list} in")
                if n.max_prefixes:
                    lines.append(f"  neighbor {ip} maximum-prefix {n.max_prefixes}")
            if lines or family == 4:
                out += [f" address-family ipv{family} unicast", *lines, " exit-address-family"]
        out += ["exit", "!", "end"]
        return "\n".join(out) + "\n"

    def state_of(self, ip: str) -> NeighborState | None:
        n = self.neighbors.get(_norm(ip))
        if n is None or (n.shutdown and self.hide_shutdown):
            return None
        state = "Idle" if n.shutdown else n.state
        up = state == "Established"
        return NeighborState(peer_ip=_norm(ip), state=state, admin_down=n.shutdown, remote_asn=n.remote_asn,
                             prefixes_received=3 if up else None, prefixes_accepted=3 if up else None,
                             prefixes_advertised=1 if up else None, uptime_seconds=5, last_error=None,
                             description=n.description)


class FakeDriver:
    def __init__(self, router: FakeRouter, creds: RouterCredentials):
        self.router = router
        self.creds = creds
        self.connected = False

    def connect(self) -> None:
        r = self.router
        if r.fail_connect == "unreachable":
            raise RouterUnreachable(f"cannot reach {self.creds.host}:{self.creds.port} (connection refused)")
        if r.fail_connect == "auth":
            raise RouterAuthFailed(f"authentication failed for {self.creds.username}@{self.creds.host}:{self.creds.port}")
        if r.fail_connect == "timeout":
            raise RouterTimeout(f"{self.creds.host}:{self.creds.port} did not answer in time (connect)")
        with r.lock:
            r.connections += 1
        self.connected = True

    def close(self) -> None:
        self.connected = False

    def __enter__(self) -> FakeDriver:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def push(self, lines: list[str], *, secrets: Iterable[str] = ()) -> str:
        assert self.connected
        if self.router.push_gate is not None:
            assert self.router.push_gate.wait(10), "push_gate never opened"
        with self.router.lock:
            self.router.pushes.append(list(lines))
            self.router.push_secrets.append(tuple(secrets))
            for n, line in enumerate(lines):
                if self.router.drop_after_lines is not None and n >= self.router.drop_after_lines:
                    raise RouterTimeout(f"{self.creds.host}:{self.creds.port} did not answer in time (push)")
                self.router.apply(line.strip())
        return ""

    def save(self) -> str:
        assert self.connected
        with self.router.lock:
            self.router.saves += 1
        return "[OK]"

    def neighbors(self) -> dict[str, NeighborState]:
        assert self.connected
        if self.router.fail_show:
            raise RouterTimeout(f"{self.creds.host}:{self.creds.port} did not answer in time (read BGP neighbors)")
        with self.router.lock:
            states = {ip: self.router.state_of(ip) for ip in self.router.neighbors}
            return {ip: st for ip, st in states.items() if st is not None}

    def neighbor(self, ip: str) -> NeighborState | None:
        return self.neighbors().get(_norm(ip))

    def bgp_config(self) -> BgpConfig:
        """The running config parsed by the real FRR parser (discovery's read)."""
        assert self.connected
        if self.router.fail_show:
            raise RouterTimeout(f"{self.creds.host}:{self.creds.port} did not answer in time (read the BGP configuration)")
        with self.router.lock:
            text = self.router.running_config()
        return parse_bgp_config(Platform.FRR, {"show running-config": text})
