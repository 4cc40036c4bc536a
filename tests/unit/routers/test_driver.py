"""NetmikoDriver against a fake netmiko connection: error mapping, secrets, config-mode hygiene."""
from __future__ import annotations

import re
import socket

import pytest

from bot.routers.base import CLI_PLATFORMS
from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)

from bot.routers import RouterDriver, get_driver
from bot.routers.base import (
    ConfigRejected,
    Platform,
    RouterAuthFailed,
    RouterCredentials,
    RouterError,
    RouterTimeout,
    RouterUnreachable,
    UnsupportedPlatform,
)
from bot.routers.netmiko_driver import FRR_ERRORS, PROFILES, NetmikoDriver
from bot.routers.render import render

from .helpers import MD5, SPEC_V4, fixture

LOGIN_PW = "L0gin-Pa55word"

STATE_FIXTURES = {
    Platform.FRR: ("frr", "neighbors_all.json", "192.0.2.2"),
    Platform.IOS_XE: ("ios-xe", "show_bgp_all_neighbors.txt", "192.0.2.2"),
    Platform.IOS_XR: ("ios-xr", "show_bgp_neighbors.txt", "192.0.2.2"),
    Platform.JUNOS: ("junos", "show_bgp_neighbor.json", "192.0.2.2"),
    Platform.EOS: ("eos", "show_ip_bgp_neighbors.json", "192.0.2.2"),
}
# EOS lists IPv4- and IPv6-transport peers under two commands
EOS_STATE_OUTPUTS = {
    "show ip bgp neighbors | json": fixture("eos", "show_ip_bgp_neighbors.json"),
    "show ipv6 bgp peers | json": fixture("eos", "show_ipv6_bgp_peers.json"),
}


class FakeConnection:
    """Just enough of a netmiko BaseConnection. `reject` maps a command prefix to the router's
    error line; like netmiko, send_config_set raises while still in config mode."""

    def __init__(self, *, output: str = "", reject: dict[str, str] | None = None, commit_error: str | None = None,
                 enable_mode: bool = True, outputs: dict[str, str] | None = None):
        self.output = output
        self.outputs = outputs or {}  # per-command answers; `output` for any other command
        self.reject = reject or {}
        self.commit_error = commit_error
        self.in_config = False
        self.enable_mode = enable_mode
        self.calls: list[tuple] = []
        self.sent: list[str] = []

    def send_config_set(self, lines, *, error_pattern="", exit_config_mode=True, config_mode_command=None, **kw):
        self.calls.append(("send_config_set", tuple(lines), error_pattern, config_mode_command))
        self.in_config = True
        for cmd in lines:
            self.sent.append(cmd)
            for prefix, error in self.reject.items():
                if cmd.startswith(prefix):
                    match = re.search(error_pattern, error, flags=re.M)
                    assert match, f"error pattern {error_pattern!r} misses {error!r}"
                    raise ConfigInvalidException(
                        f"Invalid input detected at command: {cmd}, matched error: {match.group(0)}")
        if exit_config_mode:
            self.in_config = False
        return "r1(config)# " + "\nr1(config-router)# ".join(lines) + "\n"

    def commit(self):
        self.calls.append(("commit",))
        if self.commit_error:
            raise ValueError(f"Commit failed with the following errors:\n\n{self.commit_error}")
        return "commit complete"

    def check_config_mode(self):
        return self.in_config

    def exit_config_mode(self):
        self.calls.append(("exit_config_mode",))
        self.in_config = False
        return "r1#"

    def send_command_timing(self, cmd):
        self.calls.append(("send_command_timing", cmd))
        if cmd == "abort":
            self.in_config = False
        return ""

    def send_command(self, cmd, **kw):
        self.calls.append(("send_command", cmd))
        if isinstance(self.output, BaseException):
            raise self.output
        return self.outputs.get(cmd, self.output)

    def save_config(self):
        self.calls.append(("save_config",))
        return "Building Configuration...\nIntegrated configuration saved to /etc/frr/frr.conf\n[OK]"

    def check_enable_mode(self):
        return self.enable_mode

    def enable(self):
        self.calls.append(("enable",))
        raise ReadTimeout("Pattern not detected: 'Password' in output.")

    def disconnect(self):
        self.calls.append(("disconnect",))


def creds(platform=Platform.FRR, **kw):
    base = dict(host="r1.example.net", port=22, username="netops", password=LOGIN_PW, key_file=None, platform=platform)
    base.update(kw)
    return RouterCredentials(**base)


def driver_with(conn, platform=Platform.FRR, **kw):
    seen = {}

    def factory(**params):
        seen.update(params)
        return conn

    d = NetmikoDriver(creds(platform, **kw), timeout=5, connection_factory=factory)
    return d, seen


