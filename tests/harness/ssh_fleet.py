"""A simulated fleet of FRR routers over real SSH, for tests and bench/refresh.py.

One asyncssh listener per router on 127.0.0.1 (all on one event loop, in a thread of its own or
in a process of its own), each speaking enough of vtysh for netmiko's `cisco_ios` driver: a
`r<N>#` prompt that echoes what is typed, `terminal width/length`, `show bgp neighbors json` with
realistic output for S sessions, config mode (`configure terminal`, `router bgp`, `neighbor ...`,
`address-family`, `exit`, `end`) and `write memory`. Answers come after a configurable delay
(login and each command), like a router across a WAN. What the routers saw is counted: connections,
commands, config lines, saves, and the most connections / commands in flight at once (overlap).

    fleet = SshFleet(routers=20, sessions=50, command_delay=0.2).start()
    fleet.routers[0].port ... fleet.stats() ... fleet.stop()

A "hanging" router accepts TCP and never says anything (not even the SSH banner).

As a process (bench/refresh.py runs it apart so that its CPU is not counted as the bot's):

    python -m tests.harness.ssh_fleet --routers 500 --sessions 50
prints one JSON line {"ports": [...], "hanging": [...], "username": ..., "password": ...}, then
answers "stats" and "reset" lines on stdin with one JSON line each; EOF stops it. Also
"lines" (every router's config lines so far, by name) and "drop <router index> <lines> [sessions]"
(the router's next config sessions are dropped after that many config lines).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import asyncssh

USERNAME = "lab"
PASSWORD = "lab-password"
LOCAL_ASN = 64500
STATE_COMMAND = "show bgp neighbors json"
CONFIG_COMMAND = "show running-config"  # what discovery reads (bot/routers/bgp_config)
REFUSED_REPLY = "% Unknown command: {line}"


def neighbor_ip(index: int) -> str:
    """The i-th (0-based) neighbor of every simulated router: 10.<hi>.<lo>.2."""
    n = index + 1
    return f"10.{(n >> 8) & 255}.{n & 255}.2"


@dataclass
class Neighbor:
    ip: str
    remote_as: int
    description: str = ""
    admin_down: bool = False
    state: str = "Established"

    def to_frr(self) -> dict[str, Any]:
        """Shaped like FRR 8.4's `show bgp neighbors json` (see /work/shared/lab/samples)."""
        up = self.state == "Established" and not self.admin_down
        nb: dict[str, Any] = {
            "remoteAs": self.remote_as, "localAs": LOCAL_ASN, "nbrExternalLink": True,
            "localRole": "undefined", "remoteRole": "undefined", "nbrDesc": self.description or None,
            "hostname": "peer", "bgpVersion": 4, "remoteRouterId": self.ip if up else "0.0.0.0",
            "localRouterId": "192.0.2.1", "bgpState": "Established" if up else ("Idle" if self.admin_down else self.state),
            "bgpTimerLastRead": 2000, "bgpTimerLastWrite": 2000, "bgpInUpdateElapsedTimeMsecs": 2000,
            "bgpTimerConfiguredHoldTimeMsecs": 9000, "bgpTimerConfiguredKeepAliveIntervalMsecs": 3000,
            "neighborCapabilities": {
                "4byteAs": "advertisedAndReceived", "extendedMessage": "advertisedAndReceived",
                "routeRefresh": "advertisedAndReceivedOldNew", "enhancedRouteRefresh": "advertisedAndReceived",
                "multiprotocolExtensions": {"ipv4Unicast": {"advertisedAndReceived": True}},
                "hostName": {"advHostName": "r1", "advDomainName": "n/a", "rcvHostName": "peer", "rcvDomainName": "n/a"},
                "gracefulRestart": "advertisedAndReceived", "gracefulRestartRemoteTimerMsecs": 120000,
            },
            "messageStats": {"depthInq": 0, "depthOutq": 0, "opensSent": 2, "opensRecv": 1, "notificationsSent": 0,
                             "notificationsRecv": 0, "updatesSent": 3, "updatesRecv": 3, "keepalivesSent": 41,
                             "keepalivesRecv": 41, "routeRefreshSent": 0, "routeRefreshRecv": 0, "totalSent": 46,
                             "totalRecv": 45},
            "minBtwnAdvertisementRunsTimerMsecs": 0,
            "addressFamilyInfo": {"ipv4Unicast": {"updateGroupId": 1, "subGroupId": 1, "packetQueueLength": 0,
                                                  "commAttriSentToNbr": "extendedAndStandard",
                                                  "acceptedPrefixCounter": 12 if up else 0,
                                                  "sentPrefixCounter": 2 if up else 0}},
            "connectionsEstablished": 1, "connectionsDropped": 0 if up else 1,
            "lastResetTimerMsecs": 120000, "lastResetDueTo": "Admin. shutdown" if self.admin_down else "Waiting for peer OPEN",
            "hostLocal": "192.0.2.1", "portLocal": 179, "hostForeign": self.ip, "portForeign": 40123,
            "nexthop": "192.0.2.1", "nexthopGlobal": "::", "nexthopLocal": "::", "bgpConnection": "sharedNetwork",
            "connectRetryTimer": 120, "readThread": "on", "writeThread": "on",
        }
        if up:
            nb["bgpTimerUpMsec"] = 3_600_000
            nb["bgpTimerUpString"] = "01:00:00"
            nb["bgpTimerHoldTimeMsecs"] = 9000
            nb["bgpTimerKeepAliveIntervalMsecs"] = 3000
        if self.admin_down:
            nb["adminShutDown"] = True
        if not nb["nbrDesc"]:
            del nb["nbrDesc"]
        return nb


