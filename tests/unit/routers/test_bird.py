"""BIRD 2 (issue 20) without a router: the file driver against an in-memory SSH/SFTP fake, the
`show protocols all` parser on captures from the lab's BIRD 2.0.12, and the templates' checks.
The same paths against the real daemon: tests/integration/test_bird_lab.py."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.routers import ConfigRejected, NeighborSpec, Platform, RouterCredentials, RouterDriver, get_driver, render
from bot.routers.bird_driver import BirdDriver, BirdPaths
from bot.routers.parsers import PARSERS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "routers" / "bird2"
DIR = "/etc/bird/peerbot.d"
KEY = "Bird-Md5-Secret-1"
SPEC = NeighborSpec(local_asn=64500, peer_ip="192.0.2.14", remote_asn=64501, description="Peer AS64501",
                    address_family=4, md5_password=KEY, max_prefixes=100, prefix_list_name="PB-AS-X-abcdef-4-123456",
                    prefixes=("203.0.113.0/25", "198.51.100.0/24 le 25"))
CREDS = RouterCredentials("bird.example", 22, "peerbot", "login-pw-123", None, Platform.BIRD2)


class _Stream:
    def __init__(self, data: str, rc: int = 0):
        self._data, self.channel = data.encode(), self
        self._rc = rc

    def read(self) -> bytes:
        return self._data

    def recv_exit_status(self) -> int:
        return self._rc


class _File:
    def __init__(self, fs: FakeBird, path: str, mode: str):
        self.fs, self.path, self.mode, self.buf = fs, path, mode, b""
        if "r" in mode and path not in fs.files:
            raise FileNotFoundError(path)

    def read(self) -> bytes:
        return self.fs.files[self.path].encode()

    def write(self, data: bytes) -> None:
        self.buf += data

    def __enter__(self) -> _File:
        return self

    def __exit__(self, *exc: object) -> None:
        if "w" in self.mode:
            self.fs.files[self.path] = self.buf.decode()
            self.fs.log.append(("write", self.path))


class FakeBird:
    """paramiko.SSHClient + SFTP + a bird that refuses any file containing BROKEN."""

    def __init__(self, files: dict[str, str] | None = None):
        self.files = dict(files or {})
        self.modes: dict[str, int] = {}
        self.log: list[tuple[str, str]] = []
        self.protocols = (FIXTURES / "show_protocols_all.txt").read_text()

    # SSHClient
    def set_missing_host_key_policy(self, policy: object) -> None:
        pass

    def connect(self, *args: object, **kwargs: object) -> None:
        pass

    def close(self) -> None:
        pass

    def open_sftp(self) -> FakeBird:
        return self

    def exec_command(self, command: str, timeout: float | None = None):  # noqa: ANN201
        self.log.append(("exec", command))
        if " -p -c " in command:
            bad = [p for p, text in self.files.items() if "BROKEN" in text and p.endswith(".conf")]
            if bad:
                return None, _Stream("", 1), _Stream(f"bird: {bad[0]}:3:1 syntax error, unexpected CF_SYM_UNDEFINED\n")
            return None, _Stream("", 0), _Stream("")
        if command.endswith(" configure"):
            return None, _Stream("BIRD 2.0.12 ready.\nReading configuration from /etc/bird/bird.conf\nReconfigured\n"), _Stream("")
        if command.endswith(" show status"):
            return None, _Stream("BIRD 2.0.12 ready.\nDaemon is up and running\n"), _Stream("")
        if command.endswith(" show protocols all"):
            return None, _Stream(self.protocols), _Stream("")
        return None, _Stream("", 127), _Stream("unknown command")

    # SFTP
    def open(self, path: str, mode: str) -> _File:
        return _File(self, path, mode)

    def chmod(self, path: str, mode: int) -> None:
        self.modes[path] = mode

    def posix_rename(self, old: str, new: str) -> None:
        self.files[new] = self.files.pop(old)
        self.modes[new] = self.modes.pop(old, 0o644)
        self.log.append(("rename", new))

    def remove(self, path: str) -> None:
        if path not in self.files:
            raise FileNotFoundError(path)
        del self.files[path]
        self.log.append(("remove", path))


def driver(fake: FakeBird) -> BirdDriver:
    return BirdDriver(CREDS, client_factory=lambda: fake, paths=BirdPaths())


def conf(name: str = "pb_192_0_2_14") -> str:
    return f"{DIR}/{name}.conf"


def test_get_driver_picks_the_file_driver() -> None:
    d = get_driver(CREDS)
    assert isinstance(d, BirdDriver) and isinstance(d, RouterDriver)
    assert "login-pw-123" not in repr(d)


def test_configure_writes_the_file_atomically_checks_then_reloads() -> None:
    fake = FakeBird()
    driver(fake).push(render("bird2", "neighbor_create", SPEC), secrets=(KEY,))
    text = fake.files[conf()]
    assert "#peerbot" not in text  # the directive is for the driver only
    assert 'password "Bird-Md5-Secret-1";' in text and "import limit 100 action disable;" in text
    assert "    203.0.113.0/25" in text and "198.51.100.0/24{24,25}" in text  # indented by depth
    assert fake.modes[conf()] == 0o640  # a key inside: not world-readable
    steps = [what if kind != "exec" else what.split()[1] for kind, what in fake.log]
    assert steps == [f"{DIR}/.pb_192_0_2_14.conf.peerbot-tmp", conf(), "-p", "-s", "-s"]  # write, rename, check, configure, status
    assert fake.log[-2][1].endswith(" configure")


def test_a_file_the_check_refuses_is_not_left_in_place_and_nothing_is_reloaded() -> None:
    fake = FakeBird()
    lines = render("bird2", "neighbor_create", SPEC) + ["BROKEN"]
    with pytest.raises(ConfigRejected) as exc:
        driver(fake).push(lines, secrets=(KEY,))
    assert exc.value.command == "#peerbot file pb_192_0_2_14.conf"  # whose file: the executor's job finder
    assert "syntax error" in str(exc.value) and "not left in place" in str(exc.value)
    assert fake.files == {}
    assert not any(c.endswith(" configure") for kind, c in fake.log if kind == "exec")


def test_a_refused_rewrite_puts_the_previous_file_back() -> None:
    old = "protocol bgp pb_192_0_2_14 {\n  disabled no;\n}\n"
    fake = FakeBird({conf(): old})
    with pytest.raises(ConfigRejected):
        driver(fake).push(render("bird2", "neighbor_create", SPEC) + ["BROKEN"])
    assert fake.files == {conf(): old}


def test_a_batch_is_atomic_and_the_refused_file_is_named() -> None:
    other = dataclasses.replace(SPEC, peer_ip="192.0.2.18", md5_password=None)
    fake = FakeBird()
    lines = render("bird2", "neighbor_create", SPEC) + render("bird2", "neighbor_create", other) + ["BROKEN"]
    with pytest.raises(ConfigRejected) as exc:
        driver(fake).push(lines)
    assert exc.value.command == "#peerbot file pb_192_0_2_18.conf"
    assert fake.files == {}  # the first session's file went too: the executor pushes it again alone


def test_admin_down_and_up_flip_only_the_disabled_line() -> None:
    fake = FakeBird()
    d = driver(fake)
    d.push(render("bird2", "neighbor_create", SPEC))
    before = fake.files[conf()]
    d.push(render("bird2", "admin_down", SPEC))
    assert fake.files[conf()] == before.replace("disabled no;", "disabled yes;")
    d.push(render("bird2", "admin_up", SPEC))
    assert fake.files[conf()] == before


def test_admin_down_of_a_session_without_its_file_is_refused() -> None:
    with pytest.raises(ConfigRejected, match="not in"):
        driver(FakeBird()).push(render("bird2", "admin_down", SPEC))


def test_delete_removes_the_file() -> None:
    fake = FakeBird({conf(): "protocol bgp pb_192_0_2_14 {\n}\n", conf("pb_192_0_2_18"): "x\n"})
    driver(fake).push(render("bird2", "delete", SPEC))
    assert list(fake.files) == [conf("pb_192_0_2_18")]


@pytest.mark.parametrize("line", ["#peerbot file ../../etc/passwd", "#peerbot file /etc/bird/bird.conf",
                                  "#peerbot remove bird.conf x", "#peerbot disabled pb_x.conf maybe",
                                  "#peerbot chmod pb_x.conf", "protocol bgp x {"])
def test_only_plain_file_names_in_the_include_directory(line: str) -> None:
    fake = FakeBird()
    with pytest.raises(ConfigRejected):
        driver(fake).push([line, "x;"])
    assert fake.files == {} and fake.log == []


def test_the_key_never_appears_in_an_error() -> None:
    fake = FakeBird()
    fake.exec_command = lambda command, timeout=None: (  # type: ignore[method-assign]
        None, _Stream("", 1), _Stream(f'bird: {conf()}:9:3 bad password "{KEY}"\n'))
    with pytest.raises(ConfigRejected) as exc:
        driver(fake).push(render("bird2", "neighbor_create", SPEC), secrets=(KEY,))
    assert KEY not in str(exc.value) and KEY not in " ".join(exc.value.lines)


def test_neighbors_parse_the_lab_capture() -> None:
    states = driver(FakeBird()).neighbors()
    s = states["192.0.2.14"]
    assert s.state == "Established" and not s.admin_down and s.remote_asn == 64501
    assert s.prefixes_accepted == 1 and s.description == "PEER AS64501"
    assert "lab_static4" not in str(states)  # only BGP protocols are neighbors


def test_a_disabled_protocol_is_admin_down() -> None:
    s = PARSERS[Platform.BIRD2]((FIXTURES / "show_protocols_all_down.txt").read_text())["192.0.2.14"]
    assert s.admin_down and s.state == "Idle" and s.prefixes_accepted is None


@pytest.mark.parametrize("field, value", [("description", 'Peer"; import all; #'), ("description", "x } protocol"),
                                          ("md5_password", 'k"ey12345'), ("md5_password", "key{12345}"),
                                          ("peer_group", "IX-PEERS"), ("peer_group", "T;X")])
def test_values_that_are_bird_syntax_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValueError):
        render("bird2", "neighbor_create", dataclasses.replace(SPEC, **{field: value}))


def test_a_changed_as_set_is_a_filter_of_another_name() -> None:
    a = render("bird2", "neighbor_create", SPEC)
    b = render("bird2", "neighbor_create", dataclasses.replace(SPEC, prefix_list_name="PB-AS-X-abcdef-4-654321"))
    name = [ln.split()[1] for ln in a if ln.startswith("filter ")][0]
    assert name.startswith("pb_192_0_2_14_in_") and not any(name in ln for ln in b)


def test_a_tripped_import_limit_is_no_admin_down() -> None:
    s = PARSERS[Platform.BIRD2]((FIXTURES / "show_protocols_all_limit_disabled.txt").read_text())["192.0.2.14"]
    assert not s.admin_down and s.state == "Idle" and s.last_error == "prefix limit exceeded (1)"
