"""Content-addressed file store for raw messages and attachments (SHA-256 of the plaintext).

With a Keyring (config [storage]) every blob is written sealed with AES-GCM
(db.crypto); without one, as it is. `rotate` re-seals every blob with the
current key, one atomic rename at a time, while the service keeps running.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from db.crypto import Keyring, sealed_key_id


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Files under root/ab/cd/<sha256>. Writing the same bytes twice is a no-op."""

    def __init__(self, root: Path, keyring: Keyring | None = None):
        self.root = Path(root)
        self.keyring = keyring

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        target = self.path(digest)
        if target.exists():
            return digest
        self._write(target, self.keyring.seal(data, digest) if self.keyring else data)
        return digest

    def _write(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write to a temp file in the same folder, fsync, then rename: a crash
        # never leaves a half-written blob under its final name.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def get(self, digest: str) -> bytes:
        raw = self.path(digest).read_bytes()
        return self.keyring.open(raw, digest) if self.keyring else raw

    def digests(self) -> Iterator[str]:
        for path in sorted(self.root.glob("??/??/*")):
            if path.is_file() and not path.name.startswith(".tmp-") and len(path.name) == 64:
                yield path.name

    def rotate(self) -> tuple[int, int]:
        """Re-seal every blob not sealed with the current key: (re-sealed, already current).

        Readers see the old file or the new one, both readable while the old key
        stays among the retired ones; retire it from the config only afterwards.
        """
        if self.keyring is None:
            raise ValueError("no [storage] key configured")
        done = current = 0
        for digest in self.digests():
            target = self.path(digest)
            if sealed_key_id(target.read_bytes()) == self.keyring.current_id:
                current += 1
                continue
            self._write(target, self.keyring.seal(self.get(digest), digest))
            done += 1
        return done, current

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()