def failing_factory(exc):
    def factory(**params):
        raise exc
    return factory


# ----------------------------------------------------------------------------- connect errors
@pytest.mark.parametrize("exc,expected", [
    (NetmikoAuthenticationException(f"Authentication to device failed.\n{LOGIN_PW}"), RouterAuthFailed),
    (NetmikoTimeoutException(f"TCP connection to device failed.\nDevice settings: cisco_ios {LOGIN_PW}"),
     RouterUnreachable),
    (NetmikoTimeoutException("DNS failure--the hostname you provided was not resolvable in DNS"), RouterUnreachable),
    (NetmikoTimeoutException(f"A paramiko SSHException occurred: Error reading SSH protocol banner {LOGIN_PW}"),
     RouterTimeout),
    (ConnectionRefusedError(111, "Connection refused"), RouterUnreachable),
    (socket.timeout("timed out"), RouterTimeout),
    (ReadTimeout(f"Pattern not detected {LOGIN_PW}"), RouterTimeout),
    (EOFError(), RouterUnreachable),
    (RuntimeError(LOGIN_PW), RouterError),
])
def test_connect_errors_are_typed_and_never_show_the_password(exc, expected):
    d = NetmikoDriver(creds(), timeout=5, connection_factory=failing_factory(exc))
    with pytest.raises(expected) as info:
        d.connect()
    assert LOGIN_PW not in str(info.value)
    assert LOGIN_PW not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained netmiko text
    assert "r1.example.net" in str(info.value)


def test_context_manager_connects_and_disconnects():
    conn = FakeConnection(output=fixture("frr", "neighbors_all.json"))
    d, params = driver_with(conn)
    with d as router:
        assert router.neighbor("192.0.2.2").is_established
    assert conn.calls[-1] == ("disconnect",)
    assert params["device_type"] == "cisco_ios" and params["password"] == LOGIN_PW
    assert params["use_keys"] is False and params["allow_agent"] is False


def test_key_file_login():
    d, params = driver_with(FakeConnection(), password=None, key_file="/keys/id_ed25519")
    d.connect()
    assert params["use_keys"] is True and params["key_file"] == "/keys/id_ed25519"


@pytest.mark.parametrize("platform,device_type", [
    (Platform.FRR, "cisco_ios"), (Platform.IOS_XE, "cisco_xe"), (Platform.IOS_XR, "cisco_xr"),
    (Platform.JUNOS, "juniper_junos"), (Platform.EOS, "arista_eos"),
])
def test_device_types(platform, device_type):
    d, params = driver_with(FakeConnection(), platform)
    d.connect()
    assert params["device_type"] == device_type


def test_enable_failure_is_an_auth_error():
    conn = FakeConnection(enable_mode=False)
    d, _ = driver_with(conn, Platform.IOS_XE)
    with pytest.raises(RouterAuthFailed):
        d.connect()
    assert ("disconnect",) in conn.calls


def test_unsupported_platform():
    bad = RouterCredentials("h", 22, "u", "p", None, "vyos")  # type: ignore[arg-type]
    with pytest.raises(UnsupportedPlatform):
        NetmikoDriver(bad)


def test_creds_repr_masks_password():
    c = creds()
    assert LOGIN_PW not in repr(c) and LOGIN_PW not in str(c)
    assert "********" in repr(c)
    assert LOGIN_PW not in repr(NetmikoDriver(c))


def test_get_driver_implements_the_protocol():
    d = get_driver(creds(), timeout=3)
    assert isinstance(d, NetmikoDriver) and isinstance(d, RouterDriver)
    assert d.timeout == 3


# ----------------------------------------------------------------------------- state
@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_neighbors_sends_the_platform_state_commands_and_nothing_else(platform):
    folder, name, ip = STATE_FIXTURES[platform]
    conn = FakeConnection(output=fixture(folder, name))
    d, _ = driver_with(conn, platform)
    result = d.neighbors()
    sent = [c[1] for c in conn.calls if c[0] == "send_command"]
    assert sent == list(PROFILES[platform].state_commands)
    assert len(sent) == (2 if platform is Platform.EOS else 1)
    assert result[ip].is_established


def test_eos_polls_ipv4_and_ipv6_transport_peers():
    """`show ip bgp neighbors` lists only IPv4-transport peers; the IPv6 ones come from
    `show ipv6 bgp peers` (EOS >= 4.23 name of `show ipv6 bgp neighbors`)."""
    conn = FakeConnection(outputs=EOS_STATE_OUTPUTS)
    d, _ = driver_with(conn, Platform.EOS)
    result = d.neighbors()
    assert set(result) == {"192.0.2.2", "192.0.2.10", "192.0.2.30", "2001:db8::2", "2001:db8::3"}
    v6 = d.neighbor("2001:DB8::2")
    assert (v6.state, v6.prefixes_received, v6.prefixes_advertised) == ("Established", 7, 2)
    assert result["192.0.2.2"].prefixes_received == 12


