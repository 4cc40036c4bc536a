"""Properties of `peerbot sessions add` (bot/cli/catalog.py) over every argument: it creates the
session (exit 0) or names each bad option with a clear message (exit 2; 1 for a conflict), never
a traceback, never an echoed control character, never the MD5 key; a created session renders
safe router lines."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli import cli
from bot.core import Core
from bot.changes.router_config import FilterUnavailable, plan
from bot.sessions.queries import get_session
from bot.core.settings import Settings
from tests.properties.conftest import INVENTORY, KNOWN_AS_SET
from tests.properties.strategies import (
    as_set_inputs, asn_inputs, assert_safe_cli_line, hostile, ip_inputs, max_prefix_inputs, md5_inputs, name_inputs,
    notes_inputs,
)

CLI_PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])
ROUTERS = ("r-frr", "r-iosxe", "r-iosxr", "r-junos", "r-eos")
_ERROR_LINE = re.compile(r"peerbot: (--[a-z0-9-]+(?:/--[a-z0-9-]+)?: )?\S.*")
_ECHO_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # "\n" ends lines


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "PEERBOT_SECRET_KEY": "property-key",
           "PEERBOT_OPERATORS": "", "PEERBOT_OPEN_MODE": "false"}
    loaded = CliRunner().invoke(cli, ["inventory", "load", str(INVENTORY)], env=env)
    assert loaded.exit_code == 0, loaded.output
    return env


@st.composite
def add_arguments(draw: st.DrawFn) -> tuple[list[str], dict[str, str], str | None]:
    """Arguments of a correct `sessions add`, with up to three options made hostile or left out.
    Returns (argv, extra environment, the MD5 key given)."""
    router = draw(st.sampled_from(ROUTERS))
    host = draw(st.integers(10, 254))
    options = {  # option: (valid values, hostile values)
        "--type": (st.just("public"), st.sampled_from(("private", "local", "PUBLIC ")) | hostile()),
        "--exchange": (st.sampled_from(("EXAMPLE-IX", "example-ix")), st.sampled_from(("OTHER-IX", "No Exchange"))
                       | hostile(st.just("EXAMPLE-IX"))),
        "--router": (st.just(router), hostile(st.just(router))),
        "--local-asn": (st.sampled_from(("64500", "AS64500")), asn_inputs),
        "--peer-asn": (st.sampled_from(("65601", "AS13335", "AS1.10")), asn_inputs),
        "--peer-name": (st.sampled_from(("Example Peer", "ACME (EU) & Co.")), name_inputs),
        "--peer-ip": (st.just(f"192.0.2.{host}") | st.just(f"2001:db8::{host:x}"), ip_inputs),
        "--peer-group": (st.none() | st.just("IX-PEERS"), hostile(st.just("IX-PEERS"))),
        "--as-set": (st.none() | st.just(KNOWN_AS_SET), as_set_inputs),
        "--max-prefixes-v4": (st.none() | st.just("1,000"), max_prefix_inputs),
        "--max-prefixes-v6": (st.none() | st.just("100"), max_prefix_inputs),
        "--notes": (st.none() | st.just("ticket NET-7"), notes_inputs),
        "--md5-env": (st.none() | st.just("s3cret-Md5-key"), md5_inputs),
    }
    bad = draw(st.sets(st.sampled_from(sorted(options)), max_size=3))
    argv, env, key = ["sessions", "add"], {}, None
    for option, (valid, hostile_values) in options.items():
        value = draw(hostile_values if option in bad else valid)
        if value is None or "\x00" in value:  # argv cannot hold NUL; environment values neither
            continue
        if option == "--md5-env":
            env["PEER_KEY"], key = value, value
            argv += [option, "PEER_KEY"]
        else:
            argv += [option, value]
    return argv, env, key


@CLI_PROPS
@given(args=add_arguments())
def test_sessions_add_creates_or_names_each_bad_option(cli_env: dict[str, str],
                                                        args: tuple[list[str], dict[str, str], str | None]) -> None:
    argv, extra_env, key = args
    result = CliRunner().invoke(cli, argv, env={**cli_env, **extra_env})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"unhandled {type(result.exception).__name__}: {result.exception}")
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    if key and len(key) >= 8 and key.strip():
        assert key not in output, "the MD5 key was printed"
    event(f"exit {result.exit_code}")
    if result.exit_code != 0:
        assert result.exit_code in (1, 2), result.exit_code
        lines = result.stderr.rstrip("\n").split("\n")  # not splitlines(): it eats \x1c, \x85, \u2028...
        assert lines, "failed without saying why"
        if not result.stderr.startswith("Usage:") and "Usage:" not in result.stderr:  # click's own usage errors
            for line in lines:
                assert _ERROR_LINE.fullmatch(line), f"not one clear error line: {line!r}"
                assert not _ECHO_UNSAFE.search(line), f"control character echoed: {line!r}"
        return
    m = re.search(r"created session #(\d+)", result.stdout)
    assert m, result.stdout
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=cli_env["PEERBOT_DATABASE_URL"],
                                       PEERBOT_SECRET_KEY=cli_env["PEERBOT_SECRET_KEY"]), upgrade=False)
    try:
        view = get_session(core.db, int(m.group(1)))
        for action in ("configure", "deconfigure"):
            try:
                lines = plan(core, view.id, action).lines
            except FilterUnavailable as exc:
                # Configure is refused (intended) when the AS-SET cannot be an inbound filter: a
                # clean refusal that names the AS-SET and says what to do, never the key
                assert action == "configure" and view.as_set, exc
                message = str(exc)
                assert f"AS-SET {view.as_set} " in message and ("import it" in message or "re-import" in message)
                assert "\n" not in message and not _ECHO_UNSAFE.search(message)
                if key and key.strip():
                    assert key not in message
                continue
            for line in lines:
                assert_safe_cli_line(line)
    finally:
        core.db.dispose()


@pytest.mark.parametrize(("option", "value"), [("--peer-asn", "9" * 5000), ("--local-asn", "AS" + "9" * 4400),
                                               ("--peer-asn", "\u0661.\u0661\u0660"),
                                               ("--max-prefixes-v4", "9" * 5000)])
def test_sessions_add_names_the_option_of_a_huge_or_non_ascii_number(cli_env: dict[str, str], option: str,
                                                                      value: str) -> None:
    """Found by the properties: these were a ValueError traceback (huge) or AS65546 (Arabic-Indic asdot)."""
    options = {"--type": "public", "--exchange": "EXAMPLE-IX", "--router": "r-frr", "--local-asn": "64500",
               "--peer-asn": "65601", "--peer-name": "Example Peer", "--peer-ip": "192.0.2.60", option: value}
    result = CliRunner().invoke(cli, ["sessions", "add", *(w for pair in options.items() for w in pair)], env=cli_env)
    assert isinstance(result.exception, SystemExit) and result.exit_code == 2, result.output
    assert result.stderr.startswith(f"peerbot: {option}: ")
