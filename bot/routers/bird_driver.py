"""RouterDriver for BIRD 2: configuration by files, over SSH (paramiko: SFTP + exec).

BIRD has no configuration CLI: peerbot writes one file per session into an include directory
that the router's main configuration includes (`include "/etc/bird/peerbot.d/*.conf";`),
checks the whole configuration with `bird -p -c <main conf>`, and only then reloads with
`birdc configure`. State is read with `birdc show protocols all`.

Transport: paramiko directly, not netmiko's `linux` device type. netmiko drives an interactive
shell by prompt matching: a file would have to go through a heredoc typed into it (echoed,
line-length and prompt-sensitive), and a command's success would have to be guessed from its
output. paramiko gives SFTP (a temporary file renamed into place: the include directory never
holds a half-written file) and exec channels with exit codes (`bird -p` says "valid" only by its
exit status). paramiko is what netmiko runs on, so no new dependency.

The rendered "lines" (templates/bird2/*.j2) are a small script for this driver; each piece
starts with a directive line that is never written anywhere:
    #peerbot file <name>.conf          the lines up to the next directive are the file's text
    #peerbot remove <name>.conf        remove the file
    #peerbot disabled <name>.conf yes|no   set the file's one "disabled" line
A push is atomic: every file it touches is written, the configuration is checked once, and on
a failed check every touched file is put back as it was (ConfigRejected naming the directive of
the file BIRD complains about, so the executor can tell whose session it was) and nothing is
reloaded. Names are plain file names (never a path) in the include directory.

Where things are on the router (the same for every BIRD router peerbot manages; Debian's
defaults): PEERBOT_BIRD_CONFIG (/etc/bird/bird.conf), PEERBOT_BIRD_INCLUDE_DIR
(/etc/bird/peerbot.d), PEERBOT_BIRD_SOCKET (/run/bird/bird.ctl), PEERBOT_BIRD_BIN
(/usr/sbin/bird), PEERBOT_BIRDC_BIN (/usr/sbin/birdc). The SSH user needs write access to the
include directory, read access to the main configuration and to the control socket.
"""
from __future__ import annotations

import logging
import os
import re
import shlex
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

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

log = logging.getLogger(__name__)

DIRECTIVE = "#peerbot"
_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}\.conf$")
_DISABLED_LINE = re.compile(r"^(?P<pre>[ \t]*disabled[ \t]+)(?:yes|no|on|off|true|false)(?P<post>[ \t]*;.*)$",
                            re.M)
_RECONFIGURED = re.compile(r"^(?:Reconfigured|Reconfiguration in progress|Reconfiguration already in progress"
                           r"|Reconfiguration confirmed|Reconfiguration queued)", re.M)


@dataclass(frozen=True)
class BirdPaths:
    config: str = "/etc/bird/bird.conf"
    include_dir: str = "/etc/bird/peerbot.d"
    socket: str = "/run/bird/bird.ctl"
    bird: str = "/usr/sbin/bird"
    birdc: str = "/usr/sbin/birdc"

    @classmethod
    def from_env(cls) -> BirdPaths:
        return paths_from_env(cls, {"config": "PEERBOT_BIRD_CONFIG", "include_dir": "PEERBOT_BIRD_INCLUDE_DIR",
                                    "socket": "PEERBOT_BIRD_SOCKET", "bird": "PEERBOT_BIRD_BIN",
                                    "birdc": "PEERBOT_BIRDC_BIN"})


P = TypeVar("P")


def paths_from_env(cls: type[P], variables: dict[str, str]) -> P:
    """A daemon's paths on the router: each field from its environment variable, else the
    default; the include directory without a trailing slash."""
    default = cls()
    values = {name: os.environ.get(var) or getattr(default, name) for name, var in variables.items()}
    values["include_dir"] = values["include_dir"].rstrip("/") or "/"
    return cls(**values)


@dataclass
class FileOp:
    verb: str  # file | remove | disabled
    name: str
    directive: str  # the line as rendered (what ConfigRejected.command names)
    text: list[str]
    arg: str | None = None


def _ssh_client() -> Any:
    import paramiko  # imported here so tests can run without an SSH stack

    return paramiko.SSHClient()


