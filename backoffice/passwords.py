"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
MIN_LENGTH = 10

# Verified when the username is unknown, so that both paths cost the same time.
_DUMMY_HASH = _hasher.hash("sportello-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, username: str = "") -> str | None:
    """Why this password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"la password deve avere almeno {MIN_LENGTH} caratteri"
    if username and password.lower() == username.lower():
        return "la password non può coincidere con il nome utente"
    if password != password.strip():
        return "la password non può iniziare o finire con uno spazio"
    return None
