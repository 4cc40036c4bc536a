"""Masking of secrets in text that is shown, logged or stored: one rule for every place.

Two mechanisms, used in this order of preference:

- By position (`mask_password_args`): the argument of a password keyword in a CLI-shaped
  context is replaced, whatever its value. This is how rendered and edited command lines are
  masked, and it also catches secrets peerbot did not render (a key typed into Config Manager,
  a router echoing a command back). The contexts are CLI shapes only, so ordinary prose ("no
  password for r1", "generated a key in /var/lib/peerbot") is left alone.
- By value (`mask`): known secrets are replaced wherever they occur, for text whose shape is
  unknown (router output, error text). Only secrets of at least MIN_MASKED_SECRET_LEN
  characters: replacing a short value ("7", or a key equal to the peer's ASN) would garble
  every line that happens to contain it and give the secret away by context.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "********"
# Shorter known secrets are not masked as substrings of free text (see above). New MD5 keys
# are at least this long (bot.base.validation.parse_md5); login passwords should be too.
MIN_MASKED_SECRET_LEN = 8

# CLI shapes whose next word is a secret. [ \t] rather than \s: a keyword at the end of one
# line never reaches into the next ("key 1" in a key chain is followed by a line break).
_SECRET_CONTEXT = "|".join((
    r"\bauthentication-key[ \t]+",                            # Junos (never prose)
    r"\bneighbor[ \t]+\S+[ \t]+password[ \t]+(?:[07][ \t]+(?=\S))?",  # FRR, IOS-XE, EOS (type 0/7)
    r"\b(?:password|secret|key|key-string)[ \t]+(?:\d|clear|encrypted)[ \t]+",  # typed: IOS, EOS, XR
    r"\b(?:password|secret|encrypted-password|key|pre-shared-key)[ \t]+(?=\")",  # Junos quoted values
))
_PASSWORD_ARG = re.compile(rf"(?P<kw>{_SECRET_CONTEXT})(?P<val>\"[^\"\n]*\"?|[^\s\"]+)", re.I)


def _masked_value(m: re.Match[str]) -> str:
    quoted = m.group("val").startswith('"')
    return m.group("kw") + (f'"{MASK}"' if quoted else MASK)


def mask_password_args(text: str) -> str:
    """`text` with the argument of every CLI-shaped password keyword replaced by MASK (a quoted
    value stays quoted)."""
    return _PASSWORD_ARG.sub(_masked_value, text)


def mask(text: str, secrets: Iterable[str | None] = ()) -> str:
    """For text of unknown shape (router output, errors): each known secret long enough to be
    recognisable, and every CLI-shaped password argument, replaced by MASK."""
    for secret in sorted((s for s in secrets if s and len(s) >= MIN_MASKED_SECRET_LEN), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return mask_password_args(text)
