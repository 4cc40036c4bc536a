"""RouterDriver over SSH with netmiko, for all five platforms.

Everything platform-specific is one row of PROFILES. Error handling rules:
  * netmiko's own exception texts are never passed on: they can contain the command that
    failed (and so an MD5 key). Messages are built here and scrubbed of secrets.
  * netmiko raises ConfigInvalidException while the session is still in config mode (see
    /work/shared/lab/netmiko_check.py); push() always discards uncommitted changes on
    commit-based platforms and leaves config mode before re-raising.
"""
from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)

from bot.base.redact import mask
from bot.routers.base import (
    ConfigRejected,
    NeighborState,
    Platform,
    RouterAuthFailed,
    RouterCredentials,
    RouterError,
    RouterTimeout,
    RouterUnreachable,
    UnsupportedPlatform,
)
from bot.routers.parsers import PARSERS, common

if TYPE_CHECKING:
    from bot.routers.bgp_config.model import BgpConfig

log = logging.getLogger(__name__)
JSON_STATE_PLATFORMS = frozenset({Platform.FRR, Platform.JUNOS, Platform.EOS})

# "% ..." is how every Cisco-like CLI reports a refused line; syslog messages ("%BGP-5-...")
# have no space after the "%", so they do not match.
_CISCO_ERRORS = r"^%\s"
# From the FRR lab (netmiko_check.py): vtysh errors start with "%", a few do not.
FRR_ERRORS = r"^%|BGP is already running|Create the peer-group"
JUNOS_ERRORS = r"^\s*(?:syntax error|unknown command|missing argument|invalid \w+|error:|'[^']*' is ambiguous)"


@dataclass(frozen=True)
class Profile:
    device_type: str
    state_commands: tuple[str, ...]  # read in order; together they list every default-VRF neighbor
    error_pattern: str
    commit: bool = False  # candidate-config platforms: push() commits, save() has nothing to do
    config_mode_command: str | None = None  # None: netmiko's default for the device type
    discard_command: str | None = None  # drops uncommitted changes (commit platforms)
    check_enable: bool = False  # IOS-XE/EOS logins may land in user EXEC (">")
    # netmiko class used instead of device_type's stock one (see vtysh_session.py); None: stock
    session_class: Callable[..., Any] | None = None


def _vtysh_session(**kwargs: Any) -> Any:
    from bot.routers.vtysh_session import VtyshSSH  # imported here so tests can run without an SSH stack

    return VtyshSSH(**kwargs)


PROFILES: dict[Platform, Profile] = {
    # vtysh starts in enable mode and speaks IOS-like CLI; the lab validates this combination
    Platform.FRR: Profile("cisco_ios", ("show bgp neighbors json",), FRR_ERRORS, session_class=_vtysh_session),
    Platform.IOS_XE: Profile("cisco_xe", ("show bgp all neighbors",), _CISCO_ERRORS, check_enable=True),
    Platform.IOS_XR: Profile("cisco_xr", ("show bgp neighbors",), _CISCO_ERRORS, commit=True,
                             discard_command="abort"),
    # "configure private": our commit cannot pick up someone else's half-finished edit, and
    # uncommitted changes vanish on exit. The state command lists the peers of every routing
    # instance; the parser keeps the master instance's.
    Platform.JUNOS: Profile("juniper_junos", ("show bgp neighbor | display json",), JUNOS_ERRORS,
                            commit=True, config_mode_command="configure private", discard_command="rollback 0"),
    # `show ip bgp neighbors` lists IPv4-transport peers only; IPv6-transport peers are listed by
    # `show ipv6 bgp peers` (its name since EOS 4.23; both routing models). `show bgp neighbors`
    # lists both but exists only in the multi-agent model.
    Platform.EOS: Profile("arista_eos", ("show ip bgp neighbors | json", "show ipv6 bgp peers | json"),
                          _CISCO_ERRORS, check_enable=True),
}



def _connect_handler(**kwargs: Any) -> Any:
    from netmiko import ConnectHandler  # imported here so tests can run without an SSH stack

    return ConnectHandler(**kwargs)