@dataclass
class SimRouter:
    name: str
    sessions: int
    hanging: bool = False
    port: int = 0
    neighbors: dict[str, Neighbor] = field(default_factory=dict)
    refuse: str | None = None  # a config line containing this is refused ("% Unknown command")
    # the next config sessions end (the connection dropped, as a router reloading) after this many
    # config lines each, while drop_sessions > 0 (bench/chaos.py; stdin "drop <router> <lines> [n]")
    drop_after: int = 0
    drop_sessions: int = 0
    # counters
    connections: int = 0
    commands: list[str] = field(default_factory=list)  # exec-mode commands, in order
    config_lines: list[str] = field(default_factory=list)
    config_sessions: int = 0  # `configure terminal`
    saves: int = 0
    state_reads: int = 0
    _json: str | None = None
    _answer: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        for i in range(self.sessions):
            ip = neighbor_ip(i)
            self.neighbors[ip] = Neighbor(ip, 65000 + i, f"peer-{i}")

    def state_json(self) -> str:
        """The state command's answer, rendered again only after a config change (the
        simulator's CPU is the benchmark machine's, a real router's is not)."""
        if self._json is None:
            self._json = json.dumps({ip: n.to_frr() for ip, n in self.neighbors.items()}, indent=2)
        return self._json

    def running_config(self) -> str:
        """The neighbors as FRR 8.4's `show running-config` prints them (CRLF, as the terminal)."""
        out = ["Building configuration...", "", "Current configuration:", "!", "frr version 8.4",
               "frr defaults traditional", f"hostname {self.name}", "!", f"router bgp {LOCAL_ASN}"]
        for ip, n in self.neighbors.items():
            out.append(f" neighbor {ip} remote-as {n.remote_as}")
            if n.description:
                out.append(f" neighbor {ip} description {n.description}")
            if n.admin_down:
                out.append(f" neighbor {ip} shutdown")
        out += [" !", " address-family ipv4 unicast", " exit-address-family", "exit", "!", "end", ""]
        return "\r\n".join(out)

    def state_answer(self) -> str:
        """state_json() as the terminal sends it (CRLF line ends, then a line break), kept with
        it: converting 150 KB a read was a good part of the simulator's CPU."""
        if self._answer is None or self._answer[0] is not self.state_json():
            self._answer = (self.state_json(), (self.state_json() + "\n").replace("\n", "\r\n"))
        return self._answer[1]

    def reset_counters(self) -> None:
        self.connections = self.config_sessions = self.saves = self.state_reads = 0
        self.commands, self.config_lines = [], []

    def counters(self) -> dict[str, Any]:
        return {"name": self.name, "port": self.port, "connections": self.connections, "config_sessions":
                self.config_sessions, "saves": self.saves, "state_reads": self.state_reads,
                "config_lines": len(self.config_lines), "commands": len(self.commands),
                "admin_down": sorted(ip for ip, n in self.neighbors.items() if n.admin_down)}


