"""Encryption at rest of the blob store: AES-256-GCM, a key id stored with each blob.

A sealed blob is MAGIC, the key id (the first 8 bytes of the key's SHA-256,
so no id needs configuring), a 12-byte random nonce, then the AES-GCM
ciphertext and tag; the blob's address (the SHA-256 of its plaintext) is the
associated data, so a blob moved under another name does not decrypt.
Blobs written before a key was configured stay readable as they are until
`sportello keys rotate` seals them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SPB1"
_ID_LEN, _NONCE_LEN = 8, 12
_HEADER_LEN = len(MAGIC) + _ID_LEN + _NONCE_LEN


class StorageKeyError(Exception):
    """A blob cannot be read with the configured keys (one clear line for the user)."""


def parse_key(text: str, what: str) -> bytes:
    value = text.strip()
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise StorageKeyError(f"{what}: not hexadecimal (64 hex digits expected)") from None
    if len(key) != 32:
        raise StorageKeyError(f"{what}: {len(key)} bytes, 32 expected (64 hex digits)")
    return key


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:_ID_LEN]


@dataclass(frozen=True)
class Keyring:
    """The current key (new blobs) and the retired ones (still read, until a rotation is done)."""

    current: bytes
    retired: tuple[bytes, ...] = ()

    @property
    def current_id(self) -> bytes:
        return key_id(self.current)

    def _key(self, kid: bytes) -> bytes | None:
        return next((k for k in (self.current, *self.retired) if key_id(k) == kid), None)

    def seal(self, plaintext: bytes, address: str) -> bytes:
        nonce = os.urandom(_NONCE_LEN)
        return MAGIC + self.current_id + nonce + AESGCM(self.current).encrypt(nonce, plaintext, address.encode())

    def open(self, blob: bytes, address: str) -> bytes:
        if not is_sealed(blob):
            return blob  # written before encryption was configured
        kid, nonce = blob[len(MAGIC) : len(MAGIC) + _ID_LEN], blob[len(MAGIC) + _ID_LEN : _HEADER_LEN]
        key = self._key(kid)
        if key is None:
            raise StorageKeyError(f"blob {address[:12]}… is encrypted with key {kid.hex()}, which is not configured "
                                  f"(configured: {', '.join(key_id(k).hex() for k in (self.current, *self.retired))})")
        try:
            return AESGCM(key).decrypt(nonce, blob[_HEADER_LEN:], address.encode())
        except InvalidTag:
            raise StorageKeyError(f"blob {address[:12]}… does not decrypt with key {kid.hex()}: damaged or moved") from None


def is_sealed(blob: bytes) -> bool:
    return blob[: len(MAGIC)] == MAGIC and len(blob) >= _HEADER_LEN + 16


def sealed_key_id(blob: bytes) -> bytes | None:
    return blob[len(MAGIC) : len(MAGIC) + _ID_LEN] if is_sealed(blob) else None


def keyring_from(storage) -> Keyring | None:
    """The Keyring of `[storage]` (config.settings.StorageSettings), or None when no key is configured;
    ConfigError, one line, for a missing or malformed key."""
    from config.settings import ConfigError

    texts = storage.key_texts()
    if texts is None:
        return None
    try:
        keys = [parse_key(text, what) for what, text in texts]
    except StorageKeyError as exc:
        raise ConfigError(str(exc)) from None
    return Keyring(keys[0], tuple(keys[1:]))
