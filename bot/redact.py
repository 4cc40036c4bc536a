"""Masking of secrets in text that is shown, logged or stored: one rule for every place."""
from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "********"
# The value after a password keyword in a CLI line or a message (also for secrets peerbot did
# not render itself: one typed into Config Manager, or echoed back by a router).
_PASSWORD_ARG = re.compile(
    r"(?P<kw>\b(?:password|authentication-key|secret|key)\s+(?:(?:clear|encrypted|0|7)\s+)?)(?P<val>\"[^\"]*\"|\S+)",
    re.I)


def mask_password_args(text: str) -> str:
    return _PASSWORD_ARG.sub(lambda m: m.group("kw") + MASK, text)


def mask(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with each known secret and anything after a password keyword replaced by MASK."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return mask_password_args(text)