class NetmikoDriver:
    def __init__(self, creds: RouterCredentials, *, timeout: float = 15,
                 connection_factory: Callable[..., Any] | None = None):
        try:
            self.platform = Platform(creds.platform)
            self.profile = PROFILES[self.platform]
        except (KeyError, ValueError):
            raise UnsupportedPlatform(f"platform {creds.platform!r} is not supported") from None
        self.creds = creds
        self.timeout = timeout
        # an injected factory (tests) replaces the profile's session class too
        self._factory = connection_factory or self.profile.session_class or _connect_handler
        self._conn: Any = None
        self._secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"NetmikoDriver({self.creds!r}, timeout={self.timeout})"

    # ------------------------------------------------------------------ session
    def connect(self) -> None:
        if self._conn is not None:
            return
        c = self.creds
        params = dict(
            device_type=self.profile.device_type, host=c.host, port=c.port, username=c.username,
            password=c.password or "", use_keys=bool(c.key_file), key_file=c.key_file,
            allow_agent=False,  # only the configured password/key, never whatever an agent offers
            conn_timeout=self.timeout, auth_timeout=self.timeout, banner_timeout=self.timeout,
            fast_cli=False,
        )
        try:
            conn = self._factory(**params)
        except Exception as exc:
            raise self._translate(exc, "connect") from None
        self._conn = conn
        if self.profile.check_enable:
            try:
                if not conn.check_enable_mode():
                    conn.enable()
            except Exception:
                self.close()
                raise RouterAuthFailed(f"{c.username}@{c.host}:{c.port} is not in privileged EXEC mode "
                                       "and 'enable' failed (give the user privilege 15)") from None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.disconnect()
            except Exception as exc:  # the session may already be gone; nothing left to clean up
                log.debug("disconnect from %s failed (%s)", self.creds.host, type(exc).__name__)

    def __enter__(self) -> NetmikoDriver:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ config
    def push(self, lines: list[str], *, secrets: Iterable[str] = ()) -> str:
        """`secrets` (e.g. the MD5 key) are masked in the returned output and in errors, in
        addition to anything that follows a password/authentication-key keyword."""
        conn = self._session()
        p = self.profile
        self._secrets = tuple(s for s in secrets if s)
        # ".*" extends the match to the end of the line, so that netmiko's exception carries
        # the router's whole message ("% Specify remote-as ...") rather than just "%"
        kwargs: dict[str, Any] = dict(error_pattern=f"(?:{p.error_pattern}).*", exit_config_mode=False,
                                      read_timeout=max(self.timeout, 10))
        if p.config_mode_command:
            kwargs["config_mode_command"] = p.config_mode_command
        try:
            output = conn.send_config_set(list(lines), **kwargs)
            if p.commit:
                output += self._commit(conn)
        except ConfigInvalidException as exc:
            self._abandon(conn)
            raise self._rejected(str(exc)) from None
        except RouterError:
            self._abandon(conn)
            raise
        except Exception as exc:
            self._abandon(conn)
            raise self._translate(exc, "configure") from None
        try:
            output += conn.exit_config_mode()
        except Exception as exc:
            raise self._translate(exc, "leave config mode") from None
        return self._mask(output)

    def save(self) -> str:
        if self.profile.commit:
            return "committed configuration is persistent; nothing to save"
        conn = self._session()
        try:
            return self._mask(conn.save_config())
        except Exception as exc:
            raise self._translate(exc, "save") from None

    def _commit(self, conn: Any) -> str:
        try:
            return conn.commit()
        except ValueError as exc:  # netmiko: commit failed / other commits happened meanwhile
            raise self._rejected_commit(str(exc)) from None

    def _abandon(self, conn: Any) -> None:
        """Drop uncommitted changes (commit platforms) and get back to exec mode. Best effort:
        the caller is already handling an error and must see that one, not ours."""
        try:
            if self.profile.discard_command and conn.check_config_mode():
                conn.send_command_timing(self.profile.discard_command)
            if conn.check_config_mode():
                conn.exit_config_mode()
        except Exception as exc:  # no exc_info: netmiko texts may echo a command with its secret
            log.warning("could not leave config mode on %s cleanly (%s)", self.creds.host, type(exc).__name__)

    # ------------------------------------------------------------------ state
    def neighbors(self) -> dict[str, NeighborState]:
        result: dict[str, NeighborState] = {}
        for command in self.profile.state_commands:  # any failed read fails the whole poll
            for ip, state in self._read_neighbors(command).items():
                result.setdefault(ip, state)
        return result

    def _read_neighbors(self, command: str) -> dict[str, NeighborState]:
        conn = self._session()
        try:
            output = conn.send_command(command, read_timeout=max(self.timeout, 10))
        except Exception as exc:
            raise self._translate(exc, "read BGP neighbors") from None
        if output.lstrip().startswith("%"):  # e.g. "% BGP not active"
            raise RouterError(f"{self.creds.host}: {self._mask(output.strip().splitlines()[0])}")
        if not output.strip() and self.platform in JSON_STATE_PLATFORMS:
            # JSON platforms answer "{}" when there are no neighbors: nothing at all is a failed
            # read, and taking it for "no neighbors" would make a Delete skip the router.
            raise RouterError(f"{self.creds.host}: empty answer to '{command}'")
        try:
            return PARSERS[self.platform](output)
        except (ValueError, KeyError, TypeError) as exc:
            why = str(exc) if isinstance(exc, common.ParseError) else type(exc).__name__  # ParseError texts hold no output
            raise RouterError(f"{self.creds.host}: could not parse the BGP neighbor output ({why})") from None

    def neighbor(self, ip: str) -> NeighborState | None:
        return self.neighbors().get(common.norm_ip(ip))

    # ------------------------------------------------------------------ configuration
    def bgp_config(self) -> BgpConfig:
        """The BGP neighbors as the configuration has them (discovery, issue 17): the platform's
        configuration commands (bot/routers/bgp_config CONFIG_COMMANDS), parsed. The outputs
        hold keys: they are never logged, and an error quotes none of them."""
        from bot.routers.bgp_config import CONFIG_COMMANDS, parse_bgp_config

        conn = self._session()
        outputs: dict[str, str] = {}
        for command in CONFIG_COMMANDS[self.platform]:
            try:
                outputs[command] = conn.send_command(command, read_timeout=max(self.timeout, 30))
            except Exception as exc:
                raise self._translate(exc, "read the BGP configuration") from None
            first = outputs[command].lstrip().splitlines()[:1]
            if first and first[0].startswith("%") and "router bgp" in command:
                raise RouterError(f"{self.creds.host}: '{command}' was refused: {self._mask(first[0].strip())[:200]}")
        try:
            return parse_bgp_config(self.platform, outputs)
        except (ValueError, KeyError, TypeError) as exc:
            raise RouterError(f"{self.creds.host}: could not parse the BGP configuration "
                              f"({type(exc).__name__})") from None

    # ------------------------------------------------------------------ helpers
    def _session(self) -> Any:
        if self._conn is None:
            self.connect()
        return self._conn

    def _mask(self, text: str) -> str:
        return mask(text, (self.creds.password, *self._secrets))

    def _rejected(self, netmiko_msg: str) -> ConfigRejected:
        # netmiko: "Invalid input detected at command: <cmd>, matched error: <router line>"
        m = re.search(r"at command: (?P<cmd>.*?), matched error: (?P<err>.*)$", netmiko_msg, re.S)
        command = self._mask(m.group("cmd").strip()) if m else None
        errors = [self._mask(ln.strip()) for ln in m.group("err").splitlines() if ln.strip()] if m else []
        where = f" at {command!r}" if command else ""
        detail = f": {errors[0]}" if errors else ""
        return ConfigRejected(f"{self.creds.host} rejected the configuration{where}{detail}",
                              lines=errors, command=command)

    def _rejected_commit(self, netmiko_msg: str) -> ConfigRejected:
        errors = [self._mask(ln.strip()) for ln in netmiko_msg.splitlines()
                  if re.search(r"error|fail|abort|%", ln, re.I)
                  and not ln.startswith("Commit failed with the following errors")]  # netmiko's preamble
        return ConfigRejected(f"{self.creds.host} refused to commit" + (f": {errors[0]}" if errors else ""),
                              lines=errors, command="commit")

    def _translate(self, exc: BaseException, doing: str) -> RouterError:
        """Map netmiko/paramiko/socket errors to typed errors with a safe message."""
        where = f"{self.creds.host}:{self.creds.port}"
        if isinstance(exc, RouterError):
            return exc
        if isinstance(exc, NetmikoAuthenticationException):
            return RouterAuthFailed(f"authentication failed for {self.creds.username}@{where}")
        if isinstance(exc, (ReadTimeout, socket.timeout, TimeoutError)):
            return RouterTimeout(f"{where} did not answer in time ({doing})")
        if isinstance(exc, NetmikoTimeoutException):
            text = str(exc)
            if "TCP connection to device failed" in text or "DNS failure" in text:
                return RouterUnreachable(f"cannot reach {where} (connection refused, no route or DNS failure)")
            return RouterTimeout(f"{where} did not complete the SSH session setup in time ({doing})")
        if isinstance(exc, (ConnectionError, EOFError, OSError)):
            return RouterUnreachable(f"connection to {where} failed or was lost ({doing})")
        log.warning("unexpected error while trying to %s on %s: %s", doing, where, type(exc).__name__)
        return RouterError(f"{where}: unexpected {type(exc).__name__} while trying to {doing}")
