"""pytest fixtures for the FRR lab (tests/lab/lab.sh) and the fake IRRd (tests/irr_server.py).

Register them from a conftest.py:

    from tests.lab_fixture import frr_lab, clean_lab, lab_vtysh, irr_server  # noqa: F401

(only the names imported there become fixtures).

    frr_lab    session  builds the lab once (`lab.sh up`), yields a `Lab`, `lab.sh down` at the end
    clean_lab  function frr_lab after `reset()`: only the baseline neighbors, all of them Established
    bird_lab   session  the lab's BIRD 2 router (a `BirdLab`); PEERBOT_BIRD_* point peerbot's BIRD
                        driver at its files and socket for the whole session
    clean_bird function bird_lab with no peerbot file in its include directory
    obgp_lab   session  the lab's OpenBGPD router (an `OpenBgpdLab`); PEERBOT_OPENBGPD_* likewise
    clean_obgp function obgp_lab with no session file and an empty index
    lab_vtysh  function the bound method frr_lab.vtysh(router, command)
    irr_server function ("127.0.0.1", port) of a fake IRRd serving IRR_TEST_DATA

Nothing is autouse: a test opts in by asking for `frr_lab` / `clean_lab` (and should carry
@pytest.mark.lab). Without root, usable network namespaces, FRR or sshd the lab tests are
skipped with the reason - unless CI=true or PEERBOT_REQUIRE_LAB=1, where they FAIL instead.

Environment:
    LAB_DIR=/tmp/peerbot-lab  where lab.sh keeps everything (lab.json is read from there)
    PEERBOT_LAB_KEEP=1        leave the lab running after the session, and reuse a healthy
                              running lab at the next start (fast edit-run loop, debugging)
    PEERBOT_LAB_UP_TIMEOUT    seconds allowed for `lab.sh up` (default 120)
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import pytest

from tests.irr_server import IRR_TEST_DATA, start_irr_server

__all__ = [
    "Lab",
    "LabRouter",
    "LabSession",
    "frr_lab",
    "clean_lab",
    "BirdLab",
    "bird_lab",
    "clean_bird",
    "OpenBgpdLab",
    "obgp_lab",
    "clean_obgp",
    "lab_vtysh",
    "irr_server",
    "IRR_TEST_DATA",
    "load_lab",
]

LAB_SH = Path(__file__).resolve().parent / "lab" / "lab.sh"
REQUIRED_BINARIES = (
    "/usr/lib/frr/zebra",
    "/usr/lib/frr/bgpd",
    "/usr/bin/vtysh",
    "/usr/sbin/sshd",
    "socat",
    "ssh-keygen",
    "ip",
    "unshare",
)


def lab_dir() -> Path:
    return Path(os.environ.get("LAB_DIR", "/tmp/peerbot-lab"))


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def lab_required() -> bool:
    """CI must run the lab tests: there a missing prerequisite is a failure, not a skip."""
    return _truthy("CI") or _truthy("PEERBOT_REQUIRE_LAB")


def skip_or_fail(reason: str) -> None:
    if lab_required():
        pytest.fail(f"{reason} (CI=true / PEERBOT_REQUIRE_LAB=1: the lab tests must run)", pytrace=False)
    pytest.skip(reason)


def lab_unavailable_reason() -> str | None:
    """Why this machine cannot host the lab, or None."""
    if os.geteuid() != 0:
        return "FRR lab needs root (network namespaces, useradd, BGP port 179)"
    if shutil.which("ip") is None:
        return "FRR lab needs iproute2 ('ip' not found)"
    missing = [b for b in REQUIRED_BINARIES if shutil.which(b) is None]
    if missing:
        return f"FRR lab needs {', '.join(missing)} (run: bash {LAB_SH} deps)"
    try:
        # Creating a namespace is what the lab needs; `ip netns list` alone proves little
        # (unprivileged containers list fine but may not unshare).
        probe = subprocess.run(["unshare", "--net", "--", "true"], capture_output=True, timeout=10)
        listing = subprocess.run(["ip", "netns", "list"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"network namespaces unusable: {exc}"
    if probe.returncode != 0 or listing.returncode != 0:
        err = (probe.stderr or listing.stderr).decode(errors="replace").strip()
        return f"network namespaces unusable here: {err or 'unshare --net failed'}"
    return None


# ------------------------------------------------------------------------------- data model
@dataclass(frozen=True)
class LabRouter:
    name: str  # namespace = hostname = vtysh prompt "<name>#"
    asn: int
    router_id: str
    v4: str
    v6: str
    prefixes_v4: list[str]
    prefixes_v6: list[str]
    config_file: str
    vtysh: list[str]  # argv prefix: vtysh --vty_socket ... --config_dir ...


@dataclass(frozen=True)
class LabSession:
    """An address pair on the R1<->PEER link. For spares, PEER is configured, R1 is not."""

    afi: str  # "ipv4" | "ipv6"
    router_ip: str  # R1's address (the PEER's neighbor address)
    peer_ip: str  # the PEER's address = the neighbor R1 configures
    prefixlen: int
    md5: str | None = None
    description: str = ""


@dataclass
class Lab:
    platform: str
    device_type: str
    host: str
    port: int
    username: str
    password: str
    key_file: str
    lab_dir: str
    config_file: str
    baseline_config_file: str
    router: LabRouter
    peer: LabRouter
    baseline: list[LabSession]
    spares: dict[str, LabSession]  # "v4", "v4_md5", "v6"
    peer_groups: list[str]
    md5_password: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Lab":
        return cls(
            platform=data["platform"],
            device_type=data["device_type"],
            host=data["host"],
            port=int(data["port"]),
            username=data["username"],
            password=data["password"],
            key_file=data["key_file"],
            lab_dir=data["lab_dir"],
            config_file=data["config_file"],
            baseline_config_file=data["baseline_config_file"],
            router=LabRouter(**data["router"]),
            peer=LabRouter(**data["peer"]),
            baseline=[LabSession(**s) for s in data["baseline"]],
            spares={name: LabSession(**s) for name, s in data["spares"].items()},
            peer_groups=list(data["peer_groups"]),
            md5_password=data["md5_password"],
            raw=data,
        )

    # -- connection parameters ------------------------------------------------------------
    def netmiko_params(self, **overrides: Any) -> dict[str, Any]:
        """kwargs for netmiko.ConnectHandler (password auth); override e.g. password=..."""
        params: dict[str, Any] = dict(
            device_type=self.device_type,
            host=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_keys=False,
            allow_agent=False,
            conn_timeout=10,
        )
        params.update(overrides)
        return params

    @property
    def baseline_peer_ips(self) -> list[str]:
        return [s.peer_ip for s in self.baseline]

    # -- direct access (root vtysh over the lab's unix sockets, no SSH) ---------------------
    def _router(self, router: str) -> LabRouter:
        if router in ("r1", "R1", "router", self.router.name):
            return self.router
        if router in ("peer", "PEER", "peer1", self.peer.name):
            return self.peer
        raise ValueError(f"unknown lab router {router!r}: use 'r1' or 'peer'")

    def vtysh(self, router: str, command: str | Iterable[str], check: bool = True, timeout: float = 20) -> str:
        """Run vtysh on 'r1' or 'peer'. `command` may be a list: each item becomes one -c, so
        ["configure terminal", "router bgp 64500", "no neighbor 192.0.2.6"] works. With
        check=True a non-zero exit or a '%' error line raises RuntimeError."""
        commands = [command] if isinstance(command, str) else list(command)
        argv = list(self._router(router).vtysh)
        for c in commands:
            argv += ["-c", c]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        out = proc.stdout + proc.stderr
        if check and (proc.returncode != 0 or any(ln.startswith("%") for ln in out.splitlines())):
            raise RuntimeError(f"vtysh {router} {commands!r} failed (rc={proc.returncode}): {out.strip()}")
        return proc.stdout

    def configure(self, router: str, *lines: str) -> str:
        """Config-mode lines on a lab router, inside its 'router bgp' block when not given."""
        asn = self._router(router).asn
        body = list(lines)
        if not body or not body[0].startswith("router "):
            body = [f"router bgp {asn}", *body]
        return self.vtysh(router, ["configure terminal", *body])

    def neighbor_json(self, ip: str, router: str = "r1") -> dict[str, Any]:
        """R1's `show bgp neighbors <ip> json` for that neighbor; {} if not configured."""
        data = json.loads(self.vtysh(router, f"show bgp neighbors {ip} json", check=False) or "{}")
        if data.get("bgpNoSuchNeighbor") or not data:
            return {}
        if ip in data:
            return data[ip]
        wanted = ipaddress.ip_address(ip)  # FRR keys by its own spelling of the address
        for key, value in data.items():
            try:
                if ipaddress.ip_address(key) == wanted:
                    return value
            except ValueError:
                continue
        return {}

    def neighbors(self, router: str = "r1") -> dict[str, dict[str, Any]]:
        """All neighbors of a router ({address: neighbor dict})."""
        return json.loads(self.vtysh(router, "show bgp neighbors json", check=False) or "{}")

    def wait_state(self, ip: str, want: str = "Established", timeout: float = 30,
                   router: str = "r1", interval: float = 0.2) -> dict[str, Any]:
        """Poll until the neighbor's bgpState == want; return its dict. AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            nbr = self.neighbor_json(ip, router)
            if nbr.get("bgpState") == want:
                return nbr
            if time.monotonic() >= deadline:
                last = nbr.get("bgpState", "<not configured>")
                detail = {k: nbr[k] for k in ("lastResetDueTo", "lastErrorCodeSubcode", "adminShutDown") if k in nbr}
                raise AssertionError(f"{router} neighbor {ip}: bgpState {last!r} after {timeout}s, wanted {want!r} {detail}")
            time.sleep(interval)

    def reset(self, timeout: float = 30) -> None:
        """Back to the baseline: delete every R1 neighbor that is not a baseline one, restore
        the peer-groups and the saved config file, `no neighbor X shutdown` the baseline and
        wait until all baseline sessions are Established again."""
        baseline = {ipaddress.ip_address(ip) for ip in self.baseline_peer_ips}
        extra = [ip for ip in self.neighbors() if _as_ip(ip) not in baseline]
        lines = [f"no neighbor {ip}" for ip in extra]
        lines += [f"neighbor {pg} peer-group" for pg in self.peer_groups]  # no-op when present
        lines += [f"no neighbor {ip} shutdown" for ip in self.baseline_peer_ips]
        self.configure("r1", *lines)
        # a test (or the bot) may have run `write memory`: put the saved config back, keeping
        # the file's owner/mode (frr:frrvty 0664) by rewriting it in place
        baseline_text = Path(self.baseline_config_file).read_text()
        if Path(self.config_file).read_text() != baseline_text:
            with open(self.config_file, "w") as fh:
                fh.write(baseline_text)
        for ip in self.baseline_peer_ips:
            self.wait_state(ip, "Established", timeout=timeout)


@dataclass
class BirdLab:
    """The lab's BIRD 2 router (tests/lab/lab.sh): SSH on host:port as the lab user (a normal
    shell), its own files below include_dir, birdc as root over the control socket."""

    host: str
    port: int
    username: str
    password: str
    name: str
    asn: int
    router_id: str
    config: str
    include_dir: str
    socket: str
    template: str
    birdc_argv: list[str]
    spares: dict[str, LabSession]
    peer: LabRouter

    @classmethod
    def from_lab(cls, lab: Lab) -> "BirdLab":
        b = lab.raw.get("bird")
        if not b:
            raise RuntimeError("this lab was started without its BIRD router (LAB_BIRD=0?)")
        return cls(host=b["host"], port=int(b["port"]), username=lab.username, password=lab.password,
                   name=b["name"], asn=int(b["asn"]), router_id=b["router_id"], config=b["config"],
                   include_dir=b["include_dir"], socket=b["socket"], template=b["template"],
                   birdc_argv=list(b["birdc"]), spares={n: LabSession(**s) for n, s in b["spares"].items()},
                   peer=lab.peer)

    def env(self) -> dict[str, str]:
        """What peerbot's BIRD driver needs to find this router's files (bot/routers/bird_driver.py)."""
        return {"PEERBOT_BIRD_CONFIG": self.config, "PEERBOT_BIRD_INCLUDE_DIR": self.include_dir,
                "PEERBOT_BIRD_SOCKET": self.socket}

    def birdc(self, *words: str, timeout: float = 20) -> str:
        proc = subprocess.run([*self.birdc_argv, *words], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"birdc {' '.join(words)} failed (rc={proc.returncode}): {proc.stdout}{proc.stderr}")
        return proc.stdout

    @staticmethod
    def protocol_name(ip: str) -> str:
        return "pb_" + ip.replace(".", "_").replace(":", "_")

    def protocol(self, ip: str) -> dict[str, str]:
        """BIRD's own view of the session with `ip` (`show protocols all <name>`): the header's
        "state"/"info" and every "Key: value" line; {} when there is no such protocol."""
        name = self.protocol_name(ip)
        proc = subprocess.run([*self.birdc_argv, "show", "protocols", "all", name], capture_output=True,
                              text=True, timeout=20)
        out: dict[str, str] = {}
        for line in proc.stdout.splitlines():
            if line.startswith(name + " "):
                words = line.split()
                out["state"] = words[3]
                out["info"] = " ".join(words[5:])
            elif ":" in line and out:
                key, _, value = line.strip().partition(":")
                out.setdefault(key.strip(), value.strip())
        return out

    def wait_state(self, ip: str, want: str = "Established", timeout: float = 30) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            p = self.protocol(ip)
            if p.get("BGP state") == want:
                return p
            if time.monotonic() >= deadline:
                raise AssertionError(f"BIRD protocol for {ip}: BGP state {p.get('BGP state')!r} after {timeout}s, "
                                     f"wanted {want!r} ({p.get('Last error', '')})")
            time.sleep(0.2)

    def files(self) -> dict[str, str]:
        return {p.name: p.read_text() for p in sorted(Path(self.include_dir).iterdir())}

    def reset(self) -> None:
        """No peerbot file left; BIRD reloaded."""
        for p in Path(self.include_dir).iterdir():
            p.unlink()
        self.birdc("configure")


@dataclass
class OpenBgpdLab:
    """The lab's OpenBGPD router (tests/lab/lab.sh): SSH on host:port as the lab user (a normal
    shell), peerbot's files below include_dir (session files + the index peerbot.conf), bgpctl
    as root over the control socket."""

    host: str
    port: int
    username: str
    password: str
    name: str
    asn: int
    config: str
    include_dir: str
    socket: str
    bgpctl_argv: list[str]
    spares: dict[str, LabSession]
    peer: LabRouter

    INDEX = "peerbot.conf"

    @classmethod
    def from_lab(cls, lab: Lab) -> "OpenBgpdLab":
        b = lab.raw.get("openbgpd")
        if not b:
            raise RuntimeError("this lab was started without its OpenBGPD router (LAB_OPENBGPD=0?)")
        return cls(host=b["host"], port=int(b["port"]), username=lab.username, password=lab.password,
                   name=b["name"], asn=int(b["asn"]), config=b["config"], include_dir=b["include_dir"],
                   socket=b["socket"], bgpctl_argv=list(b["bgpctl"]),
                   spares={n: LabSession(**s) for n, s in b["spares"].items()}, peer=lab.peer)

    def env(self) -> dict[str, str]:
        """What peerbot's OpenBGPD driver needs (bot/routers/openbgpd_driver.py)."""
        return {"PEERBOT_OPENBGPD_CONFIG": self.config, "PEERBOT_OPENBGPD_INCLUDE_DIR": self.include_dir,
                "PEERBOT_OPENBGPD_SOCKET": self.socket}

    def bgpctl(self, *words: str, timeout: float = 20) -> str:
        proc = subprocess.run([*self.bgpctl_argv, *words], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"bgpctl {' '.join(words)} failed (rc={proc.returncode}): {proc.stdout}{proc.stderr}")
        return proc.stdout

    @staticmethod
    def file_name(ip: str) -> str:
        return "pb_" + ip.replace(".", "_").replace(":", "_") + ".conf"

    def neighbor(self, ip: str) -> dict[str, Any]:
        """bgpd's own view of the neighbor `ip` (`bgpctl -j show neighbor`); {} when it has none."""
        data = json.loads(self.bgpctl("-j", "show", "neighbor"))
        return next((n for n in data.get("neighbors", []) if n.get("remote_addr") == ip), {})

    def rib(self, ip: str) -> list[str]:
        """The prefixes bgpd accepted from `ip` (after its filter rules)."""
        data = json.loads(self.bgpctl("-j", "show", "rib", "neighbor", ip))
        return sorted({r["prefix"] for r in data.get("rib", [])})

    def wait_state(self, ip: str, want: str = "Established", timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            n = self.neighbor(ip)
            if n.get("state") == want:
                return n
            if time.monotonic() >= deadline:
                raise AssertionError(f"OpenBGPD neighbor {ip}: state {n.get('state')!r} after {timeout}s, wanted {want!r}")
            time.sleep(0.2)

    def files(self) -> dict[str, str]:
        """peerbot's session files (the index not included)."""
        return {p.name: p.read_text() for p in sorted(Path(self.include_dir).iterdir()) if p.name != self.INDEX}

    def index(self) -> str:
        return (Path(self.include_dir) / self.INDEX).read_text()

    def reset(self) -> None:
        """No session file left, an empty index; bgpd reloaded."""
        for p in Path(self.include_dir).iterdir():
            if p.name != self.INDEX:
                p.unlink()
        (Path(self.include_dir) / self.INDEX).write_text("# Managed by peerbot: one include line per session file "
                                                         "in this directory.\n")
        self.bgpctl("reload")


def _as_ip(text: str):
    try:
        return ipaddress.ip_address(text)
    except ValueError:  # e.g. an interface ("unnumbered") neighbor
        return None


def load_lab(path: Path | None = None) -> Lab:
    return Lab.from_json(json.loads((path or lab_dir() / "lab.json").read_text()))


# ------------------------------------------------------------------------------- lab.sh
def _run_lab_sh(action: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LAB_SH), action],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _lab_is_healthy() -> bool:
    if not (lab_dir() / "lab.json").exists():
        return False
    try:
        return _run_lab_sh("status", timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="session")
