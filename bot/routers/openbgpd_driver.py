"""RouterDriver for OpenBGPD (7.x): configuration by files, over SSH, like BIRD (bird_driver.py:
the same directives, SFTP writes, one check for the whole push and a restore of every file of
a push that fails it).

OpenBGPD's `include` takes one file, no wildcard, so besides one file per session
(<include dir>/pb_<address>.conf) peerbot keeps an index, <include dir>/peerbot.conf, with one
`include "<include dir>/pb_....conf"` line per session file; the main configuration includes
that index once (`include "/etc/bgpd/peerbot.d/peerbot.conf"`). The index is rewritten with
every push that adds or removes a session file (atomically: temporary file + rename), and is
restored with the session files when the check fails. The check is `bgpd -n -f <main conf>`,
the reload `bgpctl reload` (which answers with the result of the reload), the state
`bgpctl -j show neighbor` (JSON).

Admin state: the neighbor block's own `down` statement (`bgpctl neighbor X down` is lost on the
next reload). The session file always holds exactly one admin-state line, `down` or the comment
`# up`; the "#peerbot disabled <file> yes|no" directive flips it.

Where things are on the router: PEERBOT_OPENBGPD_CONFIG (/etc/bgpd.conf),
PEERBOT_OPENBGPD_INCLUDE_DIR (/etc/bgpd/peerbot.d), PEERBOT_OPENBGPD_SOCKET
(/run/openbgpd/bgpd.sock), PEERBOT_OPENBGPD_BGPD_BIN (/usr/sbin/bgpd), PEERBOT_OPENBGPD_BGPCTL_BIN
(/usr/sbin/bgpctl). The SSH user needs write access to the include directory, read access to the
main configuration and read/write access to the control socket (the restricted socket is not
enough for reload).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.routers.base import Platform, RouterError
from bot.routers.bird_driver import BirdDriver, FileOp, paths_from_env, q

INDEX = "peerbot.conf"
SESSION_FILE = re.compile(r"^pb_[A-Za-z0-9_]{1,61}\.conf$")
_NEIGHBOR = re.compile(r"^[ \t]*neighbor[ \t]+([0-9A-Fa-f:.]+)[ \t]*\{", re.M)
_ADMIN_LINE = re.compile(r"^(?P<pre>[ \t]*)(?:down|# up)[ \t]*$", re.M)


@dataclass(frozen=True)
class OpenBgpdPaths:
    config: str = "/etc/bgpd.conf"
    include_dir: str = "/etc/bgpd/peerbot.d"
    socket: str = "/run/openbgpd/bgpd.sock"
    bgpd: str = "/usr/sbin/bgpd"
    bgpctl: str = "/usr/sbin/bgpctl"

    @classmethod
    def from_env(cls) -> OpenBgpdPaths:
        return paths_from_env(cls, {"config": "PEERBOT_OPENBGPD_CONFIG", "include_dir": "PEERBOT_OPENBGPD_INCLUDE_DIR",
                                    "socket": "PEERBOT_OPENBGPD_SOCKET", "bgpd": "PEERBOT_OPENBGPD_BGPD_BIN",
                                    "bgpctl": "PEERBOT_OPENBGPD_BGPCTL_BIN"})


class OpenBgpdDriver(BirdDriver):
    PLATFORM = Platform.OPENBGPD
    DAEMON = "OpenBGPD"
    CHECK = "bgpd -n"

    @classmethod
    def default_paths(cls) -> OpenBgpdPaths:
        return OpenBgpdPaths.from_env()

    def _ctl(self, *words: str) -> str:
        return " ".join([q(self.paths.bgpctl), "-s", q(self.paths.socket), *words])

    def check_command(self) -> str:
        return f"{q(self.paths.bgpd)} -n -f {q(self.paths.config)}"

    def reload(self) -> tuple[bool, str]:
        rc, out = self._run(self._ctl("reload"))
        return rc == 0 and "reload failed" not in out.lower(), out

    def state_command(self) -> str:
        return self._ctl("-j", "show", "neighbor")

    def set_disabled(self, text: str, value: str) -> tuple[str, int]:
        return _ADMIN_LINE.subn(lambda m: m.group("pre") + ("down" if value == "yes" else "# up"), text)

    def check_name(self, name: str) -> bool:
        return bool(SESSION_FILE.match(name))

    def after_reload(self, ops: list[FileOp], wanted: dict[str, str | None]) -> None:
        """`bgpctl reload` answers once the reload is done. A reload does not stop an established
        session whose block gained `down` (nor start one that lost it): the admin-state
        directives are applied at runtime too, after the file that keeps them is in place."""
        for op in ops:
            if op.verb != "disabled":
                continue
            m = _NEIGHBOR.search(wanted.get(op.name) or "")
            if m is None:
                continue
            rc, out = self._run(self._ctl("neighbor", q(m.group(1)), "down" if op.arg == "yes" else "up"))
            if rc != 0:
                raise RouterError(f"{self.creds.host}: the file says {'down' if op.arg == 'yes' else 'up'}, "
                                  f"but bgpctl neighbor {m.group(1)} failed: {self._mask(out.strip())[:200]}")

    def derived_files(self, sftp: Any, wanted: dict[str, str | None],
                      originals: dict[str, str | None]) -> None:
        present = {n for n in sftp.listdir(self.paths.include_dir) if SESSION_FILE.match(n)}
        for name, text in wanted.items():
            if text is None:
                present.discard(name)
            else:
                present.add(name)
        originals[INDEX] = self._read(sftp, INDEX)
        wanted[INDEX] = index_text(self.paths.include_dir, present)


def index_text(include_dir: str, names: set[str]) -> str:
    lines = ["# Managed by peerbot: one include line per session file in this directory."]
    lines += [f'include "{include_dir}/{name}"' for name in sorted(names)]
    return "\n".join(lines) + "\n"
