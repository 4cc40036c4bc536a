"""Secrets stay out of the log, even at DEBUG."""
from __future__ import annotations

import io
import logging

from bot.logs import redact


def test_redact_masks_tokens_and_passwords() -> None:
    assert redact("token xoxb-111-222-abc and xapp-1-A1-2-def") == "token xoxb-*** and xapp-***"
    assert redact(" neighbor 192.0.2.6 password S3cr3t!") == " neighbor 192.0.2.6 password ********"
    assert redact('set ... authentication-key "a b"') == "set ... authentication-key ********"
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
