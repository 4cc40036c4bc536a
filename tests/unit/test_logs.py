"""Secrets stay out of the log, even at DEBUG."""
from __future__ import annotations

import io
import logging

import pytest

from bot.base.logs import redact


def test_redact_masks_tokens_and_passwords() -> None:
    assert redact("token xoxb-111-222-abc and xapp-1-A1-2-def") == "token xoxb-*** and xapp-***"
    assert redact(" neighbor 192.0.2.6 password S3cr3t!") == " neighbor 192.0.2.6 password ********"
    assert redact('set ... authentication-key "a b"') == 'set ... authentication-key "********"'
    assert redact("password clear Abc") == "password clear ********"


def test_debug_log_has_no_secrets(debug_log: io.StringIO) -> None:
    logging.getLogger("netmiko").debug("write_channel: b'neighbor 192.0.2.6 password RAW-MD5\\n'")
    logging.getLogger("paramiko.transport").debug("auth password RAW-LOGIN")
    logging.getLogger("slack_sdk.socket_mode.builtin.client").debug('envelope {"md5": {"value": "RAW-SM-MD5"}}')
    logging.getLogger("peerbot.test").debug("pushing neighbor 192.0.2.6 password MD5-IN-MSG with %s", "xoxb-1-2-3")
    try:
        raise RuntimeError("neighbor 192.0.2.6 password MD5-IN-EXC")
    except RuntimeError:
        logging.getLogger("peerbot.test").exception("failed")
    err = debug_log.getvalue()
    assert "pushing neighbor 192.0.2.6 password ********" in err and "RuntimeError" in err
    for secret in ("RAW-MD5", "RAW-LOGIN", "RAW-SM-MD5", "MD5-IN-MSG", "MD5-IN-EXC", "xoxb-1-2-3"):
        assert secret not in err, err


@pytest.mark.parametrize("prose", [
    "PEERBOT_SECRET_KEY not set: generated a key in /var/lib/peerbot/.peerbot-secret-key (set the variable in production)",
    "No password for edge1: environment variable EDGE1_PW is not set.",
    "the secret key file is missing; the password is read from the environment",
    "key chain K\n key 1\n",
])
def test_redact_leaves_prose_alone(prose: str) -> None:
    assert redact(prose) == prose


@pytest.mark.parametrize(("cli", "masked"), [
    ("neighbor 192.0.2.6 password S3cr3t!", "neighbor 192.0.2.6 password ********"),
    ("no neighbor 2001:db8::6 password S3cr3t!", "no neighbor 2001:db8::6 password ********"),
    ("neighbor 192.0.2.6 password 7 0822455D0A16", "neighbor 192.0.2.6 password 7 ********"),
    ("neighbor 192.0.2.6 password 0 S3cr3t!", "neighbor 192.0.2.6 password 0 ********"),  # EOS
    ("  password encrypted 0822455D0A16", "  password encrypted ********"),  # IOS-XR
    ("set protocols bgp group G neighbor 192.0.2.6 authentication-key S3cr3t!",
     "set protocols bgp group G neighbor 192.0.2.6 authentication-key ********"),
    ("enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "enable secret 5 ********"),
    ("username ops privilege 15 password 7 0822455D0A16", "username ops privilege 15 password 7 ********"),
    ("  key-string 7 0822455D0A16", "  key-string 7 ********"),
    ("tacacs-server key 7 0822455D0A16", "tacacs-server key 7 ********"),
    ('set system root-authentication encrypted-password "$6$abc"', 'set system root-authentication encrypted-password "********"'),
])
def test_redact_masks_cli_secrets(cli: str, masked: str) -> None:
    assert redact(cli) == masked


def test_missing_secret_key_warning_is_readable(debug_log: io.StringIO, tmp_path) -> None:
    from bot.core.crypto import load_secret_box
    from storage.db import Database

    key_file = tmp_path / ".peerbot-secret-key"
    db = Database(f"sqlite:///{tmp_path / 'peerbot.db'}")
    db.upgrade()
    load_secret_box(None, key_file, db)
    db.dispose()
    line = next(ln for ln in debug_log.getvalue().splitlines() if "PEERBOT_SECRET_KEY" in ln)
    assert f"generated a key in {key_file} (set the variable in production)" in line and "****" not in line
