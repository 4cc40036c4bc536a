"""Secrets at rest (bot.core.crypto): scrypt with the salt stored in the database, old HKDF tokens
still readable and rewritten on start, a wrong key refused with a safe message."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import select

from bot.core.crypto import DECRYPT_FAILED, KDF_ROW, _scrypt_key, load_secret_box
from storage.db import Database
from storage.models import AppMeta, Exchange, Peer, Router, Session, SessionType

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def db(tmp_path: Path):
    d = Database(f"sqlite:///{tmp_path / 'peerbot.db'}")
    d.upgrade()
    yield d
    d.dispose()


def hkdf_token(passphrase: str, plaintext: str) -> str:
    """A token as peerbot wrote it before scrypt (HKDF, fixed salt)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"peerbot", info=b"secret-at-rest").derive(passphrase.encode())
    return Fernet(base64.urlsafe_b64encode(key)).encrypt(plaintext.encode()).decode()


def stored_session(db: Database, token: str) -> int:
    with db.session() as s:
        row = Session(session_type=SessionType.LOCAL, exchange=s.scalar(select(Exchange)), local_asn=64500,
                      router=Router(name="r1", host="h", port=22, platform="frr", username="u", local_asns=[64500],
                                    addresses=[]),
                      peer=Peer(name="P", asn=65601), peer_ip="192.0.2.1", address_family=4, md5_encrypted=token)
        s.add(row)
        s.flush()
        return row.id


def test_key_is_scrypt_of_the_passphrase_with_the_stored_salt(db: Database, tmp_path: Path) -> None:
    box = load_secret_box(PASSPHRASE, tmp_path / "unused", db)
    token = box.encrypt("Md5-Secr3t-Key")
    with db.session() as s:
        meta = json.loads(s.get(AppMeta, KDF_ROW).value)
    assert meta["kdf"] == "scrypt" and meta["n"] >= 2**15 and meta["r"] == 8 and meta["p"] == 1
    salt = base64.b64decode(meta["salt"])
    assert len(salt) == 16
    key = Scrypt(salt=salt, length=32, n=meta["n"], r=meta["r"], p=meta["p"]).derive(PASSPHRASE.encode())
    assert Fernet(base64.urlsafe_b64encode(key)).decrypt(token.encode()) == b"Md5-Secr3t-Key"
    # another core on the same database agrees (same salt), without deriving again in this process
    hits = _scrypt_key.cache_info().hits
    assert load_secret_box(PASSPHRASE, tmp_path / "unused", db).decrypt(token) == "Md5-Secr3t-Key"
    assert _scrypt_key.cache_info().hits == hits + 1


def test_each_installation_gets_its_own_salt(tmp_path: Path) -> None:
    salts = []
    for name in ("a", "b"):
        d = Database(f"sqlite:///{tmp_path / name}.db")
        d.upgrade()
        load_secret_box(PASSPHRASE, tmp_path / "unused", d)
        with d.session() as s:
            salts.append(json.loads(s.get(AppMeta, KDF_ROW).value)["salt"])
        d.dispose()
    assert salts[0] != salts[1]


def test_old_hkdf_tokens_still_decrypt_and_are_rewritten_on_start(db: Database, tmp_path: Path) -> None:
    old = hkdf_token(PASSPHRASE, "Old-Md5-Key-1")
    sid = stored_session(db, old)
    box = load_secret_box(PASSPHRASE, tmp_path / "unused", db)
    with db.session() as s:
        new = s.get(Session, sid).md5_encrypted
    assert new != old and box.decrypt(new) == "Old-Md5-Key-1"
    assert not box.needs_rewrite(new)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"peerbot", info=b"secret-at-rest").derive(PASSPHRASE.encode())
    with pytest.raises(InvalidToken):  # the rewritten token is no longer under the weak key
        Fernet(base64.urlsafe_b64encode(hkdf)).decrypt(new.encode())
    assert box.decrypt(old) == "Old-Md5-Key-1"  # e.g. a wizard modal opened before the upgrade


def test_a_wrong_key_fails_with_the_safe_message(db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    token = load_secret_box(PASSPHRASE, tmp_path / "unused", db).encrypt("Md5-Secr3t-Key")
    stored_session(db, token)
    other = load_secret_box("another passphrase", tmp_path / "unused", db)
    with pytest.raises(ValueError) as err:
        other.decrypt(token)
    assert str(err.value) == DECRYPT_FAILED
    assert token not in str(err.value) and err.value.__cause__ is None and err.value.__suppress_context__
    assert "1 stored secret(s) cannot be decrypted" in caplog.text and token not in caplog.text
    with db.session() as s:  # left as it was, for the right key to read
        assert s.scalar(select(Session.md5_encrypted)) == token


def test_generated_key_file_is_used_when_the_variable_is_unset(db: Database, tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / ".peerbot-secret-key"
    token = load_secret_box(None, key_file, db).encrypt("x" * 8)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_secret_box(None, key_file, db).decrypt(token) == "x" * 8