class _Shell:
    """One vtysh-like session: echo, prompt, exec and config modes."""

    def __init__(self, fleet: SshFleet, router: SimRouter, process: asyncssh.SSHServerProcess):
        self.fleet, self.router, self.process = fleet, router, process
        self.mode: list[str] = []  # [] exec; ["config", "router", "af"] nested config contexts
        self.drop_in: int | None = None  # config lines left before this session is dropped

    def prompt(self) -> str:
        suffix = {0: "", 1: "(config)", 2: "(config-router)", 3: "(config-router-af)"}[min(len(self.mode), 3)]
        return f"{self.router.name}{suffix}# "

    def write(self, text: str) -> None:
        self.process.stdout.write(text.replace("\r\n", "\n").replace("\n", "\r\n"))

    async def run(self) -> None:
        fleet, router = self.fleet, self.router
        router.connections += 1
        fleet._enter("connections")
        try:
            if fleet.connect_delay:
                await asyncio.sleep(fleet.connect_delay)
            self.write(f"\nHello, this is FRRouting (version 8.4.4).\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\n\n"
                       f"{self.prompt()}")
            buf = ""
            while True:
                data = await self.process.stdin.read(4096)
                if not data:
                    break
                self.write(data)  # echo, as a terminal does
                buf += data
                while True:
                    m = re.search(r"\r\n|\n|\r", buf)
                    if m is None:
                        break
                    line, buf = buf[:m.start()], buf[m.end():]
                    if not await self.handle(line.strip()):
                        return
        except (asyncssh.Error, ConnectionError, BrokenPipeError):
            pass
        finally:
            fleet._leave("connections")
            self.process.exit(0)

    async def handle(self, line: str) -> bool:
        """Answer one line; False: the session ends."""
        router = self.router
        if not line:
            self.write(self.prompt())
            return True
        if self.mode:
            return self.config_line(line)
        router.commands.append(line)
        if line in ("exit", "quit"):
            return False
        if line.startswith("terminal "):
            self.write(self.prompt())
        elif line in ("configure terminal", "configure", "conf t"):
            router.config_sessions += 1
            self.mode = ["config"]
            if router.drop_sessions > 0:
                router.drop_sessions -= 1
                self.drop_in = router.drop_after
            self.write(self.prompt())
        elif line.startswith("write") or line == "copy running-config startup-config":
            await self._delay()
            router.saves += 1
            self.write("Note: this version of vtysh never writes vtysh.conf\nBuilding Configuration...\n"
                       "Integrated configuration saved to /etc/frr/frr.conf\n[OK]\n" + self.prompt())
        elif line == STATE_COMMAND:
            router.state_reads += 1
            self.fleet._enter("commands")
            try:
                await self._delay()
                self.process.stdout.write(router.state_answer() + self.prompt())
            finally:
                self.fleet._leave("commands")
        elif line == CONFIG_COMMAND:
            self.fleet._enter("commands")
            try:
                await self._delay()
                self.process.stdout.write(router.running_config() + self.prompt())
            finally:
                self.fleet._leave("commands")
        else:
            self.write(REFUSED_REPLY.format(line=line) + "\n" + self.prompt())
        return True

    def config_line(self, line: str) -> bool:
        router = self.router
        if self.drop_in is not None:
            if self.drop_in <= 0:
                return False  # dropped mid-push: this line never reached the router
            self.drop_in -= 1
        router.config_lines.append(line)
        router._json = None
        if router.refuse and router.refuse in line:
            self.write(REFUSED_REPLY.format(line=line) + "\n" + self.prompt())
            return True
        words = line.split()
        if line == "end":
            self.mode = []
        elif line in ("exit", "exit-address-family", "quit"):
            self.mode.pop()
        elif words[:2] == ["router", "bgp"]:
            self.mode = ["config", "router"]
        elif words[0] == "address-family":
            self.mode = ["config", "router", "af"]
        elif words[0] == "neighbor" and len(words) >= 3:
            ip, what = words[1], words[2:]
            nb = router.neighbors.get(ip)
            if what[0] == "remote-as" and nb is None:
                router.neighbors[ip] = Neighbor(ip, int(what[1]) if what[1].isdigit() else 0)
            elif nb is None:
                self.write(f"% Specify remote-as or peer-group commands first\n{self.prompt()}")
                return True
            elif what == ["shutdown"]:
                nb.admin_down = True
            elif what[0] == "description":
                nb.description = " ".join(what[1:])
        elif words[:2] == ["no", "neighbor"] and len(words) >= 3:
            ip, what = words[2], words[3:]
            if not what:
                router.neighbors.pop(ip, None)
            elif ip in router.neighbors and what == ["shutdown"]:
                router.neighbors[ip].admin_down = False
        self.write(self.prompt())
        return True

    async def _delay(self) -> None:
        if self.fleet.command_delay:
            await asyncio.sleep(self.fleet.command_delay)


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USERNAME and password == PASSWORD


