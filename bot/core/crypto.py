"""Encryption at rest for stored secrets (MD5 keys, Config Manager text) with Fernet from
`cryptography`.

The key comes from PEERBOT_SECRET_KEY (any passphrase), stretched with scrypt, a memory-hard KDF:
whoever holds a copy of the database must pay 32 MiB and ~0.1 s of CPU per guess,
instead of the microseconds the earlier HKDF cost. The salt and the scrypt parameters are stored
in the database (table app_meta, row "secret_kdf"), created by the first process that needs them;
every process and the CLI sharing the database read the same row, so they derive the same key.
Without the variable, a random passphrase is generated once into a file beside the SQLite
database so that the embedded default works out of the box; production sets the variable.

Tokens written before scrypt (HKDF key) still decrypt, and are re-encrypted with the new key
when a process starts (`reencrypt_stored_secrets`).
"""
from __future__ import annotations

import base64
import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import AppMeta, ChangeRequest, Session

log = logging.getLogger(__name__)

KDF_ROW = "secret_kdf"
# 2**15 x 8 x 128 bytes = 32 MiB per derivation: measured 0.12 s on an idle 2-core VM and 0.25 s
# with both cores busy (2**16 took 0.23 s / up to 0.6 s), once per process. Stored with the salt:
# changing it here affects new installations only.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
DECRYPT_FAILED = "stored secret cannot be decrypted: PEERBOT_SECRET_KEY changed?"
# Columns holding Fernet tokens, re-encrypted when the key derivation changes.
ENCRYPTED_COLUMNS = (Session.md5_encrypted, ChangeRequest.edited_encrypted)


@dataclass(frozen=True)
class KdfParams:
    salt: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def to_json(self) -> str:
        return json.dumps({"kdf": "scrypt", "salt": base64.b64encode(self.salt).decode(),
                           "n": self.n, "r": self.r, "p": self.p})

    @classmethod
    def from_json(cls, text: str) -> KdfParams:
        d = json.loads(text)
        if d.get("kdf") != "scrypt":
            raise ValueError(f"unknown key derivation {d.get('kdf')!r} in app_meta.{KDF_ROW}")
        return cls(salt=base64.b64decode(d["salt"]), n=int(d["n"]), r=int(d["r"]), p=int(d["p"]))


@functools.lru_cache(maxsize=4)
def _scrypt_key(passphrase: str, params: KdfParams) -> bytes:
    """Derived once per process and parameters: scrypt is slow on purpose."""
    kdf = Scrypt(salt=params.salt, length=32, n=params.n, r=params.r, p=params.p)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode()))


def _hkdf_key(passphrase: str) -> bytes:
    """The key of peerbot before scrypt: only to read (and rewrite) tokens written then."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"peerbot", info=b"secret-at-rest").derive(
        passphrase.encode())
    return base64.urlsafe_b64encode(key)


class SecretBox:
    """Encrypts with the scrypt key; decrypts with it or, for old tokens, the HKDF key."""

    def __init__(self, passphrase: str, params: KdfParams):
        self._current = Fernet(_scrypt_key(passphrase, params))
        self._fernet = MultiFernet([self._current, Fernet(_hkdf_key(passphrase))])

    def encrypt(self, plaintext: str) -> str:
        return self._current.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            # Never include the token or key in the message.
            raise ValueError(DECRYPT_FAILED) from None

    def needs_rewrite(self, token: str) -> bool:
        """True for a token this box can read only with the old key."""
        try:
            self._current.decrypt(token.encode())
            return False
        except InvalidToken:
            return True

    def rewrite(self, token: str) -> str:
        """`token` encrypted again with the current key (ValueError if no key opens it)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise ValueError(DECRYPT_FAILED) from None

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"


def kdf_params(db: Database) -> KdfParams:
    """The installation's salt and scrypt parameters, created on first use. Two processes
    starting at once both try to insert; the primary key lets one win, and both read it."""
    with db.session() as s:
        row = s.get(AppMeta, KDF_ROW)
        if row is not None:
            return KdfParams.from_json(row.value)
    try:
        with db.session() as s:
            s.add(AppMeta(name=KDF_ROW, value=KdfParams(salt=os.urandom(16)).to_json()))
    except IntegrityError:
        pass  # another process stored its salt first: use that one
    with db.session() as s:
        return KdfParams.from_json(s.get(AppMeta, KDF_ROW).value)


def reencrypt_stored_secrets(db: Database, box: SecretBox) -> tuple[int, int]:
    """Rewrite tokens made with the old key; returns (rewritten, unreadable). A row changed by
    another process meanwhile is left to it (the UPDATE matches the old token only)."""
    rewritten = unreadable = 0
    for column in ENCRYPTED_COLUMNS:
        table = column.class_
        with db.session() as s:
            rows = s.execute(select(table.id, column).where(column.is_not(None))).all()
            for row_id, token in rows:
                if not box.needs_rewrite(token):
                    continue
                try:
                    fresh = box.rewrite(token)
                except ValueError:
                    unreadable += 1
                    continue
                s.execute(update(table).where(table.id == row_id, column == token).values({column.key: fresh}))
                rewritten += 1
    if rewritten:
        log.info("re-encrypted %d stored secret(s) with the scrypt-derived key", rewritten)
    if unreadable:
        log.warning("%d stored secret(s) cannot be decrypted with the current PEERBOT_SECRET_KEY "
                    "(was it changed?); sessions using them cannot be configured until it is restored",
                    unreadable)
    return rewritten, unreadable


def _generated_passphrase(key_file: Path) -> str:
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(Fernet.generate_key().decode())
        log.warning("PEERBOT_SECRET_KEY not set: generated a key in %s (set the variable in production)", key_file)
    return key_file.read_text().strip()


def load_secret_box(passphrase: str | None, key_file: Path, db: Database) -> SecretBox:
    """The box for this process (the database must be upgraded: the salt lives in it); stored
    tokens still under the old key are re-encrypted on the way."""
    box = SecretBox(passphrase or _generated_passphrase(key_file), kdf_params(db))
    reencrypt_stored_secrets(db, box)
    return box