def test_eos_failed_ipv6_read_fails_the_poll():
    """Half an answer is not "no IPv6 neighbors": a Delete must not skip the router on it."""
    conn = FakeConnection(outputs={"show ip bgp neighbors | json": EOS_STATE_OUTPUTS["show ip bgp neighbors | json"],
                                   "show ipv6 bgp peers | json": "% Invalid input (at token 2: 'bgp')"})
    d, _ = driver_with(conn, Platform.EOS)
    with pytest.raises(RouterError, match="Invalid input"):
        d.neighbors()
    conn = FakeConnection(outputs={"show ip bgp neighbors | json": EOS_STATE_OUTPUTS["show ip bgp neighbors | json"],
                                   "show ipv6 bgp peers | json": ""})
    d, _ = driver_with(conn, Platform.EOS)
    with pytest.raises(RouterError, match=re.escape("empty answer to 'show ipv6 bgp peers | json'")):
        d.neighbors()


def test_neighbor_lookup_normalises_the_address():
    conn = FakeConnection(output=fixture("frr", "neighbors_all.json"))
    d, _ = driver_with(conn)
    assert d.neighbor("2001:DB8:0::2").peer_ip == "2001:db8::2"
    assert d.neighbor("192.0.2.77") is None


def test_state_read_timeout():
    d, _ = driver_with(FakeConnection(output=ReadTimeout("Pattern not detected")))
    with pytest.raises(RouterTimeout):
        d.neighbors()


def test_state_command_error_and_garbage():
    d, _ = driver_with(FakeConnection(output="% BGP instance not found"))
    with pytest.raises(RouterError, match="BGP instance not found"):
        d.neighbors()
    d, _ = driver_with(FakeConnection(output="not json"))
    with pytest.raises(RouterError, match="could not parse"):
        d.neighbors()


# ----------------------------------------------------------------------------- push
def test_push_frr_success_exits_config_mode_and_masks_output():
    conn = FakeConnection()
    d, _ = driver_with(conn)
    out = d.push(render("frr", "neighbor_create", SPEC_V4), secrets=[MD5])
    call = conn.calls[0]
    assert call[0] == "send_config_set" and call[2] == f"(?:{FRR_ERRORS}).*"
    assert conn.calls[-1] == ("exit_config_mode",) and not conn.in_config
    assert ("commit",) not in conn.calls
    assert MD5 not in out and "password ********" in out


def test_push_rejected_frr_leaves_config_mode_and_hides_md5():
    lines = render("frr", "neighbor_create", SPEC_V4)
    conn = FakeConnection(reject={"neighbor 192.0.2.6 password": "% Specify remote-as or peer-group commands first"})
    d, _ = driver_with(conn)
    with pytest.raises(ConfigRejected) as info:
        d.push(lines)  # no secrets passed: the keyword-based masking must still catch it
    err = info.value
    assert not conn.in_config and ("exit_config_mode",) in conn.calls
    assert err.lines == ["% Specify remote-as or peer-group commands first"]
    assert err.command == "neighbor 192.0.2.6 password ********"
    for text in (str(err), repr(err), err.command, *err.lines):
        assert MD5 not in text and LOGIN_PW not in text
    assert "Specify remote-as" in str(err)
    # nothing after the failing line was sent
    assert conn.sent[-1].startswith("neighbor 192.0.2.6 password")


def test_push_rejected_frr_non_percent_message():
    conn = FakeConnection(reject={"router bgp": "BGP is already running; AS is 64500"})
    d, _ = driver_with(conn)
    with pytest.raises(ConfigRejected) as info:
        d.push(["router bgp 64999", "neighbor 192.0.2.6 remote-as 64501"])
    assert info.value.lines == ["BGP is already running; AS is 64500"]
    assert info.value.command == "router bgp 64999"
    assert not conn.in_config


def test_push_xr_commits_and_exits():
    conn = FakeConnection()
    d, _ = driver_with(conn, Platform.IOS_XR)
    d.push(render("ios-xr", "admin_down", SPEC_V4))
    names = [c[0] for c in conn.calls]
    assert names == ["send_config_set", "commit", "exit_config_mode"]