class SshFleet:
    def __init__(self, routers: int = 1, sessions: int = 50, *, hanging: int = 0, connect_delay: float = 0.2,
                 command_delay: float = 0.2):
        self.routers = [SimRouter(f"r{i + 1}", sessions) for i in range(routers)]
        self.routers += [SimRouter(f"hang{i + 1}", 0, hanging=True) for i in range(hanging)]
        self.connect_delay, self.command_delay = connect_delay, command_delay
        self.username, self.password = USERNAME, PASSWORD
        self._in_flight = {"connections": 0, "commands": 0}
        self.max_in_flight = {"connections": 0, "commands": 0}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[Any] = []
        self._hung: list[asyncio.StreamWriter] = []

    # -- counters (touched on the loop thread only) -------------------------------------------------
    def _enter(self, what: str) -> None:
        self._in_flight[what] += 1
        self.max_in_flight[what] = max(self.max_in_flight[what], self._in_flight[what])

    def _leave(self, what: str) -> None:
        self._in_flight[what] -= 1

    def stats(self) -> dict[str, Any]:
        return {"max_in_flight": dict(self.max_in_flight), "routers": [r.counters() for r in self.routers]}

    def reset(self) -> None:
        self.max_in_flight = {"connections": 0, "commands": 0}
        for r in self.routers:
            r.reset_counters()

    # -- serving -------------------------------------------------------------------------------------
    async def _listen(self) -> None:
        key = asyncssh.generate_private_key("ssh-ed25519")
        for router in self.routers:
            if router.hanging:
                srv = await asyncio.start_server(self._hang, "127.0.0.1", 0)
            else:
                srv = await asyncssh.create_server(
                    _Server, "127.0.0.1", 0, server_host_keys=[key], line_editor=False,
                    process_factory=lambda p, r=router: _Shell(self, r, p).run(), encoding="utf-8")
            router.port = srv.sockets[0].getsockname()[1]
            self._servers.append(srv)

    async def _hang(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._hung.append(writer)
        await reader.read()  # until the client gives up

    def start(self) -> SshFleet:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._listen())
            except BaseException as exc:  # noqa: BLE001 - re-raised in start()
                errors.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="ssh-fleet", daemon=True)
        self._thread.start()
        ready.wait(60)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close() -> None:
            for srv in self._servers:
                srv.close()
            for w in self._hung:
                w.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> SshFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def on_loop(self, fn: Any) -> Any:
        """Run `fn()` on the fleet's loop (counters and neighbors are only touched there)."""
        assert self._loop is not None
        fut: Any = asyncio.run_coroutine_threadsafe(_call(fn), self._loop)
        return fut.result(10)


