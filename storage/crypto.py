"""Encryption at rest for personal data, and keyed hashes for finding duplicates.

Keys are derived with HKDF-SHA256 from ``SAMVERKAN_SECRET_KEY``: one for AES-256-GCM
(authenticated encryption), one for HMAC-SHA256 blind indexes. A ciphertext names the key
it was made with (``enc1:<key id>:<base64>``), so after a key change old values still
decrypt with ``SAMVERKAN_PREVIOUS_SECRET_KEYS`` until ``samverkan rotate-key`` has
re-encrypted every row under the new key.

There is no process-wide keyring: the composition root builds a :class:`Keyring` from the
settings and hands it to ``Database.from_url``, which attaches it to the database's engines
(:func:`attach_keyring`); the column types in :mod:`storage.types` read it from there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

PREFIX = "enc1:"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any known key."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"samverkan", info=purpose).derive(
        secret.encode("utf-8")
    )


@dataclass(frozen=True)
class DataKey:
    """The keys derived from one secret: encryption, blind index, sessions."""

    key_id: str
    encryption: bytes
    index: bytes
    session: bytes

    @classmethod
    def from_secret(cls, secret: str) -> DataKey:
        encryption = _derive(secret, b"encryption")
        return cls(
            key_id=hashlib.sha256(encryption).hexdigest()[:8],
            encryption=encryption,
            index=_derive(secret, b"blind-index"),
            session=_derive(secret, b"session-cookie"),
        )


class Keyring:
    """The current key (encrypts) and previous keys (still decrypt during a rotation)."""

    def __init__(self, current: str, previous: Iterable[str] = ()) -> None:
        self.current = DataKey.from_secret(current)
        self.keys = {self.current.key_id: self.current}
        for secret in previous:
            key = DataKey.from_secret(secret)
            self.keys.setdefault(key.key_id, key)

    def encrypt(self, plaintext: str) -> str:
        """AES-256-GCM under the current key, with a random 96-bit nonce."""
        nonce = os.urandom(12)
        sealed = AESGCM(self.current.encryption).encrypt(nonce, plaintext.encode("utf-8"), None)
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{PREFIX}{self.current.key_id}:{body}"

    def decrypt(self, stored: str) -> str:
        """The plaintext of a value made by :meth:`encrypt` under any known key."""
        try:
            _, key_id, body = stored.split(":", 2)
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            key = self.keys[key_id]
            return AESGCM(key.encryption).decrypt(raw[:12], raw[12:], None).decode("utf-8")
        except KeyError:
            raise DecryptionError("value was encrypted with an unknown key") from None
        except (ValueError, InvalidTag):
            raise DecryptionError("value is damaged or not encrypted") from None

    def needs_rotation(self, stored: str) -> bool:
        """True when ``stored`` was encrypted under a key other than the current one."""
        return not stored.startswith(f"{PREFIX}{self.current.key_id}:")

    def blind_index(self, value: str) -> str:
        """Keyed hash (HMAC-SHA256) of a normalised value, for exact-match lookups."""
        return hmac.new(self.current.index, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def blind_indexes(self, value: str) -> Sequence[str]:
        """The keyed hash of ``value`` under every known key (lookups during a rotation)."""
        return [
            hmac.new(k.index, value.encode("utf-8"), hashlib.sha256).hexdigest()
            for k in self.keys.values()
        ]

    @property
    def session_key(self) -> bytes:
        """32 raw bytes for the encrypted session cookie."""
        return self.current.session


#: Where an engine's dialect carries its keyring (each engine has a dialect of its own).
_ATTRIBUTE = "samverkan_keyring"


def attach_keyring(engine: Engine | AsyncEngine, keyring: Keyring) -> None:
    """Give ``engine`` the keyring its encrypted columns use (see :mod:`storage.types`).

    There is no process-wide keyring: each database handle carries the keys the composition
    root gave it, so two databases (or a rotation's old and new keys) never mix.
    """
    sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    setattr(sync.dialect, _ATTRIBUTE, keyring)


def keyring_of(dialect: Dialect) -> Keyring:
    """The keyring attached to the engine of ``dialect``; fails loudly when there is none."""
    keyring = getattr(dialect, _ATTRIBUTE, None)
    if not isinstance(keyring, Keyring):
        raise RuntimeError("this database was opened without a keyring (Database.from_url)")
    return keyring


def session_keyring(session: Session | AsyncSession) -> Keyring:
    """The keyring of the database ``session`` talks to."""
    return keyring_of(session.get_bind().dialect)