class BirdDriver:
    """BIRD 2. The file mechanics (directives, SFTP, check, restore) are shared with other
    file-configured daemons: a subclass (bot/routers/openbgpd_driver.py) sets PLATFORM/DAEMON
    and overrides the hooks in the "daemon" section below."""

    PLATFORM = Platform.BIRD2
    DAEMON = "BIRD"
    CHECK = "bird -p"

    def __init__(self, creds: RouterCredentials, *, timeout: float = 15,
                 client_factory: Callable[[], Any] | None = None, paths: Any = None):
        if Platform(creds.platform) != self.PLATFORM:
            raise UnsupportedPlatform(f"platform {creds.platform!r} is not a {self.DAEMON} platform")
        self.platform = self.PLATFORM
        self.creds = creds
        self.timeout = timeout
        self.paths = paths or self.default_paths()
        self._factory = client_factory or _ssh_client
        self._client: Any = None
        self._secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.creds!r}, timeout={self.timeout})"

    # ------------------------------------------------------------------ daemon (hooks)
    @classmethod
    def default_paths(cls) -> Any:
        return BirdPaths.from_env()

    def check_command(self) -> str:
        return f"{q(self.paths.bird)} -p -c {q(self.paths.config)}"

    def reload(self) -> tuple[bool, str]:
        """(reloaded, output) of the daemon's reload."""
        rc, out = self._run(f"{q(self.paths.birdc)} -s {q(self.paths.socket)} configure")
        return rc == 0 and bool(_RECONFIGURED.search(out)), out

    def state_command(self) -> str:
        return f"{q(self.paths.birdc)} -s {q(self.paths.socket)} show protocols all"

    def set_disabled(self, text: str, value: str) -> tuple[str, int]:
        """The session file's text with its admin-state line set to `value` (yes|no), and how
        many such lines there were (exactly one is expected)."""
        return _DISABLED_LINE.subn(lambda m: f"{m.group('pre')}{value}{m.group('post')}", text)

    def derived_files(self, sftp: Any, wanted: dict[str, str | None],
                      originals: dict[str, str | None]) -> None:
        """Files the daemon needs besides the session files (an index), added to `wanted` and
        `originals` so they are written, checked and restored with the push. BIRD: none."""

    def after_reload(self, ops: list[FileOp], wanted: dict[str, str | None]) -> None:
        """After a successful reload (`wanted`: every file's text as written, None: removed)."""
        self._wait_reconfigured()

    def check_name(self, name: str) -> bool:
        """Whether a directive may name this file."""
        return True

    # ------------------------------------------------------------------ session
    def connect(self) -> None:
        if self._client is not None:
            return
        import paramiko

        c = self.creds
        client = self._factory()
        # as netmiko does by default (ssh_strict=False): the inventory names the host
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            client.connect(c.host, port=c.port, username=c.username, password=c.password or None,
                           key_filename=c.key_file or None, look_for_keys=False, allow_agent=False,
                           timeout=self.timeout, auth_timeout=self.timeout, banner_timeout=self.timeout)
        except Exception as exc:
            try:
                client.close()
            except Exception:  # nothing left to clean up
                pass
            raise self._translate(exc, "connect") from None
        self._client = client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception as exc:
                log.debug("disconnect from %s failed (%s)", self.creds.host, type(exc).__name__)

    def __enter__(self) -> BirdDriver:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ config
    def push(self, lines: list[str], *, secrets: Iterable[str] = ()) -> str:
        self._secrets = tuple(s for s in secrets if s)
        ops = self._parse(lines)
        if not ops:
            return ""
        client = self._session()
        try:
            sftp = client.open_sftp()
        except Exception as exc:
            raise self._translate(exc, "open SFTP") from None
        try:
            return self._apply(sftp, ops)
        finally:
            try:
                sftp.close()
            except Exception:  # the session may already be gone
                pass

    def save(self) -> str:
        return "BIRD reads its configuration files at start: nothing to save"

    def _parse(self, lines: list[str]) -> list[FileOp]:
        ops: list[FileOp] = []
        for line in lines:
            if line.startswith(DIRECTIVE + " ") or line == DIRECTIVE:
                words = line.split()
                verb, args = (words[1], words[2:]) if len(words) > 1 else ("", [])
                ok = (verb in ("file", "remove") and len(args) == 1) or \
                     (verb == "disabled" and len(args) == 2 and args[1] in ("yes", "no"))
                if not ok or not _NAME.match(args[0]) or not self.check_name(args[0]):
                    raise ConfigRejected(f"{self.creds.host}: not a peerbot {self.DAEMON} directive: {self._mask(line)[:120]}",
                                         lines=[], command=self._mask(line))
                ops.append(FileOp(verb, args[0], line, [], args[1] if verb == "disabled" else None))
            elif ops and ops[-1].verb == "file":
                ops[-1].text.append(line)
            elif line.strip():
                raise ConfigRejected(f"{self.creds.host}: configuration line outside a peerbot file: "
                                     f"{self._mask(line)[:120]}", lines=[], command=self._mask(line))
        return ops

    def _apply(self, sftp: Any, ops: list[FileOp]) -> str:
        originals: dict[str, str | None] = {}
        wanted: dict[str, str | None] = {}
        for op in ops:
            if op.name not in originals:
                originals[op.name] = self._read(sftp, op.name)
            current = wanted[op.name] if op.name in wanted else originals[op.name]
            if op.verb == "file":
                wanted[op.name] = _file_text(op.text)
            elif op.verb == "remove":
                wanted[op.name] = None
            else:
                if current is None:
                    raise ConfigRejected(f"{self.creds.host}: {op.name} is not in {self.paths.include_dir} "
                                         "(Configure the session first)", command=op.directive)
                new, n = self.set_disabled(current, op.arg or "")
                if n != 1:
                    raise ConfigRejected(f"{self.creds.host}: {op.name} has {n} admin-state lines, not one: "
                                         "Configure the session to rewrite it", command=op.directive)
                wanted[op.name] = new
        try:
            self.derived_files(sftp, wanted, originals)
        except RouterError:
            raise
        except Exception as exc:
            raise self._translate(exc, f"read the {self.DAEMON} include directory") from None
        changed = {name: text for name, text in wanted.items() if text != originals[name]}
        if not changed:
            return "no file changed"
        try:
            for name, text in changed.items():
                self._put(sftp, name, text)
            rc, out = self._run(self.check_command())
            if rc != 0:
                self._restore(sftp, changed, originals)
                raise self._check_failed(out, ops)
            ok, out = self.reload()
            if not ok:
                self._restore(sftp, changed, originals)
                self.reload()
                first = next((ln for ln in out.splitlines() if ln.strip() and not ln.startswith("BIRD ")), "")
                raise ConfigRejected(f"{self.creds.host}: {self.DAEMON} reload failed: {self._mask(first)[:200]}",
                                     lines=[self._mask(first)], command=None)
            self.after_reload(ops, wanted)
        except RouterError:
            raise
        except Exception as exc:
            raise self._translate(exc, "write the BIRD configuration") from None
        return self._mask(out)

    def _read(self, sftp: Any, name: str) -> str | None:
        try:
            with sftp.open(self._path(name), "r") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return None
        except OSError as exc:
            if getattr(exc, "errno", None) == 2:
                return None
            raise self._translate(exc, f"read {name}") from None

    def _put(self, sftp: Any, name: str, text: str | None) -> None:
        """Atomically: a temporary file (not matching *.conf) renamed over the file."""
        path = self._path(name)
        if text is None:
            try:
                sftp.remove(path)
            except FileNotFoundError:
                pass
            return
        tmp = self._path(f".{name}.peerbot-tmp")
        with sftp.open(tmp, "w") as f:
            f.write(text.encode("ascii"))
        sftp.chmod(tmp, 0o640 if "password" in text else 0o644)
        sftp.posix_rename(tmp, path)

    def _restore(self, sftp: Any, changed: dict[str, str | None], originals: dict[str, str | None]) -> None:
        for name in changed:
            try:
                self._put(sftp, name, originals[name])
            except Exception as exc:  # reported below as the check's failure; say it in the log
                log.error("could not restore %s on %s (%s): check the router", name, self.creds.host,
                          type(exc).__name__)

    def _check_failed(self, output: str, ops: list[FileOp]) -> ConfigRejected:
        errors = [self._mask(ln.strip()) for ln in output.splitlines() if ln.strip()][:5]
        # "bird: /etc/bird/peerbot.d/pb_x.conf:3:18 syntax error, ..." - whose file it is
        command = None
        for op in ops:
            if any(f"/{op.name}:" in e for e in errors):
                command = self._mask(op.directive)
                break
        shown = [e.replace(self.paths.include_dir + "/", "") for e in errors]
        return ConfigRejected(f"{self.creds.host} rejected the configuration ({self.CHECK}): "
                              f"{shown[0] if shown else 'no reason given'}. The file was not left in place.",
                              lines=shown, command=command)

    def _wait_reconfigured(self) -> None:
        """`birdc configure` answers before protocols that stop have stopped: wait (briefly) until
        BIRD no longer reports a reconfiguration in progress, so a read-back sees the result."""
        deadline = time.monotonic() + min(self.timeout, 10)
        while time.monotonic() < deadline:
            _, out = self._run(f"{q(self.paths.birdc)} -s {q(self.paths.socket)} show status")
            if "Reconfiguration in progress" not in out and "Shutdown in progress" not in out:
                return
            time.sleep(0.2)

    # ------------------------------------------------------------------ state
    def neighbors(self) -> dict[str, NeighborState]:
        command = self.state_command()
        rc, out = self._run(command)
        if rc != 0 or not out.strip():
            first = next((ln for ln in out.splitlines() if ln.strip()), "no output")
            words = command.split()
            shown = " ".join([words[0].rsplit("/", 1)[-1], *(w for w in words[1:] if not w.startswith(("-", "/", "'")))])
            raise RouterError(f"{self.creds.host}: {shown} failed: {self._mask(first)[:200]}")
        try:
            return PARSERS[self.platform](out)
        except (ValueError, KeyError, TypeError) as exc:
            why = str(exc) if isinstance(exc, common.ParseError) else type(exc).__name__
            raise RouterError(f"{self.creds.host}: could not parse the BGP neighbor output ({why})") from None

    def neighbor(self, ip: str) -> NeighborState | None:
        return self.neighbors().get(common.norm_ip(ip))

    def bgp_config(self) -> Any:
        raise UnsupportedPlatform(f"{self.creds.host}: discovery of the BGP configuration is not supported "
                                  f"on {self.platform.value} yet")

    # ------------------------------------------------------------------ helpers
    def _path(self, name: str) -> str:
        if not _NAME.match(name.lstrip(".").removesuffix(".peerbot-tmp")):
            raise ConfigRejected(f"{self.creds.host}: not a file name peerbot writes: {name[:80]!r}")
        return f"{self.paths.include_dir}/{name}"

    def _run(self, command: str) -> tuple[int, str]:
        """(exit status, stdout + stderr) of `command` on the router."""
        client = self._session()
        try:
            _, stdout, stderr = client.exec_command(command, timeout=max(self.timeout, 10))
            out = stdout.read().decode("utf-8", "replace")
            err = stderr.read().decode("utf-8", "replace")
            rc = stdout.channel.recv_exit_status()
        except Exception as exc:
            raise self._translate(exc, command.split()[0].rsplit("/", 1)[-1]) from None
        return rc, out + err

    def _session(self) -> Any:
        if self._client is None:
            self.connect()
        return self._client

    def _mask(self, text: str) -> str:
        return mask(text, (self.creds.password, *self._secrets))

    def _translate(self, exc: BaseException, doing: str) -> RouterError:
        import paramiko

        where = f"{self.creds.host}:{self.creds.port}"
        if isinstance(exc, RouterError):
            return exc
        if isinstance(exc, paramiko.AuthenticationException):
            return RouterAuthFailed(f"authentication failed for {self.creds.username}@{where}")
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return RouterTimeout(f"{where} did not answer in time ({doing})")
        if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError) or isinstance(exc, socket.gaierror):
            return RouterUnreachable(f"cannot reach {where} (connection refused, no route or DNS failure)")
        if isinstance(exc, PermissionError):
            return RouterError(f"{where}: permission denied while trying to {doing} "
                               f"(the SSH user needs write access to {self.paths.include_dir})")
        if isinstance(exc, (paramiko.SSHException, ConnectionError, EOFError, OSError)):
            return RouterUnreachable(f"connection to {where} failed or was lost ({doing})")
        log.warning("unexpected error while trying to %s on %s: %s", doing, where, type(exc).__name__)
        return RouterError(f"{where}: unexpected {type(exc).__name__} while trying to {doing}")


def q(text: str) -> str:
    return shlex.quote(text)


def _file_text(lines: list[str]) -> str:
    """The file as written: the rendered lines, indented by brace/bracket depth, newline-terminated."""
    out: list[str] = []
    depth = 0
    for line in lines:
        line = line.strip()
        opens, closes = line.count("{") + line.count("["), line.count("}") + line.count("]")
        if line.startswith(("}", "]")):
            depth, closes = max(depth - 1, 0), closes - 1
        out.append("  " * depth + line)
        depth = max(depth + opens - closes, 0)
    return "\n".join(out) + "\n"