async def _call(fn: Any) -> Any:
    return fn()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--routers", type=int, default=1)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--hanging", type=int, default=0)
    ap.add_argument("--connect-delay", type=float, default=0.2)
    ap.add_argument("--command-delay", type=float, default=0.2)
    args = ap.parse_args()
    fleet = SshFleet(args.routers, args.sessions, hanging=args.hanging, connect_delay=args.connect_delay,
                     command_delay=args.command_delay).start()
    print(json.dumps({"ports": [r.port for r in fleet.routers if not r.hanging],
                      "hanging": [r.port for r in fleet.routers if r.hanging],
                      "username": fleet.username, "password": fleet.password}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "stats":
            print(json.dumps(fleet.on_loop(fleet.stats)), flush=True)
        elif cmd == "reset":
            fleet.on_loop(fleet.reset)
            print("{}", flush=True)
        elif cmd == "lines":
            print(json.dumps(fleet.on_loop(lambda: {r.name: list(r.config_lines) for r in fleet.routers})), flush=True)
        elif cmd.startswith("drop "):
            words = cmd.split()

            def drop(r: SimRouter = fleet.routers[int(words[1])]) -> None:
                r.drop_after, r.drop_sessions = int(words[2]), int(words[3]) if len(words) > 3 else 1
            fleet.on_loop(drop)
            print("{}", flush=True)
    fleet.stop()


if __name__ == "__main__":
    main()


# -- the fleet in peerbot's database ------------------------------------------------------------------
PASSWORD_ENV = "PEERBOT_TEST_FLEET_PASSWORD"  # what the routers' password_env names (set it to PASSWORD)


def register(db: Any, ports: list[int], sessions: int, *, configured: bool = True) -> list[int]:
    """Routers r1..rN on 127.0.0.1:<ports> (FRR, password from PASSWORD_ENV) with `sessions`
    sessions each (the simulator's neighbors, stored as configured), written straight to the
    database (thousands of sessions: the provisioning service's checks are not what is measured).
    Returns the router ids."""
    from storage.models import Exchange, Peer, Router, Session, SessionType

    ids = []
    with db.session() as s:
        ix = s.query(Exchange).filter_by(name="FLEET-IX").one_or_none()
        if ix is None:
            ix = Exchange(name="FLEET-IX", lan_prefix_v4="10.0.0.0/8", is_none=False)
            s.add(ix)
        peers = {}
        for i in range(sessions):
            peers[i] = Peer(name=f"Fleet Peer {i}", asn=65000 + i)
            s.add(peers[i])
        for n, port in enumerate(ports):
            router = Router(name=f"r{n + 1}", host="127.0.0.1", port=port, platform="frr", username=USERNAME,
                            password_env=PASSWORD_ENV, local_asns=[LOCAL_ASN], addresses=[])
            s.add(router)
            s.flush()
            ids.append(router.id)
            s.add_all(Session(session_type=SessionType.PUBLIC, exchange=ix, router_id=router.id, local_asn=LOCAL_ASN,
                              peer=peers[i], peer_ip=neighbor_ip(i), address_family=4, configured=configured)
                      for i in range(sessions))
    return ids


class CountingDriver:
    """The real driver, with every call counted per router port (`counts[port][call]`): what
    the bot asked the router, next to what the simulator saw."""

    def __init__(self, inner: Any, port: int, counts: dict, guard: threading.Lock):
        self.inner, self.port, self.counts, self.guard = inner, port, counts, guard

    def _count(self, call: str) -> None:
        with self.guard:
            self.counts.setdefault(self.port, {}).setdefault(call, 0)
            self.counts[self.port][call] += 1

    def connect(self) -> None:
        self._count("connect")
        self.inner.connect()

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> CountingDriver:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def push(self, lines: list[str], *, secrets: Any = ()) -> str:
        self._count("push")
        return self.inner.push(lines, secrets=secrets)

    def save(self) -> str:
        self._count("save")
        return self.inner.save()

    def neighbors(self) -> Any:
        self._count("neighbors")
        return self.inner.neighbors()

    def neighbor(self, ip: str) -> Any:
        self._count("neighbor")
        return self.inner.neighbor(ip)


def counting_factory(counts: dict) -> Any:
    """A driver factory (Core.driver_factory) wrapping the netmiko driver in CountingDriver."""
    from bot.routers import get_driver

    guard = threading.Lock()
    return lambda creds, timeout: CountingDriver(get_driver(creds, timeout=timeout), creds.port, counts, guard)