def frr_lab() -> Iterator[Lab]:
    reason = lab_unavailable_reason()
    if reason:
        skip_or_fail(reason)
    keep = _truthy("PEERBOT_LAB_KEEP")
    if not (keep and _lab_is_healthy()):
        timeout = float(os.environ.get("PEERBOT_LAB_UP_TIMEOUT", "120"))
        try:
            proc = _run_lab_sh("up", timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            out = exc.output.decode(errors="replace") if isinstance(exc.output, bytes) else (exc.output or "")
            _run_lab_sh("down", timeout=60)
            raise RuntimeError(f"lab.sh up timed out after {timeout}s:\n{_tail(out)}") from None
        if proc.returncode != 0:
            _run_lab_sh("down", timeout=60)
            raise RuntimeError(f"lab.sh up failed (rc={proc.returncode}):\n{_tail(proc.stdout)}")
    lab = load_lab()
    try:
        yield lab
    finally:
        if not keep:
            proc = _run_lab_sh("down", timeout=120)
            if proc.returncode != 0:
                raise RuntimeError(f"lab.sh down failed (rc={proc.returncode}):\n{_tail(proc.stdout)}")


@pytest.fixture
def clean_lab(frr_lab: Lab) -> Lab:
    """The lab reset to its baseline before the test."""
    frr_lab.reset()
    return frr_lab


@pytest.fixture(scope="session")
def bird_lab(frr_lab: Lab) -> Iterator[BirdLab]:
    if shutil.which("/usr/sbin/bird") is None or not frr_lab.raw.get("bird"):
        skip_or_fail(f"the BIRD lab router needs bird2 (run: bash {LAB_SH} deps, and lab.sh up without LAB_BIRD=0)")
    bird = BirdLab.from_lab(frr_lab)
    saved = {k: os.environ.get(k) for k in bird.env()}
    os.environ.update(bird.env())  # session-wide: the state reader processes inherit it
    try:
        yield bird
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def clean_bird(bird_lab: BirdLab) -> BirdLab:
    bird_lab.reset()
    return bird_lab


@pytest.fixture(scope="session")
def obgp_lab(frr_lab: Lab) -> Iterator[OpenBgpdLab]:
    if shutil.which("/usr/sbin/bgpd") is None or not frr_lab.raw.get("openbgpd"):
        skip_or_fail(f"the OpenBGPD lab router needs openbgpd (run: bash {LAB_SH} deps, and lab.sh up without "
                     "LAB_OPENBGPD=0)")
    obgp = OpenBgpdLab.from_lab(frr_lab)
    saved = {k: os.environ.get(k) for k in obgp.env()}
    os.environ.update(obgp.env())
    try:
        yield obgp
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def clean_obgp(obgp_lab: OpenBgpdLab) -> OpenBgpdLab:
    obgp_lab.reset()
    return obgp_lab


@pytest.fixture
def lab_vtysh(frr_lab: Lab):
    """frr_lab.vtysh: lab_vtysh("peer", "show bgp summary json")."""
    return frr_lab.vtysh


@pytest.fixture
def irr_server() -> Iterator[tuple[str, int]]:
    """A fake IRRd on 127.0.0.1 serving IRR_TEST_DATA (AS-EXAMPLE -> AS65601, AS65602)."""
    server, port = start_irr_server(IRR_TEST_DATA, port=0, host="127.0.0.1")
    try:
        yield ("127.0.0.1", port)
    finally:
        server.close()