def test_push_xr_rejected_line_aborts_uncommitted_changes():
    conn = FakeConnection(reject={"password clear": "% Invalid input detected at '^' marker."})
    d, _ = driver_with(conn, Platform.IOS_XR)
    with pytest.raises(ConfigRejected) as info:
        d.push(render("ios-xr", "neighbor_create", SPEC_V4))
    assert ("send_command_timing", "abort") in conn.calls
    assert ("commit",) not in conn.calls
    assert not conn.in_config
    assert info.value.command == "password clear ********"
    assert MD5 not in str(info.value)


def test_push_junos_failed_commit_rolls_back():
    conn = FakeConnection(commit_error=f'[edit protocols bgp group IXP neighbor 192.0.2.6]\n'
                                       f'  authentication-key "{MD5}";\nerror: configuration check-out failed')
    d, _ = driver_with(conn, Platform.JUNOS)
    with pytest.raises(ConfigRejected) as info:
        d.push(render("junos", "neighbor_create", SPEC_V4), secrets=[MD5])
    assert conn.calls[0][3] == "configure private"
    assert ("send_command_timing", "rollback 0") in conn.calls
    assert conn.calls[-1] == ("exit_config_mode",) and not conn.in_config
    assert info.value.command == "commit"
    assert "configuration check-out failed" in str(info.value)
    assert all(MD5 not in ln for ln in info.value.lines)


def test_push_junos_syntax_error_is_detected():
    conn = FakeConnection(reject={"set protocols bgp group IXP neighbor 192.0.2.6 peer-as": "syntax error."})
    d, _ = driver_with(conn, Platform.JUNOS)
    with pytest.raises(ConfigRejected, match="syntax error"):
        d.push(render("junos", "neighbor_create", SPEC_V4))
    assert ("send_command_timing", "rollback 0") in conn.calls and not conn.in_config


def test_push_connection_lost_midway():
    class Dropping(FakeConnection):
        def send_config_set(self, lines, **kw):
            self.in_config = True
            raise OSError("Socket is closed")

    conn = Dropping()
    d, _ = driver_with(conn)
    with pytest.raises(RouterUnreachable):
        d.push(["router bgp 64500"])


# ----------------------------------------------------------------------------- save
def test_save_frr_writes_memory():
    conn = FakeConnection()
    d, _ = driver_with(conn)
    assert "saved" in d.save()
    assert ("save_config",) in conn.calls


@pytest.mark.parametrize("platform", [Platform.IOS_XR, Platform.JUNOS])
def test_save_is_a_no_op_on_commit_platforms(platform):
    conn = FakeConnection()
    d, _ = driver_with(conn, platform)
    d.save()
    assert ("save_config",) not in conn.calls


# ----------------------------------------------------------------------------- error patterns
@pytest.mark.parametrize("platform,line,is_error", [
    (Platform.FRR, "% Unknown command: neighbor", True),
    (Platform.FRR, "% Specify remote-as or peer-group commands first", True),
    (Platform.FRR, "% Configure the peer-group first", True),
    (Platform.FRR, "BGP is already running; AS is 64500", True),
    (Platform.FRR, "r1(config-router)# neighbor 192.0.2.6 remote-as 64501", False),
    (Platform.IOS_XE, "% Invalid input detected at '^' marker.", True),
    (Platform.IOS_XE, "%BGP-5-ADJCHANGE: neighbor 192.0.2.2 Up", False),
    (Platform.IOS_XR, "% Incomplete command.", True),
    (Platform.EOS, "% Invalid input (at token 2: 'foo')", True),
    (Platform.JUNOS, "syntax error.", True),
    (Platform.JUNOS, "error: configuration check-out failed", True),
    (Platform.JUNOS, "[edit protocols bgp]", False),
    (Platform.JUNOS, "'inet' is ambiguous.", True),
    (Platform.JUNOS, 'user@r1# set protocols bgp group IXP neighbor 192.0.2.6 description "this is ambiguous"', False),
])
def test_error_patterns(platform, line, is_error):
    pattern = f"(?:{PROFILES[platform].error_pattern}).*"
    assert bool(re.search(pattern, f"r1(config)# cmd\n{line}\nr1(config)#", flags=re.M)) is is_error


@pytest.mark.parametrize("platform", [Platform.FRR, Platform.JUNOS, Platform.EOS])
def test_an_empty_answer_is_a_failed_read_not_no_neighbors(platform):
    """JSON platforms answer "{}" when there are no neighbors; nothing at all must not read as
    "no neighbors" (a Delete would then skip the router)."""
    d, _ = driver_with(FakeConnection(output="  \n"), platform)
    with pytest.raises(RouterError, match="empty answer"):
        d.neighbors()
    d, _ = driver_with(FakeConnection(output="{}"), platform)
    assert d.neighbors() == {}
