"""Logging set-up that keeps secrets out of the log.

- Slack tokens and anything after a password keyword are masked in every record.
- netmiko, paramiko and the Slack SDKs are held at WARNING whatever the level: at DEBUG they log
  raw sessions and payloads byte for byte, MD5 keys included.
"""
from __future__ import annotations

import logging
import re
from typing import IO

from bot.base.redact import mask_password_args

_TOKEN = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")
# At DEBUG these log raw payloads: the CLI session (netmiko, paramiko), Slack request bodies
# and Socket Mode envelopes with typed modal values (slack_sdk, slack_bolt), URLs (urllib3).
# apscheduler logs its start and every job run (each poll) at INFO: chatter, not news.
QUIET_LOGGERS = ("netmiko", "paramiko", "slack_sdk", "slack_bolt", "urllib3", "apscheduler")


def redact(text: str) -> str:
    return mask_password_args(_TOKEN.sub(r"\1-***", text))


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            # the traceback text is formatted later from exc_info: render and redact it now
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
