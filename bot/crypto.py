"""Encryption at rest for stored secrets (MD5 keys) with Fernet from `cryptography`.

The key comes from PEERBOT_SECRET_KEY (any passphrase; it is stretched with HKDF). Without it,
a random key is generated once into a file beside the SQLite database so that the embedded
default works out of the box; production sets the variable.
"""
from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)


class SecretBox:
    def __init__(self, passphrase: str):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"peerbot", info=b"secret-at-rest").derive(
            passphrase.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            # Never include the token or key in the message.
            raise ValueError("stored secret cannot be decrypted: PEERBOT_SECRET_KEY changed?") from None

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"


def load_secret_box(passphrase: str | None, key_file: Path) -> SecretBox:
    if passphrase:
        return SecretBox(passphrase)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(Fernet.generate_key().decode())
        log.warning("PEERBOT_SECRET_KEY not set: generated a key in %s (set the variable in production)", key_file)
    return SecretBox(key_file.read_text().strip())
